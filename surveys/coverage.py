"""When values of one kind of period answer a question about another: the dictionary's time
aggregation, as one pure module that the overlap analysis, the serving of reused values and
their tests all share.

A definition's ``time_aggregation`` says how its values add up over time:

- a **stock** (beds available) of a week is the last daily value of that week;
- a **flow** (admissions) of a week is the sum of its seven daily values;
- a **level** (occupancy rate) of a month is the average of its daily values.

A period is covered by periods of another kind only when those tile it exactly (days make
weeks and months; weeks never make months, they straddle them), and a served value is computed
only when every source value it needs is present: nothing is served from an incomplete period.
"""

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from surveys.periods import Period, PeriodKind, is_finer

STOCK = "stock"
FLOW = "flow"
LEVEL = "level"

# Value types whose values add up (see referentials.validation.ValueType).
NUMERIC_TYPES = frozenset({"integer", "decimal", "percentage"})

_PLACES = Decimal("0.000001")


def source_periods(
    target: Period, source_kind: PeriodKind | str, *, aggregation: str, numeric: bool
) -> list[Period] | None:
    """The periods of ``source_kind`` whose values make the value of ``target``, or None.

    The same kind gives the target itself. A finer kind that tiles the target gives its last
    sub-period for a stock, every sub-period for a flow or a level (numbers only: a text or a
    choice has no sum or average). Anything else (coarser, or weeks inside a month) gives None.
    """
    source_kind = PeriodKind(source_kind)
    if source_kind == target.kind:
        return [target]
    if not is_finer(source_kind, target.kind):
        return None
    if source_kind == PeriodKind.WEEK:
        # Weeks straddle months: even a February of four whole weeks is not read from weeks,
        # so that the rule does not depend on the calendar.
        return None
    parts = target.sub_periods(source_kind)
    if not parts or sum(p.days for p in parts) != target.days:
        return None
    if aggregation == STOCK:
        return [parts[-1]]
    if aggregation in (FLOW, LEVEL) and numeric:
        return parts
    return None


def aggregate(aggregation: str, values: Sequence[Any]) -> Any:
    """The target's value from its source values, in the store's canonical JSON form.

    ``values`` are the canonical data of every source period, in period order (see
    ``source_periods``); the caller has checked they are all present. A stock takes the last
    one; a flow sums, a level averages (numbers as decimal strings, at most 6 decimals).
    """
    if not values:
        raise ValueError("aggregate needs at least one value")
    if len(values) == 1 or aggregation == STOCK:
        return values[-1]
    numbers = [Decimal(str(v)) for v in values]
    total = sum(numbers, Decimal(0))
    result = total if aggregation == FLOW else total / len(numbers)
    return _canonical(result)


def _canonical(number: Decimal) -> str:
    text = format(number.quantize(_PLACES).normalize(), "f")
    return "0" if text in ("-0", "") else text


def complete(needed: Sequence[Period], stored: Mapping[str, Any]) -> bool:
    """True when the store holds a value (not null) for every needed period key."""
    return all(stored.get(p.key) is not None for p in needed)
