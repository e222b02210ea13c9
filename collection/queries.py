"""Queries on values: a requester asks « please confirm or correct », the establishment answers.

The thread stays with the value (``ValueQuery`` and its ``ValueQueryMessage`` rows):

- ``query_create``: a requester of a campaign reading the value asks; the value becomes
  « questionnée » and the unit's recipients are told (kind ``value_queried``). A value has at
  most one open query: asking again while it is open adds the question to that thread;
- ``query_confirm`` / ``query_correct``: a respondent of the unit answers, by confirming with a
  comment or by correcting (a new revision through ``collection.values.value_correct``); the
  value is « déclarée » again and the requester who asked is told (``value_query_answered``);
- ``query_close``: the requester closes the thread (answered or not);
- ``value_validate``: a requester marks the value « validée »: a revision records the status
  change (same data), and a thread still open or answered is closed with the validation.

Every change of status (questionnée, déclarée again, validée) is a ``ValueRevision`` with the
same data, as a correction is: the value is shared, and its history says who changed what. A
validated value may be questioned again only by a requester of the organisation that validated
it; anyone else is refused (another campaign reading the same value cannot undo a validation).

Each function locks the value's row first, so that two answers, or an answer and a
validation, are applied one after the other. Errors are ``QueryError`` with a French message.
"""

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Organisation, Role, User
from accounts.scoping import REQUESTING_ROLES, scope_for
from accounts.services import audit_record
from collection import values as store
from collection.models import Channel, Value, ValueQuery, ValueQueryMessage, ValueRevision
from collection.quality import askable_campaigns
from notifications.services import Recipient, notify
from referentials.recipients import recipients_for_units
from surveys.models import Campaign

QUERIED_TEMPLATE = "collection/emails/value_queried"
ANSWERED_TEMPLATE = "collection/emails/value_query_answered"
TEXT_MAX = 4000


class QueryError(Exception):
    """The query cannot be asked or answered; the message says why, in French."""


def _text(text: str, *, what: str) -> str:
    text = (text or "").strip()
    if not text:
        raise QueryError(f"Écrivez {what} : il sera lu par l'autre partie.")
    if len(text) > TEXT_MAX:
        raise QueryError(f"Votre message dépasse {TEXT_MAX} caractères : raccourcissez-le.")
    return text


def _label(value: Value) -> str:
    return value.definition.label if value.definition is not None else value.code


def shown(value: Value) -> str:
    """The value as people read it (« 12 », « Oui »), « (vide) » when there is none."""
    if value.data is None:
        return "(vide)"
    spec = store.value_spec(value)
    return (store.display(spec, value.data) if spec is not None else str(value.data)) or "(vide)"


def _thread_path(value: Value) -> str:
    return reverse("collection:value_query", kwargs={"pk": value.pk})


def _may_answer(user: User, value: Value) -> bool:
    scope = scope_for(user, roles=[Role.RESPONDENT])
    return Value.objects.filter(scope.units_q("unit__"), pk=value.pk).exists()


def _require_requester(user: User, value: Value, campaign: Campaign | None) -> list[Campaign]:
    """The campaigns ``user`` may act on ``value`` for (``campaign`` must be one of them)."""
    campaigns = askable_campaigns(user=user, value=value)
    if not campaigns or (campaign is not None and campaign not in campaigns):
        raise QueryError(
            "Seul un demandeur d'une campagne qui lit cette valeur, pour un établissement de "
            "son périmètre, peut la questionner ou la valider."
        )
    return campaigns


def _locked(value: Value) -> Value:
    return (
        Value.objects.select_for_update(of=("self",))
        .select_related("unit", "definition")
        .get(pk=value.pk)
    )


def _set_status(row: Value, status: str, *, user: User, comment: str) -> ValueRevision | None:
    """Change the (locked) value's status and record it as a revision (same data), as every
    change of a shared value is; None when the status does not change."""
    if row.status == status:
        return None
    old_status = row.status
    row.status = status
    row.revision_count += 1
    Value.objects.filter(pk=row.pk).update(status=row.status, revision_count=row.revision_count)
    return ValueRevision.objects.create(
        value=row,
        number=row.revision_count,
        old_data=row.data,
        new_data=row.data,
        old_status=old_status,
        new_status=status,
        comment=comment,
        channel=Channel.FORM,
        changed_by=user,
        campaign_id=row.campaign_id,
        assignment_id=row.assignment_id,
        changed_at=timezone.now(),
    )


def _require_not_validated_elsewhere(user: User, row: Value) -> None:
    """A validated value is questioned again only by the organisation that validated it:
    another campaign reading the same shared value may not undo someone else's validation."""
    if row.status != Value.Status.VALIDATED:
        return
    validation = (
        ValueRevision.objects.filter(value=row, new_status=Value.Status.VALIDATED)
        .order_by("-number")
        .first()
    )
    mine = Membership.objects.filter(user=user, role__in=REQUESTING_ROLES).values("organisation_id")
    author_id = validation.changed_by_id if validation is not None else None
    theirs = (
        Organisation.objects.filter(
            memberships__user_id=author_id, memberships__role__in=REQUESTING_ROLES
        ).distinct()
        if author_id is not None
        else Organisation.objects.none()
    )
    if theirs.filter(pk__in=mine).exists():
        return
    names = ", ".join(sorted(o.short_name or o.name for o in theirs)) or "un autre demandeur"
    raise QueryError(
        f"Cette valeur a été validée par {names} : seule cette organisation peut la "
        "questionner à nouveau. Si elle vous semble fausse, écrivez-lui."
    )


@transaction.atomic
def query_create(*, value: Value, text: str, campaign: Campaign | None, user: User) -> ValueQuery:
    """Ask the establishment to confirm or correct ``value`` (for ``campaign``, one of the
    asker's campaigns that read it; the latest one when None)."""
    text = _text(text, what="votre question")
    campaigns = _require_requester(user, value, campaign)
    campaign = campaign or max(campaigns, key=lambda c: c.pk)
    row = _locked(value)
    _require_not_validated_elsewhere(user, row)
    now = timezone.now()
    query = ValueQuery.objects.filter(value=row, status=ValueQuery.Status.OPEN).first()
    if query is None:
        query = ValueQuery.objects.create(value=row, campaign=campaign, asked_by=user, asked_at=now)
    message = ValueQueryMessage.objects.create(
        query=query, kind=ValueQueryMessage.Kind.QUESTION, text=text, author=user, created_at=now
    )
    old_status = row.status
    _set_status(row, Value.Status.QUERIED, user=user, comment=f"Valeur questionnée : {text}")
    audit_record(
        actor=user,
        action="value.query",
        target=row,
        details={"query": query.pk, "campaign": campaign.pk, "old_status": old_status},
    )
    owner = campaign.owner.short_name or campaign.owner.name
    recipients = recipients_for_units([row.unit_id]).get(row.unit_id, [])
    notify(
        kind="value_queried",
        recipients=recipients,
        subject=f"{owner} vous demande de confirmer ou corriger une valeur",
        template=QUERIED_TEMPLATE,
        context={
            "owner": owner,
            "campaign": campaign.title,
            "unit": row.unit.label,
            "label": _label(row),
            "period": row.period_key,
            "value": shown(row),
            "question": text,
        },
        link=_thread_path(row),
        about={"campaign": campaign.pk, "value": row.pk, "query": query.pk},
        dedup_subject=f"value-query-{query.pk}-message-{message.pk}",
    )
    return query


def _answerable(query: ValueQuery, user: User) -> Value:
    """The locked value of an open ``query`` that ``user`` answers for."""
    row = _locked(query.value)
    query.refresh_from_db(fields=["status"])
    if not _may_answer(user, row):
        raise QueryError("Seul un répondant de l'établissement concerné répond à cette question.")
    if query.status != ValueQuery.Status.OPEN:
        raise QueryError(
            f"Cette question a déjà reçu une réponse ({query.get_status_display().lower()}) : "
            "rechargez la page pour lire le fil."
        )
    return row


def _answered(
    *, query: ValueQuery, row: Value, status: str, message: ValueQueryMessage, user: User
) -> None:
    query.status = status
    query.save(update_fields=["status"])
    who = user.get_full_name() or user.email
    notify(
        kind="value_query_answered",
        recipients=[Recipient(user=query.asked_by)],
        subject=f"{row.unit.label} a répondu à votre question sur « {_label(row)} »",
        template=ANSWERED_TEMPLATE,
        context={
            "unit": row.unit.label,
            "label": _label(row),
            "period": row.period_key,
            "value": shown(row),
            "corrected": status == ValueQuery.Status.CORRECTED,
            "answer": message.text,
            "who": who,
        },
        link=_thread_path(row),
        about={"campaign": query.campaign_id, "value": row.pk, "query": query.pk},
        dedup_subject=f"value-query-{query.pk}-answer-{message.pk}",
    )


@transaction.atomic
def query_confirm(*, query: ValueQuery, comment: str, user: User) -> ValueQuery:
    """The establishment confirms the value as it stands, and says why."""
    comment = _text(comment, what="pourquoi la valeur est juste")
    row = _answerable(query, user)
    message = ValueQueryMessage.objects.create(
        query=query,
        kind=ValueQueryMessage.Kind.CONFIRMATION,
        text=comment,
        author=user,
        created_at=timezone.now(),
    )
    _set_status(row, Value.Status.SUBMITTED, user=user, comment=f"Valeur confirmée : {comment}")
    _answered(query=query, row=row, status=ValueQuery.Status.CONFIRMED, message=message, user=user)
    audit_record(actor=user, action="value.query_confirm", target=row, details={"query": query.pk})
    return query


@transaction.atomic
def query_correct(*, query: ValueQuery, raw: str, comment: str, user: User) -> ValueQuery:
    """The establishment corrects the value: a new revision, checked like any answer."""
    comment = _text(comment, what="la raison de la correction")
    row = _answerable(query, user)
    try:
        corrected = store.value_correct(
            value=row, raw=raw, comment=comment, user=user, channel=Channel.FORM
        )
    except store.SubmissionRefused as error:
        raise QueryError(str(error)) from error
    revision = ValueRevision.objects.get(value=corrected, number=corrected.revision_count)
    message = ValueQueryMessage.objects.create(
        query=query,
        kind=ValueQueryMessage.Kind.CORRECTION,
        text=comment,
        author=user,
        revision=revision,
        created_at=timezone.now(),
    )
    _answered(
        query=query, row=corrected, status=ValueQuery.Status.CORRECTED, message=message, user=user
    )
    audit_record(
        actor=user,
        action="value.query_correct",
        target=corrected,
        details={"query": query.pk, "revision": revision.number},
    )
    return query


@transaction.atomic
def query_close(*, query: ValueQuery, user: User, comment: str = "") -> ValueQuery:
    """The requester closes the thread; the value goes back to « déclarée » if it was still
    « questionnée » (the establishment did not answer)."""
    _require_requester(user, query.value, None)
    row = _locked(query.value)
    query.refresh_from_db(fields=["status"])
    if query.status == ValueQuery.Status.CLOSED:
        raise QueryError("Cette question est déjà close.")
    now = timezone.now()
    ValueQueryMessage.objects.create(
        query=query,
        kind=ValueQueryMessage.Kind.COMMENT,
        text=(comment or "").strip() or "Question close.",
        author=user,
        created_at=now,
    )
    query.status = ValueQuery.Status.CLOSED
    query.closed_at = now
    query.save(update_fields=["status", "closed_at"])
    if row.status == Value.Status.QUERIED:
        _set_status(
            row,
            Value.Status.SUBMITTED,
            user=user,
            comment="Question close sans correction : valeur de nouveau déclarée.",
        )
    audit_record(actor=user, action="value.query_close", target=row, details={"query": query.pk})
    return query


@transaction.atomic
def value_validate(*, value: Value, user: User, comment: str = "") -> Value:
    """The requester marks ``value`` validated: a revision records the status change (the data
    stays), and an unclosed query on it is closed with a validation message."""
    _require_requester(user, value, None)
    row = _locked(value)
    if row.status == Value.Status.VALIDATED:
        raise QueryError("Cette valeur est déjà validée.")
    now = timezone.now()
    comment = (comment or "").strip()
    old_status = row.status
    row.status = Value.Status.VALIDATED
    row.revision_count += 1
    Value.objects.filter(pk=row.pk).update(status=row.status, revision_count=row.revision_count)
    revision = ValueRevision.objects.create(
        value=row,
        number=row.revision_count,
        old_data=row.data,
        new_data=row.data,
        old_status=old_status,
        new_status=row.status,
        comment=comment or "Valeur validée par le demandeur.",
        channel=Channel.FORM,
        changed_by=user,
        campaign_id=row.campaign_id,
        assignment_id=row.assignment_id,
        changed_at=now,
    )
    for query in ValueQuery.objects.filter(value=row).exclude(status=ValueQuery.Status.CLOSED):
        ValueQueryMessage.objects.create(
            query=query,
            kind=ValueQueryMessage.Kind.VALIDATION,
            text=comment or "Valeur validée.",
            author=user,
            revision=revision,
            created_at=now,
        )
        query.status = ValueQuery.Status.CLOSED
        query.closed_at = now
        query.save(update_fields=["status", "closed_at"])
    audit_record(
        actor=user,
        action="value.validate",
        target=row,
        details={"old_status": old_status, "revision": revision.number},
    )
    return row
