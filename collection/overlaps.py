"""Overlap analysis: which cells of a campaign are already asked by another campaign, or
already in the value store, before it is sent (issue 7, « ne jamais demander deux fois »).

**Cells.** A campaign asks cells (unit U, definition D, period P): its units x the definitions
bound in its ``version`` (ad-hoc questions never overlap: nobody else asks them) x its planned
periods (``surveys.campaigns.planned_periods``). A draft's units are its audience filters
resolved now (``surveys.audience.audience_queryset``, kept a subquery); a campaign already sent
has its ``AudienceMember`` rows.

**Covered.** Another campaign S (scheduled or open, any owner, not the campaign itself, same
kind of units) covers the cell (U, D, P) when

- D is bound in S's current ``version``;
- U is in S's audience (its ``AudienceMember`` rows; its filters when it has none yet);
- for one kind k of S's planned periods, ``surveys.coverage.source_periods(P, k,
  aggregation=D.time_aggregation, numeric=D.value_type in NUMERIC_TYPES)`` gives periods that
  are all among S's planned periods. A daily campaign covers a weekly stock by the week's last
  day, a weekly flow or level only when it asks all seven days (one ending mid-week does not),
  and never covers a week for a monthly campaign (weeks do not tile months). A campaign whose
  cadence changed (crisis switch) offers each kind it asks.

**In store.** A cell not covered is ``in_store`` when ``collection.models.Value`` already holds
complete source values for it (definition-bound values, data not null): its exact period key,
or every source period of a finer kind as ``surveys.coverage.source_periods`` says.

**Counts.** ``asked`` = units x definitions x periods; a cell covered by two campaigns counts
once in ``covered`` (and in both ``Overlap.covered_cells``); ``new = asked - covered -
in_store``. An ``Overlap`` is listed for every campaign covering at least one cell.

**Scope.** The register is public to requesters: the analysis names every organisation's
campaigns and counts cells, it never exposes a value.

**How it counts.** Set-based: Python only walks definitions x periods x campaigns (metadata),
never units. SQL gives, for every unit of the campaign, the set of covering candidates it
belongs to as a bit mask (one ``GROUP BY`` over audience members), and how many units share
each mask; each (definition, period) adds the units whose mask meets its covering campaigns.
A second query counts, per (definition, period), the units holding complete store values whose
mask is disjoint from the cell's (``(m & k) = 0``). A handful of queries whatever the size of
the audiences. The SQL is put together
from table names (``_meta``), generated column names and Django's own compiled subqueries;
every value goes as a parameter (hence the S608 exemptions). It runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import QuerySet

from collection.models import Value
from referentials.models import Definition, Establishment, Professional, ReportingUnit
from surveys.audience import PROFESSIONAL, audience_queryset
from surveys.campaigns import FREQUENCY_KIND, planned_periods, segments
from surveys.coverage import NUMERIC_TYPES, source_periods
from surveys.models import AudienceMember, Campaign, CampaignEvent, Question
from surveys.periods import Period, PeriodKind

# Bits per SQL integer column of a membership mask (signed 64-bit integers on both databases).
CHUNK = 60
ACTIVE_STATUSES = (Campaign.Status.SCHEDULED, Campaign.Status.OPEN)


@dataclass
class DefinitionOverlap:
    """One definition of the analysed campaign: its cells and where they come from."""

    definition_id: int
    code: str
    label: str
    asked: int
    covered: int
    in_store: int
    new: int
    sources: list[int]  # ids of the campaigns covering some of its cells


@dataclass
class Overlap:
    """Another campaign covering some cells of the analysed one."""

    campaign_id: int
    title: str
    owner: str
    status: str
    period_kind: str
    definitions: list[tuple[int, str, str]]  # (id, code, label) both campaigns ask
    units_in_common: int
    periods: list[str]  # keys of the analysed campaign's periods it covers (for one definition)
    covered_cells: int  # cells of the analysed campaign it covers (others may cover them too)


@dataclass
class Analysis:
    campaign_id: int
    asked: int
    covered: int
    in_store: int
    new: int
    overlaps: list[Overlap] = field(default_factory=list)
    definitions: list[DefinitionOverlap] = field(default_factory=list)

    def as_summary(self) -> dict[str, Any]:
        """JSON-able: stored in ``Campaign.overlap_summary`` and shown by the register."""
        return {
            "campaign_id": self.campaign_id,
            "asked": self.asked,
            "covered": self.covered,
            "in_store": self.in_store,
            "new": self.new,
            "overlaps": [
                {
                    "campaign_id": o.campaign_id,
                    "title": o.title,
                    "owner": o.owner,
                    "status": o.status,
                    "period_kind": o.period_kind,
                    "definitions": [
                        {"id": pk, "code": code, "label": label}
                        for pk, code, label in o.definitions
                    ],
                    "units_in_common": o.units_in_common,
                    "periods": list(o.periods),
                    "covered_cells": o.covered_cells,
                }
                for o in self.overlaps
            ],
            "definitions": [
                {
                    "id": d.definition_id,
                    "code": d.code,
                    "label": d.label,
                    "asked": d.asked,
                    "covered": d.covered,
                    "in_store": d.in_store,
                    "new": d.new,
                    "sources": list(d.sources),
                }
                for d in self.definitions
            ],
        }

    def reuse_plan(self) -> list[tuple[int, int | None]]:
        """(definition id, source campaign id) for every campaign covering some of a
        definition's cells, and (definition id, None) when some are already in the store:
        the ``surveys.models.CampaignReuse`` rows that choosing reuse writes."""
        plan: list[tuple[int, int | None]] = []
        for d in self.definitions:
            plan.extend((d.definition_id, source) for source in d.sources)
            if d.in_store:
                plan.append((d.definition_id, None))
        return plan


# --- Metadata (Python: definitions x periods x campaigns) -----------------------------------------


@dataclass
class _Definition:
    id: int
    code: str
    label: str
    aggregation: str
    numeric: bool


@dataclass
class _Candidate:
    campaign: Campaign
    definition_ids: set[int]
    kinds: set[PeriodKind]
    keys: set[str]
    from_members: bool
    bit: int = 0  # position in the membership mask


def _definitions(version_id: int) -> list[_Definition]:
    rows = (
        Definition.objects.filter(questions__version_id=version_id)
        .distinct()
        .order_by("code")
        .values_list("pk", "code", "label", "time_aggregation", "value_type")
    )
    return [
        _Definition(pk, code, label, aggregation, value_type in NUMERIC_TYPES)
        for pk, code, label, aggregation, value_type in rows
    ]


def _candidates(campaign: Campaign, definition_ids: list[int], until: dt.date) -> list[_Candidate]:
    """Scheduled and open campaigns asking at least one of ``definition_ids``."""
    bound: dict[int, set[int]] = defaultdict(set)
    for version_id, definition_id in Question.objects.filter(
        definition_id__in=definition_ids
    ).values_list("version_id", "definition_id"):
        bound[version_id].add(definition_id)
    others = list(
        Campaign.objects.filter(
            status__in=ACTIVE_STATUSES,
            unit_kind=campaign.unit_kind,
            version_id__in=list(bound),
        )
        .exclude(pk=campaign.pk)
        .select_related("owner")
        .order_by("pk")
    )
    with_members = set(
        AudienceMember.objects.filter(campaign_id__in=[o.pk for o in others])
        .order_by()
        .values_list("campaign_id", flat=True)
        .distinct()
    )
    crisis: dict[int, list[CampaignEvent]] = defaultdict(list)
    for event in CampaignEvent.objects.filter(
        campaign_id__in=[o.pk for o in others], kind=CampaignEvent.Kind.CRISIS
    ).order_by("created_at", "pk"):
        crisis[event.campaign_id].append(event)
    candidates = []
    for other in others:
        plan = segments(other, crisis_events=crisis[other.pk])
        periods = planned_periods(other, until=until, plan=plan)
        if not periods:
            continue
        candidates.append(
            _Candidate(
                campaign=other,
                definition_ids=bound[other.version_id],
                kinds={p.kind for p in periods},
                keys={p.key for p in periods},
                from_members=other.pk in with_members,
            )
        )
    return candidates


def _needed_keys(
    target: Period, kind: PeriodKind, definition: _Definition, cache: dict[Any, Any]
) -> tuple[str, ...] | None:
    key = (target.key, kind, definition.aggregation, definition.numeric)
    if key not in cache:
        needed = source_periods(
            target, kind, aggregation=definition.aggregation, numeric=definition.numeric
        )
        cache[key] = None if needed is None else tuple(p.key for p in needed)
    result: tuple[str, ...] | None = cache[key]
    return result


def _plan_covers(
    candidate: _Candidate, target: Period, definition: _Definition, cache: dict[Any, Any]
) -> bool:
    """Whether the candidate's planned periods give ``target`` for ``definition``'s aggregation."""
    for kind in candidate.kinds:
        needed = _needed_keys(target, kind, definition, cache)
        if needed is not None and all(key in candidate.keys for key in needed):
            return True
    return False


def _store_options(target: Period, definition: _Definition) -> list[list[str]]:
    """Every set of store keys that, complete, gives the value of ``target``."""
    options = []
    for kind in PeriodKind:
        needed = source_periods(
            target, kind, aggregation=definition.aggregation, numeric=definition.numeric
        )
        if needed is not None:
            options.append([p.key for p in needed])
    return options


# --- Units (SQL) ----------------------------------------------------------------------------------


def _subject(unit_kind: str) -> str:
    return "professional_id" if unit_kind == PROFESSIONAL else "establishment_id"


def _audience(campaign: Campaign) -> QuerySet[Any]:
    """Primary keys of the establishments (professionals) of a campaign's audience."""
    if campaign.status != Campaign.Status.DRAFT and campaign.members.exists():
        return (
            ReportingUnit.objects.filter(
                pk__in=AudienceMember.objects.filter(campaign=campaign).values("unit_id")
            )
            .order_by()
            .values(_subject(campaign.unit_kind))
        )
    return (
        audience_queryset(
            filters=campaign.audience_filters, unit_kind=campaign.unit_kind, owner=campaign.owner
        )
        .order_by()
        .values("pk")
    )


def _sql(queryset: QuerySet[Any]) -> tuple[str, tuple[Any, ...]]:
    sql, params = queryset.query.sql_with_params()
    return sql, tuple(params)


def _values_table(
    name: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> tuple[str, list[Any]]:
    """A CTE ``name(columns) AS (VALUES ...)`` and its parameters (``rows`` not empty)."""
    row_sql = "(" + ", ".join(["%s"] * len(columns)) + ")"
    sql = f"{name}({', '.join(columns)}) AS (VALUES {', '.join([row_sql] * len(rows))})"
    return sql, [value for row in rows for value in row]


def _bit(candidate: _Candidate) -> tuple[int, int]:
    """(column, value) of the candidate's bit in the membership mask columns."""
    return candidate.bit // CHUNK, 1 << (candidate.bit % CHUNK)


def _bit_or() -> str:
    """The aggregate OR-ing the mask columns: PostgreSQL's ``BIT_OR`` (stays an integer);
    elsewhere ``SUM``, the same here since a unit meets each candidate once."""
    return "BIT_OR" if connection.vendor == "postgresql" else "SUM"


def _signature_ctes(
    within: tuple[str, tuple[Any, ...]],
    unit_kind: str,
    candidates: list[_Candidate],
    chunks: int,
) -> tuple[str, list[Any]] | None:
    """CTEs ending with ``sig(subject, m0, m1...)``: for each establishment (professional)
    among ``within`` (a subquery of ids) in some candidate's audience, the mask of those
    candidates (bit ``c.bit`` of the columns m0, m1... read as one number); None when no
    candidate has anybody."""
    within_sql, within_params = within
    subject = _subject(unit_kind)
    units_table = ReportingUnit._meta.db_table
    subjects_table = (Professional if unit_kind == PROFESSIONAL else Establishment)._meta.db_table
    aggregate = _bit_or()
    ctes: list[str] = []
    parts: list[str] = []
    params: list[Any] = []
    members = [c for c in candidates if c.from_members]
    if members:
        bits_sql, bits_params = _values_table(
            "bits", ("campaign_id", "chunk", "flag"), [(c.campaign.pk, *_bit(c)) for c in members]
        )
        ctes.append(bits_sql)
        params += bits_params
        columns = ", ".join(
            f"{aggregate}(CASE WHEN b.chunk = {i} THEN b.flag ELSE 0 END) AS m{i}"
            for i in range(chunks)
        )
        parts.append(
            f"SELECT u.{subject} AS subject, {columns} FROM {AudienceMember._meta.db_table} am "  # noqa: S608
            f"JOIN {units_table} u ON u.id = am.unit_id "
            "JOIN bits b ON b.campaign_id = am.campaign_id "
            f"WHERE u.{subject} IN ({within_sql}) GROUP BY u.{subject}"
        )
    part_params: list[Any] = list(within_params) if members else []
    for candidate in candidates:
        if candidate.from_members:
            continue
        # Scheduled without members yet: its audience is its filters, resolved now.
        column, value = _bit(candidate)
        constants = ", ".join(f"{value if i == column else 0} AS m{i}" for i in range(chunks))
        try:
            theirs_sql, theirs_params = _sql(_audience(candidate.campaign))
        except EmptyResultSet:  # no criterion: nobody
            continue
        parts.append(
            f"SELECT t.id AS subject, {constants} FROM {subjects_table} t "  # noqa: S608
            f"WHERE t.id IN ({theirs_sql}) AND t.id IN ({within_sql})"
        )
        part_params += [*theirs_params, *within_params]
    if not parts:
        return None
    masks = ", ".join(f"m{i}" for i in range(chunks))
    totals = ", ".join(f"{aggregate}(x.m{i})" for i in range(chunks))
    ctes.append(
        f"sig(subject, {masks}) AS (SELECT x.subject, {totals} "  # noqa: S608
        f"FROM ({' UNION ALL '.join(parts)}) x GROUP BY x.subject)"
    )
    return ", ".join(ctes), params + part_params


def _mask(parts: tuple[Any, ...]) -> int:
    mask = 0
    for i, part in enumerate(parts):
        mask |= int(part or 0) << (CHUNK * i)
    return mask


def _columns(mask: int, chunks: int) -> tuple[int, ...]:
    """A mask as its SQL integer columns (the reverse of ``_mask``)."""
    return tuple((mask >> (CHUNK * i)) & ((1 << CHUNK) - 1) for i in range(chunks))


def _chunks(candidates: list[_Candidate]) -> int:
    return max(1, (len(candidates) - 1) // CHUNK + 1)


def _signatures(
    subjects: tuple[str, tuple[Any, ...]], unit_kind: str, candidates: list[_Candidate]
) -> dict[int, int]:
    """Membership mask -> how many units of the analysed campaign have it (mask 0 left out)."""
    if not candidates:
        return {}
    chunks = _chunks(candidates)
    signature = _signature_ctes(subjects, unit_kind, candidates, chunks)
    if signature is None:
        return {}
    ctes, params = signature
    masks = ", ".join(f"m{i}" for i in range(chunks))
    with connection.cursor() as cursor:
        sql = f"WITH {ctes} SELECT {masks}, COUNT(*) FROM sig GROUP BY {masks}"  # noqa: S608
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    counts: dict[int, int] = defaultdict(int)
    for row in rows:
        counts[_mask(tuple(row[:-1]))] += int(row[-1])
    return dict(counts)


def _store(
    subjects: tuple[str, tuple[Any, ...]],
    unit_kind: str,
    definitions: list[_Definition],
    periods: list[Period],
    candidates: list[_Candidate],
    covering: dict[tuple[int, str], int],
) -> dict[tuple[int, str], int]:
    """(definition id, period key) -> how many units of the analysed campaign hold complete
    store values for it and are not covered by a candidate."""
    classes: dict[tuple[str, bool], int] = {}
    definition_rows: list[tuple[int, int]] = []
    for definition in definitions:
        cls = classes.setdefault((definition.aggregation, definition.numeric), len(classes))
        definition_rows.append((definition.id, cls))
    # One key (the same period, or a stock's last finer period): a value present is enough.
    # Several keys (a flow or a level over finer periods): all of them, counted per unit.
    single_rows: list[tuple[int, str, str]] = []
    multi_rows: list[tuple[int, str, int, str, int]] = []
    several_options = False
    for (aggregation, numeric), cls in classes.items():
        sample = _Definition(0, "", "", aggregation, numeric)
        for period in periods:
            options = _store_options(period, sample)
            several_options = several_options or len(options) > 1
            for option, keys in enumerate(options):
                if len(keys) == 1:
                    single_rows.append((cls, period.key, keys[0]))
                else:
                    multi_rows.extend((cls, period.key, option, key, len(keys)) for key in keys)
    defs_sql, params = _values_table("defs", ("definition_id", "cls"), definition_rows)
    ctes = [defs_sql]
    if single_rows:
        single_sql, single_params = _values_table(
            "single", ("cls", "target", "source"), single_rows
        )
        ctes.append(single_sql)
        params += single_params
    if multi_rows:
        multi_sql, multi_params = _values_table(
            "multi", ("cls", "target", "opt", "source", "n"), multi_rows
        )
        ctes.append(multi_sql)
        params += multi_params
    subjects_sql, subjects_params = subjects
    params += subjects_params
    subject = _subject(unit_kind)
    # The campaign's units, read once (materialised where the database can: a hash join with
    # the values rather than two index lookups per value).
    materialised = "MATERIALIZED " if connection.vendor == "postgresql" else ""
    ctes.append(
        f"draft_units AS {materialised}(SELECT id, {subject} AS subject FROM "  # noqa: S608
        f"{ReportingUnit._meta.db_table} WHERE {subject} IN ({subjects_sql}))"
    )
    values = (
        "SELECT u.subject AS subject, d.definition_id AS definition_id, n.target AS target "  # noqa: S608
        f"FROM {Value._meta.db_table} v JOIN draft_units u ON u.id = v.unit_id "
        "JOIN defs d ON d.definition_id = v.definition_id "
        "JOIN {table} n ON n.cls = d.cls AND n.source = v.period_key WHERE v.data IS NOT NULL"
    )
    parts = []
    if single_rows:
        parts.append(values.replace("{table}", "single"))
    if multi_rows:
        parts.append(
            values.replace("{table}", "multi")
            + " GROUP BY u.subject, d.definition_id, n.target, n.opt, n.n HAVING COUNT(*) = n.n"
        )
    union = " UNION ALL ".join(parts)
    # Units whose values give (definition, target) by one option at least, once each.
    if several_options:
        union = f"SELECT DISTINCT x.subject, x.definition_id, x.target FROM ({union}) x"  # noqa: S608
    ctes.append(f"complete AS ({union})")
    chunks = _chunks(candidates)
    covered_cells = [(d, key, mask) for (d, key), mask in covering.items() if mask]
    signature = None
    if covered_cells:
        # Only the units holding complete values need their masks.
        signature = _signature_ctes(
            ("SELECT subject FROM complete", ()), unit_kind, candidates, chunks
        )
    if signature is None:
        sql = (
            f"WITH {', '.join(ctes)} "  # noqa: S608
            "SELECT c.definition_id, c.target, COUNT(*) FROM complete c "
            "GROUP BY c.definition_id, c.target"
        )
    else:
        sig_ctes, sig_params = signature
        masks_sql, masks_params = _values_table(
            "masks",
            ("definition_id", "target", *(f"k{i}" for i in range(chunks))),
            [(d, key, *_columns(mask, chunks)) for d, key, mask in covered_cells],
        )
        ctes += [sig_ctes, masks_sql]
        params += [*sig_params, *masks_params]
        disjoint = " AND ".join(f"(s.m{i} & k.k{i}) = 0" for i in range(chunks))
        sql = (
            f"WITH {', '.join(ctes)} "  # noqa: S608
            "SELECT c.definition_id, c.target, COUNT(*) FROM complete c "
            "LEFT JOIN masks k ON k.definition_id = c.definition_id AND k.target = c.target "
            "LEFT JOIN sig s ON s.subject = c.subject "
            f"WHERE k.definition_id IS NULL OR s.subject IS NULL OR ({disjoint}) "
            "GROUP BY c.definition_id, c.target"
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return {(int(d), str(key)): int(count) for d, key, count in rows}


# --- The analysis ---------------------------------------------------------------------------------


def _covering(
    definitions: list[_Definition], periods: list[Period], candidates: list[_Candidate]
) -> dict[tuple[int, str], list[_Candidate]]:
    """(definition id, period key) -> the candidates covering it, in campaign order.

    Candidates sharing a plan of periods (most do) are checked once per plan."""
    cache: dict[Any, Any] = {}
    plans: dict[frozenset[str], list[_Candidate]] = defaultdict(list)
    for candidate in candidates:
        plans[frozenset(candidate.keys)].append(candidate)
    covering: dict[tuple[int, str], list[_Candidate]] = {
        (d.id, p.key): [] for d in definitions for p in periods
    }
    for members in plans.values():
        plan = members[0]
        for definition in definitions:
            binding = [c for c in members if definition.id in c.definition_ids]
            if not binding:
                continue
            for period in periods:
                if _plan_covers(plan, period, definition, cache):
                    covering[(definition.id, period.key)].extend(binding)
    for found in covering.values():
        found.sort(key=lambda c: c.campaign.pk)
    return covering


def analyse(*, campaign: Campaign) -> Analysis:
    """The overlaps of ``campaign`` with every scheduled and open campaign, and its cells
    counted as covered, in store or new (see the module docstring)."""
    definitions = _definitions(campaign.version_id)
    periods = planned_periods(campaign)
    audience_size = _audience(campaign).count() if definitions and periods else 0
    per_definition = audience_size * len(periods)
    if not audience_size:
        return Analysis(
            campaign_id=campaign.pk,
            asked=0,
            covered=0,
            in_store=0,
            new=0,
            definitions=[
                DefinitionOverlap(d.id, d.code, d.label, 0, 0, 0, 0, []) for d in definitions
            ],
        )
    candidates = _candidates(campaign, [d.id for d in definitions], max(p.end for p in periods))
    covering_lists = _covering(definitions, periods, candidates)
    # Bits go to the candidates that cover something, in campaign order.
    used = sorted(
        {c.campaign.pk: c for cs in covering_lists.values() for c in cs}.values(),
        key=lambda c: c.campaign.pk,
    )
    for position, candidate in enumerate(used):
        candidate.bit = position
    covering = {cell: sum(1 << c.bit for c in found) for cell, found in covering_lists.items()}

    subjects = _sql(_audience(campaign))
    signatures = _signatures(subjects, campaign.unit_kind, used)
    in_store_cells = _store(subjects, campaign.unit_kind, definitions, periods, used, covering)
    covered_by_mask: dict[int, int] = {}

    def covered_units(mask: int) -> int:
        if mask not in covered_by_mask:
            covered_by_mask[mask] = sum(n for sig, n in signatures.items() if sig & mask)
        return covered_by_mask[mask]

    in_common = {
        c.campaign.pk: sum(n for sig, n in signatures.items() if sig >> c.bit & 1) for c in used
    }

    result: list[DefinitionOverlap] = []
    for definition in definitions:
        cells = [(definition.id, p.key) for p in periods]
        covered = sum(covered_units(covering[cell]) for cell in cells)
        in_store = sum(in_store_cells.get(cell, 0) for cell in cells)
        sources = sorted(
            {c.campaign.pk for cell in cells for c in covering_lists[cell]}
            & {pk for pk, n in in_common.items() if n}
        )
        result.append(
            DefinitionOverlap(
                definition_id=definition.id,
                code=definition.code,
                label=definition.label,
                asked=per_definition,
                covered=covered,
                in_store=in_store,
                new=per_definition - covered - in_store,
                sources=sources,
            )
        )

    overlaps: list[Overlap] = []
    for candidate in used:
        common = in_common[candidate.campaign.pk]
        cells_covered = [cell for cell, mask in covering.items() if mask >> candidate.bit & 1]
        if not common or not cells_covered:
            continue
        keys = {key for _, key in cells_covered}
        other = candidate.campaign
        overlaps.append(
            Overlap(
                campaign_id=other.pk,
                title=other.title,
                owner=str(other.owner),
                status=other.status,
                period_kind=_period_kind(other),
                definitions=[
                    (d.id, d.code, d.label) for d in definitions if d.id in candidate.definition_ids
                ],
                units_in_common=common,
                periods=[p.key for p in periods if p.key in keys],
                covered_cells=common * len(cells_covered),
            )
        )
    overlaps.sort(key=lambda o: (-o.covered_cells, o.campaign_id))

    covered_total = sum(d.covered for d in result)
    in_store_total = sum(d.in_store for d in result)
    asked = per_definition * len(definitions)
    return Analysis(
        campaign_id=campaign.pk,
        asked=asked,
        covered=covered_total,
        in_store=in_store_total,
        new=asked - covered_total - in_store_total,
        overlaps=overlaps,
        definitions=result,
    )


def _period_kind(campaign: Campaign) -> str:
    """The kind of period the campaign asks now (its crisis cadence when in crisis)."""
    return str(FREQUENCY_KIND.get(campaign.current_frequency, campaign.period_kind))
