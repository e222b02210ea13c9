"""Celery tasks of campaigns: a task is an interface, it calls one service."""

from celery import shared_task

from surveys import campaigns, notices


@shared_task(name="surveys.tasks.open_due_periods")
def open_due_periods() -> dict[str, int]:
    """Every few minutes (beat): open scheduled campaigns and started periods, mark late what
    is past due, close what is finished (see ``surveys.campaigns.campaigns_tick``)."""
    return campaigns.campaigns_tick()


@shared_task(name="surveys.tasks.send_reminders")
def send_reminders() -> dict[str, int]:
    """Every 15 minutes (beat): reminders to those who still owe an answer, escalations of the
    late ones to the regional agencies' requesters (see ``surveys.notices``)."""
    return notices.send_reminders()
