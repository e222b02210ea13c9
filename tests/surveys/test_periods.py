"""Periods: keys people read, and arithmetic that never loses or doubles a day."""

from datetime import date, timedelta
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from surveys.periods import PeriodError, PeriodKind, parse_period, period_of, periods_between

days = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))
kinds = st.sampled_from(list(PeriodKind))


@pytest.mark.parametrize(
    ("kind", "day", "key", "start", "end", "label"),
    [
        (
            "day",
            date(2026, 11, 30),
            "2026-11-30",
            date(2026, 11, 30),
            date(2026, 11, 30),
            "30 novembre 2026",
        ),
        (
            "week",
            date(2026, 11, 30),
            "2026-W49",
            date(2026, 11, 30),
            date(2026, 12, 6),
            "semaine 49 de 2026 (du 30/11 au 06/12/2026)",
        ),
        # ISO weeks straddle years: 1 January 2027 is in week 53 of 2026.
        (
            "week",
            date(2027, 1, 1),
            "2026-W53",
            date(2026, 12, 28),
            date(2027, 1, 3),
            "semaine 53 de 2026 (du 28/12 au 03/01/2027)",
        ),
        (
            "month",
            date(2028, 2, 10),
            "2028-02",
            date(2028, 2, 1),
            date(2028, 2, 29),
            "février 2028",
        ),
        (
            "quarter",
            date(2026, 11, 30),
            "2026-T4",
            date(2026, 10, 1),
            date(2026, 12, 31),
            "4e trimestre 2026",
        ),
        (
            "quarter",
            date(2026, 2, 1),
            "2026-T1",
            date(2026, 1, 1),
            date(2026, 3, 31),
            "1er trimestre 2026",
        ),
        ("year", date(2026, 11, 30), "2026", date(2026, 1, 1), date(2026, 12, 31), "2026"),
    ],
)
def test_each_kind_has_a_readable_key_and_exact_bounds(kind, day, key, start, end, label):
    period = period_of(kind, day)
    assert (period.key, period.start, period.end, period.label) == (key, start, end, label)
    assert parse_period(key) == period


@given(kinds, days)
def test_a_period_contains_its_day_and_its_key_reads_back(kind, day):
    period = period_of(kind, day)
    assert period.start <= day <= period.end
    assert parse_period(period.key) == period
    assert period.previous().end + timedelta(days=1) == period.start
    assert period.next().start - timedelta(days=1) == period.end


@given(kinds, days, st.integers(min_value=0, max_value=400))
def test_periods_between_tile_the_range_without_gap_or_overlap(kind, first, length):
    periods = periods_between(kind, first, first + timedelta(days=length))
    assert periods[0].start <= first and periods[-1].end >= first + timedelta(days=length)
    for before, after in pairwise(periods):
        assert before.end + timedelta(days=1) == after.start


def test_a_month_holds_its_days_and_no_week_that_straddles_it():
    november = parse_period("2026-11")
    assert len(november.sub_periods(PeriodKind.DAY)) == 30
    # Weeks 45 to 48 lie wholly in November 2026; week 44 and 49 straddle it.
    assert [w.key for w in november.sub_periods(PeriodKind.WEEK)] == [
        "2026-W45",
        "2026-W46",
        "2026-W47",
        "2026-W48",
    ]


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("2026-13", "impossible"),
        ("2026-02-30", "impossible"),
        ("2026-W54", "impossible"),
        ("novembre", "non reconnue"),
        ("", "non reconnue"),
    ],
)
def test_a_bad_key_is_refused_in_french(key, message):
    with pytest.raises(PeriodError, match=message):
        parse_period(key)


def test_a_range_ending_before_it_starts_is_refused():
    with pytest.raises(PeriodError, match="précède"):
        periods_between("day", date(2026, 12, 2), date(2026, 12, 1))
