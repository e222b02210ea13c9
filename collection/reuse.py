"""Values served from the store instead of asked: the reading side of the « reuse » choice.

When a requester chooses reuse (``Campaign.overlap_choice = "reuse"``), each
``CampaignReuse(campaign, definition, source)`` row says that the campaign does not ask that
definition: its cells are served. For the assignment of unit U and period P, the definition is
served when

- a source campaign S asks it of U for periods that make P through the dictionary's time
  aggregation (``surveys.coverage.source_periods``: the same period, the last day of the week
  for a stock, every day for a flow or a level), as ``source_needs`` decides it once for this
  module, ``collection.burden`` and (through the same planned periods) ``collection.overlaps``:
  S is scheduled, open or closed (never a draft); its planned periods are those of its
  cadence *and* its crisis switches (``surveys.campaigns.segments``), each kind it asks tried
  in turn; every needed period is one of them; a closed S only counts the periods started
  before its closing. For U: U is in S's audience, S asks D, U is not exempted from any needed
  period of S, and when S is closed U had an assignment for every needed period and the store
  holds all of them (a closed campaign collects nothing more: anything short of that is asked);
- or, without a source, when the store already holds complete values for P (the same period,
  or finer periods that tile it) that another campaign collected: the campaign's own answers
  never serve it (they are its answers, not reuse).

A served value is computed only from complete source values (``coverage.aggregate``); until
then it is *pending*: still not asked (the source campaign asks it), shown as awaited. Every
channel goes through ``collection.values.check``, which leaves served questions out of what is
asked and refuses an input that carries one. Everything else here is a read: no writes.
"""

import copy
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django.utils import timezone

from collection.models import Value
from referentials.validation import DefinitionSpec, ParseError, format_value, parse_value
from surveys import coverage
from surveys.campaigns import planned_periods, segments
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
from surveys.periods import Period, PeriodKind, is_finer, parse_period
from surveys.schema import QuestionSpec, VersionSchema, version_schema

AVAILABLE = "available"
PENDING = "pending"

# « 7 valeurs journalières »: the adjective of each period kind, singular and plural.
_KIND_WORDS = {
    PeriodKind.DAY: ("journalière", "journalières"),
    PeriodKind.WEEK: ("hebdomadaire", "hebdomadaires"),
    PeriodKind.MONTH: ("mensuelle", "mensuelles"),
    PeriodKind.QUARTER: ("trimestrielle", "trimestrielles"),
    PeriodKind.YEAR: ("annuelle", "annuelles"),
}


@dataclass(frozen=True)
class Served:
    """One question of one assignment that is served from the store instead of asked."""

    code: str
    definition_id: int
    state: str  # AVAILABLE or PENDING
    data: Any  # canonical store data (aggregated from finer periods); None when pending
    text: str  # as displayed (French formatting), "" when pending
    needed: tuple[str, ...]  # the source period keys
    present: int  # how many of them the store holds
    sources: tuple[int, ...]  # the Value ids used
    source_campaign_id: int | None
    provenance: str  # a French sentence: who declared it, when, through which campaign

    @property
    def available(self) -> bool:
        return self.state == AVAILABLE


@dataclass(frozen=True)
class _Stored:
    pk: int
    data: Any
    changed_at: dt.datetime
    unit_label: str
    campaign_id: int | None
    campaign_label: str  # « « Capacités » (DGOS) »
    assignment_campaign_id: int | None = None  # the campaign of the assignment that wrote it


# --- Entry points -----------------------------------------------------------------------------


def served_for(assignment: Assignment, *, schema: VersionSchema | None = None) -> dict[str, Served]:
    """Question code -> what is served, for this assignment's version (empty: all asked)."""
    campaign = assignment.campaign
    if campaign.overlap_choice != OverlapChoice.REUSE:
        return {}  # no query for the campaigns that did not choose reuse
    schema = schema or version_schema(assignment.version)
    served = _serve(
        campaign=campaign,
        period=parse_period(assignment.period.key),
        schema=schema,
        unit_ids=[assignment.unit_id],
    )
    return {code: item for (_, code), item in served.items()}


def served_values(
    *,
    campaign: Campaign,
    period_key: str,
    unit_ids: Iterable[int] | None = None,
    schema: VersionSchema | None = None,
) -> dict[tuple[int, str], Served]:
    """(unit id, question code) -> what is served for one period of the campaign, set-based
    (a handful of queries whatever the number of units): results and exports read it.

    ``unit_ids`` None: the units of the period's assignments (or of the audience)."""
    if campaign.overlap_choice != OverlapChoice.REUSE:
        return {}
    if schema is None:
        version = (
            CampaignPeriod.objects.filter(campaign=campaign, key=period_key)
            .select_related("version")
            .first()
        )
        schema = version_schema(version.version if version is not None else campaign.version)
    if unit_ids is None:
        units = list(
            Assignment.objects.filter(campaign=campaign, period__key=period_key).values_list(
                "unit_id", flat=True
            )
        ) or list(
            AudienceMember.objects.filter(campaign=campaign).values_list("unit_id", flat=True)
        )
    else:
        units = list(unit_ids)
    return _serve(campaign=campaign, period=parse_period(period_key), schema=schema, unit_ids=units)


def refusal_message(*, assignment_id: int, question: QuestionSpec, served: Served) -> str:
    """What every channel says when an input carries a served question."""
    url = reverse("collection:served_value", kwargs={"pk": assignment_id, "code": question.code})
    return (
        f"{question.label} : cette valeur n'est pas demandée ici, elle est fournie par une "
        f"autre déclaration ({served.provenance}). Retirez-la de votre saisie ; pour la "
        f"corriger, utilisez « Corriger la valeur partagée » ({url})."
    )


def served_url(assignment_id: int, code: str) -> str:
    return reverse("collection:served_value", kwargs={"pk": assignment_id, "code": code})


# --- The rule ---------------------------------------------------------------------------------

# A draft asks nothing yet; a closed campaign served what it collected before closing.
SERVING_STATUSES = (Campaign.Status.SCHEDULED, Campaign.Status.OPEN, Campaign.Status.CLOSED)


@dataclass(frozen=True)
class SourcePlan:
    """The periods a source campaign really asks, up to a target period's end."""

    campaign: Campaign
    keys: frozenset[str]
    kinds: tuple[PeriodKind, ...]  # every kind among them, coarsest first

    @property
    def closed(self) -> bool:
        return self.campaign.status == Campaign.Status.CLOSED


def crisis_events(campaign_ids: Iterable[int]) -> dict[int, list[CampaignEvent]]:
    """Campaign id -> its crisis switches in order (one query for every source)."""
    found: dict[int, list[CampaignEvent]] = defaultdict(list)
    for event in CampaignEvent.objects.filter(
        campaign_id__in=list(campaign_ids), kind=CampaignEvent.Kind.CRISIS
    ).order_by("created_at", "pk"):
        found[event.campaign_id].append(event)
    return found


def source_plan(
    source: Campaign, target: Period, *, crisis: list[CampaignEvent] | None = None
) -> SourcePlan | None:
    """What ``source`` asks up to ``target``'s end, as ``collection.overlaps`` plans it (its
    cadence and its crisis switches); None for a draft. An open-ended campaign asks every
    period to come; a closed one only those started before its closing."""
    if source.status not in SERVING_STATUSES:
        return None
    plan = source
    if source.frequency != "once" and source.end_date is None:
        plan = copy.copy(source)
        plan.end_date = target.end
    periods = planned_periods(plan, until=target.end, plan=segments(source, crisis_events=crisis))
    if source.status == Campaign.Status.CLOSED and source.closed_at is not None:
        closed_on = timezone.localtime(source.closed_at).date()
        periods = [p for p in periods if p.start <= closed_on]
    kinds = sorted({p.kind for p in periods}, key=list(PeriodKind).index, reverse=True)
    return SourcePlan(source, frozenset(p.key for p in periods), tuple(kinds))


def source_needs(
    plan: SourcePlan | None, target: Period, *, aggregation: str, numeric: bool
) -> list[Period] | None:
    """The source periods whose values make ``target``'s value, when the source asks them
    all (one kind of its periods, tried coarsest first); None when it does not serve."""
    if plan is None:
        return None
    for kind in plan.kinds:
        needed = coverage.source_periods(target, kind, aggregation=aggregation, numeric=numeric)
        if needed and all(p.key in plan.keys for p in needed):
            return needed
    return None


def _source_assignments(
    sources: Iterable[int], unit_ids: list[int], period: Period
) -> tuple[set[tuple[int, int, str]], set[tuple[int, int, str]]]:
    """(source, unit, period key) of the sources' assignments inside ``period``: those
    exempted, and the others (one query for every source)."""
    exempted: set[tuple[int, int, str]] = set()
    owed: set[tuple[int, int, str]] = set()
    rows = Assignment.objects.filter(
        campaign_id__in=list(sources),
        unit_id__in=unit_ids,
        period__start__gte=period.start,
        period__end__lte=period.end,
    ).values_list("campaign_id", "unit_id", "period__key", "status")
    for campaign_id, unit_id, key, status in rows:
        (exempted if status == Assignment.Status.EXEMPTED else owed).add(
            (campaign_id, unit_id, key)
        )
    return exempted, owed


def _serve(
    *,
    campaign: Campaign,
    period: Period,
    schema: VersionSchema,
    unit_ids: list[int],
) -> dict[tuple[int, str], Served]:
    if not unit_ids:
        return {}
    reuses = list(
        CampaignReuse.objects.filter(campaign=campaign)
        .select_related("definition", "source__owner")
        .order_by("pk")
    )
    questions = {q.definition_id: q for q in schema.questions if q.definition_id is not None}
    reuses = [r for r in reuses if r.definition_id in questions]
    if not reuses:
        return {}
    # Who each source campaign asks, among these units (one query for every source).
    sources: dict[int, Campaign] = {
        r.source.pk: r.source
        for r in reuses
        if r.source is not None and r.source.status in SERVING_STATUSES
    }
    audience: dict[int, set[int]] = defaultdict(set)
    exempted: set[tuple[int, int, str]] = set()
    owed: set[tuple[int, int, str]] = set()
    plans: dict[int, SourcePlan | None] = {}
    asked_by: set[tuple[int, int]] = set()
    if sources:
        for source_id, unit_id in AudienceMember.objects.filter(
            campaign_id__in=list(sources), unit_id__in=unit_ids
        ).values_list("campaign_id", "unit_id"):
            audience[source_id].add(unit_id)
        # A source serves only the definitions its survey asks (one query for every source).
        asked_by = set(
            Question.objects.filter(
                version_id__in={s.version_id for s in sources.values()},
                definition_id__in={r.definition_id for r in reuses},
            ).values_list("version_id", "definition_id")
        )
        crisis = crisis_events(sources)
        plans = {pk: source_plan(s, period, crisis=crisis[pk]) for pk, s in sources.items()}
        exempted, owed = _source_assignments(sources, unit_ids, period)
    # Every value that may serve: these units, these definitions, inside the period.
    stored = _stored(
        unit_ids=unit_ids, definition_ids={r.definition_id for r in reuses}, period=period
    )
    result: dict[tuple[int, str], Served] = {}
    for unit_id in unit_ids:
        for reuse in reuses:
            question = questions[reuse.definition_id]
            key = (unit_id, question.code)
            found = result.get(key)
            if found is not None and found.available:
                continue  # an earlier source already serves it
            held = stored.get((unit_id, reuse.definition_id), {})
            aggregation = reuse.definition.time_aggregation
            if reuse.source is not None:
                source = sources.get(reuse.source.pk)
                if source is None or unit_id not in audience[source.pk]:
                    continue
                if (source.version_id, reuse.definition_id) not in asked_by:
                    continue
                needed = source_needs(
                    plans[source.pk], period, aggregation=aggregation, numeric=_numeric(question)
                )
                if not needed or any((source.pk, unit_id, p.key) in exempted for p in needed):
                    continue
                served: Served | None = _served(
                    question, period, needed, held, aggregation=aggregation, source=source
                )
                if source.status == Campaign.Status.CLOSED and not (
                    served is not None
                    and served.available
                    and all((source.pk, unit_id, p.key) in owed for p in needed)
                ):
                    continue  # a closed campaign collects nothing more: asked here
            else:
                # The campaign's own answers are not reuse: they never serve it.
                others = {
                    k: s
                    for k, s in held.items()
                    if campaign.pk not in (s.campaign_id, s.assignment_campaign_id)
                }
                served = _from_store(question, aggregation, period, others)
            if served is not None and (found is None or served.available):
                result[key] = served
    return result


def _numeric(question: QuestionSpec) -> bool:
    return question.spec.type.value in coverage.NUMERIC_TYPES


def _from_store(
    question: QuestionSpec, aggregation: str, period: Period, held: Mapping[str, _Stored]
) -> Served | None:
    """Without a source: the same period if stored, else the coarsest finer kind whose
    values tile the period and are all stored."""
    kinds = [period.kind] + [
        kind for kind in reversed(list(PeriodKind)) if is_finer(kind, period.kind)
    ]
    for kind in kinds:
        needed = coverage.source_periods(
            period, kind, aggregation=aggregation, numeric=_numeric(question)
        )
        if needed and coverage.complete(needed, {k: s.data for k, s in held.items()}):
            return _served(question, period, needed, held, aggregation=aggregation, source=None)
    return None


def _served(
    question: QuestionSpec,
    period: Period,
    needed: list[Period],
    held: Mapping[str, _Stored],
    *,
    aggregation: str,
    source: Campaign | None,
) -> Served:
    present = [held[p.key] for p in needed if p.key in held and held[p.key].data is not None]
    keys = tuple(p.key for p in needed)
    definition_id = question.definition_id or 0
    if len(present) < len(needed):
        return Served(
            code=question.code,
            definition_id=definition_id,
            state=PENDING,
            data=None,
            text="",
            needed=keys,
            present=len(present),
            sources=tuple(s.pk for s in present),
            source_campaign_id=source.pk if source is not None else None,
            provenance=_pending_sentence(needed, len(present), source),
        )
    data = coverage.aggregate(aggregation, [s.data for s in present])
    last = present[-1]
    return Served(
        code=question.code,
        definition_id=definition_id,
        state=AVAILABLE,
        data=data,
        text=display(question.spec, data),
        needed=keys,
        present=len(present),
        sources=tuple(s.pk for s in present),
        source_campaign_id=source.pk if source is not None else last.campaign_id,
        provenance=_sentence(period, needed, present, aggregation),
    )


def display(spec: DefinitionSpec, data: Any) -> str:
    """As ``values.display`` (which this module cannot import: values imports it)."""
    try:
        return format_value(spec, parse_value(spec, data))
    except ParseError:
        return str(data)


# --- Reading the store ------------------------------------------------------------------------


def _stored(
    *, unit_ids: list[int], definition_ids: set[int], period: Period
) -> dict[tuple[int, int], dict[str, _Stored]]:
    """(unit, definition) -> period key -> stored value, for every value inside ``period``."""
    rows = Value.objects.filter(
        unit_id__in=unit_ids,
        definition_id__in=definition_ids,
        period_start__gte=period.start,
        period_end__lte=period.end,
    ).values_list(
        "pk",
        "unit_id",
        "definition_id",
        "period_key",
        "data",
        "changed_at",
        "unit__label",
        "campaign_id",
        "campaign__title",
        "campaign__owner__short_name",
        "campaign__owner__name",
        "assignment__campaign_id",
    )
    found: dict[tuple[int, int], dict[str, _Stored]] = defaultdict(dict)
    for pk, unit_id, definition_id, key, data, at, label, cid, title, short, name, aid in rows:
        campaign_label = f"« {title} » ({short or name})" if cid else ""
        found[(unit_id, definition_id)][key] = _Stored(
            pk, data, at, label, cid, campaign_label, aid
        )
    return found


# --- Sentences --------------------------------------------------------------------------------


def _kind_words(kind: PeriodKind, count: int) -> str:
    singular, plural = _KIND_WORDS[kind]
    return singular if count == 1 else plural


def _sentence(
    period: Period, needed: list[Period], present: list[_Stored], aggregation: str
) -> str:
    last = present[-1]
    when = timezone.localtime(last.changed_at).strftime("%d/%m/%Y")
    via = f" via {last.campaign_label}" if last.campaign_label else ""
    kind = needed[0].kind
    if len(needed) == 1 and kind == period.kind:
        return f"Déclarée par {last.unit_label} le {when}{via}"
    if len(needed) == 1:
        return (
            f"Dernière valeur {_kind_words(kind, 1)} de la période ({needed[0].label}), "
            f"déclarée par {last.unit_label} le {when}{via}"
        )
    what = "Somme" if aggregation == coverage.FLOW else "Moyenne"
    return (
        f"{what} des {len(needed)} valeurs {_kind_words(kind, len(needed))} déclarées par "
        f"{last.unit_label} du {needed[0].start:%d/%m} au {needed[-1].end:%d/%m/%Y}{via}"
    )


def _pending_sentence(needed: list[Period], present: int, source: Campaign | None) -> str:
    kind = needed[0].kind
    where = ""
    if source is not None:
        owner = source.owner.short_name or source.owner.name
        where = f" dans la campagne « {source.title} » ({owner})"
    return (
        f"En attente : {present} valeur{'s' if present > 1 else ''} "
        f"{_kind_words(kind, max(present, 1))} sur {len(needed)} "
        f"déclarée{'s' if present > 1 else ''}{where}"
    )
