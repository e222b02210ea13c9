"""Open data: a campaign's values aggregated by department and by region, small counts hidden.

For each definition the campaign asks (numeric, with an establishment aggregation: sum or
mean; « ne s'agrège pas » is not published) and each period, one cell per region and per
department (overseas collectivities such as 977 and 978 count as departments): how many
establishments answered, and their sum or mean.

Statistical secrecy:

- **primary**: a cell computed from fewer than ``OPEN_DATA_MIN_COUNT`` establishments (11 by
  default) is hidden: empty value, ``secret`` true;
- **secondary**: a region's value is the sum of its departments' (a mean too, weighted by the
  published counts), so a region with exactly one hidden department would give it away by
  subtraction: the next smallest department of that region (fewest establishments, then
  smallest value, then code) is hidden too. A hidden region hides all its departments (each
  has fewer establishments). No national total is published, so regions need no secondary
  suppression between them (see docs/open-data.md).

Counts of establishments stay published: they say how many answered, not what.
"""

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Sum

from collection.exports.cells import csv_text, safe_cell
from collection.models import Value
from referentials.models import (
    NUMERIC_TYPES,
    VALUE_TYPE_LABELS,
    Definition,
    Region,
    ReportingUnit,
    Territory,
)
from referentials.validation import ValueType
from surveys.models import Assignment, Campaign, Question

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
        if len(hidden) != 1:
            continue
        shown = sorted(
            (d for d in members if not d.secret), key=lambda d: (d.count, d.total, d.code)
        )
        if shown:
            shown[0].secret = shown[0].secondary = True
        else:
            # The hidden department is the whole region: the region gives it away.
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
    for group in groups:
        definition = definitions[group["definition_id"]]
        territory = group["unit__territory_code"]
        region = group["unit__establishment__region_code"]
        bucket = cells[(definition.pk, group["period_key"])]
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
                    period=group["period_key"],
                    count=0,
                    total=Decimal(0),
                    aggregation=definition.establishment_aggregation,
                )
            cell.count += group["n"]
            cell.total += group["total"]
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
