"""The overlap analysis done the slow, obvious way: every cell of the campaign, one by one,
against every other campaign and the value store (see collection.overlaps for the rules).

The property test compares ``collection.overlaps.analyse`` with this on random small worlds.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from collection.models import Value
from referentials.models import ReportingUnit
from surveys.audience import PROFESSIONAL, audience_queryset
from surveys.campaigns import planned_periods
from surveys.coverage import NUMERIC_TYPES, source_periods
from surveys.models import AudienceMember, Campaign, Question
from surveys.periods import PeriodKind


@dataclass
class Reference:
    asked: int = 0
    covered: int = 0
    in_store: int = 0
    new: int = 0
    # definition id -> (asked, covered, in_store)
    definitions: dict[int, tuple[int, int, int]] = field(default_factory=dict)
    # campaign id -> (units in common, covered cells, period keys)
    overlaps: dict[int, tuple[int, int, list[str]]] = field(default_factory=dict)


def _subjects(campaign: Campaign) -> set[int]:
    """Establishment (professional) ids of the campaign's audience."""
    attribute = "professional_id" if campaign.unit_kind == PROFESSIONAL else "establishment_id"
    members = list(AudienceMember.objects.filter(campaign=campaign).select_related("unit"))
    if members and campaign.status != Campaign.Status.DRAFT:
        return {getattr(m.unit, attribute) for m in members}
    queryset = audience_queryset(
        filters=campaign.audience_filters, unit_kind=campaign.unit_kind, owner=campaign.owner
    )
    return {row.pk for row in queryset}


def _definitions(campaign: Campaign) -> dict[int, object]:
    return {
        q.definition_id: q.definition
        for q in Question.objects.filter(version=campaign.version, definition__isnull=False)
    }


def _covers(plan, period, definition) -> bool:
    keys = {p.key for p in plan}
    for kind in {p.kind for p in plan}:
        needed = source_periods(
            period,
            kind,
            aggregation=definition.time_aggregation,
            numeric=definition.value_type in NUMERIC_TYPES,
        )
        if needed is not None and all(p.key in keys for p in needed):
            return True
    return False


def _in_store(unit, definition, period) -> bool:
    if unit is None:
        return False
    for kind in PeriodKind:
        needed = source_periods(
            period,
            kind,
            aggregation=definition.time_aggregation,
            numeric=definition.value_type in NUMERIC_TYPES,
        )
        if needed is None:
            continue
        if all(
            Value.objects.filter(
                unit=unit, definition=definition, period_key=p.key, data__isnull=False
            ).exists()
            for p in needed
        ):
            return True
    return False


def reference(campaign: Campaign) -> Reference:
    result = Reference()
    definitions = _definitions(campaign)
    periods = planned_periods(campaign)
    subjects = _subjects(campaign)
    attribute = "professional_id" if campaign.unit_kind == PROFESSIONAL else "establishment_id"
    others = [
        other
        for other in Campaign.objects.filter(
            status__in=[Campaign.Status.SCHEDULED, Campaign.Status.OPEN],
            unit_kind=campaign.unit_kind,
        ).exclude(pk=campaign.pk)
    ]
    other_subjects = {o.pk: _subjects(o) for o in others}
    other_definitions = {o.pk: _definitions(o) for o in others}
    other_plans = {o.pk: planned_periods(o) for o in others}
    common_units: dict[int, set[int]] = defaultdict(set)
    covered_cells: dict[int, int] = defaultdict(int)
    covered_keys: dict[int, set[str]] = defaultdict(set)
    for definition_id, definition in definitions.items():
        asked = covered = in_store = 0
        for period in periods:
            for subject in subjects:
                asked += 1
                covering = [
                    o.pk
                    for o in others
                    if definition_id in other_definitions[o.pk]
                    and subject in other_subjects[o.pk]
                    and _covers(other_plans[o.pk], period, definition)
                ]
                for pk in covering:
                    common_units[pk].add(subject)
                    covered_cells[pk] += 1
                    covered_keys[pk].add(period.key)
                if covering:
                    covered += 1
                    continue
                unit = ReportingUnit.objects.filter(**{attribute: subject}).first()
                if _in_store(unit, definition, period):
                    in_store += 1
        result.definitions[definition_id] = (asked, covered, in_store)
        result.asked += asked
        result.covered += covered
        result.in_store += in_store
    result.new = result.asked - result.covered - result.in_store
    for other in others:
        if covered_cells[other.pk]:
            in_common = other_subjects[other.pk] & subjects
            result.overlaps[other.pk] = (
                len(in_common),
                covered_cells[other.pk],
                [p.key for p in periods if p.key in covered_keys[other.pk]],
            )
    return result
