"""The burden of collection: how many cells each establishment is asked, week after week.

A *cell* is one answer of one reporting unit to one question for one period. An assignment
asks the questions of its version, minus the definitions served from the value store because
its campaign chose reuse (``surveys.CampaignReuse``). A definition D of campaign C is served
for the assignment (unit U, period P) when a reuse row (C, D, S) exists and

- S is a campaign: ``collection.reuse.source_plan``/``source_needs`` (the one rule, shared
  with the serving) give the periods of S that make P (S not a draft, its crisis cadences
  included, a closed S only up to its closing); U is in S's audience, not exempted from any
  of them, and, S closed, had an assignment for each and the store holds them all;
- S is empty (values already in the store): the store holds U's values of D for every period
  ``source_periods`` needs, in some kind of period the store holds for D, other than the
  answers to C itself.

« Sent anyway » is what campaigns whose requester chose to send despite the overlap ask.

Everything is counted in SQL, grouped by the period's start date and the unit's territory (or
the unit): the coverage rule is evaluated in Python once per (campaign, definition, source,
period) — a few hundred at most — and turned into filters, never once per assignment. Weeks
are the ISO weeks of the periods' start dates; regions are those of the regional health
agencies (Saint-Barthélemy and Saint-Martin count with Guadeloupe).

Who sees what goes through ``accounts.scoping``: a national directorate sees the country and
every region, an ARS its region and its establishments, an establishment (or a legal entity,
or a professional) its own figures. Nothing here ever counts outside the user's scope.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.models import Role
from accounts.scoping import REQUESTING_ROLES, AnyUser, Scope, scope_for
from collection import reuse
from collection.models import Value
from referentials import territories
from referentials.models import Definition, ReportingUnit
from surveys.coverage import NUMERIC_TYPES, source_periods
from surveys.models import (
    Assignment,
    AudienceMember,
    Campaign,
    CampaignEvent,
    CampaignPeriod,
    CampaignReuse,
    OverlapChoice,
    Question,
)
from surveys.periods import Period, PeriodKind, parse_period, period_of

# How many weeks before the current one the page shows (the current week is always added).
WEEK_CHOICES = (4, 12, 26, 52)
DEFAULT_WEEKS = 12
# The establishments listed by name for an administration: the most solicited first.
TOP_UNITS = 20

Key = tuple[Any, ...]


@dataclass
class Cells:
    asked: int = 0
    served: int = 0
    sent_anyway: int = 0

    def add(self, other: "Cells") -> None:
        self.asked += other.asked
        self.served += other.served
        self.sent_anyway += other.sent_anyway


@dataclass
class RegionBurden:
    code: str
    name: str
    total: Cells
    weeks: dict[str, Cells]


@dataclass
class UnitBurden:
    pk: int
    label: str
    identifier: str
    territory_code: str
    open_requests: int
    total: Cells
    weeks: dict[str, Cells] = field(default_factory=dict)


@dataclass
class SentAnyway:
    pk: int
    title: str
    owner: str
    justification: str
    asked: int  # cells asked in the window and the scope
    covered: int | None  # from the overlap analysis, for the whole campaign
    planned: int | None


@dataclass
class Burden:
    weeks: list[Period]
    nationwide: bool
    administration: bool  # a requester's view (regions, establishments) or a respondent's own
    totals: dict[str, Cells]  # week key -> cells, over the whole scope
    regions: list[RegionBurden]
    units: list[UnitBurden]
    sent_anyway: list[SentAnyway]
    unit: UnitBurden | None = None  # one unit asked for by an administration

    @property
    def total(self) -> Cells:
        total = Cells()
        for cells in self.totals.values():
            total.add(cells)
        return total


def weeks_until(today: date, previous: int) -> list[Period]:
    """The ISO week of ``today`` and the ``previous`` weeks before it, oldest first."""
    current = period_of(PeriodKind.WEEK, today)
    return [
        period_of(PeriodKind.WEEK, current.start - timedelta(weeks=n))
        for n in range(previous, -1, -1)
    ]


def burden_scope(user: AnyUser) -> tuple[Scope, bool]:
    """The scope the burden page counts over, and whether it is an administration's view.

    Requesters, viewers and curators count over their organisation's scope; anyone else over
    what they answer for (their establishment, their legal entity's sites, themself).
    """
    scope = scope_for(user, roles=REQUESTING_ROLES)
    if not scope.is_empty:
        return scope, True
    return scope_for(user, roles=[Role.RESPONDENT]), False


def burden_for(
    *,
    user: AnyUser,
    weeks: int = DEFAULT_WEEKS,
    today: date | None = None,
    unit_id: int | None = None,
) -> Burden:
    """The burden seen by ``user`` over the current week and ``weeks`` before it.

    ``unit_id`` (an administration's drill-down) adds that unit's weekly figures; a unit
    outside the scope raises ``ReportingUnit.DoesNotExist``.
    """
    today = today or timezone.localdate()
    window = weeks_until(today, weeks)
    scope, administration = burden_scope(user)
    assignments = _assignments(scope, window)

    by_date_territory = _count(assignments, ("period__start", "unit__territory_code"))
    totals: dict[str, Cells] = {w.key: Cells() for w in window}
    region_weeks: dict[str, dict[str, Cells]] = defaultdict(
        lambda: {w.key: Cells() for w in window}
    )
    for (start, territory), cells in by_date_territory.items():
        week = week_of(start)
        totals[week].add(cells)
        region_weeks[agency_region(territory)][week].add(cells)
    regions = []
    for code, per_week in region_weeks.items():
        total = Cells()
        for cells in per_week.values():
            total.add(cells)
        regions.append(RegionBurden(code, region_name(code), total, per_week))
    regions.sort(key=lambda r: r.code)

    units = _units(scope, assignments, administration=administration)
    if not administration:
        weekly = _unit_weeks(assignments, window)
        for item in units:
            item.weeks = weekly.get(item.pk, {w.key: Cells() for w in window})
    unit = None
    if unit_id is not None:
        unit = _one_unit(scope, assignments, unit_id, window)
    return Burden(
        weeks=window,
        nationwide=scope.nationwide,
        administration=administration,
        totals=totals,
        regions=regions if administration else [],
        units=units,
        sent_anyway=_sent_anyway(assignments) if administration else [],
        unit=unit,
    )


# --- Counting --------------------------------------------------------------------------------


def _assignments(scope: Scope, window: Sequence[Period]) -> QuerySet[Assignment]:
    if scope.is_empty:
        return Assignment.objects.none()
    return Assignment.objects.filter(
        scope.units_q("unit__"),
        period__start__gte=window[0].start,
        period__start__lte=window[-1].end,
    ).exclude(campaign__status=Campaign.Status.DRAFT)


def _count(assignments: QuerySet[Assignment], group: Sequence[str]) -> dict[Key, Cells]:
    """Cells asked, served and sent anyway, grouped by ``group`` (field paths of Assignment)."""
    counts: dict[Key, Cells] = defaultdict(Cells)
    rows = (
        assignments.order_by()
        .values(*group, "campaign__overlap_choice")
        .annotate(cells=Count("version__questions"))
    )
    for row in rows:
        key = tuple(row[g] for g in group)
        counts[key].asked += row["cells"]
        if row["campaign__overlap_choice"] == OverlapChoice.SEND_ANYWAY:
            counts[key].sent_anyway += row["cells"]
    for key, served in served_cells(assignments, group).items():
        counts[key].served += served
        counts[key].asked -= served
    return dict(counts)


def served_cells(assignments: QuerySet[Assignment], group: Sequence[str]) -> dict[Key, int]:
    """Cells of ``assignments`` served from the store instead of asked, grouped by ``group``."""
    reuses = CampaignReuse.objects.filter(
        campaign__overlap_choice=OverlapChoice.REUSE,
        campaign_id__in=assignments.order_by().values("campaign_id"),
    ).select_related("definition", "source")
    sources: dict[tuple[int, Definition], list[Campaign | None]] = defaultdict(list)
    for row in reuses:
        sources[(row.campaign_id, row.definition)].append(row.source)
    if not sources:
        return {}
    periods: dict[int, list[CampaignPeriod]] = defaultdict(list)
    for period in CampaignPeriod.objects.filter(
        campaign_id__in={c for c, _ in sources},
        pk__in=assignments.order_by().values("period_id"),
    ):
        periods[period.campaign_id].append(period)

    crisis = reuse.crisis_events({s.pk for ss in sources.values() for s in ss if s is not None})
    served: dict[Key, int] = defaultdict(int)
    for (campaign_id, definition), campaign_sources in sources.items():
        condition = Q(pk__in=[])
        for source in campaign_sources:
            if source is None:
                condition |= _store_condition(definition, periods[campaign_id], campaign_id)
            else:
                condition |= _source_condition(
                    definition, source, periods[campaign_id], crisis[source.pk]
                )
        rows = (
            assignments.filter(
                condition,
                campaign_id=campaign_id,
                version_id__in=Question.objects.filter(definition=definition).values("version_id"),
            )
            .order_by()
            .values(*group)
            .annotate(n=Count("pk"))
        )
        for row in rows:
            served[tuple(row[g] for g in group)] += row["n"]
    return dict(served)


def _period(row: CampaignPeriod) -> Period:
    return parse_period(row.key)


def _needed(definition: Definition, target: Period, kind: str) -> list[Period] | None:
    return source_periods(
        target,
        kind,
        aggregation=definition.time_aggregation,
        numeric=definition.value_type in NUMERIC_TYPES,
    )


def _source_condition(
    definition: Definition,
    source: Campaign,
    periods: Sequence[CampaignPeriod],
    crisis: list[CampaignEvent],
) -> Q:
    """Assignments (of ``periods``) whose cell of ``definition`` ``source`` serves, by the rule
    of ``collection.reuse`` (``source_plan``/``source_needs``): here as SQL filters."""
    numeric = definition.value_type in NUMERIC_TYPES
    if not Question.objects.filter(version_id=source.version_id, definition=definition).exists():
        return Q(pk__in=[])  # the source does not ask it
    # Periods needing the same number of source periods of the same kind share one filter:
    # the needed periods are then those of that kind inside the period (one: ending with it).
    groups: dict[tuple[PeriodKind, int], list[int]] = defaultdict(list)
    for row in periods:
        target = _period(row)
        plan = reuse.source_plan(source, target, crisis=crisis)
        needed = reuse.source_needs(
            plan, target, aggregation=definition.time_aggregation, numeric=numeric
        )
        if needed:
            groups[(needed[0].kind, len(needed))].append(row.pk)
    condition = Q(pk__in=[])
    audience = AudienceMember.objects.filter(campaign=source).values("unit_id")
    for (kind, count), period_ids in groups.items():
        theirs = Assignment.objects.filter(
            campaign=source,
            unit_id=OuterRef("unit_id"),
            period__kind=kind,
            period__start__gte=OuterRef("period__start"),
            period__end__lte=OuterRef("period__end"),
        )
        if count == 1:
            theirs = theirs.filter(period__end=OuterRef("period__end"))
        exempted = Exists(theirs.filter(status=Assignment.Status.EXEMPTED))
        served = Q(period_id__in=period_ids, unit_id__in=audience) & ~Q(exempted)
        if source.status == Campaign.Status.CLOSED:
            # A closed campaign serves only what it asked and holds: the rest is asked.
            owed = theirs.order_by().values("unit_id").annotate(n=Count("pk")).filter(n=count)
            served &= Q(Exists(owed)) & _stored_q(definition, kind, count, exclude=None)
        condition |= served
    return condition


def _stored_q(definition: Definition, kind: str, count: int, *, exclude: int | None) -> Q:
    """The assignment's unit holds ``count`` values of ``definition`` of ``kind`` making its
    period (one: the period itself or its last sub-period), none from ``exclude``'s answers."""
    values = Value.objects.filter(
        unit_id=OuterRef("unit_id"),
        definition=definition,
        period_kind=kind,
        data__isnull=False,
        period_start__gte=OuterRef("period__start"),
    )
    if exclude is not None:
        values = values.exclude(campaign_id=exclude).exclude(assignment__campaign_id=exclude)
    if count == 1:
        return Q(Exists(values.filter(period_end=OuterRef("period__end"))))
    return Q(
        Exists(
            values.filter(period_end__lte=OuterRef("period__end"))
            .order_by()
            .values("unit_id")
            .annotate(n=Count("pk"))
            .filter(n=count)
        )
    )


def _store_condition(
    definition: Definition, periods: Sequence[CampaignPeriod], campaign_id: int
) -> Q:
    """Assignments whose unit's values of ``definition`` in the store cover their period (the
    campaign's own answers left out, as ``collection.reuse`` leaves them)."""
    kinds = list(
        Value.objects.filter(definition=definition)
        .order_by()
        .values_list("period_kind", flat=True)
        .distinct()
    )
    # Periods needing the same number of source values of the same kind share one filter.
    groups: dict[tuple[str, int], list[int]] = defaultdict(list)
    for row in periods:
        for kind in kinds:
            needed = _needed(definition, _period(row), kind)
            if needed:
                groups[(kind, len(needed))].append(row.pk)
    condition = Q(pk__in=[])
    for (kind, count), period_ids in groups.items():
        stored = _stored_q(definition, kind, count, exclude=campaign_id)
        condition |= stored & Q(period_id__in=period_ids)
    return condition


def week_of(day: date) -> str:
    """The ISO week key (``2026-W49``) of a period's start date."""
    return period_of(PeriodKind.WEEK, day).key


# --- Regions ----------------------------------------------------------------------------------


@cache
def _agency_regions() -> dict[str, str]:
    """Territory code -> region code of the ARS that covers it."""
    return {
        code: region.code
        for region, _name, covered in territories.regional_agencies()
        for code in covered
    }


def agency_region(territory_code: str) -> str:
    """The region of the ARS covering a territory (977 and 978: Guadeloupe), "" if none."""
    known = _agency_regions().get(territory_code)
    if known is not None:
        return known
    try:
        return territories.territory_region(territory_code)
    except territories.UnknownTerritoryError:
        return ""


def region_name(code: str) -> str:
    if not code:
        return "Territoire non renseigné"
    region = territories.regions().get(code)
    return region.name if region else code


# --- Units ------------------------------------------------------------------------------------


def _open_requests(scope: Scope) -> QuerySet[Assignment]:
    """Assignments still owed now, in open campaigns, whatever their period."""
    if scope.is_empty:
        return Assignment.objects.none()
    return Assignment.objects.filter(
        scope.units_q("unit__"),
        campaign__status=Campaign.Status.OPEN,
        status__in=Assignment.OPEN_STATUSES,
    )


def _units(
    scope: Scope, assignments: QuerySet[Assignment], *, administration: bool
) -> list[UnitBurden]:
    """Each unit's open requests and cells over the window: a respondent's own units, or the
    most solicited units of an administration's scope."""
    totals = _count(assignments, ("unit_id",))
    open_counts = dict(
        _open_requests(scope)
        .order_by()
        .values("unit_id")
        .annotate(n=Count("pk"))
        .values_list("unit_id", "n")
    )
    if administration:
        ranked = sorted(totals, key=lambda k: (-totals[k].asked - totals[k].served, k))
        unit_ids = [k[0] for k in ranked[:TOP_UNITS]]
        units = ReportingUnit.objects.filter(pk__in=unit_ids)
    else:
        units = ReportingUnit.objects.filter(scope.units_q())
    rows = [
        UnitBurden(
            pk=u.pk,
            label=u.label,
            identifier=u.identifier,
            territory_code=u.territory_code,
            open_requests=open_counts.get(u.pk, 0),
            total=totals.get((u.pk,), Cells()),
        )
        for u in units
    ]
    if administration:
        rows.sort(key=lambda r: (-r.total.asked - r.total.served, r.label))
    else:
        rows.sort(key=lambda r: r.label)
    return rows


def _unit_weeks(
    assignments: QuerySet[Assignment], window: Sequence[Period]
) -> dict[int, dict[str, Cells]]:
    weekly: dict[int, dict[str, Cells]] = defaultdict(lambda: {w.key: Cells() for w in window})
    for (unit_id, start), cells in _count(assignments, ("unit_id", "period__start")).items():
        weekly[unit_id][week_of(start)].add(cells)
    return dict(weekly)


def _one_unit(
    scope: Scope,
    assignments: QuerySet[Assignment],
    unit_id: int,
    window: Sequence[Period],
) -> UnitBurden:
    unit = ReportingUnit.objects.filter(scope.units_q()).get(pk=unit_id)
    mine = assignments.filter(unit_id=unit.pk)
    weeks = _unit_weeks(mine, window).get(unit.pk, {w.key: Cells() for w in window})
    total = Cells()
    for cells in weeks.values():
        total.add(cells)
    return UnitBurden(
        pk=unit.pk,
        label=unit.label,
        identifier=unit.identifier,
        territory_code=unit.territory_code,
        open_requests=_open_requests(scope).filter(unit_id=unit.pk).count(),
        total=total,
        weeks=weeks,
    )


# --- Sent anyway ------------------------------------------------------------------------------


def _summary_count(summary: Any, name: str) -> int | None:
    """A count of the overlap analysis' summary, wherever it sits (read defensively)."""
    if not isinstance(summary, dict):
        return None
    for place in (summary, summary.get("cells"), summary.get("counts")):
        if isinstance(place, dict):
            value = place.get(name)
            if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                return value
    return None


def _sent_anyway(assignments: QuerySet[Assignment]) -> list[SentAnyway]:
    mine = assignments.filter(campaign__overlap_choice=OverlapChoice.SEND_ANYWAY)
    asked = dict(
        mine.order_by()
        .values("campaign_id")
        .annotate(cells=Count("version__questions"))
        .values_list("campaign_id", "cells")
    )
    campaigns = Campaign.objects.filter(pk__in=list(asked)).select_related("owner")
    return sorted(
        (
            SentAnyway(
                pk=c.pk,
                title=c.title,
                owner=c.owner.short_name or c.owner.name,
                justification=c.overlap_justification,
                asked=asked[c.pk],
                covered=_summary_count(c.overlap_summary, "covered"),
                planned=_summary_count(c.overlap_summary, "asked"),
            )
            for c in campaigns
        ),
        key=lambda s: (-s.asked, s.title),
    )
