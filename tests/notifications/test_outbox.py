"""The outbox through the real parts: after-commit tasks on the queue, a worker, the SMTP sink.

On the embedded default the tasks run eagerly in this process; with REDIS_URL and PostgreSQL
(``make test-real``) a real Celery worker sends. Either way the mail crosses a real SMTP
server, and the tests count what it received.
"""

import contextlib
import socket
import time

import pytest
from django.conf import settings
from django.db import transaction
from django.db.models import Sum

from accounts.models import Organisation
from config.celery import app
from notifications import tasks
from notifications.models import DeliveryAttempt, Notification
from notifications.services import Recipient
from tests.notifications.helpers import notify_request, statuses, wait_until


@pytest.fixture(autouse=True)
def _worker_done(transactional_db):
    """Let a real worker finish with the rows before the tables are emptied under it."""
    yield

    def done():
        busy = Notification.objects.filter(status__in=["queued", "sending"]).exists()
        attempts = Notification.objects.aggregate(total=Sum("attempts"))["total"] or 0
        return not busy and DeliveryAttempt.objects.count() >= attempts

    wait_until(done, message="le worker a fini")


def settle() -> None:
    """Give a real worker the time to do anything it should not do (a duplicate)."""
    time.sleep(0 if settings.CELERY_TASK_ALWAYS_EAGER else 2)


def test_notifications_written_with_a_business_change_are_sent_after_commit(
    transactional_db, cast, mailbox
):
    with transaction.atomic():
        organisation = Organisation.objects.create(kind="national", name="Direction test")
        rows = notify_request(
            [Recipient(user=cast.hospital_respondent), Recipient(email="crise@ehpad-a.fr")],
            about={"organisation": organisation.pk},
        )
        assert {r.status for r in rows} == {"queued"}

    messages = mailbox.wait_for(2)
    assert sorted(m["To"] for m in messages) == ["cellule.crise@pitie.aphp.fr", "crise@ehpad-a.fr"]
    for message in messages:
        assert message.get_body(("plain",)).get_content().startswith("RÉPUBLIQUE FRANÇAISE")
        assert "#000091" in message.get_body(("html",)).get_content()
    wait_until(lambda: set(statuses().values()) == {"sent"}, message="lignes marquées envoyées")
    settle()
    assert len(mailbox.messages) == 2


def test_nothing_is_written_or_sent_when_the_business_change_rolls_back(
    transactional_db, cast, mailbox
):
    try:
        with transaction.atomic():
            notify_request(["crise@ehpad-a.fr"])
            raise RuntimeError("échec de la campagne")
    except RuntimeError:
        pass
    settle()
    assert mailbox.messages == []
    assert not Notification.objects.exists()


def test_the_same_notification_twice_the_same_day_is_one_row_and_one_mail(
    transactional_db, cast, mailbox
):
    first = notify_request(["crise@ehpad-a.fr", "Crise@Ehpad-A.fr"])  # one address, two cases
    # Beat fires twice, a task is retried: the second call inserts nothing and sends nothing.
    second = notify_request(["crise@ehpad-a.fr"])

    assert len(first) == 1
    assert second == []
    mailbox.wait_for(1)
    settle()
    assert len(mailbox.messages) == 1
    assert Notification.objects.count() == 1
    # Another subject is another notification.
    notify_request(["crise@ehpad-a.fr"], dedup="campagne-13-ouverture")
    mailbox.wait_for(2)


def test_a_refused_recipient_in_a_batch_sent_by_the_worker_does_not_stop_the_others(
    transactional_db, cast, mailbox
):
    notify_request(["a@ehpad-a.fr", "refuse@ehpad-b.fr", "c@ehpad-c.fr"])
    assert sorted(m["To"] for m in mailbox.wait_for(2)) == ["a@ehpad-a.fr", "c@ehpad-c.fr"]
    wait_until(lambda: "queued" not in statuses().values() and "sending" not in statuses().values())
    assert statuses() == {
        "a@ehpad-a.fr": "sent",
        "refuse@ehpad-b.fr": "failed",
        "c@ehpad-c.fr": "sent",
    }


@contextlib.contextmanager
def broker_unreachable():
    """Point this process's Celery at a closed port (Redis is down), then back."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    saved = {
        key: app.conf[key]
        for key in ["broker_url", "task_always_eager", "broker_connection_max_retries"]
    }

    def reset_pools():
        app._pool = None
        app.amqp._producer_pool = None

    app.conf.broker_url = f"redis://127.0.0.1:{port}/0"
    app.conf.task_always_eager = False  # the embedded default has no queue to lose: make one
    app.conf.broker_connection_max_retries = 1
    reset_pools()
    try:
        yield
    finally:
        for key, value in saved.items():
            app.conf[key] = value
        reset_pools()


def test_with_the_queue_down_the_business_commits_and_the_sweep_later_sends_each_once(
    transactional_db, cast, mailbox
):
    recipients = [f"contact{i}@ehpad-{i}.fr" for i in range(12)]
    with broker_unreachable():
        with transaction.atomic():
            organisation = Organisation.objects.create(kind="national", name="Direction test")
            notify_request(recipients, about={"organisation": organisation.pk})
        # The business write committed; the mail is waiting in the outbox.
        assert Organisation.objects.filter(pk=organisation.pk).exists()
        settle()
        assert mailbox.messages == []
        assert set(statuses().values()) == {"queued"}

    # The queue is back: beat's sweep (run by the worker on the real stack) sends everything.
    tasks.sweep.delay()
    messages = mailbox.wait_for(12)
    wait_until(lambda: set(statuses().values()) == {"sent"}, message="toutes envoyées")
    # A second sweep (beat firing twice) and a late task for the same rows send nothing more.
    tasks.sweep.delay()
    tasks.send_notifications.delay(list(Notification.objects.values_list("pk", flat=True)))
    settle()
    assert sorted(m["To"] for m in mailbox.messages) == sorted(recipients)
    assert len(messages) == 12
