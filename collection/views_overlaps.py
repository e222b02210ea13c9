"""The sending page of a campaign: its overlaps with every other campaign, the requester's
choice, and the sending (``/collecte/campagnes/<pk>/chevauchements/``).

The owner's requesters act; its viewers get a 403; anyone else a 404, as for every campaign
page. The campaign detail page's « Envoyer maintenant » leads here; ``surveys``' own send and
schedule pages send here any campaign whose choice is not recorded yet.
"""

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.decorators import role_required
from accounts.forms import DsfrForm
from accounts.models import Membership, Role
from collection import overlaps, sending
from surveys.models import Campaign, OverlapChoice
from surveys.periods import PERIOD_KIND_CHOICES
from surveys.views_campaigns import _send_summary as send_summary  # what « Envoyer » will do

NOT_FOUND = "Campagne introuvable ou hors de votre organisation."
PERIOD_KINDS = dict(PERIOD_KIND_CHOICES)
SHOWN_PERIODS = 6
THEN_SCHEDULE = "programmer"
AWAITING = (
    " La campagne reste en brouillon : quand l'autre propriétaire aura répondu, revenez "
    "choisir la réutilisation (acceptée) ou l'envoi malgré tout (refusée)."
)

CHOICE_HINTS = {
    OverlapChoice.REUSE: "Les cellules déjà couvertes ne sont pas demandées : les établissements "
    "voient la valeur déjà déclarée, avec sa provenance, et peuvent la corriger ; vos résultats "
    "la lisent dans l'entrepôt. Seules les cellules nouvelles sont demandées.",
    OverlapChoice.COORDINATE: "Une demande part au propriétaire de chaque campagne qui "
    "chevauche la vôtre : ajouter à sa campagne les définitions qu'elle ne demande pas. Votre "
    "campagne n'est pas envoyée : enregistrez ce choix sans envoyer. Quand il aura répondu, "
    "revenez ici : s'il accepte, choisissez de réutiliser ses valeurs ; s'il refuse, envoyez "
    "malgré tout en le justifiant.",
    OverlapChoice.SEND_ANYWAY: "Toutes les questions sont posées, y compris celles déjà "
    "demandées ailleurs. Justifiez ce choix : la justification figure au registre des collectes.",
}


class OverlapChoiceForm(DsfrForm):
    choice = forms.ChoiceField(
        label="Suite à donner",
        choices=[(c.value, c.label) for c in sending.CHOICES_WITH_OVERLAP],
        required=False,
        widget=forms.RadioSelect,
    )
    justification = forms.CharField(
        label="Justification de l'envoi malgré tout",
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    coordination_message = forms.CharField(
        label="Message au propriétaire de l'autre campagne (coordination)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


def _campaign_for_requester(request: HttpRequest, pk: int) -> Campaign:
    """The campaign, if the user is a requester of its owner: 404 outside the owner, 403 for
    its viewers."""
    campaign = Campaign.objects.select_related("owner", "version", "survey").filter(pk=pk).first()
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
    if Role.REQUESTER not in roles:
        raise PermissionDenied("Seuls les demandeurs de l'organisation envoient la campagne.")
    return campaign


def _periods_label(keys: list[str]) -> str:
    if len(keys) <= SHOWN_PERIODS:
        return ", ".join(keys)
    return f"{keys[0]} … {keys[-1]} ({len(keys)} périodes)"


def summary_rows(summary: dict[str, Any]) -> dict[str, Any]:
    """The analysis (``Analysis.as_summary()``, live or stored) as the page shows it."""
    titles = {o["campaign_id"]: o["title"] for o in summary.get("overlaps", [])}
    return {
        "counts": {"asked": 0, "covered": 0, "in_store": 0, "new": 0, **summary},
        "overlaps": [
            {
                **o,
                "status_label": Campaign.Status(o["status"]).label,
                "period_kind_label": PERIOD_KINDS.get(o["period_kind"], o["period_kind"]),
                "periods_label": _periods_label(o["periods"]),
            }
            for o in summary.get("overlaps", [])
        ],
        "definitions": [
            {**d, "source_titles": [titles.get(s, f"n° {s}") for s in d["sources"]]}
            for d in summary.get("definitions", [])
        ],
    }


def _choices(form: OverlapChoiceForm) -> list[dict[str, Any]]:
    chosen = form["choice"].value() or ""
    return [
        {
            "value": choice.value,
            "label": choice.label,
            "hint": CHOICE_HINTS[choice],
            "checked": chosen == choice.value,
        }
        for choice in sending.CHOICES_WITH_OVERLAP
    ]


@require_http_methods(["GET", "POST"])
@role_required(Role.REQUESTER, Role.VIEWER)
def campaign_overlaps(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign_for_requester(request, pk)
    decidable = campaign.status in sending.DECIDABLE
    scheduling = request.GET.get("suite") == THEN_SCHEDULE
    initial = {
        "choice": campaign.overlap_choice
        if campaign.overlap_choice in sending.CHOICES_WITH_OVERLAP
        else "",
        "justification": campaign.overlap_justification,
    }
    form = OverlapChoiceForm(request.POST or None, initial=initial)
    if request.method == "POST" and decidable and form.is_valid():
        values = {
            "campaign": campaign,
            "choice": form.cleaned_data["choice"],
            "justification": form.cleaned_data["justification"],
            "coordination_message": form.cleaned_data["coordination_message"],
            "user": request.user,
        }
        try:
            if request.POST.get("then") == "send" and not scheduling:
                sent = sending.campaign_send_checked(**values)
                messages.success(
                    request,
                    f"Campagne envoyée à {sent.audience_size} destinataire"
                    f"{'s' if sent.audience_size > 1 else ''}.",
                )
                return redirect("surveys:campaign_detail", pk=campaign.pk)
            decided = sending.overlap_decide(**values)
        except sending.SendingError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                f"Choix enregistré : {OverlapChoice(decided.overlap_choice).label.lower()}."
                + (AWAITING if decided.overlap_choice == OverlapChoice.COORDINATE else ""),
            )
            if scheduling and decided.overlap_choice != OverlapChoice.COORDINATE:
                return redirect("surveys:campaign_schedule", pk=campaign.pk)
            return redirect("surveys:campaign_detail", pk=campaign.pk)
    if decidable:
        analysis = overlaps.analyse(campaign=campaign)
        summary = analysis.as_summary()
        overlapping = sending.has_overlap(analysis)
    else:
        summary = campaign.overlap_summary or {}
        overlapping = bool(summary.get("overlaps")) or bool(summary.get("in_store"))
    context: dict[str, Any] = {
        "title": "Chevauchements et envoi",
        "campaign": campaign,
        "decidable": decidable,
        "scheduling": scheduling,
        "overlapping": overlapping,
        "form": form,
        "choices": _choices(form),
        "justification_min": sending.JUSTIFICATION_MIN_LENGTH,
        "recorded_label": OverlapChoice(campaign.overlap_choice).label
        if campaign.overlap_choice
        else "",
        "coordinating": campaign.overlap_choice == OverlapChoice.COORDINATE,
        "coordinate_label": OverlapChoice.COORDINATE.label,
        **summary_rows(summary),
    }
    if decidable:
        context.update(send_summary(campaign))
    return render(request, "collection/overlaps/page.html", context)
