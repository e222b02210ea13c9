"""Data quality of a campaign, and who may read a value's queries: the reads of issue #9.

The quality page lists, for one period of a campaign and the units the reader may see
(``collection.followup.campaign_reader_access``: an ARS agent looking at a national campaign
sees its region only), the values worth a second look:

- **warnings accepted with a comment**: the engine lets a warning through when the respondent
  justifies it; the justification is stored on the value (``Value.comment``, see
  ``collection.values._with_rule_comments``) and on its revision;
- **outliers against the unit's own history**, as DHIS2 offers them, per unit x definition,
  over the previous periods of the same kind:
  - *min-max*: the value lies outside [min, max] of the previous values (at least
    ``RANGE_MIN_HISTORY`` of them: with one or two, every change would be « outside »);
  - *z-score*: ``|value - mean| / standard deviation`` above a threshold (3 by default, chosen
    on the page), with at least ``Z_MIN_HISTORY`` previous values and a non-zero deviation
    (a constant history is the min-max check's business);
- **values above a capacity of the directory**: a definition's ``directory_maximum`` names the
  definition whose latest value, up to the period, is the ceiling (as
  ``collection.values.directory_facts`` gives it to the engine).

The history is one grouped query: count, min, max, sum and sum of squares per unit x
definition. The population standard deviation is computed from those in Python with
``Decimal``: the same arithmetic on PostgreSQL (exact ``numeric`` sums) and SQLite (which has
no ``STDDEV``), with no branch per database. The ceilings are one correlated subquery.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import (
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.http import Http404
from django.utils import timezone

from accounts.models import Role, User
from accounts.scoping import scope_for
from collection.followup import Access, campaign_reader_access
from collection.models import Value, ValueQuery, ValueQueryMessage
from collection.values import display
from referentials.dictionary import definition_spec
from referentials.models import Definition
from surveys.models import Assignment, Campaign, CampaignPeriod, Question

Z_THRESHOLD = Decimal(3)
Z_THRESHOLD_BOUNDS = (Decimal("1.5"), Decimal(10))
Z_MIN_HISTORY = 5
RANGE_MIN_HISTORY = 3

JUSTIFIED = "justified"
RANGE = "range"
ZSCORE = "zscore"
DIRECTORY = "directory"
REASON_LABELS = {
    JUSTIFIED: "Avertissement accepté avec un commentaire",
    RANGE: "Hors de l'intervalle habituel (min-max)",
    ZSCORE: "Écart réduit élevé (z-score)",
    DIRECTORY: "Au-dessus d'une capacité de l'annuaire",
}
OUTLIERS = "outliers"
# What the page filters on: one choice may cover several reasons.
KIND_FILTERS = {
    JUSTIFIED: (JUSTIFIED,),
    OUTLIERS: (RANGE, ZSCORE),
    DIRECTORY: (DIRECTORY,),
}
KIND_CHOICES = [
    (JUSTIFIED, "Avertissements acceptés avec un commentaire"),
    (OUTLIERS, "Valeurs atypiques (min-max ou z-score)"),
    (DIRECTORY, "Au-dessus d'une capacité de l'annuaire"),
]

VALUE_NOT_FOUND = "Valeur introuvable ou hors de votre périmètre."

_WIDE = DecimalField(max_digits=60, decimal_places=12)


# --- Numbers ------------------------------------------------------------------------------------


def fr_number(number: Decimal | None, places: int = 2) -> str:
    """« 10,4 », « 1 250 »: French decimal comma, no trailing zeros."""
    if number is None:
        return "—"
    rounded = round(Decimal(number), places).normalize()
    if rounded == rounded.to_integral():
        rounded = rounded.quantize(Decimal(1))
    sign = "-" if rounded < 0 else ""
    text = format(abs(rounded), "f")
    whole, _, decimals = text.partition(".")
    groups: list[str] = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    grouped = "\u202f".join(groups)
    return f"{sign}{grouped},{decimals}" if decimals else f"{sign}{grouped}"


@dataclass(frozen=True)
class History:
    """A unit's previous values of one definition, summed up."""

    count: int
    minimum: Decimal
    maximum: Decimal
    total: Decimal
    squares: Decimal

    @property
    def mean(self) -> Decimal:
        return self.total / self.count

    @property
    def stddev(self) -> Decimal:
        """Population standard deviation (sum of squares / n - mean²), never negative."""
        variance = self.squares / self.count - self.mean * self.mean
        return variance.sqrt() if variance > 0 else Decimal(0)

    def z(self, number: Decimal) -> Decimal | None:
        deviation = self.stddev
        if self.count < Z_MIN_HISTORY or deviation == 0:
            return None
        return (number - self.mean) / deviation


def parse_threshold(raw: Any) -> Decimal:
    """The z-score threshold typed on the page (« 2,5 »), within bounds; the default else."""
    try:
        threshold = Decimal(str(raw).replace(",", ".").strip())
    except (InvalidOperation, ValueError):
        return Z_THRESHOLD
    low, high = Z_THRESHOLD_BOUNDS
    if not threshold.is_finite():
        return Z_THRESHOLD
    return min(max(threshold, low), high)


# --- What a campaign reads ----------------------------------------------------------------------


def campaign_quality_access(*, user: User, pk: int) -> Access:
    """The campaign as ``user`` may read its quality page (the follow-up's rule), or 404."""
    return campaign_reader_access(user=user, pk=pk)


def period_definitions(period: CampaignPeriod) -> dict[int, Definition]:
    """The definitions the period's version asks, by id."""
    return {
        definition.pk: definition
        for definition in Definition.objects.filter(
            pk__in=Question.objects.filter(
                version_id=period.version_id, definition__isnull=False
            ).values("definition_id")
        )
    }


def period_values(access: Access, period: CampaignPeriod) -> QuerySet[Value]:
    """The stored values the campaign reads for ``period``, for the units ``access`` sees."""
    units = (
        Assignment.objects.filter(campaign=access.campaign, period=period)
        .filter(access.units_q())
        .values("unit_id")
    )
    return Value.objects.filter(
        unit_id__in=units,
        definition_id__in=Question.objects.filter(
            version_id=period.version_id, definition__isnull=False
        ).values("definition_id"),
        period_key=period.key,
    )


def histories(values: QuerySet[Value], period: CampaignPeriod) -> dict[tuple[int, int], History]:
    """(unit id, definition id) -> the summary of its numbers before ``period``: one query."""
    square = ExpressionWrapper(F("number") * F("number"), output_field=_WIDE)
    rows = (
        Value.objects.filter(
            unit_id__in=values.values("unit_id"),
            definition_id__in=values.values("definition_id"),
            period_kind=period.kind,
            period_start__lt=period.start,
            number__isnull=False,
        )
        .values("unit_id", "definition_id")
        .annotate(
            n=Count("pk"),
            lo=Min("number"),
            hi=Max("number"),
            total=Sum("number", output_field=_WIDE),
            squares=Sum(square, output_field=_WIDE),
        )
        .order_by()
    )
    return {
        (row["unit_id"], row["definition_id"]): History(
            count=row["n"],
            minimum=Decimal(row["lo"]),
            maximum=Decimal(row["hi"]),
            total=Decimal(row["total"]),
            squares=Decimal(row["squares"]),
        )
        for row in rows
    }


def _with_ceiling(values: QuerySet[Value]) -> QuerySet[Value]:
    """Each value with the capacity its definition names (latest up to the period), if any."""
    ceiling = (
        Value.objects.filter(
            unit_id=OuterRef("unit_id"),
            definition__code=OuterRef("definition__directory_maximum"),
            period_start__lte=OuterRef("period_end"),
            number__isnull=False,
        )
        .order_by("-period_start")
        .values("number")[:1]
    )
    return values.annotate(ceiling=Subquery(ceiling, output_field=_WIDE))


# --- The report ---------------------------------------------------------------------------------


@dataclass
class Reason:
    kind: str
    text: str

    @property
    def label(self) -> str:
        return REASON_LABELS[self.kind]


@dataclass
class Flagged:
    """One value worth a second look, and why."""

    value: Value
    label: str
    shown: str
    reasons: list[Reason] = field(default_factory=list)
    open_query: ValueQuery | None = None

    @property
    def kinds(self) -> set[str]:
        return {reason.kind for reason in self.reasons}


@dataclass
class Report:
    access: Access
    periods: list[CampaignPeriod]
    period: CampaignPeriod | None
    threshold: Decimal
    kind: str = ""
    examined: int = 0
    flagged: list[Flagged] = field(default_factory=list)

    def count(self, kind: str) -> int:
        return sum(1 for line in self.flagged if kind in line.kinds)

    @property
    def counts(self) -> list[tuple[str, int]]:
        """(label, how many flagged values) per reason, in a fixed order."""
        return [(label, self.count(kind)) for kind, label in REASON_LABELS.items()]


def default_period(periods: list[CampaignPeriod]) -> CampaignPeriod | None:
    """The latest period that has started (the one being answered or just answered)."""
    today = timezone.localdate()
    started = [p for p in periods if p.start <= today]
    return (started or periods)[-1] if periods else None


def reasons_for(
    number: Decimal | None,
    *,
    comment: str,
    history: History | None,
    threshold: Decimal,
    ceiling: Decimal | None,
    ceiling_label: str = "",
) -> list[Reason]:
    """Why a value is flagged: a pure function, so that each rule is tested on its own."""
    reasons = []
    if comment.strip():
        reasons.append(Reason(JUSTIFIED, f"Commentaire de l'établissement : « {comment.strip()} »"))
    if number is not None and history is not None:
        if history.count >= RANGE_MIN_HISTORY and not (
            history.minimum <= number <= history.maximum
        ):
            reasons.append(
                Reason(
                    RANGE,
                    f"En dehors des valeurs précédentes [{fr_number(history.minimum)} ; "
                    f"{fr_number(history.maximum)}] ({history.count} périodes).",
                )
            )
        z = history.z(number)
        if z is not None and abs(z) > threshold:
            reasons.append(
                Reason(
                    ZSCORE,
                    f"z = {fr_number(z, 1)} (moyenne {fr_number(history.mean, 1)}, écart-type "
                    f"{fr_number(history.stddev, 1)} sur {history.count} périodes ; seuil "
                    f"{fr_number(threshold, 1)}).",
                )
            )
    if number is not None and ceiling is not None and number > ceiling:
        named = f" ({ceiling_label})" if ceiling_label else ""
        reasons.append(
            Reason(
                DIRECTORY,
                f"Dépasse la capacité connue de l'établissement : {fr_number(ceiling)}{named}.",
            )
        )
    return reasons


def quality_report(
    *,
    access: Access,
    period_key: str | None = None,
    threshold: Decimal = Z_THRESHOLD,
    kind: str = "",
) -> Report:
    """The flagged values of one period of ``access.campaign`` (the latest started one by
    default), restricted to ``kind`` (a key of ``KIND_FILTERS``) when given. Five queries."""
    periods = list(CampaignPeriod.objects.filter(campaign=access.campaign).order_by("start", "key"))
    period = next((p for p in periods if p.key == period_key), None) or default_period(periods)
    report = Report(access=access, periods=periods, period=period, threshold=threshold, kind=kind)
    if period is None:
        return report
    definitions = period_definitions(period)
    values = period_values(access, period)
    summaries = histories(values, period)
    labels = {
        code: label
        for code, label in Definition.objects.filter(
            code__in={d.directory_maximum for d in definitions.values() if d.directory_maximum}
        ).values_list("code", "label")
    }
    candidates: dict[int, list[Reason]] = {}
    # « ceiling » is the annotation of ``_with_ceiling``, unknown to the stubs.
    rows = _with_ceiling(values).values_list(  # type: ignore[misc]
        "pk", "unit_id", "definition_id", "number", "comment", "ceiling"
    )
    for pk, unit_id, definition_id, number, comment, ceiling in rows:
        report.examined += 1
        definition = definitions[definition_id]
        reasons = reasons_for(
            number,
            comment=comment,
            history=summaries.get((unit_id, definition_id)),
            threshold=threshold,
            ceiling=ceiling if definition.directory_maximum else None,
            ceiling_label=labels.get(definition.directory_maximum, ""),
        )
        if kind and not any(r.kind in KIND_FILTERS.get(kind, ()) for r in reasons):
            continue
        if reasons:
            candidates[pk] = reasons
    if not candidates:
        return report
    open_queries = {
        query.value_id: query
        for query in ValueQuery.objects.filter(
            value_id__in=list(candidates), status=ValueQuery.Status.OPEN
        )
    }
    specs = {pk: definition_spec(definition) for pk, definition in definitions.items()}
    for value in (
        Value.objects.filter(pk__in=list(candidates))
        .select_related("unit", "definition")
        .order_by("unit__label", "definition__code", "pk")
    ):
        definition_id = value.definition_id or 0  # always set: the values are filtered on it
        report.flagged.append(
            Flagged(
                value=value,
                label=definitions[definition_id].label,
                shown=display(specs[definition_id], value.data) or "(vide)",
                reasons=candidates[value.pk],
                open_query=open_queries.get(value.pk),
            )
        )
    return report


# --- Queries: who reads and who answers a value -------------------------------------------------


@dataclass(frozen=True)
class ValueAccess:
    """A value as one user may see it: as a requester (``campaigns`` they may query it for),
    a reader, or a respondent of its unit."""

    value: Value
    campaigns: tuple[Campaign, ...]  # campaigns of the user's organisations reading the value
    can_ask: bool  # a requester of one of ``campaigns`` whose scope holds the unit
    can_answer: bool  # a respondent of the unit


def reading_campaigns(value: Value) -> QuerySet[Campaign]:
    """Campaigns that read ``value``: one of their assignments is for its unit and period, and
    the version of that assignment asks its definition (or, ad hoc, its survey's code)."""
    asks = Q(version__questions__definition_id=value.definition_id)
    if value.definition_id is None:
        asks = Q(version__survey_id=value.survey_id, version__questions__code=value.code)
    campaign_ids = (
        Assignment.objects.filter(asks, unit_id=value.unit_id, period__key=value.period_key)
        .values("campaign_id")
        .distinct()
    )
    return Campaign.objects.filter(pk__in=campaign_ids)


def value_access(*, user: User, pk: int) -> ValueAccess:
    """The value ``pk`` for ``user``, or 404: respondents of its unit, and requesters or viewers
    of an organisation whose campaign reads it, for units of their scope."""
    value = (
        Value.objects.select_related("unit", "definition", "survey", "campaign__owner")
        .filter(pk=pk)
        .first()
    )
    if value is None:
        raise Http404(VALUE_NOT_FOUND)
    unit = Value.objects.filter(pk=pk)
    can_answer = unit.filter(scope_for(user, roles=[Role.RESPONDENT]).units_q("unit__")).exists()
    reader_scope = scope_for(user, roles=[Role.REQUESTER, Role.VIEWER])
    campaigns: tuple[Campaign, ...] = ()
    can_ask = False
    if reader_scope.organisation_ids and unit.filter(reader_scope.units_q("unit__")).exists():
        campaigns = tuple(
            reading_campaigns(value)
            .filter(owner_id__in=sorted(reader_scope.organisation_ids))
            .select_related("owner")
            .order_by("-pk")
        )
        requester_scope = scope_for(user, roles=[Role.REQUESTER])
        can_ask = any(c.owner_id in requester_scope.organisation_ids for c in campaigns) and (
            unit.filter(requester_scope.units_q("unit__")).exists()
        )
    if not (can_answer or campaigns):
        raise Http404(VALUE_NOT_FOUND)
    return ValueAccess(value=value, campaigns=campaigns, can_ask=can_ask, can_answer=can_answer)


def askable_campaigns(*, user: User, value: Value) -> list[Campaign]:
    """The campaigns ``user`` may query ``value`` for (requester of the owner, unit in scope)."""
    requester_scope = scope_for(user, roles=[Role.REQUESTER])
    if (
        requester_scope.is_empty
        or not Value.objects.filter(requester_scope.units_q("unit__"), pk=value.pk).exists()
    ):
        return []
    return list(
        reading_campaigns(value).filter(owner_id__in=sorted(requester_scope.organisation_ids))
    )


def open_queries_for_respondent(*, user: User) -> QuerySet[ValueQuery]:
    """Open queries on the units ``user`` answers for, oldest first."""
    scope = scope_for(user, roles=[Role.RESPONDENT])
    if scope.is_empty:
        return ValueQuery.objects.none()
    return (
        ValueQuery.objects.filter(scope.units_q("value__unit__"), status=ValueQuery.Status.OPEN)
        .select_related("value__unit", "value__definition", "campaign__owner", "asked_by")
        .order_by("asked_at", "pk")
    )


def queries_for_requester(*, user: User) -> QuerySet[ValueQuery]:
    """Queries of campaigns of ``user``'s organisations on units of their scope, not closed:
    answered ones (awaiting them) first, then those still awaiting the establishment."""
    scope = scope_for(user, roles=[Role.REQUESTER, Role.VIEWER])
    if scope.is_empty or not scope.organisation_ids:
        return ValueQuery.objects.none()
    return (
        ValueQuery.objects.filter(
            scope.units_q("value__unit__"),
            campaign__owner_id__in=sorted(scope.organisation_ids),
        )
        .exclude(status=ValueQuery.Status.CLOSED)
        .select_related("value__unit", "value__definition", "campaign__owner", "asked_by")
        .order_by("asked_at", "pk")
    )


def open_query_count(*, user: User) -> int:
    return open_queries_for_respondent(user=user).count()


def thread(value: Value) -> list[dict[str, Any]]:
    """Every query on ``value``, newest first, each with its messages in order."""
    messages_by_query: dict[int, list[Any]] = defaultdict(list)
    queries = list(
        ValueQuery.objects.filter(value=value)
        .select_related("asked_by", "campaign__owner")
        .order_by("-asked_at", "-pk")
    )
    for message in ValueQueryMessage.objects.filter(query__in=queries).select_related(
        "author", "revision"
    ):
        messages_by_query[message.query_id].append(message)
    return [{"query": query, "messages": messages_by_query[query.pk]} for query in queries]
