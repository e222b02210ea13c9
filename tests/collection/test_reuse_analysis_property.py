"""The serving of reused values keeps the overlap analysis' promise (hypothesis).

Random worlds: source campaigns (daily, weekly, monthly; some switched to a daily crisis
cadence, some closed), definitions of random time aggregation, random stored values, and a
weekly or monthly campaign whose reuse rows are written from ``overlaps.analyse(...)
.reuse_plan()`` as choosing reuse writes them. For every cell of its assignments:

(a) the cells the analysis counts as covered by an open source, or as in the store, are
    exactly the cells served (available or pending): never asked again, and nothing served
    that the analysis did not promise;
(b) a closed source (which the analysis ignores), reused all the same, never leaves a cell
    pending: it serves what it holds, anything else is asked.

The reference is the analysis itself, not a copy of the serving rule.
"""

import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from collection import overlaps, reuse, values
from collection.models import Channel, Value
from surveys.campaigns import planned_periods
from surveys.models import AudienceMember, Campaign, CampaignEvent, CampaignReuse, OverlapChoice
from surveys.periods import period_of
from tests.collection.answering import campaign as make_campaign
from tests.referentials.factories_dictionary import DefinitionFactory
from tests.surveys.factories import AssignmentFactory, CampaignPeriodFactory, ReportingUnitFactory

pytestmark = pytest.mark.django_db

KINDS = {"day": "daily", "week": "weekly", "month": "monthly"}
AGGREGATIONS = [("stock", "integer"), ("flow", "integer"), ("level", "decimal"), ("stock", "text")]
START = dt.date(2027, 2, 1)  # a Monday, and the first day of a month

world = st.fixed_dictionaries(
    {
        "units": st.integers(1, 3),
        "definitions": st.lists(st.sampled_from(range(len(AGGREGATIONS))), min_size=1, max_size=3),
        "sources": st.lists(
            st.fixed_dictionaries(
                {
                    "kind": st.sampled_from(["day", "day", "week", "month"]),
                    "start": st.integers(-35, 10),  # days from START
                    "length": st.integers(0, 90),  # days
                    "audience": st.sets(st.integers(0, 2), min_size=1),
                    "definitions": st.sets(st.integers(0, 2), min_size=1),
                    # a daily crisis from this day (from START), or none
                    "crisis": st.one_of(st.none(), st.integers(-10, 40)),
                    # closed on this day (from START), or open
                    "closed": st.one_of(st.none(), st.none(), st.integers(-5, 40)),
                }
            ),
            min_size=1,
            max_size=3,
        ),
        "target": st.sampled_from([("week", 27), ("month", 58)]),  # kind, length (days)
        "stored": st.lists(
            st.tuples(
                st.integers(0, 2),  # unit
                st.integers(0, 2),  # definition
                st.sampled_from(list(KINDS)),
                st.integers(-5, 60),  # day (from START)
                st.one_of(st.none(), st.integers(0, 50)),  # data (None: a null value)
                st.one_of(st.none(), st.integers(0, 2)),  # the source that collected it
            ),
            max_size=40,
        ),
        # (unit, definition, a day left out or None): a whole month of daily values
        "complete_days": st.lists(
            st.tuples(
                st.integers(0, 2), st.integers(0, 2), st.one_of(st.none(), st.integers(0, 27))
            ),
            max_size=3,
        ),
    }
)


def _store(unit, definition, period, data, campaign=None):
    if Value.objects.filter(unit=unit, definition=definition, period_key=period.key).exists():
        return
    text = None if data is None else (str(data) if definition.value_type != "text" else f"t{data}")
    Value.objects.create(
        unit=unit,
        definition=definition,
        code=definition.code,
        period_kind=period.kind.value,
        period_key=period.key,
        period_start=period.start,
        period_end=period.end,
        data=text,
        number=Decimal(data) if data is not None and definition.value_type != "text" else None,
        channel=Channel.FORM,
        changed_at=timezone.now(),
        campaign=campaign,
    )


def _source(spec, chosen, units):
    kind = spec["kind"]
    start = period_of(kind, START + dt.timedelta(days=spec["start"])).start
    crisis = spec["crisis"] is not None and kind != "day"
    source = make_campaign(
        definitions=[chosen[i] for i in sorted(spec["definitions"]) if i < len(chosen)]
        or chosen[:1],
        frequency=KINDS[kind],
        period_kind=kind,
        start_date=start,
        end_date=start + dt.timedelta(days=spec["length"]),
        crisis_frequency="daily" if crisis else "",
        in_crisis=crisis,
    )
    if crisis:
        CampaignEvent.objects.create(
            campaign=source,
            kind=CampaignEvent.Kind.CRISIS,
            details={
                "on": True,
                "frequency": "daily",
                "from": (START + dt.timedelta(days=spec["crisis"])).isoformat(),
            },
        )
    AudienceMember.objects.bulk_create(
        AudienceMember(campaign=source, unit=units[i])
        for i in sorted(spec["audience"])
        if i < len(units)
    )
    return source


def _close(source, units, day):
    """Close ``source`` on ``day``: the periods started by then were opened and asked."""
    for period in planned_periods(source, until=day):
        row = CampaignPeriodFactory(campaign=source, kind=period.kind.value, day=period.start)
        for unit_id in source.members.values_list("unit_id", flat=True):
            AssignmentFactory(period=row, unit_id=unit_id)
    source.status = Campaign.Status.CLOSED
    source.closed_at = timezone.make_aware(dt.datetime.combine(day, dt.time(12, 0)))
    source.save(update_fields=["status", "closed_at"])


def _build(data):
    units = [ReportingUnitFactory() for _ in range(data["units"])]
    chosen = [
        DefinitionFactory(
            code=f"definition_{n}",
            time_aggregation=AGGREGATIONS[index][0],
            value_type=AGGREGATIONS[index][1],
        )
        for n, index in enumerate(data["definitions"])
    ]
    sources = [_source(spec, chosen, units) for spec in data["sources"]]
    kind, length = data["target"]
    target = make_campaign(
        definitions=chosen,
        frequency=KINDS[kind],
        period_kind=kind,
        start_date=START,
        end_date=START + dt.timedelta(days=length),
        overlap_choice=OverlapChoice.REUSE,
    )
    AudienceMember.objects.bulk_create(AudienceMember(campaign=target, unit=u) for u in units)
    for unit, definition, kind_, day, value, source in data["stored"]:
        if unit < len(units) and definition < len(chosen):
            collected = sources[source] if source is not None and source < len(sources) else None
            period = period_of(kind_, START + dt.timedelta(days=day))
            _store(units[unit], chosen[definition], period, value, collected)
    for unit, definition, left_out in data["complete_days"]:
        if unit < len(units) and definition < len(chosen):
            for index, day in enumerate(period_of("month", START).sub_periods("day")):
                if index != left_out:
                    _store(units[unit], chosen[definition], day, 3 + index)
    closed = {}
    for spec, source in zip(data["sources"], sources, strict=True):
        if spec["closed"] is not None:
            closed[source.pk] = START + dt.timedelta(days=spec["closed"])
    # Closed before the analysis: it ignores them.
    for source in sources:
        if source.pk in closed:
            _close(source, units, closed[source.pk])
    assignments = []
    for period in planned_periods(target):
        row = CampaignPeriodFactory(
            campaign=target,
            day=period.start,
            locks_at=timezone.now() + dt.timedelta(days=3650),
        )
        assignments += [AssignmentFactory(period=row, unit=u) for u in units]
    return target, assignments, chosen, sources, set(closed)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=world)
@example(  # a weekly source in a daily crisis, closed the next day; a daily one open
    data={
        "units": 1,
        "definitions": [0],
        "sources": [
            {
                "kind": "day",
                "start": 0,
                "length": 0,
                "audience": {0},
                "definitions": {0},
                "crisis": None,
                "closed": None,
            },
            {
                "kind": "month",
                "start": 0,
                "length": 60,
                "audience": {0},
                "definitions": {0},
                "crisis": 0,
                "closed": 1,
            },
            {
                "kind": "month",
                "start": -28,
                "length": 90,
                "audience": {0},
                "definitions": {0},
                "crisis": 3,
                "closed": None,
            },
        ],
        "target": ("week", 27),
        "stored": [(0, 0, "day", 0, 5, 1), (0, 0, "day", 13, 4, 2)],
        "complete_days": [],
    }
)
def test_serving_keeps_what_the_overlap_analysis_counted(db, data):
    with transaction.atomic():  # a savepoint per example
        target, assignments, chosen, sources, closed = _build(data)
        analysis = overlaps.analyse(campaign=target)
        plan = list(dict.fromkeys(analysis.reuse_plan()))
        CampaignReuse.objects.bulk_create(
            CampaignReuse(campaign=target, definition_id=d, source_id=s) for d, s in plan
        )
        assert not {s for _, s in plan} & closed  # the analysis ignores closed campaigns
        codes = {d.pk: d.code for d in chosen}
        promised = {codes[d.definition_id]: d.covered + d.in_store for d in analysis.definitions}
        served: Counter[str] = Counter()
        states = []
        for assignment in assignments:
            items = reuse.served_for(assignment)
            served.update(items.keys())
            states += [item.state for item in items.values()]
            # (a) never asked again: not required, and an answer to it is refused
            asked = {i.code for i in values.check(assignment, {}).verdict.errors}
            assert not asked & set(items)
            assert set(codes.values()) - set(items) <= asked
        # (a) exactly the cells the analysis promised (a cell is served at most once)
        assert {code: served[code] for code in codes.values()} == promised

        # (b) closed sources reused all the same: never a pending cell from them
        CampaignReuse.objects.bulk_create(
            CampaignReuse(campaign=target, definition=d, source=s)
            for s in sources
            if s.pk in closed
            for d in chosen
            if s.version.questions.filter(definition=d).exists()
        )
        for assignment in assignments:
            for code, item in reuse.served_for(assignment).items():
                if item.source_campaign_id in closed and item.state == reuse.PENDING:
                    raise AssertionError(f"{code} pending on closed campaign")
                assert item.state == reuse.AVAILABLE or item.source_campaign_id not in closed
        transaction.set_rollback(True)
    event(f"states: {sorted(set(states))}")
    event(f"covered: {analysis.covered > 0}, in store: {analysis.in_store > 0}")
