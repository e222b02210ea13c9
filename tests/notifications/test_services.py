"""notify(): rows written in the caller's transaction, preferences, the daily digest."""

from datetime import datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

import pytest
from django.template.loader import render_to_string
from django.utils import timezone

from notifications import delivery, tasks
from notifications.models import Notification
from notifications.selectors import delivery_log
from notifications.services import (
    NotifyError,
    Recipient,
    dedup_key,
    next_digest_time,
    notify,
    preference_update,
)
from tests.notifications.helpers import notify_request

PARIS = ZoneInfo("Europe/Paris")


def test_notify_writes_one_queued_row_per_recipient_with_what_the_template_needs(db, cast):
    rows = notify_request(
        [Recipient(user=cast.ehpad_respondent), Recipient(email="crise@ehpad-a.fr", name="Crise")],
        about={"campaign": 12, "assignments": [4, 5]},
    )

    assert [(r.recipient, r.email, r.status, r.channel) for r in rows] == [
        (cast.ehpad_respondent, "direction@ehpad-edmar-lama.fr", "queued", "email"),
        (None, "crise@ehpad-a.fr", "queued", "email"),
    ]
    assert rows[0].name == str(cast.ehpad_respondent)
    assert rows[1].about == {"campaign": 12, "assignments": [4, 5]}
    assert rows[1].context["lines"] == [
        "Lits de réanimation — période 2026-W49 — échéance le 04/12/2026"
    ]
    assert len({r.dedup_key for r in rows}) == 2


def test_notify_with_nobody_to_tell_writes_nothing(db):
    assert notify_request([]) == []
    assert not Notification.objects.exists()


def test_a_user_and_the_same_bare_address_in_one_call_make_one_row_for_the_user(db, cast):
    rows = notify_request(
        [Recipient(email="Direction@Ehpad-Edmar-Lama.fr"), Recipient(user=cast.ehpad_respondent)]
    )
    assert [(r.recipient, r.email) for r in rows] == [
        (cast.ehpad_respondent, "direction@ehpad-edmar-lama.fr")
    ]


def test_the_dedup_key_is_the_address_the_kind_the_subject_and_the_day_in_paris(db, cast):
    [row] = notify_request(["Crise@Ehpad-A.fr"])
    today = timezone.localdate().isoformat()
    key = partial(dedup_key, address_key="crise@ehpad-a.fr", dedup_subject="campagne-12-ouverture")
    assert row.dedup_key == key(kind="digest", day=today)
    assert row.dedup_key != key(kind="digest", day="2026-01-01")
    assert row.dedup_key != key(kind="reminder", day=today)


def test_an_in_app_notification_is_in_the_centre_at_once_and_never_mailed(db, cast, mailbox):
    [row] = notify_request([Recipient(user=cast.curator)], kind="export_ready", channel="in_app")
    assert (row.status, row.channel) == ("sent", "in_app")
    assert delivery.deliver() == {}
    with pytest.raises(NotifyError):
        notify_request(["crise@ehpad-a.fr"], kind="export_ready", channel="in_app", dedup="x")


def test_a_kind_muted_by_the_user_stays_in_the_centre_without_e_mail(db, cast):
    preference_update(user=cast.ars_idf_agent, digest_mode="immediate", muted_kinds=["reminder"])
    [muted] = notify_request([Recipient(user=cast.ars_idf_agent)], kind="reminder")
    [escalation] = notify_request([Recipient(user=cast.ars_idf_agent)], kind="escalation")
    assert muted.channel == "in_app"
    assert escalation.channel == "email"  # not a kind one may switch off
    with pytest.raises(NotifyError):
        preference_update(user=cast.ars_idf_agent, digest_mode="daily", muted_kinds=["escalation"])


def test_the_next_digest_is_the_next_seven_oclock_in_paris():
    evening = datetime(2026, 11, 29, 18, 30, tzinfo=PARIS)
    early = datetime(2026, 11, 29, 6, 59, tzinfo=PARIS)
    assert next_digest_time(evening) == datetime(2026, 11, 30, 7, 0, tzinfo=PARIS)
    assert next_digest_time(early) == datetime(2026, 11, 29, 7, 0, tzinfo=PARIS)
    # Across the change to summer time the hour is still 7:00 in Paris.
    assert next_digest_time(datetime(2027, 3, 27, 9, 0, tzinfo=PARIS)).utcoffset() == timedelta(
        hours=2
    )


def test_daily_mode_holds_the_digests_and_merges_them_into_one_morning_mail(db, cast, mailbox):
    user = cast.hospital_respondent
    preference_update(user=user, digest_mode="daily", muted_kinds=[])
    for campaign in (12, 13, 14):
        notify_request(
            [Recipient(user=user)],
            dedup=f"campagne-{campaign}",
            subject=f"Nouvelle demande n° {campaign}",
            about={"campaign": campaign},
        )
    [reminder] = notify_request([Recipient(user=user)], kind="reminder", dedup="relance")
    held = Notification.objects.filter(held_for_digest=True)
    assert held.count() == 3
    assert all(n.next_attempt_at == next_digest_time(n.created_at) for n in held)

    # Before 7:00 neither the sweep nor the digest task sends them; the reminder goes at once.
    assert tasks.sweep() == {"sent": 1}
    assert tasks.send_daily_digests() == {}
    assert [m["To"] for m in mailbox.wait_for(1)] == [user.email]
    mailbox.clear()

    held.update(next_attempt_at=timezone.now() - timedelta(minutes=1))  # 7:00 has come
    assert tasks.sweep() == {}
    assert tasks.send_daily_digests() == {"sent": 3}
    assert tasks.send_daily_digests() == {}

    [message] = mailbox.wait_for(1)
    assert message["Subject"].strip() == "[Recueil santé] Récapitulatif : 3 nouveautés"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for campaign in (12, 13, 14):
        assert f"== Nouvelle demande n° {campaign} ==" in text
        assert f"Nouvelle demande n° {campaign}</p>" in html
    assert text.count("Bonjour") == 1  # the messages inside are not wrapped twice
    assert html.count("République<br>française") == 1
    assert message["X-Notification-Ids"].count(",") == 2
    assert set(Notification.objects.values_list("status", flat=True)) == {"sent"}
    assert reminder.pk not in [int(i) for i in message["X-Notification-Ids"].split(",")]


def test_delivery_log_lists_what_was_sent_about_a_campaign_and_renders_as_a_table(
    db, cast, mailbox
):
    rows = notify_request(["crise@ehpad-a.fr", "refuse@ehpad-b.fr", "pas-une-adresse"])
    notify_request(["crise@ehpad-a.fr"], dedup="autre", about={"campaign": 99})
    delivery.deliver([r.pk for r in rows])

    log = delivery_log(about_key="campaign", about_id=12)

    assert {(r.recipient, r.status, r.attempts) for r in log} == {
        ("Cellule de crise <crise@ehpad-a.fr>", "sent", 1),
        ("Cellule de crise <refuse@ehpad-b.fr>", "failed", 1),
        ("Cellule de crise <pas-une-adresse>", "failed", 0),
    }
    html = render_to_string(
        "notifications/_delivery_log.html",
        {"delivery_log": log, "delivery_log_caption": "Messages de la campagne"},
    )
    assert "<caption>Messages de la campagne</caption>" in html
    assert html.count('scope="col"') == 7
    assert "Adresse refusée par le serveur de messagerie (550" in html
    assert "Adresse électronique mal formée : « pas-une-adresse »" in html


def test_notify_takes_no_model_instance_in_its_context(db, cast):
    with pytest.raises(TypeError):
        notify(
            kind="digest",
            recipients=[Recipient(email="crise@ehpad-a.fr")],
            subject="x",
            template="notifications/emails/message",
            context={"user": cast.curator},
            dedup_subject="x",
        )


def test_notify_many_writes_every_message_in_one_go_each_with_its_own_context(
    db, django_assert_max_num_queries
):
    from notifications.services import Message, Recipient, notify_many

    messages = [
        Message(
            kind="digest",
            recipients=[Recipient(email=f"site{n}@exemple.fr"), Recipient(email="dim@exemple.fr")],
            subject="Nouvelle demande",
            template="notifications/emails/message",
            context={"intro": f"Site {n}", "lines": []},
            dedup_subject="digest-1-2026-11-29",
        )
        for n in range(50)
    ]
    with django_assert_max_num_queries(6):  # however many messages
        created = notify_many(messages)
    # The address shared by every message is told once; each site's with its own context.
    assert len(created) == 51
    assert Notification.objects.get(email="site7@exemple.fr").context["intro"] == "Site 7"
    assert Notification.objects.filter(email="dim@exemple.fr").count() == 1
