"""Delivery from the outbox to a real SMTP server (the aiosmtpd sink), called in this process.

These tests use the ``db`` fixture: the rows are never committed, so no after-commit task (and
no real worker) touches them; ``delivery`` is called directly, as the tasks call it.
"""

import socket
from datetime import timedelta

import pytest
from django.utils import timezone

from notifications import delivery
from notifications.models import AddressProblem, DeliveryAttempt, Notification
from notifications.selectors import address_problems
from notifications.services import Recipient
from tests.notifications.helpers import notify_request, statuses


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_notification_is_delivered_once_with_an_html_and_a_text_part(db, cast, mailbox):
    [row] = notify_request([Recipient(user=cast.hospital_respondent)])

    assert delivery.deliver([row.pk]) == {"sent": 1}
    assert delivery.deliver([row.pk]) == {}  # sent is final: a retried task sends nothing

    [message] = mailbox.wait_for(1)
    assert message["To"] == "cellule.crise@pitie.aphp.fr"
    assert message["Subject"].strip() == "[Recueil santé] Nouvelle demande : lits de réanimation"
    assert message["Auto-Submitted"] == "auto-generated"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "RÉPUBLIQUE FRANÇAISE — Recueil santé" in text
    assert "La DGOS vous adresse une nouvelle demande." in text
    assert "Ouvrir la boîte de réception : http://127.0.0.1:8000/collecte/" in text
    assert "/notifications/preferences/" in text
    assert "République<br>française" in html
    assert "#000091" in html
    assert 'href="http://127.0.0.1:8000/collecte/"' in html
    assert "<li>Lits de réanimation — période 2026-W49 — échéance le 04/12/2026</li>" in html
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, "")
    assert row.sent_at is not None
    assert list(row.delivery_attempts.values_list("outcome", "smtp_code")) == [("sent", 250)]


def test_a_refused_recipient_is_recorded_on_its_address_and_the_others_still_go(db, cast, mailbox):
    rows = notify_request(
        ["crise@ehpad-a.fr", "ancienne.adresse.refuse@ehpad-b.fr", "direction@ehpad-c.fr"]
    )

    outcome = delivery.deliver([r.pk for r in rows])

    assert outcome == {"sent": 2, "failed": 1}
    received = sorted(m["To"] for m in mailbox.wait_for(2))
    assert received == ["crise@ehpad-a.fr", "direction@ehpad-c.fr"]
    refused = Notification.objects.get(email="ancienne.adresse.refuse@ehpad-b.fr")
    assert refused.status == "failed"
    assert refused.last_error.startswith("Adresse refusée par le serveur de messagerie (550 ")
    assert "User unknown" in refused.last_error
    problems = address_problems(["Ancienne.Adresse.Refuse@ehpad-b.fr", "crise@ehpad-a.fr"])
    assert list(problems) == ["Ancienne.Adresse.Refuse@ehpad-b.fr"]
    problem = problems["Ancienne.Adresse.Refuse@ehpad-b.fr"]
    assert (problem.reason, problem.smtp_code) == ("refused", 550)
    assert problem.description.startswith("Le serveur de messagerie a refusé cette adresse (550")
    attempt = refused.delivery_attempts.get()
    assert (attempt.outcome, attempt.smtp_code) == ("failed", 550)


def test_a_malformed_address_fails_at_once_in_french_and_never_stops_the_batch(db, cast, mailbox):
    rows = notify_request(["crise@ehpad-a.fr", "crise.ehpad-b.fr", "  "])

    assert [r.status for r in rows] == ["queued", "failed", "failed"]
    assert rows[1].last_error == (
        "Adresse électronique mal formée : « crise.ehpad-b.fr ». Corrigez-la dans l'annuaire "
        "pour que les prochains messages partent."
    )
    assert rows[2].last_error.startswith("Aucune adresse électronique pour ce destinataire")
    assert delivery.deliver([r.pk for r in rows]) == {"sent": 1}
    assert [m["To"] for m in mailbox.wait_for(1)] == ["crise@ehpad-a.fr"]
    problem = address_problems(["crise.ehpad-b.fr"])["crise.ehpad-b.fr"]
    assert problem.reason == "malformed"
    assert problem.description == "Adresse mal formée : aucun message ne peut lui être envoyé."


def test_an_unreachable_server_puts_the_rows_back_with_exponential_backoff(
    db, cast, mailbox, settings
):
    settings.EMAIL_PORT = closed_port()
    rows = notify_request(["crise@ehpad-a.fr", "direction@ehpad-c.fr"])
    before = timezone.now()

    assert delivery.deliver([r.pk for r in rows]) == {"retry": 2}

    first = Notification.objects.get(pk=rows[0].pk)
    assert (first.status, first.attempts) == ("queued", 1)
    assert first.last_error.startswith("Serveur de messagerie injoignable")
    assert before + timedelta(seconds=59) < first.next_attempt_at < before + timedelta(minutes=2)
    assert delivery.deliver([r.pk for r in rows]) == {}  # not due yet
    # Due again: the second failure waits four times longer.
    Notification.objects.update(next_attempt_at=timezone.now())
    delivery.deliver([r.pk for r in rows])
    first.refresh_from_db()
    assert first.attempts == 2
    assert timezone.now() + timedelta(minutes=3) < first.next_attempt_at
    assert first.next_attempt_at < timezone.now() + timedelta(minutes=5)
    # The server is back: the sweep sends each one once.
    settings.EMAIL_PORT = mailbox.port
    Notification.objects.update(next_attempt_at=timezone.now())
    assert delivery.deliver() == {"sent": 2}
    assert len(mailbox.wait_for(2)) == 2
    assert list(
        DeliveryAttempt.objects.filter(notification=first).values_list("outcome", flat=True)
    ) == ["retry", "retry", "sent"]


def test_a_notification_is_given_up_after_the_maximum_number_of_attempts(
    db, cast, mailbox, settings
):
    settings.EMAIL_PORT = closed_port()
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 3
    [row] = notify_request(["crise@ehpad-a.fr"])
    for _ in range(3):
        Notification.objects.update(next_attempt_at=timezone.now())
        delivery.deliver()
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("failed", 3)
    assert row.last_error.startswith("Abandon après 3 tentatives. Serveur de messagerie")
    Notification.objects.update(next_attempt_at=timezone.now())
    assert delivery.deliver() == {}


def test_a_row_left_sending_by_a_killed_worker_is_taken_over_after_ten_minutes(db, cast, mailbox):
    stale, fresh = notify_request(["crise@ehpad-a.fr", "direction@ehpad-c.fr"])
    Notification.objects.filter(pk=stale.pk).update(
        status="sending", claimed_at=timezone.now() - timedelta(minutes=11)
    )
    Notification.objects.filter(pk=fresh.pk).update(
        status="sending", claimed_at=timezone.now() - timedelta(minutes=2)
    )

    assert delivery.deliver() == {"sent": 1}

    assert [m["To"] for m in mailbox.wait_for(1)] == ["crise@ehpad-a.fr"]
    assert statuses() == {"crise@ehpad-a.fr": "sent", "direction@ehpad-c.fr": "sending"}


def test_a_template_that_cannot_be_rendered_fails_its_row_only(db, cast, mailbox):
    broken = notify_request(["crise@ehpad-a.fr"], dedup="a")[0]
    Notification.objects.filter(pk=broken.pk).update(template="notifications/emails/absent")
    fine = notify_request(["direction@ehpad-c.fr"], dedup="b")[0]

    assert delivery.deliver([broken.pk, fine.pk]) == {"failed": 1, "sent": 1}

    broken.refresh_from_db()
    assert broken.last_error.startswith("Gabarit « notifications/emails/absent » impossible")
    assert [m["To"] for m in mailbox.wait_for(1)] == ["direction@ehpad-c.fr"]


def test_an_address_accepted_again_is_no_longer_shown_as_a_problem(db, cast, mailbox):
    AddressProblem.objects.create(
        email="crise@ehpad-a.fr", reason="refused", smtp_code=550, smtp_message="inconnu"
    )
    rows = notify_request(["crise@ehpad-a.fr"])
    delivery.deliver([r.pk for r in rows])
    assert address_problems(["crise@ehpad-a.fr"]) == {}


@pytest.mark.parametrize("attempts, minutes", [(1, 1), (2, 4), (3, 16), (4, 64), (9, 360)])
def test_the_backoff_grows_fourfold_up_to_six_hours(attempts, minutes):
    assert delivery.retry_delay(attempts) == timedelta(minutes=minutes)
