"""Sending a campaign after its overlap analysis: the requester's choice, recorded, then sent.

Before a campaign is sent (or scheduled), ``collection.overlaps.analyse`` says which of its
cells another scheduled or open campaign already asks, which the value store already holds,
and which are new. The requester chooses one of three ways forward, and the choice is stored
on the campaign with the analysis as it stood (``Campaign.overlap_*``; the register shows it):

- **reuse** (``OverlapChoice.REUSE``): the covered definitions are not asked; one
  ``CampaignReuse`` row per (definition, source campaign), or without a source for values
  already in the store, from ``Analysis.reuse_plan()`` (``collection.reuse`` serves them);
- **coordinate**: one ``CoordinationRequest`` per organisation owning an overlapping campaign
  (to its campaign covering the most cells), asking it to add the definitions of this campaign
  it does not ask (``surveys.coordination``). The campaign is not sent with this choice (it
  would ask every covered cell again): once answered, the requester chooses again, reuse or
  send anyway; a new choice withdraws the requests still pending;
- **send anyway**, with a justification (stored, shown in the register).

Without any overlap the choice is ``none``. ``surveys`` cannot import this module: its send
and schedule views and its ``ouvrir`` API refuse a campaign whose ``overlap_choice`` is empty
or « coordinate » (``surveys.campaigns.awaits_overlap_choice``), and lead here. Editing a
draft's audience, periods, version or the questions of its draft version forgets the choice
(``surveys.campaigns.overlap_reset``).
"""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.services import audit_record
from collection import overlaps
from referentials.models import Definition
from surveys import campaigns
from surveys.coordination import (
    CoordinationError,
    coordination_request_create,
    coordination_withdraw_pending,
)
from surveys.models import (
    Campaign,
    CampaignEvent,
    CampaignReuse,
    CoordinationRequest,
    OverlapChoice,
)

JUSTIFICATION_MIN_LENGTH = 20
# Choices a requester makes when there is an overlap; ``none`` is recorded by the service.
CHOICES_WITH_OVERLAP = (OverlapChoice.REUSE, OverlapChoice.COORDINATE, OverlapChoice.SEND_ANYWAY)
DECIDABLE = (Campaign.Status.DRAFT, Campaign.Status.SCHEDULED)


class SendingError(Exception):
    """A choice or a sending refused; the message (French) says why and what to do."""


class SendingStateError(SendingError):
    """Refused because of the campaign's state (already open, closed), not the input."""


def has_overlap(analysis: overlaps.Analysis) -> bool:
    """Whether the requester has a choice to make: cells asked elsewhere or already stored."""
    return bool(analysis.overlaps) or analysis.in_store > 0


def _check_choice(analysis: overlaps.Analysis, choice: str, justification: str) -> str:
    if not has_overlap(analysis):
        return OverlapChoice.NONE
    if choice not in CHOICES_WITH_OVERLAP:
        raise SendingError(
            "Choisissez la suite à donner aux chevauchements : réutiliser les valeurs déjà "
            "demandées, demander une coordination, ou envoyer malgré tout en le justifiant."
        )
    if choice == OverlapChoice.COORDINATE and not analysis.overlaps:
        raise SendingError(
            "Aucune autre campagne ne demande ces données : les valeurs viennent de l'entrepôt. "
            "Choisissez de les réutiliser, ou d'envoyer malgré tout."
        )
    if choice == OverlapChoice.SEND_ANYWAY and len(justification) < JUSTIFICATION_MIN_LENGTH:
        raise SendingError(
            "Justification : expliquez en une phrase au moins "
            f"({JUSTIFICATION_MIN_LENGTH} caractères) pourquoi ces données doivent être "
            "demandées de nouveau aux établissements ; elle figurera au registre des collectes."
        )
    return choice


def _write_reuses(campaign: Campaign, analysis: overlaps.Analysis) -> int:
    plan = list(dict.fromkeys(analysis.reuse_plan()))
    CampaignReuse.objects.bulk_create(
        CampaignReuse(campaign=campaign, definition_id=definition_id, source_id=source_id)
        for definition_id, source_id in plan
    )
    return len(plan)


def _coordinate(
    campaign: Campaign, analysis: overlaps.Analysis, message: str, user: User
) -> list[CoordinationRequest]:
    """One request per organisation owning an overlapping campaign, to the one of its
    campaigns covering the most cells (``analysis.overlaps`` comes sorted that way)."""
    asked = {d.definition_id for d in analysis.definitions}
    owners = dict(
        Campaign.objects.filter(pk__in=[o.campaign_id for o in analysis.overlaps]).values_list(
            "pk", "owner_id"
        )
    )
    chosen: dict[int, overlaps.Overlap] = {}
    for overlap in analysis.overlaps:
        missing = asked - {pk for pk, _, _ in overlap.definitions}
        if missing:
            chosen.setdefault(owners[overlap.campaign_id], overlap)
    if not chosen:
        raise SendingError(
            "Les campagnes qui chevauchent la vôtre demandent déjà toutes ses définitions : "
            "choisissez plutôt de réutiliser leurs valeurs."
        )
    targets = {
        c.pk: c for c in Campaign.objects.filter(pk__in=[o.campaign_id for o in chosen.values()])
    }
    requests = []
    for overlap in chosen.values():
        common = {pk for pk, _, _ in overlap.definitions}
        try:
            requests.append(
                coordination_request_create(
                    requesting_campaign=campaign,
                    target_campaign=targets[overlap.campaign_id],
                    definitions=[d for d in campaign_definitions(campaign) if d.pk not in common],
                    message=message,
                    user=user,
                )
            )
        except CoordinationError as error:
            raise SendingError(str(error)) from error
    return requests


def campaign_definitions(campaign: Campaign) -> list[Definition]:
    """The dictionary definitions the campaign's version asks, by code."""
    return list(
        Definition.objects.filter(questions__version_id=campaign.version_id)
        .distinct()
        .order_by("code")
    )


def overlap_decide(
    *,
    campaign: Campaign,
    choice: str,
    justification: str = "",
    coordination_message: str = "",
    user: User,
) -> Campaign:
    """Analyse the campaign again, now, and record the requester's choice (see the module)."""
    if not campaigns.is_requester_of(user, campaign.owner_id):
        raise SendingError(
            "Seul un demandeur de l'organisation propriétaire de la campagne choisit la suite "
            "à donner aux chevauchements."
        )
    justification = (justification or "").strip()
    with transaction.atomic():
        locked = (
            Campaign.objects.select_for_update()
            .select_related("owner", "version")
            .get(pk=campaign.pk)
        )
        if locked.status not in DECIDABLE:
            raise SendingStateError(
                f"La campagne est {locked.get_status_display().lower()} : le choix se fait "
                "avant l'envoi."
            )
        analysis = overlaps.analyse(campaign=locked)
        choice = _check_choice(analysis, choice, justification)
        # A new choice replaces the previous one and what it wrote.
        CampaignReuse.objects.filter(campaign=locked).delete()
        details: dict[str, object] = {
            "choice": str(choice),
            "asked": analysis.asked,
            "covered": analysis.covered,
            "in_store": analysis.in_store,
            "new": analysis.new,
            "overlapping": [o.campaign_id for o in analysis.overlaps],
        }
        if choice == OverlapChoice.COORDINATE and locked.status != Campaign.Status.DRAFT:
            raise SendingError(
                "La campagne est programmée : elle s'ouvrira à sa date sans attendre de réponse. "
                "Une coordination se demande avant de programmer l'ouverture : choisissez de "
                "réutiliser les valeurs, ou d'envoyer malgré tout en le justifiant."
            )
        kept: list[int] = []
        if choice == OverlapChoice.REUSE:
            details["reuses"] = _write_reuses(locked, analysis)
        elif choice == OverlapChoice.COORDINATE:
            requests = _coordinate(locked, analysis, (coordination_message or "").strip(), user)
            kept = [r.pk for r in requests]
            details["coordination_requests"] = kept
        # Requests from an earlier « coordinate » that this choice does not renew.
        withdrawn = coordination_withdraw_pending(campaign=locked, user=user, keep=kept)
        if withdrawn:
            details["coordination_withdrawn"] = withdrawn
        locked.overlap_choice = choice
        locked.overlap_justification = justification if choice == OverlapChoice.SEND_ANYWAY else ""
        locked.overlap_analysed_at = timezone.now()
        locked.overlap_decided_by = user
        locked.overlap_summary = analysis.as_summary()
        locked.save(
            update_fields=[
                "overlap_choice",
                "overlap_justification",
                "overlap_analysed_at",
                "overlap_decided_by",
                "overlap_summary",
                "updated_at",
            ]
        )
        CampaignEvent.objects.create(
            campaign=locked,
            kind=CampaignEvent.Kind.EDIT,
            actor=user,
            comment=f"Chevauchements : {OverlapChoice(choice).label}",
            details={"overlap": details},
        )
        audit_record(actor=user, action="campaign.overlap_decide", target=locked, details=details)
    return locked


def campaign_send_checked(
    *,
    campaign: Campaign,
    choice: str,
    justification: str = "",
    coordination_message: str = "",
    opens_at: dt.datetime | None = None,
    user: User,
) -> Campaign:
    """Record the choice and send the campaign (or schedule it at ``opens_at``), in one
    transaction: a refused sending keeps no choice, no reuse and no coordination request.

    « Coordinate » is refused: sent now, the campaign would ask every covered cell again
    with no justification. That choice is recorded alone (``overlap_decide``); once the other
    owner has answered, the requester comes back and chooses reuse or send anyway."""
    if choice == OverlapChoice.COORDINATE:
        raise SendingError(
            "Une campagne qui demande une coordination attend la réponse de l'autre "
            "propriétaire avant d'être envoyée : enregistrez ce choix sans envoyer. Quand il "
            "aura répondu, revenez ici : s'il accepte, choisissez de réutiliser ses valeurs ; "
            "s'il refuse, envoyez malgré tout en le justifiant."
        )
    try:
        with transaction.atomic():
            decided = overlap_decide(
                campaign=campaign,
                choice=choice,
                justification=justification,
                coordination_message=coordination_message,
                user=user,
            )
            if opens_at is not None:
                return campaigns.campaign_schedule(campaign=decided, opens_at=opens_at, user=user)
            return campaigns.campaign_open(campaign=decided, user=user)
    except campaigns.CampaignError as error:
        raise SendingStateError(str(error)) from error
