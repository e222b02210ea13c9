"""Celery tasks of campaigns: a task is an interface, it calls one service."""

from celery import shared_task

from surveys import campaigns


@shared_task(name="surveys.tasks.open_due_periods")
def open_due_periods() -> dict[str, int]:
    """Every few minutes (beat): open scheduled campaigns and started periods, mark late what
    is past due, close what is finished (see ``surveys.campaigns.campaigns_tick``)."""
    return campaigns.campaigns_tick()
