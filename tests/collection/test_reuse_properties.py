"""Properties of serving reused values, on random worlds (hypothesis).

Random source campaigns (daily, weekly, monthly; random audiences, starts and ends, some
open-ended), definitions of random time aggregation, random stored values (some missing, some
null), and one campaign that chose reuse for a random period. For every assignment of it:

(a) a cell is never asked twice: a definition reused from a source that asks it of that unit
    for every period making the assignment's period is not asked (not required, not taken);
(b) every served value equals ``coverage.aggregate`` over what the store holds for the
    covering periods;
(c) nothing is served from incomplete source periods: it is pending then, without data.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from collection import reuse, values
from collection.models import Channel, Value
from surveys import coverage
from surveys.models import AudienceMember, CampaignReuse, OverlapChoice
from surveys.periods import period_of, periods_between
from tests.collection.answering import campaign as make_campaign
from tests.referentials.factories_dictionary import DefinitionFactory
from tests.surveys.factories import AssignmentFactory, CampaignPeriodFactory, ReportingUnitFactory

pytestmark = pytest.mark.django_db

KINDS = {"day": "daily", "week": "weekly", "month": "monthly"}
AGGREGATIONS = [("stock", "integer"), ("flow", "integer"), ("level", "decimal"), ("stock", "text")]
START = dt.date(2027, 1, 4)  # a Monday

world = st.fixed_dictionaries(
    {
        "units": st.integers(1, 3),
        "definitions": st.lists(st.sampled_from(range(len(AGGREGATIONS))), min_size=1, max_size=3),
        "sources": st.lists(
            st.tuples(
                st.sampled_from(["day", "day", "week", "month"]),
                st.integers(-10, 10),  # start offset (days)
                st.one_of(st.none(), st.integers(0, 60)),  # length (days), None: open-ended
                st.sets(st.integers(0, 2), min_size=1),  # audience (unit indexes)
                st.sets(st.integers(0, 2), min_size=1),  # definitions (indexes)
            ),
            min_size=1,
            max_size=3,
        ),
        "target": st.tuples(
            st.sampled_from(["day", "week", "week", "month"]),
            st.integers(0, 30),  # the day whose period is served
        ),
        # per definition: reused from a source (its index), from the store (None), or asked (-1)
        "reused": st.lists(st.one_of(st.none(), st.integers(-1, 2)), min_size=3, max_size=3),
        "stored": st.lists(
            st.tuples(
                st.integers(0, 2),  # unit
                st.integers(0, 2),  # definition
                st.sampled_from(list(KINDS)),
                st.integers(0, 60),  # day offset
                st.one_of(st.none(), st.integers(0, 50)),  # data (None: a null value)
            ),
            max_size=40,
        ),
        # (unit, definition, a day left out or None): the target period's days, declared
        "complete_days": st.lists(
            st.tuples(
                st.integers(0, 2), st.integers(0, 2), st.one_of(st.none(), st.integers(0, 30))
            ),
            max_size=4,
        ),
    }
)


def _store(unit, definition, period, data):
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
    )


def _build(data):
    units = [ReportingUnitFactory() for _ in range(data["units"])]
    chosen = []
    for n, index in enumerate(data["definitions"]):
        aggregation, value_type = AGGREGATIONS[index]
        chosen.append(
            DefinitionFactory(
                code=f"definition_{n}", time_aggregation=aggregation, value_type=value_type
            )
        )
    sources = []
    for kind, offset, length, audience, wanted in data["sources"]:
        start = START + dt.timedelta(days=offset)
        source = make_campaign(
            definitions=[chosen[i] for i in sorted(wanted) if i < len(chosen)] or chosen[:1],
            frequency=KINDS[kind],
            period_kind=kind,
            start_date=start,
            end_date=None if length is None else start + dt.timedelta(days=length),
        )
        AudienceMember.objects.bulk_create(
            AudienceMember(campaign=source, unit=units[i])
            for i in sorted(audience)
            if i < len(units)
        )
        sources.append(source)
    kind, day = data["target"]
    target = make_campaign(
        definitions=chosen,
        frequency=KINDS[kind],
        period_kind=kind,
        start_date=START,
        end_date=START + dt.timedelta(days=90),
        overlap_choice=OverlapChoice.REUSE,
    )
    reused = {}
    for index, source_index in enumerate(data["reused"]):
        if index < len(chosen) and source_index != -1:
            source = (
                sources[source_index]
                if source_index is not None and source_index < len(sources)
                else None
            )
            CampaignReuse.objects.create(campaign=target, definition=chosen[index], source=source)
            reused[chosen[index].pk] = source
    for unit, definition, kind_, offset, value in data["stored"]:
        if unit < len(units) and definition < len(chosen):
            _store(
                units[unit],
                chosen[definition],
                period_of(kind_, START + dt.timedelta(days=offset)),
                value,
            )
    target_day = START + dt.timedelta(days=day)
    for unit, definition, left_out in data["complete_days"]:
        if unit < len(units) and definition < len(chosen):
            days = period_of(kind, target_day).sub_periods(period_of("day", target_day).kind)
            for index, each in enumerate(days):
                if index != left_out:
                    _store(units[unit], chosen[definition], each, 3 + index)
    period = CampaignPeriodFactory(campaign=target, day=target_day)
    assignments = [AssignmentFactory(period=period, unit=unit) for unit in units]
    return target, assignments, reused, chosen


def _asks(source, unit_id, definition, target_period):
    """Reference: the source asks this cell for every period making the target's period."""
    if not AudienceMember.objects.filter(campaign=source, unit_id=unit_id).exists():
        return None
    if not source.version.questions.filter(definition=definition).exists():
        return None
    numeric = definition.value_type in coverage.NUMERIC_TYPES
    needed = coverage.source_periods(
        target_period, source.period_kind, aggregation=definition.time_aggregation, numeric=numeric
    )
    if not needed:
        return None
    last = source.end_date or target_period.end
    planned = {p.key for p in periods_between(source.period_kind, source.start_date, last)}
    return needed if all(p.key in planned for p in needed) else None


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=world)
def test_served_values_are_never_asked_exact_and_never_from_incomplete_periods(db, data):
    with transaction.atomic():  # a savepoint per example
        target, assignments, reused, chosen = _build(data)
        by_id = {d.pk: d for d in chosen}
        period = period_of(target.period_kind, assignments[0].period.start)
        set_based = reuse.served_values(campaign=target, period_key=period.key)
        states = []
        for assignment in assignments:
            served = reuse.served_for(assignment)
            outcome = values.check(assignment, {})
            refused_codes = {issue.code for issue in outcome.verdict.errors}
            for definition_id, source in reused.items():
                definition = by_id[definition_id]
                code = definition.code
                if source is not None:
                    needed = _asks(source, assignment.unit_id, definition, period)
                    # (a) a cell its source asks is served, so never asked again here
                    assert (code in served) == (needed is not None), code
                    if needed is not None:
                        assert served[code].needed == tuple(p.key for p in needed)
                if code not in served:
                    continue
                item = served[code]
                states.append(item.state)
                assert code not in refused_codes  # not asked: never required
                assert code not in outcome.created + outcome.changed  # never written
                held = dict(
                    Value.objects.filter(
                        unit_id=assignment.unit_id,
                        definition_id=definition_id,
                        period_key__in=item.needed,
                    ).values_list("period_key", "data")
                )
                needed_periods = [period_of_key(k) for k in item.needed]
                if coverage.complete(needed_periods, held):
                    # (b) the served value is the aggregate of what the store holds
                    assert item.available
                    expected = coverage.aggregate(
                        definition.time_aggregation, [held[k] for k in item.needed]
                    )
                    assert item.data == expected
                else:
                    # (c) never served from incomplete periods
                    assert item.state == reuse.PENDING and item.data is None and item.text == ""
                    assert source is not None  # from the store, only complete values serve
                assert set_based[(assignment.unit_id, code)] == item
            # Every channel takes an answer to the questions that are asked, and refuses one
            # to a served question.
            everything = {d.code: "x" if d.value_type == "text" else "1" for d in chosen}
            answered = values.check(assignment, everything)
            assert {issue.code for issue in answered.verdict.errors} == set(served)
        assert len(set_based) == sum(len(reuse.served_for(a)) for a in assignments)
        transaction.set_rollback(True)
    event(f"states: {sorted(set(states))}")


def period_of_key(key):
    from surveys.periods import parse_period

    return parse_period(key)
