"""Which source campaigns really serve a reused cell (``reuse.source_plan``/``source_needs``),
and the burden page counting exactly the cells the serving serves.

A source serves only the periods it really asks: not a draft, not after its closing, not a
period it exempted the unit from; its crisis cadence counts as well as its nominal one. A
reuse from the store never serves the campaign its own answers. Anything else is asked.
"""

import datetime as dt

import pytest
from django.utils import timezone

from collection import burden, reuse, values
from collection.models import Channel
from surveys.models import Assignment, Campaign, CampaignEvent
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
from tests.surveys.factories import AssignmentFactory, CampaignPeriodFactory, ReportingUnitFactory

pytestmark = pytest.mark.django_db

SUNDAY = dt.date(2026, 12, 6)  # the last day of 2026-W49
LAST_WEEK = dt.date(2026, 11, 25)  # in 2026-W48 (23/11 to 29/11)


@pytest.fixture
def unit():
    return ReportingUnitFactory(label="Ehpad Les Tilleuls")


def _burden_served(assignment) -> int:
    """The cells of this one assignment the burden page counts as served."""
    counted = burden.served_cells(Assignment.objects.filter(pk=assignment.pk), ("unit_id",))
    return counted.get((assignment.unit_id,), 0)


def _asked(assignment) -> set[str]:
    """The questions left unanswered that the check requires (asked, not served)."""
    return {issue.code for issue in values.check(assignment, {}).verdict.errors}


def _source_assignment(source, unit, day, **kwargs):
    period = CampaignPeriodFactory(campaign=source, day=day)
    return AssignmentFactory(period=period, unit=unit, **kwargs)


def _stock_week(unit, **source_kw):
    beds = definition("lits", "stock")
    source = source_campaign([beds], [unit], title="Capacités", **source_kw)
    target = reusing_campaign([beds], [beds], source=source)
    return beds, source, target


def _close(source, on: dt.datetime):
    source.status = Campaign.Status.CLOSED
    source.closed_at = on
    source.save(update_fields=["status", "closed_at"])


def test_a_closed_source_does_not_serve_the_periods_after_its_closing(unit):
    beds, source, target = _stock_week(unit)
    store(unit, beds, period_of("day", SUNDAY), "7", campaign=source)
    _close(source, timezone.make_aware(dt.datetime(2026, 12, 3, 10, 0)))
    assignment = assignment_for(target, unit)
    assert reuse.served_for(assignment) == {}  # never pending forever: asked here
    assert _asked(assignment) == {"lits"}
    assert _burden_served(assignment) == 0


def test_a_closed_source_serves_what_it_asked_and_holds_before_closing(unit):
    beds, source, target = _stock_week(unit)
    _close(source, timezone.make_aware(dt.datetime(2026, 12, 3, 10, 0)))
    assignment = assignment_for(target, unit, day=LAST_WEEK)
    # Not asked of the unit (no assignment of the source for 29/11): asked here.
    store(unit, beds, period_of("day", dt.date(2026, 11, 29)), "4", campaign=source)
    assert reuse.served_for(assignment) == {} and _burden_served(assignment) == 0
    # Asked of it and answered: served.
    _source_assignment(source, unit, dt.date(2026, 11, 29))
    served = reuse.served_for(assignment)["lits"]
    assert served.available and served.data == "4"
    assert _burden_served(assignment) == 1


def test_a_closed_source_missing_the_value_leaves_the_cell_asked_not_pending(unit):
    _beds, source, target = _stock_week(unit)
    _source_assignment(source, unit, dt.date(2026, 11, 29))
    assignment = assignment_for(target, unit, day=LAST_WEEK)
    assert reuse.served_for(assignment)["lits"].state == reuse.PENDING  # still open: awaited
    _close(source, timezone.make_aware(dt.datetime(2026, 12, 3, 10, 0)))
    assert reuse.served_for(assignment) == {}
    assert _asked(assignment) == {"lits"} and _burden_served(assignment) == 0


def test_a_source_that_exempted_the_unit_for_a_needed_period_does_not_serve(unit):
    visits = definition("visites", "flow")
    source = source_campaign([visits], [unit], title="Activité")
    target = reusing_campaign([visits], [visits], source=source)
    assignment = assignment_for(target, unit)
    for day in days_of(WEEK_DAY)[:6]:
        store(unit, visits, day, "2", campaign=source)
    assert reuse.served_for(assignment)["visites"].state == reuse.PENDING
    assert _burden_served(assignment) == 1
    # Exempted on Sunday: the seventh day will never come.
    _source_assignment(source, unit, SUNDAY, status=Assignment.Status.EXEMPTED)
    assert reuse.served_for(assignment) == {}
    assert _asked(assignment) == {"visites"} and _burden_served(assignment) == 0


def test_an_exemption_outside_the_needed_periods_changes_nothing(unit):
    _beds, source, target = _stock_week(unit)
    _source_assignment(source, unit, WEEK_DAY, status=Assignment.Status.EXEMPTED)
    assignment = assignment_for(target, unit)
    # A stock needs only Sunday's value: Wednesday's exemption does not matter.
    assert reuse.served_for(assignment)["lits"].needed == ("2026-12-06",)
    assert _burden_served(assignment) == 1


def test_a_draft_source_serves_nothing(unit):
    beds, source, target = _stock_week(unit)
    store(unit, beds, period_of("day", SUNDAY), "7", campaign=source)
    Campaign.objects.filter(pk=source.pk).update(status=Campaign.Status.DRAFT)
    assignment = assignment_for(target, unit)
    assert reuse.served_for(assignment) == {}
    assert _asked(assignment) == {"lits"} and _burden_served(assignment) == 0


def test_a_monthly_source_in_crisis_serves_its_daily_periods(unit):
    beds, source, target = _stock_week(
        unit, kind="month", end=dt.date(2027, 6, 30), crisis_frequency="daily", in_crisis=True
    )
    CampaignEvent.objects.create(
        campaign=source,
        kind=CampaignEvent.Kind.CRISIS,
        details={"on": True, "frequency": "daily", "from": "2026-12-01"},
    )
    assignment = assignment_for(target, unit)
    served = reuse.served_for(assignment)["lits"]
    assert served.state == reuse.PENDING and served.needed == ("2026-12-06",)
    assert _burden_served(assignment) == 1
    store(unit, beds, period_of("day", SUNDAY), "9", campaign=source)
    assert reuse.served_for(assignment)["lits"].data == "9"


def test_reuse_from_the_store_never_serves_the_campaigns_own_answers(unit):
    beds = definition("lits", "stock")
    target = reusing_campaign([beds], [beds], source=None)
    assignment = assignment_for(target, unit)
    assert _asked(assignment) == {"lits"}
    first = values.submit(assignment, {"lits": "5"}, channel=Channel.FORM)
    assert first.applied
    # Its own answer is stored for the week: it is still its answer, asked, not served.
    assert reuse.served_for(assignment) == {}
    assert _burden_served(assignment) == 0
    again = values.submit(assignment, {"lits": "5"}, channel=Channel.API)
    assert not again.verdict.errors
    changed = values.submit(assignment, {"lits": "6"}, channel=Channel.API)
    assert changed.applied and not changed.verdict.errors
    # Another campaign's value of the same week does serve.
    other = ReportingUnitFactory()
    store(other, beds, period_of("week", WEEK_DAY), "3")
    assert reuse.served_for(assignment_for(target, other))["lits"].data == "3"
