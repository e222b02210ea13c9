"""The audience page of a campaign: criteria, lists, the live count and a sample.

Requesters of the campaign's owner organisation edit it while the campaign is a draft; the
owner's viewers, and everyone once it is sent, read it. As the requester ticks a box or types,
htmx asks this same URL for the count and the sample only (``request.htmx``).
"""

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.decorators import role_required
from accounts.models import Membership, Role
from surveys import audience
from surveys.forms_audience import AudienceForm, form_class
from surveys.models import Campaign

NOT_FOUND = "Campagne introuvable ou hors de votre organisation."


def _campaign_access(request: HttpRequest, pk: int) -> tuple[Campaign, bool]:
    """The campaign, and whether ``request.user`` may edit its audience now.

    Only members (requesters or viewers) of the owner organisation see it: 404 otherwise.
    """
    campaign = Campaign.objects.select_related("owner").filter(pk=pk).first()
    if campaign is None:
        raise Http404(NOT_FOUND)
    roles = set(
        Membership.objects.filter(
            user_id=request.user.pk or 0,
            organisation_id=campaign.owner_id,
            organisation__is_active=True,
            role__in=[Role.REQUESTER, Role.VIEWER],
        ).values_list("role", flat=True)
    )
    if not roles:
        raise Http404(NOT_FOUND)
    editable = Role.REQUESTER in roles and campaign.status == Campaign.Status.DRAFT
    return campaign, editable


def _preview(campaign: Campaign, filters: dict[str, list[str]]) -> dict[str, Any]:
    owner, unit_kind = campaign.owner, campaign.unit_kind
    return {
        "count": audience.audience_count(filters=filters, unit_kind=unit_kind, owner=owner),
        "sample": audience.audience_sample(filters=filters, unit_kind=unit_kind, owner=owner),
    }


@role_required(Role.REQUESTER, Role.VIEWER)
@require_http_methods(["GET", "POST"])
def campaign_audience(request: HttpRequest, pk: int) -> HttpResponse:
    campaign, editable = _campaign_access(request, pk)
    form_cls = form_class(campaign.unit_kind)
    professional = campaign.unit_kind == audience.PROFESSIONAL
    context: dict[str, Any] = {
        "campaign": campaign,
        "editable": editable,
        "professional": professional,
        "unit_word": "professionnel" if professional else "établissement",
        "list_errors": [],
        "check_errors": [],
    }

    if getattr(request, "htmx", False) and request.method == "GET":
        # The live count: criteria read from the query string, no choices to load.
        form: AudienceForm = form_cls(request.GET, owner=campaign.owner, with_choices=False)
        filters = form.filters() if form.is_valid() else {}
        context.update(_preview(campaign, filters), list_errors=form.list_errors, form=form)
        return render(request, "surveys/audience/_preview.html", context)

    if request.method == "POST":
        if not editable:
            raise PermissionDenied(
                "L'audience ne se modifie que par un demandeur de l'organisation, tant que la "
                "campagne est en brouillon."
            )
        form = form_cls(request.POST, request.FILES, owner=campaign.owner)
        if form.is_valid():
            upload = form.cleaned_data.get(f"{form.upload_target}_file")
            upload_text = audience.text_from_upload(upload) if upload else ""
            filters = form.filters(upload_text=upload_text)
            if not form.list_errors:
                try:
                    saved = audience.audience_save(
                        campaign=campaign,
                        filters=filters,
                        user=request.user,  # type: ignore[arg-type]
                    )
                except audience.AudienceError as error:
                    context["check_errors"] = error.messages
                else:
                    messages.success(
                        request,
                        f"Audience enregistrée : {saved.audience_size} "
                        f"{context['unit_word']}{'s' if saved.audience_size > 1 else ''}.",
                    )
                    return redirect("surveys:campaign_audience", pk=campaign.pk)
            context["list_errors"] = form.list_errors
        else:
            filters = {}
    elif "apercu" in request.GET:
        # Without JavaScript, the "update the count" button sends the criteria here.
        form = form_cls(request.GET, owner=campaign.owner)
        filters = form.filters() if form.is_valid() else {}
        context["list_errors"] = form.list_errors
    else:
        form = form_cls(
            initial=form_cls.initial_from(campaign.audience_filters), owner=campaign.owner
        )
        filters = audience.normalize_filters(
            campaign.audience_filters, unit_kind=campaign.unit_kind
        )

    if not editable:
        for field in form.fields.values():
            field.disabled = True
    context.update(_preview(campaign, filters), form=form, title=f"Audience — {campaign.title}")
    return render(request, "surveys/audience/audience.html", context)
