"""Values served from the store instead of asked (collection.reuse), through every channel's
write path (``values.check``/``submit``)."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from collection import reuse, values
from collection.models import Channel, Value
from surveys.models import AudienceMember
from surveys.periods import period_of
from tests.collection.reusing import (
    WEEK_DAY,
    assignment_for,
    days_of,
    definition,
    reusing_campaign,
    source_campaign,
    store,
)
from tests.surveys.factories import ReportingUnitFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def unit():
    return ReportingUnitFactory(label="Ehpad Les Tilleuls")


def _week(unit, aggregation, daily):
    """A daily source campaign, a weekly campaign reusing its definition, and the daily
    values (None: not declared) of the week 2026-W49."""
    beds = definition("lits", aggregation, label="Lits disponibles")
    source = source_campaign([beds], [unit], title="Capacités")
    target = reusing_campaign([beds, definition("visites", "flow")], [beds], source=source)
    for day, data in zip(days_of(WEEK_DAY), daily, strict=True):
        if data is not None:
            store(unit, beds, day, data, campaign=source)
    return assignment_for(target, unit), source


def test_a_weekly_stock_is_served_from_the_last_daily_value(unit):
    assignment, source = _week(unit, "stock", ["1", "2", "3", "4", "5", "6", "7"])
    served = reuse.served_for(assignment)["lits"]
    assert served.available and served.data == "7" and served.text == "7"
    assert served.needed == ("2026-12-06",) and served.present == 1
    assert served.source_campaign_id == source.pk
    assert "Dernière valeur journalière" in served.provenance
    assert "Ehpad Les Tilleuls" in served.provenance and "« Capacités »" in served.provenance


def test_a_weekly_flow_is_the_sum_of_its_seven_days(unit):
    assignment, _ = _week(unit, "flow", ["1", "2", "3", "4", "5", "6", "7"])
    served = reuse.served_for(assignment)["lits"]
    assert served.data == "28" and len(served.needed) == 7 and len(served.sources) == 7
    assert served.provenance.startswith("Somme des 7 valeurs journalières")


def test_six_days_of_seven_leave_the_value_pending(unit):
    assignment, _ = _week(unit, "flow", ["1", "2", "3", None, "5", "6", "7"])
    served = reuse.served_for(assignment)["lits"]
    assert served.state == reuse.PENDING and served.data is None
    assert served.present == 6
    assert served.provenance.startswith("En attente : 6 valeurs journalières sur 7")
    assert "« Capacités »" in served.provenance


def test_a_monthly_level_is_the_average_of_its_days(unit):
    rate = definition("taux", "level", value_type="decimal")
    source = source_campaign([rate], [unit])
    target = reusing_campaign([rate], [rate], source=source, kind="month")
    december = period_of("month", WEEK_DAY).sub_periods(period_of("day", WEEK_DAY).kind)
    for index, day in enumerate(december):
        store(unit, rate, day, str(index % 2), campaign=source)  # 0, 1, 0, 1, ... 31 days
    served = reuse.served_for(assignment_for(target, unit))["taux"]
    assert served.data == "0.483871"  # 15 / 31
    assert served.provenance.startswith("Moyenne des 31 valeurs journalières")


def test_a_unit_outside_the_source_audience_is_asked(unit):
    assignment, _ = _week(unit, "stock", ["1"] * 7)
    elsewhere = ReportingUnitFactory()
    other = assignment_for(assignment.campaign, elsewhere)
    assert reuse.served_for(other) == {}
    assert "lits" in [i.code for i in values.check(other, {}).verdict.errors]


def test_a_source_that_does_not_plan_the_week_serves_nothing(unit):
    beds = definition("lits", "stock")
    source = source_campaign([beds], [unit], end=dt.date(2026, 12, 3))  # stops mid-week
    target = reusing_campaign([beds], [beds], source=source)
    assert reuse.served_for(assignment_for(target, unit)) == {}


def test_without_a_source_only_complete_stored_values_serve(unit):
    beds = definition("lits", "flow")
    target = reusing_campaign([beds], [beds], source=None)
    assignment = assignment_for(target, unit)
    days = days_of(WEEK_DAY)
    for day in days[:6]:
        store(unit, beds, day, "2")
    assert reuse.served_for(assignment) == {}  # incomplete: asked
    store(unit, beds, days[6], "3")
    assert reuse.served_for(assignment)["lits"].data == "15"


def test_a_served_question_is_not_asked_and_its_value_feeds_the_rules(unit):
    assignment, _ = _week(unit, "stock", ["1", "2", "3", "4", "5", "6", None])
    outcome = values.check(assignment, {"visites": "4"})
    assert not outcome.blocking  # pending: not required either
    assert outcome.created == ["visites"]
    outcome = values.submit(assignment, {"visites": "4"}, channel=Channel.FORM)
    assert outcome.applied
    # Nothing was written for the served question.
    assert not Value.objects.filter(definition__code="lits", period_key="2026-W49").exists()


def test_an_input_carrying_a_served_question_is_refused_in_french(unit):
    assignment, _ = _week(unit, "stock", ["1"] * 7)
    outcome = values.submit(assignment, {"visites": "4", "lits": "9"}, channel=Channel.API)
    assert not outcome.applied
    (issue,) = outcome.verdict.errors
    assert issue.code == "lits" and issue.message.startswith("Lits disponibles :")
    assert "Corriger la valeur partagée" in issue.message
    assert f"/collecte/demandes/{assignment.pk}/servies/lits/" in issue.message


def test_results_read_served_values_for_every_unit_in_a_fixed_number_of_queries(unit):
    assignment, source = _week(unit, "flow", ["1"] * 7)
    campaign = assignment.campaign

    def count() -> tuple[int, dict]:
        with CaptureQueriesContext(connection) as queries:
            served = reuse.served_values(campaign=campaign, period_key="2026-W49")
        return len(queries), served

    few, _ = count()
    for _ in range(10):
        other = ReportingUnitFactory()
        AudienceMember.objects.create(campaign=source, unit=other)
        assignment_for(campaign, other)
        for day in days_of(WEEK_DAY):
            store(other, assignment.campaign.reuses.get().definition, day, "2")
    many, served = count()
    assert many == few <= 12  # the schema, the period, its units, then 4 queries for all
    assert len(served) == 11 and served[(unit.pk, "lits")] == reuse.served_for(assignment)["lits"]
    assert {s.data for (u, _), s in served.items() if u != unit.pk} == {"14"}


def test_exports_of_a_reusing_campaign_carry_the_served_values_like_its_results(unit):
    """The weekly stock served from the last day is in the long and the wide export, once,
    marked as reused, and the daily values themselves are not the weekly campaign's rows."""
    from accounts.scoping import Scope
    from collection.exports.access import ExportAccess
    from collection.exports.rows import SERVED_STATUS, long_table, wide_table

    assignment, _ = _week(unit, "stock", ["1", "2", "3", "4", "5", "6", "7"])
    target = assignment.campaign
    access = ExportAccess(campaign=target, user=None, scope=Scope(nationwide=True), whole=True)
    long_rows = list(long_table(access).rows())
    assert [(r[6], r[8], r[9], r[11], r[12]) for r in long_rows] == [
        ("lits", "2026-W49", 7, SERVED_STATUS, "Capacités")
    ]
    wide = wide_table(access)
    [row] = list(wide.rows())
    assert row[wide.header.index("lits")] == 7
    assert row[wide.header.index("visites")] is None
