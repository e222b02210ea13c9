"""The rows of an export, read from the value store in bounded memory, and its codebook.

Values are shared between campaigns: a campaign's values are those the store holds for the
(unit, period) pairs it owes (its assignments) and the definitions its versions ask (plus its
own ad-hoc questions), whoever declared them. Rows are read with ``.iterator(chunk_size=...)``
(a server-side cursor on PostgreSQL), never loaded whole.
"""

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from collection.exports.access import ExportAccess
from collection.exports.cells import Cell
from collection.models import Channel, Value
from collection.reuse import Served, served_values
from referentials.models import VALUE_TYPE_LABELS, Definition, ReportingUnit, Territory
from referentials.validation import ValueType
from surveys.coverage import NUMERIC_TYPES
from surveys.models import Assignment, Campaign, OverlapChoice, Question

CHUNK_SIZE = 10_000

UNIT_HEADER = [
    "FINESS / RPPS",
    "Nom",
    "Département",
    "Région",
    "Catégorie",
    "Libellé de catégorie",
]
LONG_HEADER = [
    *UNIT_HEADER,
    "Code",
    "Libellé",
    "Période",
    "Valeur",
    "Unité",
    "Statut",
    "Campagne de la déclaration",
    "Canal",
    "Modifiée le",
]
WIDE_FIXED_HEADER = [*UNIT_HEADER, "Période", "État de la demande"]
CODEBOOK_HEADER = [
    "Code",
    "Libellé",
    "Unité",
    "Type",
    "Agrégation entre établissements",
    "Doctrine de remplissage",
    "Origine",
]
AD_HOC = "Question ad hoc (propre à l'enquête, hors dictionnaire)"
DICTIONARY = "Dictionnaire des définitions"

_UNIT_FIELDS = (
    "unit__finess",
    "unit__national_id",
    "unit__label",
    "unit__territory_code",
    "unit__establishment__region_code",
    "unit__establishment__category_code",
    "unit__establishment__category_label",
)


class ExportRefused(Exception):
    """An export that cannot be made; the message (French) says why and what to do."""


@dataclass(frozen=True)
class CodebookEntry:
    code: str
    label: str
    unit: str
    value_type: str
    aggregation: str
    doctrine: str
    definition_id: int | None

    @property
    def is_ad_hoc(self) -> bool:
        return self.definition_id is None

    def as_row(self) -> list[Cell]:
        return [
            self.code,
            self.label,
            self.unit,
            self.value_type,
            self.aggregation,
            self.doctrine,
            AD_HOC if self.is_ad_hoc else DICTIONARY,
        ]


@dataclass
class Table:
    """What a writer needs: a header, rows produced lazily, the codebook, a file name."""

    header: list[str]
    rows: Callable[[], Iterable[list[Cell]]]
    count: Callable[[], int]
    name: str
    codebook: list[CodebookEntry] = field(default_factory=list)


def _type_label(value_type: str) -> str:
    try:
        return VALUE_TYPE_LABELS[ValueType(value_type)]
    except ValueError:
        return value_type


def codebook(campaign: Campaign) -> list[CodebookEntry]:
    """Every question the campaign asked (its current version first), once per code."""
    version_ids = {campaign.version_id, *campaign.periods.values_list("version_id", flat=True)}
    questions = sorted(
        Question.objects.filter(version_id__in=version_ids).select_related(
            "definition", "section", "version"
        ),
        key=lambda q: (
            q.version_id != campaign.version_id,
            -q.version.number,
            q.section.order,
            q.order,
            q.pk,
        ),
    )
    aggregations = dict(Definition.EstablishmentAggregation.choices)
    entries: dict[str, CodebookEntry] = {}
    for question in questions:
        definition = question.definition
        if definition is not None:
            entry = CodebookEntry(
                code=definition.code,
                label=definition.label,
                unit=definition.unit,
                value_type=_type_label(definition.value_type),
                aggregation=aggregations.get(definition.establishment_aggregation, ""),
                doctrine=definition.doctrine,
                definition_id=definition.pk,
            )
        else:
            entry = CodebookEntry(
                code=question.code,
                label=question.label,
                unit=question.unit,
                value_type=_type_label(question.value_type),
                aggregation="",
                doctrine=question.help_text,
                definition_id=None,
            )
        entries.setdefault(entry.code, entry)
    return list(entries.values())


def campaign_values(
    access: ExportAccess, *, entries: list[CodebookEntry], period_keys: Iterable[str] = ()
) -> QuerySet[Value]:
    """The store's values a campaign owes, in the user's rows, of ``period_keys`` (all if
    empty)."""
    campaign = access.campaign
    asked = Q(definition_id__in=[e.definition_id for e in entries if not e.is_ad_hoc])
    ad_hoc = [e.code for e in entries if e.is_ad_hoc]
    if ad_hoc:
        asked |= Q(definition__isnull=True, survey_id=campaign.survey_id, code__in=ad_hoc)
    owed = Assignment.objects.filter(
        campaign_id=campaign.pk, unit_id=OuterRef("unit_id"), period__key=OuterRef("period_key")
    )
    values = Value.objects.filter(asked, Exists(owed)).filter(access.scope.units_q("unit__"))
    keys = sorted(set(period_keys))
    if keys:
        values = values.filter(period_key__in=keys)
    return values


def campaign_assignments(
    access: ExportAccess, *, period_keys: Iterable[str] = ()
) -> QuerySet[Assignment]:
    assignments = Assignment.objects.filter(campaign_id=access.campaign.pk).filter(
        access.scope.units_q("unit__")
    )
    keys = sorted(set(period_keys))
    if keys:
        assignments = assignments.filter(period__key__in=keys)
    return assignments


SERVED_STATUS = "Servie (réutilisée)"
SERVED_CHANNEL = "réutilisation"


def served_by_period(
    access: ExportAccess, *, period_keys: Iterable[str] = ()
) -> Iterator[tuple[str, dict[tuple[int, str], Served]]]:
    """For a campaign that chose reuse, the values served from finer periods, period by
    period, in the user's rows: (unit id, code) -> Served, available ones only.

    A value served from the very same period is a stored value of that period, which
    ``campaign_values`` already reads; only aggregates (a week from its days) are added, so
    that an export shows what the results show, each value once."""
    campaign = access.campaign
    if campaign.overlap_choice != OverlapChoice.REUSE:
        return
    keys = set(period_keys)
    for key in campaign.periods.order_by("start").values_list("key", flat=True):
        if keys and key not in keys:
            continue
        units = list(
            campaign_assignments(access, period_keys=[key]).values_list("unit_id", flat=True)
        )
        if not units:
            continue
        served = served_values(campaign=campaign, period_key=key, unit_ids=units)
        yield (
            key,
            {k: s for k, s in served.items() if s.available and s.needed != (key,)},
        )


def _served_cell(served: Served, numeric: bool) -> Cell:
    number = Decimal(str(served.data)) if numeric and served.data is not None else None
    return value_cell(served.data, number)


def _numeric_definitions(entries: list[CodebookEntry]) -> set[int]:
    ids = [e.definition_id for e in entries if e.definition_id is not None]
    return set(
        Definition.objects.filter(pk__in=ids, value_type__in=NUMERIC_TYPES).values_list(
            "pk", flat=True
        )
    )


def _regions() -> dict[str, str]:
    return dict(Territory.objects.values_list("code", "region_id"))


def _unit_cells(row: tuple[Any, ...], regions: dict[str, str]) -> list[Cell]:
    finess, national_id, label, territory, region, category, category_label = row
    return [
        finess or national_id,
        label,
        territory,
        region or regions.get(territory, ""),
        category or "",
        category_label or "",
    ]


def value_cell(data: Any, number: Decimal | None) -> Cell:
    """The stored value as a cell: numbers as numbers, the rest as text."""
    if number is not None:
        return number.normalize() if number != 0 else Decimal(0)
    match data:
        case None:
            return None
        case bool():
            return "oui" if data else "non"
        case list():
            return ", ".join(str(item) for item in data)
        case _:
            return str(data)


def _local(moment: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    return moment.astimezone(zone).replace(tzinfo=None, microsecond=0)


def long_table(access: ExportAccess, *, period_keys: Iterable[str] = ()) -> Table:
    """One row per value."""
    entries = codebook(access.campaign)
    values = campaign_values(access, entries=entries, period_keys=period_keys)
    by_definition = {e.definition_id: e for e in entries if not e.is_ad_hoc}
    by_code = {e.code: e for e in entries if e.is_ad_hoc}
    statuses = dict(Value.Status.choices)
    channels = dict(Channel.choices)

    def rows() -> Iterator[list[Cell]]:
        regions = _regions()
        zone = timezone.get_current_timezone()
        for row in (
            values.order_by("unit_id", "period_start", "code")
            .values_list(
                *_UNIT_FIELDS,
                "definition_id",
                "code",
                "period_key",
                "data",
                "number",
                "status",
                "campaign__title",
                "channel",
                "changed_at",
            )
            .iterator(chunk_size=CHUNK_SIZE)
        ):
            definition_id, code, period, data, number, status, title, channel, at = row[7:]
            entry = by_definition.get(definition_id) or by_code.get(code)
            yield [
                *_unit_cells(row[:7], regions),
                entry.code if entry else code,
                entry.label if entry else "",
                period,
                value_cell(data, number),
                entry.unit if entry else "",
                statuses.get(status, status),
                title or "",
                channels.get(channel, channel),
                _local(at, zone),
            ]
        yield from _served_rows(access, entries, period_keys, regions)

    def count() -> int:
        # The served rows too: the XLSX limit, streaming or not and ``Export.row_count``.
        served = sum(len(items) for _, items in served_by_period(access, period_keys=period_keys))
        return values.count() + served

    return Table(
        header=LONG_HEADER,
        rows=rows,
        count=count,
        name=f"valeurs-campagne-{access.campaign.pk}",
        codebook=entries,
    )


def _served_rows(
    access: ExportAccess,
    entries: list[CodebookEntry],
    period_keys: Iterable[str],
    regions: dict[str, str],
) -> Iterator[list[Cell]]:
    """The long rows of values served from finer periods (after the stored ones)."""
    by_code = {e.code: e for e in entries}
    numeric = _numeric_definitions(entries)
    titles = dict(
        Campaign.objects.values_list("pk", "title").filter(served_to__campaign=access.campaign)
    )
    for key, served in served_by_period(access, period_keys=period_keys):
        units = {
            row[0]: row[1:]
            for row in ReportingUnit.objects.filter(
                pk__in={unit_id for unit_id, _ in served}
            ).values_list("pk", *(f.removeprefix("unit__") for f in _UNIT_FIELDS))
        }
        for (unit_id, code), item in sorted(served.items()):
            entry = by_code.get(code)
            yield [
                *_unit_cells(units[unit_id], regions),
                code,
                entry.label if entry else "",
                key,
                _served_cell(item, item.definition_id in numeric),
                entry.unit if entry else "",
                SERVED_STATUS,
                titles.get(item.source_campaign_id, "") if item.source_campaign_id else "",
                SERVED_CHANNEL,
                None,
            ]


def wide_table(access: ExportAccess, *, period_keys: Iterable[str] = ()) -> Table:
    """One row per unit and period the campaign owes, one column per question code.

    Assignments and values are read in the same order (unit, period start) and merged, so
    that memory holds one row at a time.
    """
    entries = codebook(access.campaign)
    values = campaign_values(access, entries=entries, period_keys=period_keys)
    assignments = campaign_assignments(access, period_keys=period_keys)
    column_of_definition = {e.definition_id: i for i, e in enumerate(entries) if not e.is_ad_hoc}
    column_of_code = {e.code: i for i, e in enumerate(entries) if e.is_ad_hoc}
    statuses = dict(Assignment.Status.choices)

    def rows() -> Iterator[list[Cell]]:
        regions = _regions()
        # Served values of a reusing campaign, by period (bounded by its units x questions).
        served = dict(served_by_period(access, period_keys=period_keys))
        numeric = _numeric_definitions(entries) if served else set()
        stored = (
            values.order_by("unit_id", "period_start", "period_key")
            .values_list(
                "unit_id", "period_start", "period_key", "definition_id", "code", "data", "number"
            )
            .iterator(chunk_size=CHUNK_SIZE)
        )
        pending = next(stored, None)
        for row in (
            assignments.order_by("unit_id", "period__start", "period__key")
            .values_list(*_UNIT_FIELDS, "unit_id", "period__start", "period__key", "status")
            .iterator(chunk_size=CHUNK_SIZE)
        ):
            unit_id, start, key, status = row[7:]
            cells: list[Cell] = [None] * len(entries)
            while pending is not None and pending[:3] < (unit_id, start, key):
                pending = next(stored, None)
            while pending is not None and pending[:3] == (unit_id, start, key):
                definition_id, code, data, number = pending[3:]
                column = column_of_definition.get(definition_id, column_of_code.get(code))
                if column is not None:
                    cells[column] = value_cell(data, number)
                pending = next(stored, None)
            period_served = served.get(key)
            if period_served:
                for column, entry in enumerate(entries):
                    item = period_served.get((unit_id, entry.code))
                    if item is not None and cells[column] is None:
                        cells[column] = _served_cell(item, item.definition_id in numeric)
            yield [*_unit_cells(row[:7], regions), key, statuses.get(status, status), *cells]

    return Table(
        header=[*WIDE_FIXED_HEADER, *(e.code for e in entries)],
        rows=rows,
        count=assignments.count,
        name=f"valeurs-par-etablissement-campagne-{access.campaign.pk}",
        codebook=entries,
    )
