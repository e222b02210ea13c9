"""Who is told about requests (surveys/notices.py): recipients from the directory, the
digest when a campaign opens (through the outbox, the queue and the SMTP sink), reminders and
escalations."""

import datetime as dt

import pytest
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from accounts.models import Organisation
from notifications.models import DeliveryAttempt, Notification
from referentials.models import FunctionalContact
from referentials.units import (
    unit_for_establishment,
    unit_for_professional,
    units_for_establishments,
)
from surveys import campaigns, notices
from surveys.models import SurveyVersion
from tests.notifications.helpers import wait_until
from tests.surveys.factories import QuestionFactory, SurveyFactory, SurveyVersionFactory

TODAY = timezone.localdate()


def contact(establishment, email, *, verified=True, active=True, role="crisis"):
    return FunctionalContact.objects.create(
        establishment=establishment,
        role=role,
        email=email,
        verified_on=TODAY if verified else None,
        is_active=active,
    )


def addresses(recipients):
    return [r.email or r.user.email for r in recipients]


# --- Recipients ------------------------------------------------------------------------------


def test_recipients_are_contacts_then_respondents_one_query_per_kind(
    cast, django_assert_num_queries
):
    contact(cast.paris_hospital, "crise@pitie.fr")
    contact(cast.paris_hospital, "dim@pitie.fr", verified=False, role="dim")
    contact(cast.paris_hospital, "ancienne@pitie.fr", active=False, role="quality")
    contact(cast.paris_ehpad, "direction@tilleuls.fr", verified=False)
    units = {
        name: unit_for_establishment(getattr(cast, name)).pk
        for name in (
            "paris_hospital",
            "paris_ehpad",
            "cayenne_hospital",
            "cayenne_ehpad",
            "ain_hospital",
        )
    }
    units["doctor"] = unit_for_professional(cast.paris_doctor).pk

    with django_assert_num_queries(4):
        found = notices.recipients_for_units(units.values())

    # Verified contacts only when there is one; the unverified one is the fallback elsewhere;
    # inactive ones never.
    assert addresses(found[units["paris_hospital"]]) == [
        "crise@pitie.fr",
        cast.hospital_respondent.email,
    ]
    assert addresses(found[units["paris_ehpad"]]) == ["direction@tilleuls.fr"]
    # The legal entity's respondent answers for both of its sites.
    assert addresses(found[units["cayenne_hospital"]]) == [cast.legal_entity_respondent.email]
    assert addresses(found[units["cayenne_ehpad"]]) == [
        cast.ehpad_respondent.email,
        cast.legal_entity_respondent.email,
    ]
    assert found[units["doctor"]][0].user == cast.professional
    assert found[units["ain_hospital"]] == []
    assert [u.pk for u in notices.units_without_recipients(units.values())] == [
        units["ain_hospital"]
    ]


def test_query_count_does_not_grow_with_the_units(cast, django_assert_num_queries):
    establishments = [
        cast.paris_hospital,
        cast.paris_ehpad,
        cast.cayenne_hospital,
        cast.cayenne_ehpad,
        cast.saint_martin_hospital,
        cast.pointe_a_pitre_clinic,
    ]
    for i, establishment in enumerate(establishments):
        contact(establishment, f"contact{i}@etab.fr")
    unit_ids = units_for_establishments([e.pk for e in establishments])
    # Units, contacts, memberships (no professional: no claim query).
    with django_assert_num_queries(3):
        found = notices.recipients_for_units(unit_ids)
    assert all(found[pk] for pk in unit_ids)


# --- The digest when a campaign opens --------------------------------------------------------


@pytest.fixture
def _worker_done(transactional_db):
    """Let a real worker finish with the rows before the tables are emptied under it."""
    yield

    def done():
        busy = Notification.objects.filter(status__in=["queued", "sending"]).exists()
        attempts = Notification.objects.aggregate(total=Sum("attempts"))["total"] or 0
        return not busy and DeliveryAttempt.objects.count() >= attempts

    wait_until(done, message="le worker a fini")


def new_campaign(cast, *establishments, title="Tensions hospitalières", frequency="daily"):
    dgos = Organisation.objects.get(short_name="DGOS")
    version = SurveyVersionFactory(
        survey=SurveyFactory(owner=dgos), status=SurveyVersion.Status.DRAFT
    )
    QuestionFactory(section__version=version)
    campaign = campaigns.campaign_create(
        survey=version.survey,
        owner=dgos,
        title=title,
        unit_kind="establishment",
        frequency=frequency,
        period_kind="day" if frequency == "daily" else "week",
        start_date=TODAY,
        end_date=TODAY + dt.timedelta(days=20),
        due_offset_days=0,
        due_time=dt.time(16, 0),
        user=cast.national_requester,
    )
    campaign.audience_filters = {"finess": [e.finess for e in establishments]}
    campaign.save(update_fields=["audience_filters"])
    return campaign


def three_establishments(cast):
    contact(cast.paris_hospital, "crise@pitie.fr")
    contact(cast.cayenne_hospital, "qualite@ch-cayenne.fr", role="quality")
    # The same address as the legal entity's respondent: one message, the user's.
    contact(cast.cayenne_hospital, cast.legal_entity_respondent.email.upper(), role="dim")
    return [cast.paris_hospital, cast.cayenne_hospital, cast.cayenne_ehpad]


EXPECTED_ADDRESSES = [
    "cellule.crise@pitie.aphp.fr",
    "crise@pitie.fr",
    "dim@ch-cayenne.fr",
    "direction@ehpad-edmar-lama.fr",
    "qualite@ch-cayenne.fr",
]


def test_opening_a_campaign_sends_one_digest_per_distinct_address(
    transactional_db, _worker_done, cast, mailbox
):
    campaign = new_campaign(cast, *three_establishments(cast))

    campaigns.campaign_open(campaign=campaign, user=cast.national_requester)

    rows = Notification.objects.filter(kind="digest")
    assert sorted(r.email.lower() for r in rows) == EXPECTED_ADDRESSES
    assert {r.about["campaign"] for r in rows} == {campaign.pk}
    messages = mailbox.wait_for(5)
    wait_until(
        lambda: set(Notification.objects.values_list("status", flat=True)) == {"sent"},
        message="toutes envoyées",
    )
    assert sorted(m["To"].lower() for m in messages) == EXPECTED_ADDRESSES
    legal_entity = next(m for m in messages if m["To"] == "dim@ch-cayenne.fr")
    text = legal_entity.get_body(preferencelist=("plain",)).get_content()
    # One message listing both sites, with the requester, the due date and the inbox link.
    assert "CH de Cayenne" in text and "Ehpad Edmar Lama" in text
    assert "DGOS" in legal_entity["Subject"] and "Tensions hospitalières" in text
    assert "à transmettre avant le" in text and "/collecte/boite-de-reception/" in text
    html = legal_entity.get_body(preferencelist=("html",)).get_content()
    assert "Ehpad Edmar Lama" in html

    # A daily campaign is announced once: the next morning's period is no new e-mail.
    campaigns.periods_open_due(campaign=campaign, now=timezone.now() + dt.timedelta(days=1))
    assert Notification.objects.filter(kind="digest").count() == 5


def test_each_new_period_of_a_weekly_campaign_is_announced_once(
    transactional_db, _worker_done, cast, mailbox
):
    campaign = new_campaign(cast, *three_establishments(cast), frequency="weekly")
    campaigns.campaign_open(campaign=campaign, user=cast.national_requester)
    mailbox.wait_for(5)
    next_week = timezone.now() + dt.timedelta(days=7)
    campaigns.periods_open_due(campaign=campaign, now=next_week)
    campaigns.periods_open_due(campaign=campaign, now=next_week)  # the beat again
    assert Notification.objects.filter(kind="digest").count() == 10
    mailbox.wait_for(10)
    wait_until(
        lambda: set(Notification.objects.values_list("status", flat=True)) == {"sent"},
        message="toutes envoyées",
    )
    assert len(mailbox.messages) == 10
    assert sorted(m["To"].lower() for m in mailbox.messages) == sorted(EXPECTED_ADDRESSES * 2)


def test_a_rolled_back_opening_writes_and_sends_nothing(
    transactional_db, _worker_done, cast, mailbox
):
    campaign = new_campaign(cast, *three_establishments(cast))

    with pytest.raises(RuntimeError), transaction.atomic():
        campaigns.campaign_open(campaign=campaign, user=cast.national_requester)
        assert Notification.objects.filter(kind="digest").count() == 5
        raise RuntimeError("échec après l'ouverture")

    assert not Notification.objects.exists()
    campaign.refresh_from_db()
    assert campaign.status == campaign.Status.DRAFT
    assert mailbox.messages == []


def test_a_recipient_with_the_daily_digest_gets_one_mail_for_two_campaigns(cast, settings):
    from notifications.services import preference_update

    preference_update(user=cast.hospital_respondent, digest_mode="daily", muted_kinds=[])
    first = new_campaign(cast, cast.paris_hospital, title="Lits de réanimation")
    second = new_campaign(cast, cast.paris_hospital, title="Tensions aux urgences")
    campaigns.campaign_open(campaign=first, user=cast.national_requester)
    campaigns.campaign_open(campaign=second, user=cast.national_requester)

    held = Notification.objects.filter(email=cast.hospital_respondent.email)
    # One row per opening, both held for the next morning's single e-mail.
    assert held.count() == 2 and all(n.held_for_digest for n in held)


# --- Reminders and escalations (fixed ``now``) -----------------------------------------------

DUE_DAY = dt.date(2026, 12, 10)


def at(day_offset, hour, minute=0):
    """A Paris time ``day_offset`` days from the due day."""
    return dt.datetime.combine(
        DUE_DAY + dt.timedelta(days=day_offset), dt.time(hour, minute), tzinfo=notices.PARIS
    )


@pytest.fixture
def late_campaign(cast):
    """A DGOS campaign due on DUE_DAY at 14:00: two units owe an answer, one submitted, one
    exempted."""
    from surveys.models import Assignment
    from tests.surveys.factories import AssignmentFactory, CampaignFactory, CampaignPeriodFactory

    dgos = Organisation.objects.get(short_name="DGOS")
    campaign = CampaignFactory(
        owner=dgos,
        version__survey__owner=dgos,
        title="Lits disponibles",
        start_date=DUE_DAY,
        due_time=dt.time(14, 0),
    )
    period = CampaignPeriodFactory(campaign=campaign, day=DUE_DAY)
    contact(cast.paris_hospital, "crise@pitie.fr")
    contact(cast.paris_ehpad, "direction@tilleuls.fr")
    contact(cast.ain_hospital, "direction@fleyriat.fr")
    owing = [cast.paris_hospital, cast.cayenne_ehpad, cast.saint_martin_hospital]
    for establishment in owing:
        AssignmentFactory(period=period, unit=unit_for_establishment(establishment))
    AssignmentFactory(
        period=period,
        unit=unit_for_establishment(cast.paris_ehpad),
        status=Assignment.Status.SUBMITTED,
    )
    AssignmentFactory(
        period=period,
        unit=unit_for_establishment(cast.ain_hospital),
        status=Assignment.Status.EXEMPTED,
    )
    return campaign


OWING_ADDRESSES = [
    "cellule.crise@pitie.aphp.fr",
    "crise@pitie.fr",
    "dim@ch-cayenne.fr",
    "direction@ehpad-edmar-lama.fr",
]


def reminded(day_offset, hour=8):
    before = set(Notification.objects.filter(kind="reminder").values_list("pk", flat=True))
    notices.send_reminders(now=at(day_offset, hour))
    return Notification.objects.filter(kind="reminder").exclude(pk__in=before)


def test_reminders_go_on_the_policy_days_only_to_those_who_owe_an_answer(late_campaign):
    assert not reminded(-2, hour=6)  # nothing before 7:00
    first = reminded(-2)
    # Not the submitted one, not the exempted one (nor Saint-Martin: nobody to tell there).
    assert sorted(n.email for n in first) == OWING_ADDRESSES
    assert all(n.subject.startswith("Rappel") for n in first)
    assert "dans 2 jour(s)" in first[0].context["intro"]
    assert not reminded(-2, hour=9)  # the next runs of the day write nothing
    assert not reminded(-1)
    assert sorted(n.email for n in reminded(0)) == OWING_ADDRESSES
    after = reminded(1)
    assert sorted(n.email for n in after) == OWING_ADDRESSES
    assert all(n.subject.startswith("Réponse en retard") for n in after)
    assert after[0].context["requests"][0]["late_days"] == 1
    assert not reminded(2)


def test_a_submitted_assignment_stops_its_reminders(cast, late_campaign):
    from surveys.models import Assignment

    Assignment.objects.filter(unit__finess=cast.paris_hospital.finess).update(
        status=Assignment.Status.SUBMITTED
    )
    assert sorted(n.email for n in reminded(0)) == [
        "dim@ch-cayenne.fr",
        "direction@ehpad-edmar-lama.fr",
    ]


def test_a_policy_at_zero_sends_no_reminder(late_campaign):
    late_campaign.remind_days_before = 0
    late_campaign.remind_on_due_day = False
    late_campaign.remind_days_after = 0
    late_campaign.save()
    assert not any(reminded(offset) for offset in (-2, 0, 1))


def test_the_due_day_reminder_is_not_sent_once_the_due_time_has_passed(late_campaign):
    assert not reminded(0, hour=15)


def test_a_national_campaign_escalates_to_the_agency_of_each_late_establishment(
    cast, late_campaign
):
    notices.send_reminders(now=at(3, 8))  # due 14:00 + 3 days not yet reached
    assert not Notification.objects.filter(kind="escalation").exists()

    notices.send_reminders(now=at(3, 15))
    notices.send_reminders(now=at(3, 15, 15))  # beat again: nothing twice
    rows = {n.email: n for n in Notification.objects.filter(kind="escalation")}
    # Cayenne (Guyane, region 03) has no ARS in this directory: nobody to escalate to.
    assert sorted(rows) == sorted([cast.ars_guadeloupe_agent.email, cast.ars_idf_agent.email])
    assert [r["unit"] for r in rows[cast.ars_idf_agent.email].context["requests"]] == [
        "Hôpital de la Pitié"
    ]
    assert [r["unit"] for r in rows[cast.ars_guadeloupe_agent.email].context["requests"]] == [
        "CH Louis-Constant Fleming"
    ]
    assert rows[cast.ars_idf_agent.email].context["requests"][0]["late_days"] == 3
    assert rows[cast.ars_idf_agent.email].about["campaign"] == late_campaign.pk


def test_an_agency_campaign_escalates_to_its_own_requesters(cast, late_campaign):
    late_campaign.owner = Organisation.objects.get(kind="ars", region_code="11")
    late_campaign.escalate_after_days = 1
    late_campaign.save()
    notices.send_reminders(now=at(1, 15))
    rows = list(Notification.objects.filter(kind="escalation"))
    assert [n.email for n in rows] == [cast.ars_idf_agent.email]
    assert sorted(r["unit"] for r in rows[0].context["requests"]) == [
        "CH Louis-Constant Fleming",
        "Ehpad Edmar Lama",
        "Hôpital de la Pitié",
    ]


def test_the_reminder_task_is_scheduled_and_renders(late_campaign, settings, mailoutbox):
    from notifications.delivery import deliver
    from surveys.tasks import send_reminders

    assert settings.CELERY_BEAT_SCHEDULE["surveys-send-reminders"]["task"] == send_reminders.name
    notices.send_reminders(now=at(1, 8))
    notices.send_reminders(now=at(3, 15))
    ids = list(Notification.objects.values_list("pk", flat=True))
    assert len(ids) == 6  # four reminders, two escalations
    deliver(ids=ids)
    assert not Notification.objects.exclude(status="sent").exists()
    assert len(mailoutbox) == 6
    texts = {m.to[0]: m.body for m in mailoutbox}
    assert "1 jour(s) de retard" in texts["crise@pitie.fr"]
    assert "/collecte/boite-de-reception/" in texts["crise@pitie.fr"]
    assert "CH Louis-Constant Fleming" in texts["carla.ars-gp@ars.sante.fr"]
    assert "3 jour(s) de retard" in texts["carla.ars-gp@ars.sante.fr"]


# --- Pages -----------------------------------------------------------------------------------


def test_the_campaign_page_shows_the_delivery_log_to_its_requesters(cast):
    from django.urls import reverse

    from tests.conftest import client_for

    campaign = new_campaign(cast, *three_establishments(cast))
    campaigns.campaign_open(campaign=campaign, user=cast.national_requester)
    Notification.objects.filter(email="qualite@ch-cayenne.fr").update(
        status="failed", last_error="550 adresse inconnue"
    )

    response = client_for(cast.national_requester).get(
        reverse("surveys:campaign_detail", kwargs={"pk": campaign.pk})
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Journal des envois" in page and "Messages envoyés pour cette campagne" in page
    for address in EXPECTED_ADDRESSES:
        assert address in page
    assert "550 adresse inconnue" in page


def test_the_sending_page_lists_the_establishments_nobody_would_be_told_about(cast):
    from django.urls import reverse

    from tests.conftest import client_for

    contact(cast.paris_ehpad, "direction@tilleuls.fr", verified=False)
    campaign = new_campaign(
        cast,
        cast.paris_hospital,  # a respondent
        cast.paris_ehpad,  # an unverified contact
        cast.cayenne_hospital,  # its legal entity's respondent
        cast.ain_hospital,  # nobody
        cast.saint_martin_hospital,  # nobody
    )
    # The overlap choice is recorded (collection.sending): the page shows instead of redirecting.
    campaign.overlap_choice = "none"
    campaign.save(update_fields=["overlap_choice"])
    response = client_for(cast.national_requester).get(
        reverse("surveys:campaign_send", kwargs={"pk": campaign.pk})
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "2 établissements ne recevront aucun message" in page
    warning = page[page.index('id="silent-establishments"') :]
    warning = warning[: warning.index("</div>")]
    assert "CH de Fleyriat (010000024)" in warning
    assert "CH Louis-Constant Fleming (970100400)" in warning
    for name in ("Pitié", "Tilleuls", "Cayenne"):
        assert name not in warning


def test_the_curators_see_the_addresses_the_mail_server_refused(cast):
    from django.urls import reverse

    from notifications.models import AddressProblem
    from tests.conftest import client_for

    contact(cast.paris_hospital, "refuse@pitie.fr")
    contact(cast.paris_hospital, "crise@pitie.fr", role="quality")
    AddressProblem.objects.create(
        email="refuse@pitie.fr",
        reason=AddressProblem.Reason.REFUSED,
        smtp_code=550,
        smtp_message="5.1.1 User unknown",
    )
    response = client_for(cast.curator).get(
        reverse("referentials:curation_contacts", kwargs={"finess": cast.paris_hospital.finess})
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count("Refusée par le serveur de messagerie") == 1
    assert "(550 5.1.1 User unknown)" in page


# --- Fault: the queue is down while a campaign opens -----------------------------------------


def test_with_the_queue_down_the_campaign_opens_and_the_sweep_delivers_each_digest_once(
    transactional_db, _worker_done, cast, mailbox
):
    from notifications import tasks
    from tests.notifications.test_outbox import broker_unreachable, settle

    campaign = new_campaign(cast, *three_establishments(cast))
    with broker_unreachable():
        campaigns.campaign_open(campaign=campaign, user=cast.national_requester)
        campaign.refresh_from_db()
        assert campaign.status == campaign.Status.OPEN
        settle()
        assert mailbox.messages == []
        assert set(Notification.objects.values_list("status", flat=True)) == {"queued"}

    tasks.sweep.delay()
    mailbox.wait_for(5)
    wait_until(
        lambda: set(Notification.objects.values_list("status", flat=True)) == {"sent"},
        message="toutes envoyées",
    )
    tasks.sweep.delay()  # beat firing again sends nothing more
    settle()
    assert sorted(m["To"].lower() for m in mailbox.messages) == EXPECTED_ADDRESSES
