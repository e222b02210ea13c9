"""Celery tasks: ids in, one call to the delivery module (see docs/notifications.md)."""

from celery import shared_task
from django.db import DatabaseError

from notifications import delivery


@shared_task(autoretry_for=(DatabaseError, OSError), retry_backoff=10, max_retries=5)
def send_notifications(ids: list[int]) -> dict[str, int]:
    """Send these outbox rows now (those already sent, or not yet due, are skipped)."""
    return dict(delivery.deliver(ids))


@shared_task
def sweep() -> dict[str, int]:
    """Every minute: send what is still queued and due (a lost task, a retry, a worker killed
    mid-batch). Runs until nothing is due, a thousand rows at a time."""
    total: dict[str, int] = {}
    while True:
        outcomes = delivery.deliver(limit=1000)
        for outcome, count in outcomes.items():
            total[outcome] = total.get(outcome, 0) + count
        if sum(outcomes.values()) < 1000:
            return total


@shared_task
def send_daily_digests() -> dict[str, int]:
    """Merge each daily-mode recipient's held digests of the day into one e-mail, once due."""
    return dict(delivery.deliver_digests())
