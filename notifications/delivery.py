"""Rendering and SMTP delivery of outbox rows: claimed once, sent once, retried with backoff.

A row is *claimed* by one conditional UPDATE (``queued`` and due -> ``sending`` with a fresh
claim token; a ``sending`` row claimed more than ``STALE_CLAIM`` ago is taken over, for a
worker killed mid-batch). Only the holder of the claim marks the row, and a row marked ``sent``
never matches the claim again: a retried task or a second sweep cannot send it twice.
"""

import functools
import logging
import smtplib
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db.models import F, Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from notifications.models import AddressProblem, DeliveryAttempt, Notification

logger = logging.getLogger(__name__)

STALE_CLAIM = timedelta(minutes=10)
DIGEST_TEMPLATE = "notifications/emails/daily_digest"
# Keys the generic template reads, so that a domain context may leave them out.
GENERIC_DEFAULTS: dict[str, Any] = {"intro": "", "lines": [], "action_label": ""}


def max_attempts() -> int:
    return int(getattr(settings, "NOTIFICATIONS_MAX_ATTEMPTS", 6))


def retry_delay(attempts: int) -> timedelta:
    """1 min, 4 min, 16 min, 64 min, 4 h 16, then every 6 h (base from the settings)."""
    base = float(getattr(settings, "NOTIFICATIONS_RETRY_BASE_SECONDS", 60))
    return timedelta(seconds=min(base * 4 ** max(attempts - 1, 0), 6 * 3600))


def _claimable(now: datetime) -> Q:
    return Q(status=Notification.Status.QUEUED, next_attempt_at__lte=now) | Q(
        status=Notification.Status.SENDING, claimed_at__lt=now - STALE_CLAIM
    )


def claim(
    queryset: QuerySet[Notification], *, now: datetime, limit: int | None = None
) -> list[Notification]:
    """Take the due rows of ``queryset`` for this process, atomically; return them."""
    token = uuid.uuid4()
    due = queryset.filter(_claimable(now)).order_by("next_attempt_at", "pk")
    pks = list(due.values_list("pk", flat=True)[:limit])
    if not pks:
        return []
    Notification.objects.filter(_claimable(now), pk__in=pks).update(
        status=Notification.Status.SENDING, claim=token, claimed_at=now
    )
    return list(Notification.objects.filter(claim=token).order_by("pk"))


# --- rendering ------------------------------------------------------------------------------


@functools.cache
def _preferences_path() -> str:
    return reverse("notifications:preferences")


def _absolute(link: str) -> str:
    if not link or link.startswith(("http://", "https://")):
        return link
    return settings.SITE_URL + link


def _context(notification: Notification, *, embedded: bool) -> dict[str, Any]:
    return {
        **GENERIC_DEFAULTS,
        **notification.context,
        "subject": notification.subject,
        "link": _absolute(notification.link),
        "recipient_name": notification.name,
        "site_name": settings.SITE_NAME,
        "site_url": settings.SITE_URL,
        "preferences_url": settings.SITE_URL + _preferences_path(),
        "embedded": embedded,
    }


def render(notification: Notification, *, embedded: bool = False) -> tuple[str, str]:
    """(plain text, HTML) of a notification; ``embedded`` leaves out the page around it."""
    context = _context(notification, embedded=embedded)
    return (
        render_to_string(f"{notification.template}.txt", context),
        render_to_string(f"{notification.template}.html", context),
    )


def _subject(text: str) -> str:
    return f"[{settings.SITE_NAME}] {text}"


def build_message(notification: Notification) -> EmailMultiAlternatives:
    text, html = render(notification)
    message = EmailMultiAlternatives(
        subject=_subject(notification.subject),
        body=text,
        to=[notification.email],
        headers={"Auto-Submitted": "auto-generated", "X-Notification-Ids": str(notification.pk)},
    )
    message.attach_alternative(html, "text/html")
    return message


def build_digest(rows: list[Notification]) -> EmailMultiAlternatives:
    items = []
    for row in rows:
        text, html = render(row, embedded=True)
        items.append({"subject": row.subject, "text": text, "html": html})
    context = {
        "items": items,
        "recipient_name": rows[0].name,
        "site_name": settings.SITE_NAME,
        "site_url": settings.SITE_URL,
        "preferences_url": settings.SITE_URL + _preferences_path(),
        "embedded": False,
        "subject": f"Vos {len(rows)} notifications du jour",
    }
    message = EmailMultiAlternatives(
        subject=_subject(
            rows[0].subject if len(rows) == 1 else f"Récapitulatif : {len(rows)} nouveautés"
        ),
        body=render_to_string(f"{DIGEST_TEMPLATE}.txt", context),
        to=[rows[0].email],
        headers={
            "Auto-Submitted": "auto-generated",
            "X-Notification-Ids": ",".join(str(row.pk) for row in rows),
        },
    )
    message.attach_alternative(render_to_string(f"{DIGEST_TEMPLATE}.html", context), "text/html")
    return message


# --- outcomes -------------------------------------------------------------------------------


@dataclass
class Failure:
    message: str
    code: int | None = None
    permanent: bool = False
    refused_address: bool = False
    connection_broken: bool = False


def _decode(raw: bytes | str) -> str:
    return raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)


def classify(error: Exception, address: str) -> Failure:
    """What an SMTP exception means for this row, in French for the delivery log."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, answer = next(iter(error.recipients.values()), (None, b""))
        text = _decode(answer)
        if code is not None and code >= 500:
            return Failure(
                f"Adresse refusée par le serveur de messagerie ({code} {text}).",
                code,
                permanent=True,
                refused_address=True,
            )
        return Failure(f"Adresse temporairement refusée ({code} {text}).", code)
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return Failure(
            f"Connexion au serveur de messagerie interrompue : {error}", connection_broken=True
        )
    if isinstance(error, smtplib.SMTPResponseException):
        text = _decode(error.smtp_error)
        permanent = isinstance(error, smtplib.SMTPDataError) and error.smtp_code >= 500
        return Failure(
            f"Message refusé par le serveur de messagerie ({error.smtp_code} {text}).",
            error.smtp_code,
            permanent=permanent,
            connection_broken=not isinstance(error, smtplib.SMTPDataError),
        )
    if isinstance(error, OSError):
        return Failure(
            f"Serveur de messagerie injoignable : {error}. Nouvel essai automatique.",
            connection_broken=True,
        )
    return Failure(f"Erreur d'envoi : {error}")


def _mark_sent(rows: list[Notification], now: datetime) -> None:
    token = rows[0].claim
    Notification.objects.filter(pk__in=[r.pk for r in rows], claim=token).update(
        status=Notification.Status.SENT,
        sent_at=now,
        attempts=F("attempts") + 1,
        last_error="",
        claim=None,
    )


def _mark_failed(rows: list[Notification], failure: Failure, now: datetime) -> str:
    """Back to the queue with a later attempt, or failed for good; returns the outcome."""
    token = rows[0].claim
    attempts = max(row.attempts for row in rows) + 1
    if failure.permanent or attempts >= max_attempts():
        outcome = DeliveryAttempt.Outcome.FAILED
        error = failure.message
        if not failure.permanent:
            error = f"Abandon après {attempts} tentatives. {failure.message}"
        fields: dict[str, Any] = {"status": Notification.Status.FAILED}
    else:
        outcome = DeliveryAttempt.Outcome.RETRY
        error = failure.message
        fields = {
            "status": Notification.Status.QUEUED,
            "next_attempt_at": now + retry_delay(attempts),
        }
    Notification.objects.filter(pk__in=[r.pk for r in rows], claim=token).update(
        attempts=F("attempts") + 1, last_error=error, claim=None, **fields
    )
    return outcome


def record_refused_address(address: str, failure: Failure) -> None:
    email = address.strip().lower()
    problem, created = AddressProblem.objects.get_or_create(
        email=email,
        defaults={
            "reason": AddressProblem.Reason.REFUSED,
            "smtp_code": failure.code,
            "smtp_message": failure.message,
        },
    )
    if not created:
        AddressProblem.objects.filter(pk=problem.pk).update(
            reason=AddressProblem.Reason.REFUSED,
            smtp_code=failure.code,
            smtp_message=failure.message,
            occurrences=F("occurrences") + 1,
            last_seen_at=timezone.now(),
        )


class _Sender:
    """One SMTP connection for a batch; stops trying once the server is unreachable."""

    def __init__(self) -> None:
        self.connection = get_connection()
        self.broken: Failure | None = None
        self.attempts: list[DeliveryAttempt] = []
        self.outcomes: Counter[str] = Counter()

    def send(self, rows: list[Notification], build: Any) -> None:
        now = timezone.now()
        if self.broken is not None:
            self._failed(rows, self.broken, now)
            return
        try:
            message = build(rows)
        except Exception as error:  # a template missing or broken: no retry will fix it
            logger.exception("Gabarit de notification impossible à rendre")
            self._failed(
                rows,
                Failure(
                    f"Gabarit « {rows[0].template} » impossible à rendre : {error}", None, True
                ),
                now,
            )
            return
        try:
            # Open it here, once: send_messages() closes a connection it opened itself.
            if getattr(self.connection, "connection", None) is None:
                self.connection.open()
            self.connection.send_messages([message])
        except (smtplib.SMTPException, OSError) as error:
            failure = classify(error, rows[0].email)
            if failure.connection_broken:
                self.connection.close()
                self.broken = failure
            if failure.refused_address:
                record_refused_address(rows[0].email, failure)
            self._failed(rows, failure, now)
            return
        _mark_sent(rows, now)
        self.outcomes[DeliveryAttempt.Outcome.SENT] += len(rows)
        self.attempts.extend(
            DeliveryAttempt(notification=row, outcome=DeliveryAttempt.Outcome.SENT, smtp_code=250)
            for row in rows
        )

    def _failed(self, rows: list[Notification], failure: Failure, now: datetime) -> None:
        outcome = _mark_failed(rows, failure, now)
        self.outcomes[outcome] += len(rows)
        self.attempts.extend(
            DeliveryAttempt(
                notification=row,
                outcome=outcome,
                smtp_code=failure.code,
                smtp_message=failure.message,
            )
            for row in rows
        )

    def close(self) -> None:
        self.connection.close()
        DeliveryAttempt.objects.bulk_create(self.attempts, batch_size=1000)


def deliver(ids: list[int] | None = None, *, limit: int = 1000) -> Counter[str]:
    """Send the due e-mail rows among ``ids`` (all due rows when None, at most ``limit``)."""
    now = timezone.now()
    queryset = Notification.objects.filter(
        channel=Notification.Channel.EMAIL, held_for_digest=False
    )
    if ids is not None:
        queryset = queryset.filter(pk__in=ids)
    rows = claim(queryset, now=now, limit=None if ids is not None else limit)
    sender = _Sender()
    try:
        for row in rows:
            sender.send([row], lambda rs: build_message(rs[0]))
    finally:
        sender.close()
    _clear_problems_of_sent(rows)
    return sender.outcomes


def deliver_digests(*, limit: int = 5000) -> Counter[str]:
    """Merge each address's held daily-digest rows that are due into one message."""
    now = timezone.now()
    held = Notification.objects.filter(
        _claimable(now), channel=Notification.Channel.EMAIL, held_for_digest=True
    )
    addresses = list(held.values_list("email", flat=True).distinct().order_by("email")[:limit])
    sender = _Sender()
    claimed: list[Notification] = []
    try:
        for address in addresses:
            rows = claim(held.filter(email=address), now=now)
            if rows:
                claimed.extend(rows)
                sender.send(rows, build_digest)
    finally:
        sender.close()
    _clear_problems_of_sent(claimed)
    return sender.outcomes


def _clear_problems_of_sent(rows: list[Notification]) -> None:
    """An address the server accepted again is no longer shown as a problem."""
    addresses = {row.email.lower() for row in rows}
    if not addresses:
        return
    sent = set(
        Notification.objects.filter(
            pk__in=[r.pk for r in rows], status=Notification.Status.SENT
        ).values_list("email", flat=True)
    )
    AddressProblem.objects.filter(
        email__in=[a.lower() for a in sent], reason=AddressProblem.Reason.REFUSED
    ).delete()
