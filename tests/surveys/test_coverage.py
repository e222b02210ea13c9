"""The dictionary's time aggregation: which periods answer for another, and how."""

import pytest

from surveys.coverage import FLOW, LEVEL, STOCK, aggregate, complete, source_periods
from surveys.periods import parse_period

WEEK = parse_period("2026-W49")  # Monday 30 November to Sunday 6 December 2026


def test_a_weekly_stock_is_the_last_daily_value_of_the_week():
    assert [p.key for p in source_periods(WEEK, "day", aggregation=STOCK, numeric=True)] == [
        "2026-12-06"
    ]


@pytest.mark.parametrize("aggregation", [FLOW, LEVEL])
def test_a_weekly_flow_or_level_needs_its_seven_days(aggregation):
    days = source_periods(WEEK, "day", aggregation=aggregation, numeric=True)
    assert [p.key for p in days] == [
        f"2026-{d}" for d in ["11-30", *(f"12-0{i}" for i in range(1, 7))]
    ]


def test_weeks_never_make_a_month_they_straddle_months():
    month = parse_period("2026-11")
    assert source_periods(month, "week", aggregation=FLOW, numeric=True) is None
    # February 2027 is exactly four ISO weeks (1 to 28): still not read from weeks.
    february = parse_period("2027-02")
    assert source_periods(february, "week", aggregation=STOCK, numeric=True) is None
    assert source_periods(parse_period("2027-T1"), "week", aggregation=FLOW, numeric=True) is None
    assert len(source_periods(month, "day", aggregation=FLOW, numeric=True)) == 30


def test_a_coarser_period_never_answers_for_a_finer_one():
    assert (
        source_periods(parse_period("2026-12-01"), "week", aggregation=STOCK, numeric=True) is None
    )


def test_texts_and_choices_have_no_sum_only_the_same_period_or_the_last_value():
    assert source_periods(WEEK, "day", aggregation=FLOW, numeric=False) is None
    assert source_periods(WEEK, "week", aggregation=FLOW, numeric=False) == [WEEK]
    assert len(source_periods(WEEK, "day", aggregation=STOCK, numeric=False)) == 1


def test_aggregates_are_computed_in_decimal_and_stored_as_canonical_strings():
    assert aggregate(STOCK, ["3", "5", "4"]) == "4"
    assert aggregate(FLOW, ["1.5", "2", "0.25"]) == "3.75"
    assert aggregate(LEVEL, ["1", "2", "2"]) == "1.666667"
    assert aggregate(LEVEL, ["2", "4"]) == "3"
    assert aggregate(FLOW, ["-1", "1"]) == "0"


def test_a_period_is_complete_only_when_every_source_value_is_there():
    days = source_periods(WEEK, "day", aggregation=FLOW, numeric=True)
    stored = {p.key: "1" for p in days[:-1]}
    assert not complete(days, stored)
    stored[days[-1].key] = None
    assert not complete(days, stored)
    stored[days[-1].key] = "0"
    assert complete(days, stored)
