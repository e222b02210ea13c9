"""Open data: a campaign's values aggregated by department and by region, small counts hidden.

For each definition the campaign asks (numeric, with an establishment aggregation: sum or
mean; « ne s'agrège pas » is not published) and each period, one cell per region and per
department (overseas collectivities such as 977 and 978 count as departments): how many
establishments answered, and their sum or mean.

Statistical secrecy:

- **primary**: a cell computed from fewer than ``OPEN_DATA_MIN_COUNT`` establishments (11 by
  default) is hidden: empty value, ``secret`` true;
- **secondary**: a region's value is the sum of its departments' (a mean too, weighted by the
  published counts), so the region minus its published departments gives the hidden ones'
  total: the next smallest departments of that region (fewest establishments, then smallest
  value, then code) are hidden too until the hidden departments together count at least
  ``OPEN_DATA_MIN_COUNT`` establishments (else the region is hidden). A hidden region hides
  all its departments (each has fewer establishments). No national total is published, so
  regions need no secondary suppression between them (see docs/open-data.md).

Counts of establishments stay published: they say how many answered, not what.

A campaign that chose reuse did not ask its reused definitions: their values are served
(``collection.reuse.served_values``) and counted here as the results and exports count them.
"""

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Sum

from collection.exports.cells import csv_text, safe_cell
from collection.models import Value
from collection.reuse import served_values
from referentials.models import (
    NUMERIC_TYPES,
    VALUE_TYPE_LABELS,
    Definition,
    Region,
    ReportingUnit,
    Territory,
)
from referentials.validation import ValueType
from surveys.models import Assignment, Campaign, OverlapChoice, Question

REGION = "region"
DEPARTMENT = "departement"
HEADER = [
    "niveau",
    "code_territoire",
    "libelle_territoire",
    "definition",
    "periode",
    "nombre_etablissements",
    "valeur",
    "secret",
]
CODEBOOK_HEADER = ["code", "libelle", "unite", "type", "agregation", "doctrine"]
MEAN_PLACES = Decimal("0.01")


@dataclass
class OpenCell:
    level: str
    code: str
    label: str
    parent: str  # a department's region; "" for a region
    definition: str
    period: str
    count: int
    total: Decimal
    aggregation: str
    secret: bool = False
    secondary: bool = False

    @property
    def aggregate(self) -> Decimal:
        if self.aggregation == Definition.EstablishmentAggregation.MEAN:
            return (self.total / self.count).quantize(MEAN_PLACES, rounding=ROUND_HALF_UP)
        return self.total

    @property
    def value(self) -> Decimal | None:
        return None if self.secret else self.aggregate

    def as_row(self) -> list[object]:
        return [
            self.level,
            self.code,
            self.label,
            self.definition,
            self.period,
            self.count,
            self.value,
            "true" if self.secret else "false",
        ]


def published_definitions(campaign: Campaign) -> list[Definition]:
    """The campaign's numeric definitions that aggregate across establishments."""
    version_ids = {campaign.version_id, *campaign.periods.values_list("version_id", flat=True)}
    ids = Question.objects.filter(version_id__in=version_ids, definition__isnull=False).values_list(
        "definition_id", flat=True
    )
    return list(
        Definition.objects.filter(pk__in=ids, value_type__in=[t.value for t in NUMERIC_TYPES])
        .exclude(establishment_aggregation=Definition.EstablishmentAggregation.NONE)
        .order_by("code")
    )


def suppress(regions: Iterable[OpenCell], departments: Iterable[OpenCell], *, minimum: int) -> None:
    """Primary then secondary suppression over the cells of one definition and period."""
    children: dict[str, list[OpenCell]] = defaultdict(list)
    for department in departments:
        department.secret = department.count < minimum
        children[department.parent].append(department)
    for region in regions:
        region.secret = region.count < minimum
        members = children.get(region.code, [])
        if region.secret:
            for department in members:
                department.secondary = department.secondary or not department.secret
                department.secret = True
            continue
        hidden = [d for d in members if d.secret]
        if not hidden:
            continue
        # The region minus its published departments is the hidden ones' total: it must
        # cover at least ``minimum`` establishments, or it tells a small group's value
        # (two hidden departments of 1 each: each learns the other's).
        shown = sorted(
            (d for d in members if not d.secret), key=lambda d: (d.count, d.total, d.code)
        )
        while sum(d.count for d in hidden) < minimum and shown:
            department = shown.pop(0)
            department.secret = department.secondary = True
            hidden.append(department)
        if sum(d.count for d in hidden) < minimum:
            # Even every department together is too small: the region gives them away.
            region.secret = region.secondary = True


def open_data_cells(campaign: Campaign, *, minimum: int | None = None) -> list[OpenCell]:
    """Every cell, suppression applied, ordered by definition, period, level and code."""
    minimum = settings.OPEN_DATA_MIN_COUNT if minimum is None else minimum
    definitions = {d.pk: d for d in published_definitions(campaign)}
    if not definitions:
        return []
    owed = Assignment.objects.filter(
        campaign_id=campaign.pk, unit_id=OuterRef("unit_id"), period__key=OuterRef("period_key")
    )
    groups = (
        Value.objects.filter(
            Exists(owed),
            definition_id__in=list(definitions),
            number__isnull=False,
            unit__kind=ReportingUnit.Kind.ESTABLISHMENT,
        )
        .values(
            "definition_id",
            "period_key",
            "unit__territory_code",
            "unit__establishment__region_code",
        )
        .annotate(n=Count("id"), total=Sum("number"))
        .order_by()
    )
    territory_names = dict(Territory.objects.values_list("code", "name"))
    region_names = dict(Region.objects.values_list("code", "name"))
    cells: dict[tuple[int, str], dict[tuple[str, str], OpenCell]] = defaultdict(dict)

    def add(definition_id: int, key: str, territory: str, region: str, n: int, total: Any) -> None:
        definition = definitions[definition_id]
        bucket = cells[(definition.pk, key)]
        for level, code, parent, label in (
            (REGION, region, "", region_names.get(region, region)),
            (DEPARTMENT, territory, region, territory_names.get(territory, territory)),
        ):
            cell = bucket.get((level, code))
            if cell is None:
                cell = bucket[(level, code)] = OpenCell(
                    level=level,
                    code=code,
                    label=label,
                    parent=parent,
                    definition=definition.code,
                    period=key,
                    count=0,
                    total=Decimal(0),
                    aggregation=definition.establishment_aggregation,
                )
            cell.count += n
            cell.total += total

    for group in groups:
        add(
            group["definition_id"],
            group["period_key"],
            group["unit__territory_code"],
            group["unit__establishment__region_code"],
            group["n"],
            group["total"],
        )
    for served in _served_numbers(campaign, definitions):
        add(*served)
    for key in [k for k, bucket in cells.items() if all(c.count <= 0 for c in bucket.values())]:
        del cells[key]
    for bucket in cells.values():
        for code in [code for code, cell in bucket.items() if cell.count <= 0]:
            del bucket[code]
    result: list[OpenCell] = []
    for key in sorted(cells, key=lambda k: (definitions[k[0]].code, k[1])):
        bucket = cells[key]
        regions = sorted((c for c in bucket.values() if c.level == REGION), key=lambda c: c.code)
        departments = sorted(
            (c for c in bucket.values() if c.level == DEPARTMENT), key=lambda c: c.code
        )
        suppress(regions, departments, minimum=minimum)
        result.extend(regions)
        result.extend(departments)
    return result


def _number(data: Any) -> Decimal | None:
    if data is None or isinstance(data, bool | list | dict):
        return None
    try:
        return Decimal(str(data))
    except ArithmeticError:
        return None


def _served_numbers(
    campaign: Campaign, definitions: dict[int, Definition]
) -> Iterator[tuple[int, str, str, str, int, Decimal]]:
    """For a campaign that chose reuse, what its served values change in the stored groups:
    (definition id, period key, department, region, establishments, total) to add.

    As the results read it (``collection.results``): a served unit's value of a reused
    definition is the served one. A value served from the very same period is the stored
    value ``open_data_cells`` already reads; one aggregated from other periods (a week from
    its days) is added, and a value stored for that period, if any, is taken out (negative
    counts) so that no establishment counts twice."""
    if campaign.overlap_choice != OverlapChoice.REUSE:
        return
    for key in campaign.periods.order_by("start").values_list("key", flat=True):
        # The units the period owes, as for the stored values (not the audience at large).
        units = Assignment.objects.filter(campaign_id=campaign.pk, period__key=key).values_list(
            "unit_id", flat=True
        )
        served = {
            (unit_id, item.definition_id): item
            for (unit_id, _code), item in served_values(
                campaign=campaign, period_key=key, unit_ids=list(units)
            ).items()
            if item.definition_id in definitions and item.needed != (key,)
        }
        if not served:
            continue
        places = dict(
            (pk, (territory, region))
            for pk, territory, region in ReportingUnit.objects.filter(
                pk__in={unit_id for unit_id, _ in served}, kind=ReportingUnit.Kind.ESTABLISHMENT
            ).values_list("pk", "territory_code", "establishment__region_code")
        )
        for unit_id, definition_id, stored in Value.objects.filter(
            unit_id__in=list(places),
            definition_id__in={d for _, d in served},
            period_key=key,
            number__isnull=False,
        ).values_list("unit_id", "definition_id", "number"):
            if (unit_id, definition_id) in served and stored is not None:
                yield (definition_id, key, *places[unit_id], -1, -stored)
        for (unit_id, definition_id), item in sorted(served.items()):
            number = _number(item.data) if item.available else None
            if unit_id in places and number is not None:
                yield (definition_id, key, *places[unit_id], 1, number)


def codebook_rows(campaign: Campaign) -> list[list[object]]:
    aggregations = dict(Definition.EstablishmentAggregation.choices)
    rows: list[list[object]] = []
    for definition in published_definitions(campaign):
        try:
            value_type = VALUE_TYPE_LABELS[ValueType(definition.value_type)]
        except ValueError:
            value_type = definition.value_type
        rows.append(
            [
                definition.code,
                definition.label,
                definition.unit,
                value_type,
                aggregations.get(definition.establishment_aggregation, ""),
                definition.doctrine,
            ]
        )
    return rows


def csv_text_of(header: list[str], rows: Iterable[list[object]]) -> Iterator[str]:
    """CSV for the national open-data portal: UTF-8 without byte order mark, « , » between
    fields, « . » as decimal separator (the portal's and Table Schema's conventions)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([csv_text(safe_cell(v), decimal_comma=False) for v in row])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def data_csv(campaign: Campaign) -> Iterator[bytes]:
    for text in csv_text_of(HEADER, (c.as_row() for c in open_data_cells(campaign))):
        yield text.encode()


def codebook_csv(campaign: Campaign) -> Iterator[bytes]:
    for text in csv_text_of(CODEBOOK_HEADER, codebook_rows(campaign)):
        yield text.encode()
