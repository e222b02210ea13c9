"""« Mes données »: what an establishment answered, given back over time beside its peers.

An establishment sees its own values of a numeric definition, period after period, beside the
medians of the *other* establishments of its department, its region and its category for the
same definition and period. Never another establishment's value: a median is shown only when
at least ``MIN_PEERS`` other establishments have a value for that period (a median of two
gives the other's value away), otherwise the page says there are too few to compare. A
professional sees their own values only: there is no group of peers to compare with.

"Other" means outside everything the viewer answers for: a legal entity's other sites are
neither peers nor counted towards ``MIN_PEERS``. Otherwise the entity could set its own sites'
values (say, very low and very high) and read an outsider's exact value off the median.

Which units a person may look at comes from ``accounts.scoping`` as a respondent (their
establishment, every site of their legal entity, their own professional unit); the medians are
aggregates computed here over the whole store, and only they leave this module.

Medians are computed by the database on PostgreSQL (``percentile_cont``), in Python on
SQLite, grouped by period: both give the same figures (``tests/collection/test_feedback.py``).
"""

import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.db.models import Aggregate, Count, FloatField, QuerySet
from django.utils import timezone

from accounts.models import Role, User
from accounts.scoping import scope_for
from collection.models import Value
from referentials.models import Definition, ReportingUnit
from surveys.coverage import NUMERIC_TYPES
from surveys.periods import PeriodKind, parse_period

# A median needs this many other establishments with a value for the period.
MIN_PEERS = 5
# The range shown when none is chosen: this many days up to today.
DEFAULT_DAYS = 180
# At most this many periods on one chart (a year of days).
MAX_PERIODS = 366
_PLACES = Decimal("0.001")


class Median(Aggregate):
    """The median of a numeric column (PostgreSQL only: ``percentile_cont``)."""

    function = "PERCENTILE_CONT"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


@dataclass
class Comparison:
    """The medians of one group of peers (a department, a region, a category), per period."""

    kind: str  # "department", "region", "category"
    label: str
    medians: dict[str, Decimal | None]  # period key -> median, None when too few peers
    counts: dict[str, int]  # period key -> number of other establishments with a value


@dataclass
class Row:
    key: str
    label: str
    own: str  # "—" when the unit has no value for the period
    cells: list[tuple[str | None, int]]  # per comparison: (median or None, peers)


@dataclass
class Feedback:
    unit: ReportingUnit
    definitions: list[Definition]
    definition: Definition | None
    period_kind: str
    start: date
    end: date
    keys: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    own: dict[str, Decimal] = field(default_factory=dict)
    comparisons: list[Comparison] = field(default_factory=list)

    @property
    def rows(self) -> list[Row]:
        return [
            Row(
                key,
                label,
                display(self.own.get(key)),
                [
                    (
                        display(c.medians[key]) if c.medians.get(key) is not None else None,
                        c.counts[key],
                    )
                    for c in self.comparisons
                ],
            )
            for key, label in zip(self.keys, self.labels, strict=True)
        ]


def my_units(*, user: User | AnonymousUser) -> list[ReportingUnit]:
    """The reporting units ``user`` answers for: establishments first, then their own unit."""
    scope = scope_for(user, roles=[Role.RESPONDENT])
    if scope.is_empty:
        return []
    return list(
        ReportingUnit.objects.filter(scope.units_q())
        .select_related("establishment")
        .order_by("kind", "label", "pk")
    )


def answered_definitions(unit: ReportingUnit) -> list[Definition]:
    """The numeric definitions ``unit`` has at least one value of, by label."""
    return list(
        Definition.objects.filter(
            value_type__in=NUMERIC_TYPES,
            pk__in=Value.objects.filter(unit=unit, number__isnull=False).values("definition_id"),
        ).order_by("label", "code")
    )


def default_range(today: date | None = None) -> tuple[date, date]:
    today = today or timezone.localdate()
    return today - timedelta(days=DEFAULT_DAYS), today


def feedback_for(
    *,
    unit: ReportingUnit,
    user: User | AnonymousUser,
    definition_code: str = "",
    start: date | None = None,
    end: date | None = None,
) -> Feedback:
    """``unit``'s values of one numeric definition between two dates, with its peers' medians.

    The caller has checked that ``user`` answers for ``unit`` (``my_units``). Without a code,
    the first definition answered; periods are those starting within the range, of the kind
    the unit answered most often in it. Peers are the establishments ``user`` does not answer
    for: none of its own sites feeds a median or counts towards ``MIN_PEERS``.
    """
    if start is None or end is None:
        start, end = default_range()
    definitions = answered_definitions(unit)
    definition = next((d for d in definitions if d.code == definition_code), None)
    if definition is None and definitions:
        definition = definitions[0]
    result = Feedback(unit, definitions, definition, "", start, end)
    if definition is None:
        return result
    own_values = Value.objects.filter(
        unit=unit,
        definition=definition,
        number__isnull=False,
        period_start__gte=start,
        period_start__lte=end,
    )
    kinds = Counter(own_values.values_list("period_kind", flat=True))
    if not kinds:
        return result
    result.period_kind = kinds.most_common(1)[0][0]
    rows = (
        own_values.filter(period_kind=result.period_kind)
        .order_by("period_start")
        .values_list("period_key", "period_start", "number")[:MAX_PERIODS]
    )
    for key, _start, number in rows:
        result.keys.append(key)
        result.own[key] = _rounded(number)
    result.labels = [_label(key) for key in result.keys]
    establishment = unit.establishment if unit.kind == ReportingUnit.Kind.ESTABLISHMENT else None
    if establishment is None:
        return result
    own_units = scope_for(user, roles=[Role.RESPONDENT]).units_q("unit__")
    peers = (
        Value.objects.filter(
            definition=definition,
            period_kind=result.period_kind,
            period_key__in=result.keys,
            number__isnull=False,
            unit__kind=ReportingUnit.Kind.ESTABLISHMENT,
        )
        .exclude(unit=unit)
        .exclude(own_units)
    )
    category = establishment.category_label or establishment.category_code
    groups = [
        (
            "department",
            f"Médiane du département ({establishment.territory_code})",
            {"unit__establishment__territory_code": establishment.territory_code},
        ),
        (
            "region",
            "Médiane de la région",
            {"unit__establishment__region_code": establishment.region_code},
        ),
        (
            "category",
            f"Médiane de la catégorie ({category})",
            {"unit__establishment__category_code": establishment.category_code},
        ),
    ]
    for kind, label, lookup in groups:
        medians, counts = period_medians(peers.filter(**lookup))
        result.comparisons.append(
            Comparison(
                kind,
                label,
                {k: medians.get(k) if counts.get(k, 0) >= MIN_PEERS else None for k in result.keys},
                {k: counts.get(k, 0) for k in result.keys},
            )
        )
    return result


def period_medians(values: QuerySet[Value]) -> tuple[dict[str, Decimal], dict[str, int]]:
    """The median of ``number`` and the count of values per period key (SQL on PostgreSQL)."""
    medians: dict[str, Decimal] = {}
    counts: dict[str, int] = {}
    if connection.vendor == "postgresql":
        for key, median, count in (
            values.order_by()
            .values("period_key")
            .annotate(median=Median("number"), n=Count("pk"))
            .values_list("period_key", "median", "n")
        ):
            medians[key] = _rounded(median)
            counts[key] = count
        return medians, counts
    numbers: dict[str, list[Decimal]] = defaultdict(list)
    for key, number in values.order_by().values_list("period_key", "number"):
        if number is not None:
            numbers[key].append(number)
    for key, items in numbers.items():
        medians[key] = _rounded(statistics.median(items))
        counts[key] = len(items)
    return medians, counts


def _rounded(number: Any) -> Decimal:
    rounded = Decimal(str(number)).quantize(_PLACES)
    if rounded == rounded.to_integral_value():
        return rounded.quantize(Decimal(1))
    return rounded.normalize()


def display(number: Decimal | None) -> str:
    """A number as French readers write it (``12,5``; thin spaces between thousands)."""
    if number is None:
        return "—"
    whole, _, decimals = f"{number:,f}".partition(".")
    whole = whole.replace(",", "\u202f")
    return f"{whole},{decimals}" if decimals else whole


def _label(key: str) -> str:
    return parse_period(key).label


def chart_series(
    feedback: Feedback,
) -> tuple[list[str], list[tuple[str, Sequence[Decimal | None]]]]:
    """The x labels and the series of the chart: own values, then each group's medians."""
    series: list[tuple[str, Sequence[Decimal | None]]] = [
        ("Vos valeurs", [feedback.own.get(k) for k in feedback.keys])
    ]
    for comparison in feedback.comparisons:
        series.append((comparison.label, [comparison.medians.get(k) for k in feedback.keys]))
    return [axis_label(k) for k in feedback.keys], series


def axis_label(key: str) -> str:
    """A period as short as a chart's axis needs it (« 30/11 », « S49 », « 11/2026 »); the
    table beside the chart gives it in full."""
    period = parse_period(key)
    match period.kind:
        case PeriodKind.DAY:
            return f"{period.start:%d/%m}"
        case PeriodKind.WEEK:
            return f"S{period.start.isocalendar().week:02d}"
        case PeriodKind.MONTH:
            return f"{period.start:%m/%Y}"
        case _:
            return key
