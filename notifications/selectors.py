"""Reads: a user's own notifications, the delivery log of a domain object, address problems."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import User
from notifications.models import AddressProblem, Notification, Preference


def notifications_of(*, user: User) -> QuerySet[Notification]:
    """A user's notification centre, newest first (nobody sees anyone else's)."""
    return Notification.objects.filter(recipient=user).order_by("-created_at", "-pk")


def notification_of(*, user: User, pk: int) -> Notification:
    """One of the user's notifications; another user's is "not found" (404)."""
    return get_object_or_404(Notification, pk=pk, recipient=user)


def unread_count(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def preference_of(*, user: User) -> Preference:
    """The user's preferences, or the defaults (not saved) when they never chose."""
    return Preference.objects.filter(user=user).first() or Preference(user=user)


@dataclass(frozen=True)
class DeliveryLogRow:
    recipient: str
    kind: str
    subject: str
    status: str
    status_label: str
    attempts: int
    last_error: str
    created_at: datetime
    sent_at: datetime | None


def delivery_log(*, about_key: str, about_id: int, limit: int = 5000) -> list[DeliveryLogRow]:
    """What was sent to whom about one domain object (``about={"campaign": 12}``), newest
    first: recipient, kind, subject, status, attempts, last error, sent time."""
    rows = (
        Notification.objects.filter(**{f"about__{about_key}": about_id})
        .order_by("-created_at", "-pk")
        .values_list(
            "email",
            "name",
            "kind",
            "subject",
            "status",
            "attempts",
            "last_error",
            "created_at",
            "sent_at",
        )[:limit]
    )
    labels = dict(Notification.Status.choices)
    return [
        DeliveryLogRow(
            recipient=f"{name} <{email}>" if name and email else (email or name),
            kind=kind,
            subject=subject,
            status=status,
            status_label=labels[status],
            attempts=attempts,
            last_error=last_error,
            created_at=created_at,
            sent_at=sent_at,
        )
        for email, name, kind, subject, status, attempts, last_error, created_at, sent_at in rows
    ]


def address_problems(emails: list[str]) -> dict[str, AddressProblem]:
    """Addresses among ``emails`` that are malformed or that the SMTP server refused, keyed by
    the address as given (for the directory's curators, next to each functional contact)."""
    by_lower: dict[str, list[str]] = {}
    for email in emails:
        by_lower.setdefault(email.strip().lower(), []).append(email)
    found: dict[str, AddressProblem] = {}
    for problem in AddressProblem.objects.filter(email__in=list(by_lower)):
        for original in by_lower[problem.email]:
            found[original] = problem
    return found
