"""A campaign's results: its definitions aggregated by territory and category, per period.

Who reads them is the follow-up's rule (``collection.followup.access_for``): the owner's
requesters and viewers and national directorates see the whole campaign, an ARS agent only
the units of its territories, in every cell and in the drill-down; respondents never.

How a cell is computed, for one period, one group of units (a region, a department, a
category) and one definition of the campaign's version:

- the units are those the period asks (its assignments) within the reader's scope;
- the values are the store's, read by (unit, definition, period key) whatever campaign wrote
  them: the store is shared. A definition the campaign *reuses* (``CampaignReuse``) is read
  through ``collection.reuse.served_values`` for the units it is served to (its available
  cells; nothing while pending), since the campaign did not ask it of them; the units it is
  not served to (outside the source's audience) were asked, and their stored answers count;
- ``establishment_aggregation`` says how: ``sum`` (beds), ``mean`` (a delay), ``none`` (only
  the number of answers is shown); a non-numeric definition shows its number of answers;
- each cell carries the number of establishments it aggregates;
- an indicator of the dictionary whose inputs the campaign asks is the ratio of SUMS over the
  establishments that gave every input (``referentials.dictionary.indicator_aggregate``),
  never the mean of each establishment's ratio.

The stored values are aggregated by SQL (one ``GROUP BY`` over territory, category and
definition), then rolled up to regions, departments or categories in Python over a few
hundred grouped rows. Indicators need each establishment's inputs: one query for them, then
``indicator_aggregate`` per group (two small queries per call).
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, Sum
from django.http import Http404
from django.utils import timezone

from collection import reuse
from collection.followup import (
    UNIT_GROUP_FIELDS,
    Access,
    campaign_periods,
    category_labels,
    category_of,
    territory_labels,
    unit_fields,
)
from collection.models import Value
from referentials.dictionary import definition_types, indicator_aggregate
from referentials.expressions import (
    EvaluationError,
    ExpressionError,
    MissingValue,
    compile_expression,
    referenced_codes,
)
from referentials.models import (
    NUMERIC_TYPES,
    Definition,
    DictionaryStatus,
    Indicator,
)
from referentials.validation import ValueType, format_value, parse_value
from surveys.models import Assignment, CampaignPeriod, CampaignReuse, OverlapChoice
from surveys.schema import QuestionSpec, VersionSchema, version_schema

DIMENSIONS = {"region": "Région", "departement": "Département", "categorie": "Catégorie"}
DRILL_LIMIT = 1000
Agg = Definition.EstablishmentAggregation


@dataclass(frozen=True)
class Column:
    code: str
    label: str
    unit: str
    how: str  # "sum", "mean", "count" (answers only) or "indicator"

    @property
    def how_label(self) -> str:
        return {
            "sum": "somme",
            "mean": "moyenne",
            "count": "nombre de réponses",
            "indicator": "ratio des sommes",
        }[self.how]


@dataclass
class Cell:
    value: Decimal | None = None
    establishments: int = 0  # how many establishments the value aggregates
    reason: str = ""  # why there is no value (indicators)

    @property
    def text(self) -> str:
        return number_text(self.value)


@dataclass
class Accumulator:
    total: Decimal = Decimal(0)
    numbers: int = 0  # establishments with a number
    answers: int = 0  # establishments with any answer

    def add(self, total: Decimal | None, numbers: int, answers: int) -> None:
        self.total += total or Decimal(0)
        self.numbers += numbers
        self.answers += answers

    def cell(self, how: str) -> Cell:
        if how == "count":
            return Cell(Decimal(self.answers), self.answers)
        if not self.numbers:
            return Cell(None, 0)
        if how == "mean":
            return Cell(self.total / self.numbers, self.numbers)
        return Cell(self.total, self.numbers)


@dataclass
class Row:
    key: str
    label: str
    cells: list[Cell] = field(default_factory=list)


@dataclass
class Results:
    access: Access
    periods: list[CampaignPeriod]
    period: CampaignPeriod | None
    dimension: str
    columns: list[Column]
    rows: list[Row]
    total: Row
    served_codes: list[str]


@dataclass
class DrillRow:
    unit_id: int
    name: str
    identifier: str
    department: str
    category: str
    cells: list[str]


def number_text(value: Decimal | None) -> str:
    """« 1 234 », « 12,5 », « — »: French figures, two decimals at most."""
    if value is None:
        return "—"
    rounded = value.quantize(Decimal("0.01"))
    if rounded == rounded.to_integral_value():
        return f"{int(rounded):,}".replace(",", "\u202f")
    text = f"{rounded:,.2f}".rstrip("0").replace(",", "\u202f").replace(".", ",")
    return text


# --- What the campaign asks -------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    schema: VersionSchema
    questions: list[QuestionSpec]  # bound to a definition, in the version's order
    how: dict[int, str]  # definition id -> sum / mean / count
    reused: set[int]  # definition ids served rather than asked
    indicators: list[Indicator]
    definitions: dict[str, Definition]  # by code


def _plan(access: Access, period: CampaignPeriod) -> Plan:
    schema = version_schema(period.version)
    questions = [q for q in schema.questions if q.definition_id is not None]
    how: dict[int, str] = {}
    definitions = {
        d.code: d for d in Definition.objects.filter(pk__in=[q.definition_id for q in questions])
    }
    for d in definitions.values():
        numeric = d.value_type in NUMERIC_TYPES
        aggregation = d.establishment_aggregation
        how[d.pk] = aggregation if numeric and aggregation != Agg.NONE else "count"
    reused: set[int] = set()
    if access.campaign.overlap_choice == OverlapChoice.REUSE:
        reused = set(
            CampaignReuse.objects.filter(campaign=access.campaign).values_list(
                "definition_id", flat=True
            )
        )
    codes = {d.code for d in definitions.values() if how[d.pk] in (Agg.SUM, Agg.MEAN)}
    indicators = [
        indicator
        for indicator in Indicator.objects.filter(status=DictionaryStatus.PUBLISHED).order_by(
            "code"
        )
        if (inputs := referenced_codes(indicator.expression)) and inputs <= codes
    ]
    return Plan(schema, questions, how, reused, indicators, definitions)


def _columns(plan: Plan) -> list[Column]:
    columns = [
        Column(q.code, q.label, q.spec.unit, plan.how.get(q.definition_id or 0, "count"))
        for q in plan.questions
    ]
    columns += [Column(i.code, i.label, i.unit, "indicator") for i in plan.indicators]
    return columns


def _units(access: Access, period: CampaignPeriod) -> Any:
    return (
        Assignment.objects.filter(campaign=access.campaign, period=period)
        .filter(access.units_q())
        .values("unit_id")
    )


# --- Grouping ---------------------------------------------------------------------------------

_UNIT_FIELDS = UNIT_GROUP_FIELDS


class Grouper:
    """The group key of a unit's row (its territory and category fields), and its label."""

    def __init__(self, dimension: str) -> None:
        self.dimension = dimension
        self.region_of, self.department_label, self.region_label = territory_labels()
        self.categories: dict[str, str] = {}

    def key(self, row: Mapping[str, Any], prefix: str = "unit__") -> str:
        territory = row[f"{prefix}territory_code"] or ""
        if self.dimension == "departement":
            return territory
        if self.dimension == "region":
            return row[f"{prefix}establishment__region_code"] or self.region_of.get(territory, "")
        return category_of(row, prefix)

    def learn(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Look up the labels of the categories of ``rows`` (one or two queries)."""
        if self.dimension == "categorie":
            self.categories.update(category_labels(rows))

    def label(self, key: str) -> str:
        if self.dimension == "departement":
            return self.department_label.get(key, key or "—")
        if self.dimension == "region":
            return self.region_label.get(key, key or "—")
        return self.categories.get(key, key or "—")


def _number(data: Any) -> Decimal | None:
    if data is None or isinstance(data, bool | list | dict):
        return None
    try:
        return Decimal(str(data))
    except ArithmeticError:
        return None


# --- The table --------------------------------------------------------------------------------


def select_period(periods: list[CampaignPeriod], period_key: str | None) -> CampaignPeriod | None:
    """The period asked for, else the latest that has come due, else the latest."""
    chosen = next((p for p in periods if p.key == period_key), None)
    if chosen is None and periods:
        now = timezone.now()
        due = [p for p in periods if p.due_at <= now]
        chosen = due[-1] if due else periods[-1]
    return chosen


def _served(
    access: Access, plan: Plan, period: CampaignPeriod, units: Any
) -> dict[tuple[int, str], "reuse.Served"]:
    """(unit, code) -> what is served (available or pending) of the reused definitions."""
    if not plan.reused:
        return {}
    return {
        k: s
        for k, s in reuse.served_values(
            campaign=access.campaign,
            period_key=period.key,
            unit_ids=list(units.values_list("unit_id", flat=True)),
            schema=plan.schema,
        ).items()
        if s.definition_id in plan.reused
    }


def _served_units(served: Mapping[tuple[int, str], "reuse.Served"]) -> dict[int, set[int]]:
    """Definition id -> the units it is served to (their stored values are not read)."""
    units: dict[int, set[int]] = defaultdict(set)
    for (unit_id, _code), item in served.items():
        units[item.definition_id].add(unit_id)
    return units


def _served_q(served_units: Mapping[int, set[int]]) -> Q:
    """The stored values a served value stands for (matches nothing when none)."""
    q = Q(pk__in=[])
    for definition_id, unit_ids in served_units.items():
        q |= Q(definition_id=definition_id, unit_id__in=sorted(unit_ids))
    return q


def results_table(
    *, access: Access, period_key: str | None = None, dimension: str = "region"
) -> Results:
    """Every definition (and indicator) of the campaign for one period, by ``dimension``
    (region, departement, categorie), within what ``access`` reads."""
    dimension = dimension if dimension in DIMENSIONS else "region"
    periods = campaign_periods(access.campaign)
    period = select_period(periods, period_key)
    if period is None:
        empty = Row("", "Ensemble")
        return Results(access, periods, None, dimension, [], [], empty, [])
    plan = _plan(access, period)
    columns = _columns(plan)
    grouper = Grouper(dimension)
    # (group key, definition id) -> accumulator; "" group key for the whole table.
    accumulators: dict[tuple[str | None, int], Accumulator] = defaultdict(Accumulator)
    units = _units(access, period)
    # A reused definition is served to the units a source (or the store) serves, and asked of
    # the others (outside the source's audience): their stored answers count as any other.
    served_all = _served(access, plan, period, units)
    served = {k: s for k, s in served_all.items() if s.available}
    served_units = _served_units(served_all)
    grouped = list(
        Value.objects.filter(
            definition_id__in=[q.definition_id for q in plan.questions],
            period_key=period.key,
            unit_id__in=units,
        )
        .exclude(_served_q(served_units))
        .values(*_UNIT_FIELDS, "definition_id")
        .annotate(
            total=Sum("number"),
            numbers=Count("number"),
            answers=Count("pk", filter=Q(data__isnull=False)),
        )
        .order_by()
    )
    grouper.learn(grouped)
    for row in grouped:
        key = grouper.key(row)
        for group in (key, None):
            accumulators[(group, row["definition_id"])].add(
                row["total"], row["numbers"], row["answers"]
            )

    if served:
        unit_rows = unit_fields({unit_id for unit_id, _ in served})
        grouper.learn(unit_rows.values())
        for (unit_id, _code), item in served.items():
            key = grouper.key(unit_rows[unit_id])
            number = _number(item.data)
            for group in (key, None):
                accumulators[(group, item.definition_id)].add(
                    number, int(number is not None), int(item.data is not None)
                )

    indicator_cells = _indicator_cells(
        plan, period=period, units=units, served=served_all, grouper=grouper
    )

    keys: list[str] = sorted(
        {k for k, _ in accumulators if k is not None}
        | {k for k in indicator_cells if k is not None}
    )

    def row_for(key: str | None, label: str) -> Row:
        cells = [
            accumulators[(key, q.definition_id or 0)].cell(plan.how.get(q.definition_id or 0, ""))
            if (key, q.definition_id) in accumulators
            else Cell()
            for q in plan.questions
        ]
        cells += [indicator_cells.get(key, {}).get(i.code, Cell()) for i in plan.indicators]
        return Row(key or "", label, cells)

    rows = [row_for(key, grouper.label(key)) for key in keys]
    total = row_for(None, "Ensemble")
    served_codes = sorted({code for _, code in served})
    return Results(access, periods, period, dimension, columns, rows, total, served_codes)


def _indicator_cells(
    plan: Plan,
    *,
    period: CampaignPeriod,
    units: Any,
    served: dict[tuple[int, str], "reuse.Served"],
    grouper: Grouper,
) -> dict[str | None, dict[str, Cell]]:
    """Group key (None: all) -> indicator code -> its ratio of sums over the group."""
    if not plan.indicators:
        return {}
    inputs = set().union(*(referenced_codes(i.expression) for i in plan.indicators))
    by_unit: dict[int, dict[str, Any]] = defaultdict(dict)
    info = unit_fields(units.values("unit_id"))
    ids = {plan.definitions[code].pk: code for code in inputs}
    for unit_id, definition_id, number in (
        Value.objects.filter(
            definition_id__in=sorted(ids),
            period_key=period.key,
            unit_id__in=units,
            number__isnull=False,
        )
        .exclude(_served_q(_served_units(served)))
        .values_list("unit_id", "definition_id", "number")
    ):
        by_unit[unit_id][ids[definition_id]] = number
    reused_codes = {q.code for q in plan.questions if q.definition_id in plan.reused}
    for (unit_id, code), item in served.items():
        if code in inputs and code in reused_codes and (n := _number(item.data)) is not None:
            by_unit[unit_id][code] = n
    groups: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    for unit_id, values in by_unit.items():
        groups[grouper.key(info[unit_id])].append(values)
        groups[None].append(values)
    cells: dict[str | None, dict[str, Cell]] = defaultdict(dict)
    for indicator in plan.indicators:
        # The whole table through the dictionary's own function; the groups through the same
        # arithmetic compiled once (indicator_aggregate costs two queries a call, and a table
        # by department has a hundred groups). tests/collection/test_results.py checks that
        # both agree.
        reference = indicator_aggregate(indicator=indicator, rows=groups.get(None, []))
        cells[None][indicator.code] = Cell(
            reference.value, reference.establishments, reference.reason
        )
        evaluate = RatioOfSums(indicator, plan.definitions)
        for key, rows in groups.items():
            if key is not None:
                cells[key][indicator.code] = evaluate(rows)
    return cells


class RatioOfSums:
    """An indicator over a group of establishments: its expression on the SUMS of its inputs
    (averages for inputs that aggregate by mean), over the establishments that gave every
    input, as ``referentials.dictionary.indicator_aggregate`` computes it."""

    def __init__(self, indicator: Indicator, definitions: dict[str, Definition]) -> None:
        self.inputs = sorted(referenced_codes(indicator.expression))
        self.means = {
            code for code in self.inputs if definitions[code].establishment_aggregation == Agg.MEAN
        }
        types = definition_types([definitions[code] for code in self.inputs])
        self.compiled = compile_expression(indicator.expression, types=types)

    def __call__(self, rows: list[dict[str, Any]]) -> Cell:
        complete = [r for r in rows if all(r.get(c) not in (None, "") for c in self.inputs)]
        if not complete:
            return Cell(None, 0, "aucun établissement n'a donné toutes les valeurs nécessaires")
        env: dict[str, Any] = {}
        for code in self.inputs:
            total = sum((Decimal(str(r[code])) for r in complete), Decimal(0))
            env[code] = total / len(complete) if code in self.means else total
        try:
            return Cell(Decimal(self.compiled.evaluate(env)), len(complete))
        except (ExpressionError, EvaluationError, MissingValue) as error:
            return Cell(None, len(complete), str(error))


# --- Drill-down -------------------------------------------------------------------------------


def _in_group(dimension: str, key: str, grouper: Grouper) -> Q:
    if dimension == "departement":
        return Q(unit__territory_code=key)
    if dimension == "region":
        territories = [t for t, region in grouper.region_of.items() if region == key]
        return Q(unit__establishment__region_code=key) | Q(
            unit__establishment__isnull=True, unit__territory_code__in=territories
        )
    return Q(unit__establishment__category_code=key) | Q(unit__professional__profession_code=key)


def drill_down(*, results: Results, key: str) -> list[DrillRow]:
    """The establishments of one group with their own values, within the reader's scope (an
    ARS agent asking for another region gets nothing). At most ``DRILL_LIMIT`` rows."""
    access, period = results.access, results.period
    if period is None:
        return []
    grouper = Grouper(results.dimension)
    assignments = list(
        _units(access, period)
        .filter(_in_group(results.dimension, key, grouper))
        .values(
            "unit_id",
            "unit__label",
            "unit__finess",
            "unit__national_id",
            *_UNIT_FIELDS,
        )
        .order_by("unit__label", "unit_id")[:DRILL_LIMIT]
    )
    if not assignments:
        return []
    plan = _plan(access, period)
    unit_ids = [a["unit_id"] for a in assignments]
    data: dict[tuple[int, int], Any] = {
        (unit_id, definition_id): value
        for unit_id, definition_id, value in Value.objects.filter(
            unit_id__in=unit_ids,
            period_key=period.key,
            definition_id__in=[q.definition_id for q in plan.questions],
        ).values_list("unit_id", "definition_id", "data")
    }
    if plan.reused:
        # Served units show the served value (none while pending); the others their answer.
        for (unit_id, _code), item in reuse.served_values(
            campaign=access.campaign, period_key=period.key, unit_ids=unit_ids, schema=plan.schema
        ).items():
            if item.definition_id in plan.reused:
                data[(unit_id, item.definition_id)] = item.data if item.available else None
    _, department_label, _ = territory_labels()
    categories = category_labels(assignments)
    rows = []
    for a in assignments:
        cells = []
        for q in plan.questions:
            value = data.get((a["unit_id"], q.definition_id or 0))
            cells.append(_shown(q, value))
        cells += ["—" for _ in plan.indicators]
        rows.append(
            DrillRow(
                unit_id=a["unit_id"],
                name=a["unit__label"],
                identifier=a["unit__finess"] or a["unit__national_id"],
                department=department_label.get(a["unit__territory_code"], ""),
                category=categories.get(category_of(a), ""),
                cells=cells,
            )
        )
    return rows


def _shown(question: QuestionSpec, data: Any) -> str:
    if data is None:
        return "—"
    if question.spec.type in (ValueType.INTEGER, ValueType.DECIMAL, ValueType.PERCENTAGE):
        return number_text(_number(data))
    try:
        return format_value(question.spec, parse_value(question.spec, data)) or "—"
    except ValueError:
        return str(data)


def group_exists(results: Results, key: str) -> bool:
    return any(row.key == key for row in results.rows)


def drill_or_404(results: Results, key: str) -> list[DrillRow]:
    if not group_exists(results, key):
        raise Http404("Groupe introuvable dans ces résultats ou hors de votre périmètre.")
    return drill_down(results=results, key=key)
