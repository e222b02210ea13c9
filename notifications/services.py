"""What the domain calls: ``notify`` writes outbox rows; preferences and reading are here too.

``notify`` writes in the caller's transaction and schedules the sending after commit: a rolled
back business change sends nothing, and a committed one is delivered even if the queue is down
at that moment (the rows stay ``queued`` and the periodic sweep sends them).
"""

import hashlib
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import connection, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError

from accounts.models import User
from notifications.models import AddressProblem, Notification, Preference

logger = logging.getLogger(__name__)

# Kinds whose e-mail a user may switch off (they stay in the in-app centre). Invitations and
# escalations are not optional: the first is how one gets an account, the second is a duty.
MUTABLE_KINDS: dict[str, str] = {
    "reminder": "Relances avant et après l'échéance",
    "coordination": "Demandes de coordination entre campagnes",
    "value_corrected": "Corrections d'une valeur que vous avez déclarée",
    "export_ready": "Exports prêts à télécharger",
}
# The only kind that a daily-digest preference holds until the next morning.
DIGEST_KIND = "digest"
DIGEST_HOUR = time(7, 0)
TASK_BATCH_SIZE = 100

_validate_email = EmailValidator()


@dataclass(frozen=True)
class Recipient:
    """A user, a bare address (an establishment's functional contact), or both."""

    user: User | None = None
    email: str = ""
    name: str = ""


class NotifyError(ValueError):
    pass


def _address_key(recipient: Recipient) -> str:
    email = (recipient.email or (recipient.user.email if recipient.user else "")).strip().lower()
    if email:
        return email
    if recipient.user is not None:
        return f"user:{recipient.user.pk}"
    return f"name:{recipient.name}"


def dedup_key(*, address_key: str, kind: str, dedup_subject: str, day: str) -> str:
    raw = "\x1f".join([address_key, kind, dedup_subject, day])
    return hashlib.sha256(raw.encode()).hexdigest()


def next_digest_time(now: datetime) -> datetime:
    """The next 7:00 in Paris after ``now`` (the daily digest's hour)."""
    local = timezone.localtime(now)
    candidate = local.replace(hour=DIGEST_HOUR.hour, minute=0, second=0, microsecond=0)
    if candidate <= local:
        candidate = timezone.make_aware(
            datetime.combine(local.date() + timedelta(days=1), DIGEST_HOUR)
        )
    return candidate


def _malformed(email: str) -> str | None:
    if not email:
        return "Aucune adresse électronique pour ce destinataire : rien n'a pu être envoyé."
    try:
        _validate_email(email)
    except ValidationError:
        return (
            f"Adresse électronique mal formée : « {email} ». Corrigez-la dans l'annuaire "
            "pour que les prochains messages partent."
        )
    return None


def notify(
    *,
    kind: str,
    recipients: Iterable[Recipient],
    subject: str,
    template: str,
    context: dict[str, Any],
    dedup_subject: str,
    link: str = "",
    about: dict[str, Any] | None = None,
    channel: str = Notification.Channel.EMAIL,
) -> list[Notification]:
    """Write one outbox row per recipient and send them after the caller's commit.

    ``template`` is a template path without extension: ``<template>.html`` and
    ``<template>.txt`` are rendered with ``context`` (plain data only: it is stored as JSON).
    ``dedup_subject`` names what the message is about (``"campaign-12-open"``): the same
    (recipient, kind, dedup_subject) on the same day is written once, whoever asks again.
    Returns the rows this call inserted (duplicates of earlier calls are left out).
    """
    return notify_many(
        [
            Message(
                kind=kind,
                recipients=list(recipients),
                subject=subject,
                template=template,
                context=context,
                dedup_subject=dedup_subject,
                link=link,
                about=about,
                channel=channel,
            )
        ]
    )


@dataclass
class Message:
    """One ``notify`` call's worth: what ``notify_many`` takes many of."""

    kind: str
    recipients: list[Recipient]
    subject: str
    template: str
    context: dict[str, Any]
    dedup_subject: str
    link: str = ""
    about: dict[str, Any] | None = None
    channel: str = Notification.Channel.EMAIL


def notify_many(messages: Iterable[Message]) -> list[Notification]:
    """``notify`` for many messages at once (a digest per establishment when a campaign opens
    for ten thousand): one preference query, one insert, one read-back, one delivery
    scheduling after commit, in tasks of ``NOTIFICATIONS_TASK_BATCH_SIZE``."""
    messages = list(messages)
    for message in messages:
        if message.channel not in Notification.Channel.values:
            raise NotifyError(f"canal inconnu : {message.channel}")
    now = timezone.now()
    day = timezone.localdate(now).isoformat()
    batch = uuid.uuid4()
    user_ids = {r.user.pk for m in messages for r in m.recipients if r.user is not None}
    preferences = {p.user_id: p for p in Preference.objects.filter(user_id__in=user_ids)}
    problems: dict[str, str] = {}
    rows: dict[str, Notification] = {}
    for message in messages:
        _message_rows(message, rows, preferences, problems, now=now, day=day, batch=batch)
    return _write_rows(rows, problems, batch, now=now)


def _message_rows(
    message: Message,
    rows: dict[str, Notification],
    preferences: dict[int, Preference],
    problems: dict[str, str],
    *,
    now: Any,
    day: str,
    batch: uuid.UUID,
) -> None:
    kind = message.kind
    for recipient in message.recipients:
        key = dedup_key(
            address_key=_address_key(recipient),
            kind=kind,
            dedup_subject=message.dedup_subject,
            day=day,
        )
        if key in rows and (rows[key].recipient_id or recipient.user is None):
            continue  # the same address twice in one call (a user wins over a bare address)
        email = (recipient.email or (recipient.user.email if recipient.user else "")).strip()
        row = Notification(
            recipient=recipient.user,
            email=email,
            name=recipient.name or (str(recipient.user) if recipient.user else ""),
            kind=kind,
            subject=message.subject[:255],
            template=message.template,
            context=message.context,
            link=message.link,
            about=message.about or {},
            channel=message.channel,
            next_attempt_at=now,
            batch=batch,
            dedup_key=key,
        )
        preference = preferences.get(recipient.user.pk) if recipient.user else None
        if row.channel == Notification.Channel.EMAIL and preference is not None:
            if kind in preference.muted_kinds and kind in MUTABLE_KINDS:
                row.channel = Notification.Channel.IN_APP
            elif kind == DIGEST_KIND and preference.digest_mode == Preference.DigestMode.DAILY:
                row.held_for_digest = True
                row.next_attempt_at = next_digest_time(now)
        if row.channel == Notification.Channel.IN_APP:
            # Shown in the centre at once: nothing to deliver.
            if recipient.user is None:
                raise NotifyError("une notification dans le service a besoin d'un utilisateur")
            row.status = Notification.Status.SENT
            row.sent_at = now
        elif error := _malformed(email):
            row.status = Notification.Status.FAILED
            row.last_error = error
            if email:
                problems[email.lower()] = error
        rows[key] = row


def _write_rows(
    rows: dict[str, Notification], problems: dict[str, str], batch: uuid.UUID, *, now: datetime
) -> list[Notification]:
    if not rows:
        return []
    for row in rows.values():
        row.created_at = now
    _insert_ignoring_duplicates(list(rows.values()))
    if problems:
        _record_malformed(problems)
    # The rows this call inserted (not those a duplicate key skipped), without reading back
    # what is already in memory.
    inserted = dict(Notification.objects.filter(batch=batch).values_list("dedup_key", "pk"))
    created = []
    for key, row in rows.items():
        if key in inserted:
            row.pk = inserted[key]
            row._state.adding, row._state.db = False, connection.alias
            created.append(row)
    created.sort(key=lambda row: row.pk)
    to_send = [
        n.pk for n in created if n.status == Notification.Status.QUEUED and not n.held_for_digest
    ]
    if to_send:
        transaction.on_commit(lambda: schedule_delivery(to_send), robust=True)
    return created


def _insert_ignoring_duplicates(rows: list[Notification]) -> None:
    """``INSERT ... ON CONFLICT (dedup_key) DO NOTHING`` (SQLite and PostgreSQL), each distinct
    value adapted once: ``bulk_create`` spends about a millisecond per row preparing the same
    context JSON 15,000 times when a campaign opens."""
    fields = [f for f in Notification._meta.concrete_fields if not f.primary_key]
    adapted: dict[tuple[str, object], Any] = {}

    # Strings, numbers and booleans go as they are; JSON, UUIDs and times need the backend.
    needs_adapting = [
        f.get_internal_type() in {"JSONField", "UUIDField", "DateTimeField"} for f in fields
    ]

    def prepare(field: Any, value: object) -> Any:
        key = (field.attname, id(value) if isinstance(value, dict | list) else value)
        if key not in adapted:
            adapted[key] = field.get_db_prep_save(value, connection)
        return adapted[key]

    quote = connection.ops.quote_name
    table = quote(Notification._meta.db_table)
    columns = ", ".join(quote(str(f.column)) for f in fields)
    row_placeholders = f"({', '.join(['%s'] * len(fields))})"
    rows_per_statement = 500  # 11,000 parameters: under SQLite's and PostgreSQL's limits
    if connection.vendor == "postgresql":
        _copy_ignoring_duplicates(rows, fields, needs_adapting, prepare, table, columns)
        return
    with connection.cursor() as cursor:
        for start in range(0, len(rows), rows_per_statement):
            chunk = rows[start : start + rows_per_statement]
            params: list[Any] = []
            for row in chunk:
                params.extend(
                    prepare(f, getattr(row, f.attname)) if adapt else getattr(row, f.attname)
                    for f, adapt in zip(fields, needs_adapting, strict=True)
                )
            # One multi-row statement (one round trip); only this model's identifiers are
            # interpolated, every value is a parameter.
            values = ", ".join([row_placeholders] * len(chunk))
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {values} "  # noqa: S608
                "ON CONFLICT (dedup_key) DO NOTHING",
                params,
            )


def _copy_ignoring_duplicates(
    rows: list[Notification],
    fields: list[Any],
    needs_adapting: list[bool],
    prepare: Any,
    table: str,
    columns: str,
) -> None:
    """PostgreSQL: COPY into a scratch table, then one INSERT ... SELECT ... ON CONFLICT DO
    NOTHING (quoting 300,000 parameters into a long statement cost ten times more)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS notification_incoming ON COMMIT DROP AS "  # noqa: S608
            f"SELECT {columns} FROM {table} WITH NO DATA"
        )
        cursor.execute("TRUNCATE notification_incoming")
        with cursor.cursor.copy(f"COPY notification_incoming ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(
                    [
                        prepare(f, getattr(row, f.attname)) if adapt else getattr(row, f.attname)
                        for f, adapt in zip(fields, needs_adapting, strict=True)
                    ]
                )
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM notification_incoming "  # noqa: S608
            "ON CONFLICT (dedup_key) DO NOTHING"
        )


def _record_malformed(problems: dict[str, str]) -> None:
    existing = set(
        AddressProblem.objects.filter(email__in=list(problems)).values_list("email", flat=True)
    )
    AddressProblem.objects.bulk_create(
        [
            AddressProblem(email=email, reason=AddressProblem.Reason.MALFORMED)
            for email in problems
            if email not in existing
        ],
        ignore_conflicts=True,
    )


def schedule_delivery(ids: list[int]) -> None:
    """Queue the sending, in tasks of ``TASK_BATCH_SIZE`` rows. A broker that is down only
    delays the mail: the rows stay queued and the sweep sends them."""
    from notifications.tasks import send_notifications

    size = getattr(settings, "NOTIFICATIONS_TASK_BATCH_SIZE", TASK_BATCH_SIZE)
    try:
        for start in range(0, len(ids), size):
            send_notifications.delay(ids[start : start + size])
    except (KombuOperationalError, OSError):
        logger.warning(
            "File de tâches injoignable : %d notification(s) resteront en attente jusqu'au "
            "prochain passage du balayage.",
            len(ids),
            exc_info=True,
        )


def notification_mark_read(*, notification: Notification, user: User) -> Notification:
    if notification.recipient_id != user.pk:
        raise PermissionError("notification d'un autre utilisateur")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def notifications_mark_all_read(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def preference_update(*, user: User, digest_mode: str, muted_kinds: list[str]) -> Preference:
    unknown = set(muted_kinds) - set(MUTABLE_KINDS)
    if unknown or digest_mode not in Preference.DigestMode.values:
        raise NotifyError(f"préférence inconnue : {sorted(unknown) or digest_mode}")
    preference, _ = Preference.objects.update_or_create(
        user=user, defaults={"digest_mode": digest_mode, "muted_kinds": sorted(muted_kinds)}
    )
    return preference
