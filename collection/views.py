from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.decorators import role_required
from accounts.forms import DsfrForm
from accounts.models import Role
from collection import selectors
from surveys import campaigns

INBOX_PAGE_SIZE = 25
HISTORY_TAB = "historique"


class InboxFilterForm(DsfrForm):
    site = forms.ChoiceField(label="Site", required=False)
    status = forms.ChoiceField(
        label="Statut",
        required=False,
        choices=[("", "Tous les statuts"), *selectors.STATUS_FILTERS],
    )
    campagne = forms.TypedChoiceField(
        label="Campagne", required=False, coerce=int, empty_value=None
    )

    def __init__(
        self,
        *args: object,
        sites: list[tuple[str, str]],
        campaigns: list[tuple[int, str]],
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["site"].choices = [("", "Tous les sites"), *sites]  # type: ignore[attr-defined]
        self.fields["campagne"].choices = [  # type: ignore[attr-defined]
            ("", "Toutes les campagnes"),
            *[(str(pk), title) for pk, title in campaigns],
        ]
        if len(sites) < 2:
            del self.fields["site"]


@require_GET
@role_required(Role.RESPONDENT)
def inbox(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    history = request.GET.get("onglet") == HISTORY_TAB
    sites = list(selectors.respondent_sites(user=request.user))
    campaigns = selectors.inbox_campaigns(user=request.user, history=history, now=now)
    form = InboxFilterForm(
        request.GET,
        sites=[(s.finess, f"{s.name} ({s.finess})") for s in sites],
        campaigns=campaigns,
    )
    cleaned = form.cleaned_data if form.is_valid() else {}
    filters = selectors.InboxFilters(
        site=cleaned.get("site") or "",
        status=cleaned.get("status") or "",
        campaign=cleaned.get("campagne"),
        history=history,
    )
    paginator = Paginator(
        selectors.inbox_assignments(user=request.user, filters=filters, now=now), INBOX_PAGE_SIZE
    )
    page = paginator.get_page(request.GET.get("page"))
    for assignment in page.object_list:
        assignment.days_late = selectors.overdue_days(assignment, now=now)  # type: ignore[attr-defined]
    query = request.GET.copy()
    query.pop("page", None)
    tab_query = query.copy()
    tab_query.pop("onglet", None)
    tab_query.pop("campagne", None)
    return render(
        request,
        "collection/inbox.html",
        {
            "title": "Boîte de réception",
            "establishments": sites,
            "professional_units": selectors.respondent_professional_units(user=request.user),
            "form": form,
            "filters": filters,
            "page": page,
            "counts": selectors.inbox_counts(user=request.user, filters=filters, now=now),
            "status_filters": selectors.STATUS_FILTERS,
            "query": query.urlencode(),
            "tab_query": tab_query.urlencode(),
            "history_tab": HISTORY_TAB,
        },
    )


@require_POST
@role_required(Role.RESPONDENT)
def exemption_request(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask the requester to be exempted from one assignment of the inbox, with a reason."""
    assignment = selectors.answerable_assignments(user=request.user).filter(pk=pk).first()
    if assignment is None:
        raise Http404("Demande introuvable.")
    try:
        campaigns.exemption_request(
            assignment=assignment,
            reason=request.POST.get("reason", ""),
            user=request.user,  # type: ignore[arg-type]
        )
    except campaigns.CampaignError as error:
        messages.error(
            request, f"Dispense non demandée pour « {assignment.version.title} » : {error}"
        )
    else:
        owner = assignment.campaign.owner
        messages.success(
            request,
            f"Demande de dispense envoyée à {owner.short_name or owner.name} "
            f"pour « {assignment.version.title} », période {assignment.period.key}. Vous serez "
            "prévenu de sa décision.",
        )
    return redirect("collection:inbox")
