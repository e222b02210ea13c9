"""Campaign services: periods, due times, life cycle, bulk assignments, the beat, crisis,
exemptions, and the French refusals of bad input."""

import datetime as dt
import io
import itertools

import pytest
from django.utils import timezone

from accounts.models import AuditEvent, Organisation
from referentials.models import ReportingUnit
from surveys import campaigns
from surveys.campaigns import PARIS, CampaignError
from surveys.models import Assignment, AudienceMember, Campaign, CampaignEvent, SurveyVersion
from surveys.periods import period_of
from surveys.tasks import open_due_periods
from tests.surveys.factories import QuestionFactory, SurveyFactory, SurveyVersionFactory

TODAY = timezone.localdate()
NOON = dt.time(12, 0)


@pytest.fixture
def dgos(cast):
    return Organisation.objects.get(short_name="DGOS")


@pytest.fixture
def survey(dgos):
    version = SurveyVersionFactory(
        survey=SurveyFactory(owner=dgos), status=SurveyVersion.Status.DRAFT
    )
    QuestionFactory(section__version=version)
    return version.survey


def make(cast, survey, dgos, **overrides):
    values = {
        "survey": survey,
        "owner": dgos,
        "title": "Tensions hospitalières",
        "unit_kind": "establishment",
        "frequency": "daily",
        "period_kind": "day",
        "start_date": TODAY,
        "end_date": TODAY + dt.timedelta(days=6),
        "due_offset_days": 0,
        "due_time": dt.time(16, 0),
        "user": cast.national_requester,
    }
    values.update(overrides)
    return campaigns.campaign_create(**values)


def with_audience(campaign, *establishments):
    campaign.audience_filters = {"finess": [e.finess for e in establishments]}
    campaign.save(update_fields=["audience_filters"])
    return campaign


def sent(cast, survey, dgos, *establishments, **overrides):
    campaign = with_audience(make(cast, survey, dgos, **overrides), *establishments)
    return campaigns.campaign_open(campaign=campaign, user=cast.national_requester)


# --- Periods and due times ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "frequency"),
    [
        ("day", "daily"),
        ("week", "weekly"),
        ("month", "monthly"),
        ("quarter", "quarterly"),
        ("year", "yearly"),
    ],
)
def test_once_campaign_has_one_period_of_its_kind_containing_the_start(
    cast, survey, dgos, kind, frequency
):
    campaign = make(cast, survey, dgos, frequency="once", period_kind=kind, end_date=None)
    [period] = campaigns.planned_periods(campaign)
    assert period == period_of(kind, TODAY)
    assert period.start <= TODAY <= period.end


@pytest.mark.parametrize(
    ("frequency", "kind", "days", "count"),
    [("daily", "day", 6, 7), ("weekly", "week", 21, None), ("monthly", "month", 95, None)],
)
def test_recurring_campaign_has_every_period_between_start_and_end(
    cast, survey, dgos, frequency, kind, days, count
):
    end = TODAY + dt.timedelta(days=days)
    campaign = make(cast, survey, dgos, frequency=frequency, period_kind=kind, end_date=end)
    periods = campaigns.planned_periods(campaign)
    assert periods[0] == period_of(kind, TODAY)
    assert periods[-1] == period_of(kind, end)
    assert all(a.end + dt.timedelta(days=1) == b.start for a, b in itertools.pairwise(periods))
    if count:
        assert len(periods) == count


def test_due_and_lock_times_are_aware_paris_times(cast, survey, dgos):
    campaign = make(
        cast,
        survey,
        dgos,
        frequency="weekly",
        period_kind="week",
        end_date=TODAY + dt.timedelta(days=14),
        due_offset_days=2,
        due_time=dt.time(10, 30),
        correction_days=15,
    )
    period = campaigns.planned_periods(campaign)[0]
    due = campaigns.due_at_for(campaign, period)
    assert due == dt.datetime.combine(period.end + dt.timedelta(days=2), dt.time(10, 30), PARIS)
    assert due.utcoffset() is not None
    assert campaigns.locks_at_for(campaign, due) == due + dt.timedelta(days=15)


# --- Bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"start_date": TODAY - dt.timedelta(days=10), "end_date": TODAY - dt.timedelta(days=9)},
            "entièrement passée",
        ),
        ({"due_offset_days": -2}, "avant le début de la période"),
        ({"end_date": TODAY - dt.timedelta(days=1)}, "précède la date de début"),
        ({"end_date": None}, "besoin d'une date de fin"),
        ({"period_kind": "month"}, "corrigez le type de période"),
        ({"crisis_frequency": "daily"}, "doit différer"),
        ({"frequency": "once", "period_kind": "day", "crisis_frequency": "daily"}, "récurrente"),
        ({"title": "  "}, "titre"),
    ],
)
def test_bad_input_is_refused_in_french(cast, survey, dgos, overrides, message):
    with pytest.raises(CampaignError, match=message):
        make(cast, survey, dgos, **overrides)
    assert not Campaign.objects.exists()


def test_only_a_requester_of_the_owner_creates(cast, survey, dgos):
    with pytest.raises(CampaignError, match="pas demandeur"):
        make(cast, survey, dgos, user=cast.ars_idf_agent)


def test_audience_resolving_to_no_unit_is_refused(cast, survey, dgos):
    campaign = make(cast, survey, dgos)
    with pytest.raises(CampaignError, match="audience"):
        campaigns.campaign_open(campaign=campaign, user=cast.national_requester)
    campaign.audience_filters = {"finess": ["999999999"], "exclude_finess": ["999999999"]}
    campaign.save()
    with pytest.raises(CampaignError, match="aucun"):
        campaigns.campaign_open(campaign=campaign, user=cast.national_requester)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT
    assert not Assignment.objects.exists()


# --- Draft ----------------------------------------------------------------------------------------


def test_create_uses_the_latest_version_and_records_who(cast, survey, dgos):
    newer = SurveyVersionFactory(survey=survey, number=2, status=SurveyVersion.Status.FROZEN)
    campaign = make(cast, survey, dgos)
    assert campaign.status == Campaign.Status.DRAFT
    assert campaign.version == newer
    assert campaign.created_by == cast.national_requester
    assert AuditEvent.objects.filter(action="campaign.create", target_id=str(campaign.pk)).exists()


def test_update_changes_a_draft_only(cast, survey, dgos):
    campaign = make(cast, survey, dgos)
    values = {
        "title": "Nouveau titre",
        "unit_kind": "establishment",
        "frequency": "weekly",
        "period_kind": "week",
        "start_date": TODAY,
        "end_date": TODAY + dt.timedelta(days=30),
        "due_offset_days": 1,
        "due_time": NOON,
    }
    updated = campaigns.campaign_update(campaign=campaign, user=cast.national_requester, **values)
    assert (updated.title, updated.frequency) == ("Nouveau titre", "weekly")
    event = updated.events.get(kind=CampaignEvent.Kind.EDIT)
    assert event.details["changed"]["frequency"] == ["daily", "weekly"]
    with_audience(updated, cast.paris_hospital)
    campaigns.campaign_open(campaign=updated, user=cast.national_requester)
    with pytest.raises(CampaignError, match="brouillon"):
        campaigns.campaign_update(campaign=updated, user=cast.national_requester, **values)


# --- Life cycle -----------------------------------------------------------------------------------


def test_open_freezes_fixes_the_audience_and_writes_assignments_in_bulk(
    cast, survey, dgos, django_assert_max_num_queries
):
    campaign = make(cast, survey, dgos)
    with_audience(campaign, cast.paris_hospital, cast.paris_ehpad, cast.cayenne_ehpad)
    opened = campaigns.campaign_open(campaign=campaign, user=cast.national_requester)

    assert opened.status == Campaign.Status.OPEN
    assert opened.opened_at is not None
    version = SurveyVersion.objects.get(pk=campaign.version_id)
    assert version.status == SurveyVersion.Status.FROZEN
    assert version.frozen_by == cast.national_requester
    assert AudienceMember.objects.filter(campaign=opened).count() == 3
    assert opened.audience_size == 3
    # A daily campaign starting today: today's period only, the others come with the beat.
    [period] = opened.periods.all()
    assert period.key == TODAY.isoformat()
    assignments = Assignment.objects.filter(campaign=opened)
    assert assignments.count() == 3
    assert set(assignments.values_list("status", flat=True)) == {Assignment.Status.TODO}
    assert set(assignments.values_list("due_at", flat=True)) == {period.due_at}
    assert set(assignments.values_list("version", flat=True)) == {version.pk}
    statuses = list(opened.events.filter(kind="status").values_list("to_status", flat=True))
    assert statuses == ["draft", "open"]
    assert opened.events.get(to_status="open").actor == cast.national_requester


def test_open_query_count_does_not_grow_with_the_audience(
    cast, survey, dgos, django_assert_max_num_queries
):
    from tests.referentials.factories import EstablishmentFactory

    many = [EstablishmentFactory(territory_code="75") for _ in range(40)]
    campaign = with_audience(make(cast, survey, dgos), *many)
    with django_assert_max_num_queries(40):
        campaigns.campaign_open(campaign=campaign, user=cast.national_requester)
    assert Assignment.objects.count() == 40


def test_assignments_count_is_audience_times_started_periods(cast, survey, dgos):
    start = TODAY
    campaign = with_audience(
        make(cast, survey, dgos, start_date=start, end_date=start + dt.timedelta(days=6)),
        cast.paris_hospital,
        cast.paris_ehpad,
    )
    # Opened (late) on the third day: the first three days open at once.
    later = dt.datetime.combine(start + dt.timedelta(days=2), dt.time(9, 0), PARIS)
    opened = campaigns.campaign_open(campaign=campaign, user=None, now=later)
    assert opened.periods.count() == 3
    assert Assignment.objects.filter(campaign=opened).count() == 2 * 3


def test_schedule_then_beat_opens_at_the_time(cast, survey, dgos):
    campaign = with_audience(make(cast, survey, dgos), cast.paris_hospital)
    opens_at = timezone.now() + dt.timedelta(hours=1)
    scheduled = campaigns.campaign_schedule(
        campaign=campaign, opens_at=opens_at, user=cast.national_requester
    )
    assert scheduled.status == Campaign.Status.SCHEDULED
    assert campaigns.campaigns_tick()["opened"] == 0
    counts = campaigns.campaigns_tick(now=opens_at + dt.timedelta(minutes=1))
    assert counts["opened"] == 1
    scheduled.refresh_from_db()
    assert scheduled.status == Campaign.Status.OPEN
    assert [e.to_status for e in scheduled.events.filter(kind="status")] == [
        "draft",
        "scheduled",
        "open",
    ]
    assert scheduled.events.get(to_status="open").actor is None


def test_schedule_refuses_the_past_and_an_empty_audience(cast, survey, dgos):
    campaign = make(cast, survey, dgos)
    with pytest.raises(CampaignError, match="futur"):
        campaigns.campaign_schedule(
            campaign=campaign,
            opens_at=timezone.now() - dt.timedelta(hours=1),
            user=cast.national_requester,
        )
    with pytest.raises(CampaignError, match="Audience"):
        campaigns.campaign_schedule(
            campaign=campaign,
            opens_at=timezone.now() + dt.timedelta(hours=1),
            user=cast.national_requester,
        )


def test_close_records_who_and_refuses_twice(cast, survey, dgos):
    campaign = sent(cast, survey, dgos, cast.paris_hospital)
    closed = campaigns.campaign_close(campaign=campaign, user=cast.national_requester)
    assert closed.status == Campaign.Status.CLOSED
    assert closed.events.get(to_status="closed").actor == cast.national_requester
    with pytest.raises(CampaignError):
        campaigns.campaign_close(campaign=closed, user=cast.national_requester)


def test_other_requesters_cannot_change_the_lifecycle(cast, survey, dgos):
    campaign = with_audience(make(cast, survey, dgos), cast.paris_hospital)
    with pytest.raises(CampaignError, match="demandeur"):
        campaigns.campaign_open(campaign=campaign, user=cast.ars_idf_agent)
    with pytest.raises(CampaignError, match="demandeur"):
        campaigns.campaign_close(campaign=campaign, user=cast.ehpad_respondent)


# --- The beat -------------------------------------------------------------------------------------


def test_beat_opens_started_periods_once_only(cast, survey, dgos):
    campaign = sent(cast, survey, dgos, cast.paris_hospital, cast.paris_ehpad)
    assert Assignment.objects.count() == 2
    two_days_later = timezone.now() + dt.timedelta(days=2)
    first = campaigns.campaigns_tick(now=two_days_later)
    assert first["assignments"] == 4
    again = campaigns.campaigns_tick(now=two_days_later)
    assert again["assignments"] == 0
    assert campaign.periods.count() == 3
    assert Assignment.objects.count() == 6


def test_task_runs_eagerly_and_is_idempotent(cast, survey, dgos):
    sent(cast, survey, dgos, cast.paris_hospital)
    first = open_due_periods.apply().get()
    second = open_due_periods.apply().get()
    assert first["assignments"] == 0 == second["assignments"]
    assert Assignment.objects.count() == 1


@pytest.mark.realstack
def test_task_runs_in_the_real_worker(transactional_db, cast, survey, dgos, celery_worker_process):
    """On ``make test-real`` a worker process runs the task; on the default, this process."""
    campaign = with_audience(make(cast, survey, dgos), cast.paris_hospital, cast.paris_ehpad)
    campaigns.campaign_schedule(
        campaign=campaign,
        opens_at=timezone.now() + dt.timedelta(seconds=1),
        user=cast.national_requester,
    )
    Campaign.objects.filter(pk=campaign.pk).update(
        scheduled_for=timezone.now() - dt.timedelta(seconds=1)
    )
    counts = open_due_periods.delay().get(timeout=60)
    assert counts["opened"] == 1
    assert counts["failed"] == 0
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.OPEN
    assert Assignment.objects.filter(campaign=campaign).count() == 2
    assert open_due_periods.delay().get(timeout=60)["opened"] == 0
    assert Assignment.objects.filter(campaign=campaign).count() == 2


def test_beat_marks_late_only_todo_and_in_progress(cast, survey, dgos):
    campaign = sent(cast, survey, dgos, cast.paris_hospital, cast.paris_ehpad, cast.ain_hospital)
    todo, in_progress, submitted = Assignment.objects.order_by("pk")
    Assignment.objects.filter(pk=in_progress.pk).update(status=Assignment.Status.IN_PROGRESS)
    Assignment.objects.filter(pk=submitted.pk).update(status=Assignment.Status.SUBMITTED)
    period = campaign.periods.get()
    counts = campaigns.campaigns_tick(now=period.due_at + dt.timedelta(minutes=1))
    assert counts["late"] == 2
    statuses = dict(Assignment.objects.filter(period=period).values_list("pk", "status"))
    assert statuses == {todo.pk: "late", in_progress.pk: "late", submitted.pk: "submitted"}


def test_beat_closes_campaigns_past_the_last_lock(cast, survey, dgos):
    campaign = sent(cast, survey, dgos, cast.paris_hospital, frequency="once", end_date=None)
    period = campaign.periods.get()
    assert campaigns.campaigns_tick(now=period.locks_at - dt.timedelta(minutes=1))["closed"] == 0
    assert campaigns.campaigns_tick(now=period.locks_at + dt.timedelta(minutes=1))["closed"] == 1
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.CLOSED


def test_recurring_campaign_stays_open_while_periods_remain(cast, survey, dgos):
    campaign = sent(cast, survey, dgos, cast.paris_hospital)
    period = campaign.periods.get()
    counts = campaigns.campaigns_tick(now=period.locks_at + dt.timedelta(minutes=1))
    # 31 days later every period (7 days) has opened, but the last one is not locked yet.
    assert counts["closed"] == 0
    assert campaign.periods.count() == 7


# --- Crisis ---------------------------------------------------------------------------------------


def test_crisis_switch_moves_to_daily_from_the_next_period_and_back(cast, survey, dgos):
    end = TODAY + dt.timedelta(days=200)
    campaign = sent(
        cast,
        survey,
        dgos,
        cast.paris_hospital,
        frequency="monthly",
        period_kind="month",
        end_date=end,
        crisis_frequency="daily",
    )
    month = period_of("month", TODAY)
    assert list(campaign.periods.values_list("key", flat=True)) == [month.key]

    campaigns.campaign_crisis_switch(
        campaign=campaign, on=True, user=cast.national_requester, comment="Plan blanc"
    )
    campaign.refresh_from_db()
    assert campaign.in_crisis and campaign.current_frequency == "daily"
    event = campaign.events.get(kind=CampaignEvent.Kind.CRISIS)
    assert event.details == {
        "on": True,
        "frequency": "daily",
        "from": (month.end + dt.timedelta(days=1)).isoformat(),
    }
    assert event.comment == "Plan blanc"

    # Three days into next month: the month already open stays, then one period per day.
    day3 = month.end + dt.timedelta(days=3)
    campaigns.campaigns_tick(now=dt.datetime.combine(day3, dt.time(8), PARIS))
    keys = list(campaign.periods.order_by("start").values_list("key", flat=True))
    assert keys == [month.key] + [(month.end + dt.timedelta(days=i)).isoformat() for i in (1, 2, 3)]

    campaigns.campaign_crisis_switch(
        campaign=campaign, on=False, user=cast.national_requester, comment="Fin du plan blanc"
    )
    # Back to monthly at the next month boundary: daily periods go on until then.
    next_month = period_of("month", day3).next()
    campaigns.campaigns_tick(now=dt.datetime.combine(next_month.start, dt.time(8), PARIS))
    periods = list(campaign.periods.order_by("start"))
    assert periods[-1].key == next_month.key
    assert periods[-2].key == (next_month.start - dt.timedelta(days=1)).isoformat()
    assert all(a.end + dt.timedelta(days=1) == b.start for a, b in itertools.pairwise(periods))


def test_crisis_switch_needs_a_crisis_frequency_and_a_comment(cast, survey, dgos):
    campaign = sent(cast, survey, dgos, cast.paris_hospital)
    with pytest.raises(CampaignError, match="commentaire"):
        campaigns.campaign_crisis_switch(
            campaign=campaign, on=True, user=cast.national_requester, comment=""
        )
    with pytest.raises(CampaignError, match="fréquence de crise"):
        campaigns.campaign_crisis_switch(
            campaign=campaign, on=True, user=cast.national_requester, comment="Crise"
        )


# --- Exemptions -----------------------------------------------------------------------------------


@pytest.fixture
def assignment(cast, survey, dgos):
    sent(cast, survey, dgos, cast.cayenne_ehpad)
    return Assignment.objects.get()


def test_requester_exempts_with_a_reason(cast, assignment):
    with pytest.raises(CampaignError, match="motif"):
        campaigns.assignment_exempt(assignment=assignment, reason=" ", user=cast.national_requester)
    with pytest.raises(CampaignError, match="demandeur"):
        campaigns.assignment_exempt(assignment=assignment, reason="x", user=cast.ars_idf_agent)
    exempted = campaigns.assignment_exempt(
        assignment=assignment, reason="Fermeture pour travaux", user=cast.national_requester
    )
    assert exempted.status == Assignment.Status.EXEMPTED
    assert exempted.exempted_by == cast.national_requester
    assert exempted.exemption_reason == "Fermeture pour travaux"
    event = assignment.campaign.events.get(kind=CampaignEvent.Kind.EXEMPTION)
    assert event.details["assignment"] == assignment.pk


def test_respondent_requests_and_requester_accepts(cast, assignment):
    with pytest.raises(CampaignError, match="ne répondez pas"):
        campaigns.exemption_request(
            assignment=assignment, reason="Fermé", user=cast.hospital_respondent
        )
    requested = campaigns.exemption_request(
        assignment=assignment, reason="Fermé en novembre", user=cast.ehpad_respondent
    )
    assert requested.exemption_requested_by == cast.ehpad_respondent
    assert requested.status == Assignment.Status.TODO
    with pytest.raises(CampaignError, match="déjà en attente"):
        campaigns.exemption_request(assignment=assignment, reason="x", user=cast.ehpad_respondent)
    decided = campaigns.exemption_decide(
        assignment=requested, accept=True, user=cast.national_requester, comment=""
    )
    assert decided.status == Assignment.Status.EXEMPTED
    assert decided.exempted_by == cast.national_requester


def test_requester_refuses_with_a_comment_and_the_answer_stays_owed(cast, assignment):
    campaigns.exemption_request(assignment=assignment, reason="Fermé", user=cast.ehpad_respondent)
    with pytest.raises(CampaignError, match="refus"):
        campaigns.exemption_decide(
            assignment=assignment, accept=False, user=cast.national_requester, comment=""
        )
    refused = campaigns.exemption_decide(
        assignment=assignment, accept=False, user=cast.national_requester, comment="Ouvert"
    )
    assert refused.status == Assignment.Status.TODO
    assert refused.exemption_requested_at is None
    decisions = assignment.campaign.events.filter(kind=CampaignEvent.Kind.EXEMPTION)
    assert [e.details["decision"] for e in decisions] == ["request", "refused"]
    with pytest.raises(CampaignError, match="Aucune demande"):
        campaigns.exemption_decide(
            assignment=assignment, accept=True, user=cast.national_requester, comment=""
        )


def test_legal_entity_respondent_may_request_for_its_site(cast, assignment):
    requested = campaigns.exemption_request(
        assignment=assignment, reason="Fermé", user=cast.legal_entity_respondent
    )
    assert requested.exemption_requested_at is not None
    assert ReportingUnit.objects.filter(pk=assignment.unit_id, finess="970302287").exists()


# --- Demo data ------------------------------------------------------------------------------------


def test_demo_data_gives_the_demo_respondents_an_open_daily_assignment(db, settings):
    from django.core.management import call_command

    from collection.management.commands.load_demo import (
        DEMO_CAMPAIGN,
        DEMO_HISTORY_DAYS,
        DEMO_OVERLAPPING,
    )
    from collection.models import Value

    settings.DEBUG = True
    call_command("load_demo", stdout=io.StringIO())
    values = Value.objects.count()
    output = io.StringIO()
    call_command("load_demo", stdout=output)  # twice: nothing is created twice
    assert "(démonstration) » : ouverte" in output.getvalue()
    assert Value.objects.count() == values
    campaign = Campaign.objects.get(title=DEMO_CAMPAIGN)
    assert campaign.status == Campaign.Status.OPEN
    assert campaign.frequency == "daily"
    assert not campaign.version.questions.filter(definition__isnull=True).exists()
    for finess in ("970302287", "010000024"):
        assignment = Assignment.objects.get(
            campaign=campaign, unit__finess=finess, period__key=TODAY.isoformat()
        )
        assert assignment.status == Assignment.Status.TODO
    # Past days hold answers written through the one write path, and some are late.
    past = Assignment.objects.filter(campaign=campaign).exclude(period__key=TODAY.isoformat())
    assert past.values("period").distinct().count() == DEMO_HISTORY_DAYS
    assert past.filter(status=Assignment.Status.SUBMITTED).count() > past.count() // 2
    assert past.exclude(status=Assignment.Status.SUBMITTED).exists()
    assert values > 0 and not Value.objects.filter(channel="").exists()
    # The ARS draft overlaps the daily campaign on two definitions.
    draft = Campaign.objects.get(title=DEMO_OVERLAPPING)
    assert draft.status == Campaign.Status.DRAFT
    asked = set(draft.version.questions.values_list("definition__code", flat=True))
    daily = set(campaign.version.questions.values_list("definition__code", flat=True))
    assert len(asked & daily) == 2 and len(asked - daily) == 1
