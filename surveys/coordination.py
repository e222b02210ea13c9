"""Coordination between requesters: rather than sending a second campaign that asks the same
establishments again, ask the owner of the campaign already asking them to add what is missing.

- ``coordination_request_create``: a requester of the requesting campaign's owner asks the
  target campaign (scheduled or open) to add definitions it does not ask yet;
- ``coordination_accept``: a requester of the target's owner accepts. A new version of the
  target's survey adds one question per requested definition (through ``surveys.builder``, as
  if they had used the builder), is frozen, and becomes the target campaign's version: the
  periods that open from then on ask them; periods already open keep their version;
- ``coordination_decline`` (with a response the requester reads) and
  ``coordination_withdraw`` (by the requester, while it is pending).

Each service takes the acting user, runs in one transaction, writes an audit event and tells
the other side through ``notifications`` (kinds ``coordination_requested`` and
``coordination_decided``, written in the same transaction). The overlap analysis that proposes
these requests lives in ``collection`` (which may import this module, not the other way round).
"""

from collections.abc import Sequence

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Organisation, Role, User
from accounts.services import audit_record
from notifications.services import Recipient, notify
from referentials.models import Definition
from surveys import builder
from surveys.campaigns import is_requester_of
from surveys.models import Campaign, CampaignEvent, CoordinationRequest
from surveys.selectors_builder import draft_version, latest_version

REQUESTED_TEMPLATE = "surveys/emails/coordination_requested"
DECIDED_TEMPLATE = "surveys/emails/coordination_decided"
# The campaigns that can still take new questions for their next periods.
TARGET_STATUSES = (Campaign.Status.SCHEDULED, Campaign.Status.OPEN)
MESSAGE_MAX_LENGTH = 2000


class CoordinationError(Exception):
    """A coordination change refused; the message (French) says why and what to do."""


def _label(organisation: Organisation) -> str:
    return organisation.short_name or organisation.name


def _requesters(organisation_id: int) -> list[User]:
    return [
        m.user
        for m in Membership.objects.filter(
            organisation_id=organisation_id,
            role=Role.REQUESTER,
            user__is_active=True,
            organisation__is_active=True,
        )
        .select_related("user")
        .order_by("user__email")
    ]


def _asked_definition_ids(campaign: Campaign) -> set[int]:
    return set(
        campaign.version.questions.filter(definition__isnull=False).values_list(
            "definition_id", flat=True
        )
    )


def _detail_path(request: CoordinationRequest) -> str:
    return reverse("surveys:coordination_detail", kwargs={"pk": request.pk})


def _definitions_context(request: CoordinationRequest) -> list[dict[str, str]]:
    return [
        {"code": d.code, "label": d.label} for d in request.definitions.order_by("label", "code")
    ]


def _lock(request: CoordinationRequest) -> CoordinationRequest:
    return (
        CoordinationRequest.objects.select_for_update()
        .select_related(
            "requesting_campaign__owner",
            "target_campaign__owner",
            "target_campaign__survey",
            "target_campaign__version",
        )
        .get(pk=request.pk)
    )


def coordination_request_create(
    *,
    requesting_campaign: Campaign,
    target_campaign: Campaign,
    definitions: Sequence[Definition],
    message: str = "",
    user: User,
) -> CoordinationRequest:
    """Ask ``target_campaign``'s owner to add ``definitions`` (those it does not ask already).

    A pending request between the same two campaigns is updated rather than doubled."""
    if not is_requester_of(user, requesting_campaign.owner_id):
        raise CoordinationError(
            "Seul un demandeur de l'organisation propriétaire de la campagne peut demander une "
            "coordination."
        )
    if target_campaign.pk == requesting_campaign.pk:
        raise CoordinationError("Une campagne ne se coordonne pas avec elle-même.")
    if target_campaign.status not in TARGET_STATUSES:
        raise CoordinationError(
            f"La campagne « {target_campaign.title} » est "
            f"{target_campaign.get_status_display().lower()} : seule une campagne programmée "
            "ou ouverte peut ajouter des questions à ses prochaines périodes."
        )
    message = (message or "").strip()
    if len(message) > MESSAGE_MAX_LENGTH:
        raise CoordinationError(
            f"Le message dépasse {MESSAGE_MAX_LENGTH} caractères : raccourcissez-le."
        )
    asked = _asked_definition_ids(target_campaign)
    missing = sorted({d.pk for d in definitions} - asked)
    if not missing:
        raise CoordinationError(
            f"La campagne « {target_campaign.title} » demande déjà toutes ces définitions : "
            "choisissez plutôt de réutiliser ses réponses."
        )
    with transaction.atomic():
        request = (
            CoordinationRequest.objects.select_for_update()
            .filter(
                requesting_campaign=requesting_campaign,
                target_campaign=target_campaign,
                status=CoordinationRequest.Status.PENDING,
            )
            .first()
        )
        created = request is None
        if request is None:
            request = CoordinationRequest.objects.create(
                requesting_campaign=requesting_campaign,
                target_campaign=target_campaign,
                message=message,
                created_by=user,
            )
        else:
            request.message = message
            request.save(update_fields=["message"])
        request.definitions.set(missing)
        audit_record(
            actor=user,
            action="coordination.request" if created else "coordination.update",
            target=request,
            details={"target": target_campaign.pk, "definitions": missing},
        )
        requester = _label(requesting_campaign.owner)
        notify(
            kind="coordination_requested",
            recipients=[Recipient(user=u) for u in _requesters(target_campaign.owner_id)],
            subject=f"{requester} vous propose d'ajouter des questions à « "
            f"{target_campaign.title} »",
            template=REQUESTED_TEMPLATE,
            context={
                "requester": requester,
                "requesting_title": requesting_campaign.title,
                "target_title": target_campaign.title,
                "message": message,
                "definitions": _definitions_context(request),
            },
            link=_detail_path(request),
            about={"campaign": target_campaign.pk, "coordination": request.pk},
            dedup_subject=f"coordination-{request.pk}-requested-{len(missing)}",
        )
    return request


def _notify_decision(request: CoordinationRequest) -> None:
    requesting = request.requesting_campaign
    target = request.target_campaign
    recipients = {u.pk: u for u in _requesters(requesting.owner_id)}
    if request.created_by is not None and request.created_by.is_active:
        recipients.setdefault(request.created_by.pk, request.created_by)
    owner = _label(target.owner)
    status_label = str(CoordinationRequest.Status(request.status).label).lower()
    notify(
        kind="coordination_decided",
        recipients=[Recipient(user=u) for u in recipients.values()],
        subject=f"Coordination {status_label} par {owner} : « {target.title} »",
        template=DECIDED_TEMPLATE,
        context={
            "owner": owner,
            "accepted": request.status == CoordinationRequest.Status.ACCEPTED,
            "status": status_label,
            "requesting_title": requesting.title,
            "target_title": target.title,
            "response": request.response,
            "version": request.applied_version.number if request.applied_version else None,
            "definitions": _definitions_context(request),
        },
        link=_detail_path(request),
        about={"campaign": requesting.pk, "coordination": request.pk},
        dedup_subject=f"coordination-{request.pk}-{request.status}",
    )


def _require_target_requester(user: User, request: CoordinationRequest) -> None:
    if not is_requester_of(user, request.target_campaign.owner_id):
        raise CoordinationError(
            f"Seul un demandeur de {_label(request.target_campaign.owner)} décide de cette "
            "demande de coordination."
        )


def _require_pending(request: CoordinationRequest) -> None:
    if request.status != CoordinationRequest.Status.PENDING:
        raise CoordinationError(
            f"Cette demande est déjà {request.get_status_display().lower()} : rien à décider."
        )


def coordination_accept(
    *, request: CoordinationRequest, user: User, response: str = ""
) -> CoordinationRequest:
    """Add the requested definitions to the target campaign from its next periods."""
    with transaction.atomic():
        locked = _lock(request)
        _require_target_requester(user, locked)
        _require_pending(locked)
        target = Campaign.objects.select_for_update().get(pk=locked.target_campaign_id)
        if target.status not in TARGET_STATUSES:
            raise CoordinationError(
                f"La campagne « {target.title} » est {target.get_status_display().lower()} : "
                "elle n'ouvrira plus de période, refusez plutôt la demande."
            )
        definitions = list(locked.definitions.order_by("label", "code"))
        requester = _label(locked.requesting_campaign.owner)
        draft = draft_version(target.survey)
        if draft is not None:
            # Someone is editing the survey: freezing their half-done draft for a live campaign
            # would send it as it stands.
            raise CoordinationError(
                f"L'enquête de « {target.title} » a une version en brouillon (version "
                f"{draft.number}) en cours de modification : terminez-la avant d'accepter, ou "
                "ajoutez-y vous-même ces définitions dans le constructeur."
            )
        latest = latest_version(target.survey)
        if latest is not None and latest.pk != target.version_id:
            # Copying the campaign's version would drop what the later one changed for every
            # new campaign of the survey; copying the later one would change the campaign's
            # other questions: neither is what was asked.
            raise CoordinationError(
                f"La campagne « {target.title} » pose la version {target.version.number} de "
                f"son enquête, qui en a depuis une version {latest.number} : les questions ne "
                "peuvent pas lui être ajoutées sans changer ses autres questions. Refusez la "
                "demande en expliquant pourquoi au demandeur."
            )
        try:
            version = builder.new_version(survey=target.survey, user=user, source=target.version)
            asked = set(
                version.questions.filter(definition__isnull=False).values_list(
                    "definition_id", flat=True
                )
            )
            section = builder.section_add(
                version=version,
                title=f"Questions ajoutées à la demande de {requester}",
                description=f"Coordination avec la campagne « {locked.requesting_campaign.title} »",
                user=user,
            )
            for definition in definitions:
                if definition.pk not in asked:
                    builder.question_add(
                        version=version, section=section, definition=definition, user=user
                    )
            version = builder.freeze_version(version=version, user=user)
        except builder.BuilderError as error:
            raise CoordinationError(
                "Les questions n'ont pas pu être ajoutées : " + " ; ".join(error.messages)
            ) from error
        previous = target.version.number
        target.version = version
        target.save(update_fields=["version", "updated_at"])
        CampaignEvent.objects.create(
            campaign=target,
            kind=CampaignEvent.Kind.EDIT,
            actor=user,
            comment=f"Version {version.number} : questions ajoutées à la demande de {requester} "
            "(coordination), à partir de la prochaine période.",
            details={
                "coordination": locked.pk,
                "version": [previous, version.number],
                "definitions": [d.code for d in definitions],
            },
        )
        locked.status = CoordinationRequest.Status.ACCEPTED
        locked.decided_by = user
        locked.decided_at = timezone.now()
        locked.response = (response or "").strip()
        locked.applied_version = version
        locked.save(
            update_fields=["status", "decided_by", "decided_at", "response", "applied_version"]
        )
        audit_record(
            actor=user,
            action="coordination.accept",
            target=locked,
            details={"version": version.pk, "definitions": [d.code for d in definitions]},
        )
        _notify_decision(locked)
    return locked


def coordination_decline(
    *, request: CoordinationRequest, user: User, response: str
) -> CoordinationRequest:
    """Refuse, saying why (the requester reads it)."""
    if not (response or "").strip():
        raise CoordinationError("Expliquez le refus dans la réponse : le demandeur la lira.")
    with transaction.atomic():
        locked = _lock(request)
        _require_target_requester(user, locked)
        _require_pending(locked)
        locked.status = CoordinationRequest.Status.DECLINED
        locked.decided_by = user
        locked.decided_at = timezone.now()
        locked.response = response.strip()
        locked.save(update_fields=["status", "decided_by", "decided_at", "response"])
        audit_record(
            actor=user, action="coordination.decline", target=locked, details={"response": response}
        )
        _notify_decision(locked)
    return locked


def coordination_withdraw(*, request: CoordinationRequest, user: User) -> CoordinationRequest:
    """The requester takes a pending request back (nothing is sent to the other side)."""
    with transaction.atomic():
        locked = _lock(request)
        if not is_requester_of(user, locked.requesting_campaign.owner_id):
            raise CoordinationError(
                "Seul un demandeur de l'organisation qui a fait la demande peut la retirer."
            )
        _require_pending(locked)
        locked.status = CoordinationRequest.Status.WITHDRAWN
        locked.decided_by = user
        locked.decided_at = timezone.now()
        locked.save(update_fields=["status", "decided_by", "decided_at"])
        audit_record(actor=user, action="coordination.withdraw", target=locked)
    return locked


def coordination_withdraw_pending(
    *, campaign: Campaign, user: User | None, keep: Sequence[int] = ()
) -> list[int]:
    """Withdraw the pending requests ``campaign`` sent (but those in ``keep``), when its
    overlap choice is replaced or forgotten (``collection.sending.overlap_decide``,
    ``surveys.campaigns.overlap_reset``). The caller holds the campaign's row lock and has
    checked the user. Returns the ids withdrawn; nothing is sent to the other side, as for
    ``coordination_withdraw``."""
    pending = CoordinationRequest.objects.filter(
        requesting_campaign=campaign, status=CoordinationRequest.Status.PENDING
    ).exclude(pk__in=keep)
    ids = list(pending.values_list("pk", flat=True))
    if ids:
        CoordinationRequest.objects.filter(pk__in=ids).update(
            status=CoordinationRequest.Status.WITHDRAWN, decided_by=user, decided_at=timezone.now()
        )
        audit_record(
            actor=user,
            action="coordination.withdraw",
            target=campaign,
            details={"coordination_requests": ids, "reason": "overlap choice replaced"},
        )
    return ids
