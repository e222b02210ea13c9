"""Campaign pages of requesters and viewers.

Members (requesters and viewers) of a campaign's owner organisation see it; anyone else gets a
404, as if it did not exist. Only the owner's requesters act (403 for its viewers). Each action
is a confirmation page (GET) and one service call (POST).
"""

from collections import defaultdict
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from accounts.decorators import role_required
from accounts.models import Membership, Role
from notifications.selectors import delivery_log
from referentials.models import ReportingUnit
from referentials.recipients import establishments_without_recipients
from surveys import campaigns
from surveys.campaigns import CampaignError
from surveys.forms_campaigns import (
    FIELDS,
    CampaignForm,
    CommentForm,
    DecisionForm,
    ReasonForm,
    ScheduleForm,
)
from surveys.models import Assignment, Campaign, OverlapChoice, Survey

NOT_FOUND = "Campagne introuvable ou hors de votre organisation."
STATUSES = list(Assignment.Status)


def _organisation_roles(request: HttpRequest) -> dict[int, set[str]]:
    roles: dict[int, set[str]] = defaultdict(set)
    for organisation_id, role in Membership.objects.filter(
        user_id=request.user.pk or 0,
        organisation__is_active=True,
        role__in=[Role.REQUESTER, Role.VIEWER],
    ).values_list("organisation_id", "role"):
        roles[organisation_id].add(role)
    return roles


def _campaign_access(request: HttpRequest, pk: int, *, act: bool = False) -> tuple[Campaign, bool]:
    """The campaign and whether the user may act on it; 404 outside the owner, 403 for its
    viewers when ``act``."""
    campaign = Campaign.objects.select_related("owner", "version", "survey").filter(pk=pk).first()
    if campaign is None:
        raise Http404(NOT_FOUND)
    roles = _organisation_roles(request).get(campaign.owner_id, set())
    if not roles:
        raise Http404(NOT_FOUND)
    can_act = Role.REQUESTER in roles
    if act and not can_act:
        raise PermissionDenied("Seuls les demandeurs de l'organisation agissent sur la campagne.")
    return campaign, can_act


def _counts_by(rows: Any, key: str) -> dict[int, dict[str, int]]:
    counts: dict[int, dict[str, int]] = defaultdict(
        lambda: {str(status): 0 for status in Assignment.Status}
    )
    for row in rows:
        counts[row[key]][row["status"]] = row["n"]
    return counts


def _status_cells(counts: dict[str, int]) -> list[tuple[str, int]]:
    return [(status.label, counts.get(status, 0)) for status in STATUSES]


def _audience_url(campaign: Campaign) -> str:
    try:
        return reverse("surveys:campaign_audience", kwargs={"pk": campaign.pk})
    except NoReverseMatch:
        return ""


@require_GET
@role_required(Role.REQUESTER, Role.VIEWER)
def campaign_list(request: HttpRequest) -> HttpResponse:
    roles = _organisation_roles(request)
    rows = list(
        Campaign.objects.filter(owner_id__in=list(roles))
        .select_related("owner")
        .annotate(period_count=Count("periods"))
        .order_by("-created_at")
    )
    counts = _counts_by(
        Assignment.objects.filter(campaign__in=[c.pk for c in rows])
        .values("campaign", "status")
        .annotate(n=Count("pk")),
        "campaign",
    )
    items = [
        {"campaign": c, "cells": _status_cells(counts[c.pk]), "total": sum(counts[c.pk].values())}
        for c in rows
    ]
    return render(
        request,
        "surveys/campaign_list.html",
        {
            "title": "Campagnes",
            "items": items,
            "status_labels": [s.label for s in STATUSES],
            "can_create": any(Role.REQUESTER in r for r in roles.values()),
        },
    )


def _form_surveys(request: HttpRequest) -> Any:
    owners = campaigns.requester_organisations(request.user)  # type: ignore[arg-type]
    return Survey.objects.filter(owner__in=owners).order_by("-created_at"), owners


@require_http_methods(["GET", "POST"])
@role_required(Role.REQUESTER)
def campaign_create(request: HttpRequest) -> HttpResponse:
    surveys, owners = _form_surveys(request)
    initial: dict[str, Any] = {"start_date": timezone.localdate()}
    wanted = request.GET.get("enquete", "")
    chosen = (
        surveys.filter(pk=int(wanted)).first() if wanted.isascii() and wanted.isdigit() else None
    )
    if chosen is not None:
        initial.update(survey=chosen.pk, title=str(chosen))
    form = CampaignForm(request.POST or None, surveys=surveys, owners=owners, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            campaign = campaigns.campaign_create(
                survey=form.cleaned_data["survey"],
                owner=form.cleaned_data["owner"],
                user=request.user,  # type: ignore[arg-type]
                **form.values(),
            )
        except CampaignError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request, "Campagne créée en brouillon : choisissez maintenant son audience."
            )
            return redirect("surveys:campaign_detail", pk=campaign.pk)
    return render(
        request,
        "surveys/campaigns/form.html",
        {"title": "Nouvelle campagne", "form": form, "campaign": None},
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.REQUESTER, Role.VIEWER)
def campaign_edit(request: HttpRequest, pk: int) -> HttpResponse:
    campaign, _ = _campaign_access(request, pk, act=True)
    initial = {name: getattr(campaign, name) for name in FIELDS}
    form = CampaignForm(request.POST or None, initial=initial)
    if campaign.status != Campaign.Status.DRAFT:
        messages.info(request, "Seule une campagne en brouillon se modifie.")
        return redirect("surveys:campaign_detail", pk=campaign.pk)
    if request.method == "POST" and form.is_valid():
        try:
            campaigns.campaign_update(
                campaign=campaign,
                user=request.user,  # type: ignore[arg-type]
                **form.values(),
            )
        except CampaignError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Campagne modifiée.")
            return redirect("surveys:campaign_detail", pk=campaign.pk)
    return render(
        request,
        "surveys/campaigns/form.html",
        {"title": f"Modifier « {campaign.title} »", "form": form, "campaign": campaign},
    )


DELIVERY_LOG_ROWS = 200


@require_GET
@role_required(Role.REQUESTER, Role.VIEWER)
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    campaign, can_act = _campaign_access(request, pk)
    periods = list(campaign.periods.order_by("-start"))
    counts = _counts_by(
        Assignment.objects.filter(campaign=campaign)
        .values("period", "status")
        .annotate(n=Count("pk")),
        "period",
    )
    totals: dict[str, int] = {str(status): 0 for status in Assignment.Status}
    for by_status in counts.values():
        for status, n in by_status.items():
            totals[status] += n
    pending = Assignment.objects.filter(campaign=campaign, **campaigns.pending_exemptions_q())
    return render(
        request,
        "surveys/campaigns/detail.html",
        {
            "title": campaign.title,
            "campaign": campaign,
            "can_act": can_act,
            "audience_url": _audience_url(campaign),
            "periods": [{"period": p, "cells": _status_cells(counts[p.pk])} for p in periods],
            "totals": _status_cells(totals),
            "total": sum(totals.values()),
            "status_labels": [s.label for s in STATUSES],
            "events": _events(campaign),
            "pending_count": pending.count(),
            "planned_count": len(campaigns.planned_periods(campaign)),
            # The requesters' « Journal des envois » (viewers see the page without it).
            "delivery_log": delivery_log(
                about_key="campaign", about_id=campaign.pk, limit=DELIVERY_LOG_ROWS
            )
            if can_act
            else [],
            "delivery_log_rows": DELIVERY_LOG_ROWS,
        },
    )


def _events(campaign: Campaign) -> list[dict[str, Any]]:
    names = dict(Campaign.Status.choices)
    return [
        {
            "event": event,
            "from": names.get(event.from_status, ""),
            "to": names.get(event.to_status, ""),
        }
        for event in campaign.events.select_related("actor").order_by("-created_at", "-pk")
    ]


ACTIONS = {
    "campaign_schedule": "Programmer l'ouverture",
    "campaign_send": "Envoyer la campagne",
    "campaign_close": "Clôturer la campagne",
    "campaign_crisis": "Basculer le mode crise",
}


# Sending or scheduling waits for the requester's choice after the overlap analysis.
OVERLAP_GATED = ("campaign_send", "campaign_schedule")
OVERLAP_FIRST = (
    "Avant d'envoyer, vérifiez si d'autres campagnes demandent déjà ces données aux mêmes "
    "établissements, et choisissez la suite à donner."
)
COORDINATION_FIRST = (
    "Une coordination est demandée pour cette campagne : quand l'autre propriétaire aura "
    "répondu, choisissez de réutiliser ses valeurs (acceptée) ou d'envoyer malgré tout en le "
    "justifiant (refusée), puis envoyez."
)


def _action_available(campaign: Campaign, action: str) -> bool:
    status = campaign.status
    match action:
        case "campaign_schedule":
            return status == Campaign.Status.DRAFT
        case "campaign_send":
            return status in (Campaign.Status.DRAFT, Campaign.Status.SCHEDULED)
        case "campaign_close":
            return status in (Campaign.Status.OPEN, Campaign.Status.SCHEDULED)
        case _:
            return bool(campaign.crisis_frequency) and status != Campaign.Status.CLOSED


def _send_summary(campaign: Campaign) -> dict[str, Any]:
    """What « Envoyer » will do: the audience now, the periods that open at once."""
    from surveys import audience

    size = (
        audience.audience_count(
            filters=campaign.audience_filters, unit_kind=campaign.unit_kind, owner=campaign.owner
        )
        if campaign.audience_filters
        else 0
    )
    now_periods = campaigns.planned_periods(campaign, until=timezone.localdate())
    silent_count, silent = (
        establishments_without_recipients(
            audience.audience_queryset(
                filters=campaign.audience_filters,
                unit_kind=campaign.unit_kind,
                owner=campaign.owner,
            )
        )
        if size and campaign.unit_kind == ReportingUnit.Kind.ESTABLISHMENT
        else (0, [])
    )
    return {
        "silent_count": silent_count,
        "silent_establishments": silent,
        "audience_now": size,
        "periods_now": now_periods,
        "assignments_now": size * len(now_periods),
        "first_due": (campaigns.due_at_for(campaign, now_periods[0]) if now_periods else None),
    }


def _campaign_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    campaign, _ = _campaign_access(request, pk, act=True)
    form: Any = None
    if action == "campaign_schedule":
        form = ScheduleForm(request.POST or None)
    elif action == "campaign_crisis":
        form = CommentForm(request.POST or None)
    available = _action_available(campaign, action)
    if available and action in OVERLAP_GATED and campaigns.awaits_overlap_choice(campaign):
        # The overlap analysis comes first (collection.overlaps): no choice, no sending; a
        # coordination asked waits for its answer and a new choice.
        messages.info(
            request,
            COORDINATION_FIRST
            if campaign.overlap_choice == OverlapChoice.COORDINATE
            else OVERLAP_FIRST,
        )
        then = "?suite=programmer" if action == "campaign_schedule" else ""
        return redirect(reverse("collection:campaign_overlaps", kwargs={"pk": campaign.pk}) + then)
    if request.method == "POST" and available and (form is None or form.is_valid()):
        user = request.user
        try:
            match action:
                case "campaign_schedule":
                    campaigns.campaign_schedule(
                        campaign=campaign,
                        opens_at=form.cleaned_data["opens_at"],
                        user=user,  # type: ignore[arg-type]
                    )
                    messages.success(request, "Ouverture programmée.")
                case "campaign_send":
                    opened = campaigns.campaign_open(campaign=campaign, user=user)  # type: ignore[arg-type]
                    messages.success(
                        request,
                        f"Campagne envoyée à {opened.audience_size} destinataire"
                        f"{'s' if opened.audience_size > 1 else ''}.",
                    )
                case "campaign_close":
                    campaigns.campaign_close(campaign=campaign, user=user)  # type: ignore[arg-type]
                    messages.success(request, "Campagne clôturée.")
                case _:
                    switched = campaigns.campaign_crisis_switch(
                        campaign=campaign,
                        # The state the page asked for: a repeated POST is refused, not undone.
                        on=request.POST.get("on", "1" if not campaign.in_crisis else "0") == "1",
                        user=user,  # type: ignore[arg-type]
                        comment=form.cleaned_data["comment"],
                    )
                    messages.success(
                        request,
                        "Mode crise activé à partir de la prochaine période."
                        if switched.in_crisis
                        else "Retour à la fréquence nominale à partir de la prochaine période.",
                    )
        except CampaignError as error:
            if form is None:
                messages.error(request, str(error))
            else:
                form.add_error(None, str(error))
        else:
            return redirect("surveys:campaign_detail", pk=campaign.pk)
        if form is None:
            return redirect(request.path)
    context: dict[str, Any] = {
        "title": ACTIONS[action],
        "campaign": campaign,
        "action": action,
        "available": available,
        "form": form,
        "audience_url": _audience_url(campaign),
    }
    if action == "campaign_send":
        context.update(_send_summary(campaign))
    return render(request, "surveys/campaigns/action.html", context)


@require_http_methods(["GET", "POST"])
@role_required(Role.REQUESTER, Role.VIEWER)
def campaign_schedule(request: HttpRequest, pk: int) -> HttpResponse:
    return _campaign_action(request, pk, "campaign_schedule")


@require_http_methods(["GET", "POST"])
@role_required(Role.REQUESTER, Role.VIEWER)
def campaign_send(request: HttpRequest, pk: int) -> HttpResponse:
    return _campaign_action(request, pk, "campaign_send")


@require_http_methods(["GET", "POST"])
@role_required(Role.REQUESTER, Role.VIEWER)
def campaign_close(request: HttpRequest, pk: int) -> HttpResponse:
    return _campaign_action(request, pk, "campaign_close")


@require_http_methods(["GET", "POST"])
@role_required(Role.REQUESTER, Role.VIEWER)
def campaign_crisis(request: HttpRequest, pk: int) -> HttpResponse:
    return _campaign_action(request, pk, "campaign_crisis")


@require_GET
@role_required(Role.REQUESTER, Role.VIEWER)
def campaign_assignments(request: HttpRequest, pk: int) -> HttpResponse:
    campaign, can_act = _campaign_access(request, pk)
    status = request.GET.get("statut", "")
    queryset = (
        Assignment.objects.filter(campaign=campaign)
        .select_related("unit", "period")
        .order_by("-period__start", "unit__label", "pk")
    )
    if status in Assignment.Status.values:
        queryset = queryset.filter(status=status)
    page = Paginator(queryset, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "surveys/campaigns/assignments.html",
        {
            "title": f"Demandes de « {campaign.title} »",
            "campaign": campaign,
            "can_act": can_act,
            "page": page,
            "status": status,
            "statuses": Assignment.Status.choices,
            "exemptable": [str(s) for s in Assignment.OPEN_STATUSES],
        },
    )


def _assignment_access(request: HttpRequest, pk: int) -> Assignment:
    assignment = get_object_or_404(
        Assignment.objects.select_related("campaign", "unit", "period"), pk=pk
    )
    _campaign_access(request, assignment.campaign_id, act=True)
    return assignment


@require_http_methods(["GET", "POST"])
@role_required(Role.REQUESTER, Role.VIEWER)
def assignment_exempt(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = _assignment_access(request, pk)
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            campaigns.assignment_exempt(
                assignment=assignment,
                reason=form.cleaned_data["reason"],
                user=request.user,  # type: ignore[arg-type]
            )
        except CampaignError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"{assignment.unit.label} est dispensé pour cette période.")
            return redirect("surveys:campaign_assignments", pk=assignment.campaign_id)
    return render(
        request,
        "surveys/campaigns/exempt.html",
        {"title": "Dispenser", "assignment": assignment, "form": form},
    )


@require_GET
@role_required(Role.REQUESTER, Role.VIEWER)
def exemption_list(request: HttpRequest) -> HttpResponse:
    roles = _organisation_roles(request)
    pending = (
        Assignment.objects.filter(
            campaign__owner_id__in=list(roles), **campaigns.pending_exemptions_q()
        )
        .select_related("campaign", "unit", "period", "exemption_requested_by")
        .order_by("exemption_requested_at", "pk")
    )
    page = Paginator(pending, 50).get_page(request.GET.get("page"))
    acting = {pk for pk, r in roles.items() if Role.REQUESTER in r}
    return render(
        request,
        "surveys/campaigns/exemptions.html",
        {"title": "Demandes de dispense", "page": page, "acting": acting},
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.REQUESTER, Role.VIEWER)
def exemption_decide(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = _assignment_access(request, pk)
    form = DecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        accept = form.cleaned_data["decision"] == "accept"
        try:
            campaigns.exemption_decide(
                assignment=assignment,
                accept=accept,
                user=request.user,  # type: ignore[arg-type]
                comment=form.cleaned_data["comment"],
            )
        except CampaignError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Dispense accordée." if accept else "Dispense refusée.")
            return redirect("surveys:exemption_list")
    return render(
        request,
        "surveys/campaigns/decide.html",
        {"title": "Décider d'une dispense", "assignment": assignment, "form": form},
    )
