"""Reads of the register of collections: who asks what, of whom, when, and at what cost.

The register lists every campaign of every organisation once it is scheduled, open or closed
(a draft only to its owner organisation), for the requesters and viewers of every national
directorate and ARS: seeing what the others already ask is how the same question stops being
asked twice.

The burden of a campaign is counted in *cells*: one answer of one reporting unit to one
question for one period. Per period it is the audience size times the number of questions of
the version that period asks; the total adds every period opened so far (each with its own
version) and every period still planned until the end date (with the current version). A
recurring campaign without an end date has no planned total: only its opened periods count,
and the row says it is open-ended.

Each list is read in a fixed number of queries whatever its length: the counts are annotated
subqueries, the definitions asked are fetched for all the rows of a page at once. The rows are
sorted in Python: the planned periods come from calendar arithmetic (``period_count``), the
same on SQLite and PostgreSQL, and the register holds thousands of campaigns, not millions.
"""

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, Exists, F, IntegerField, Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404

from accounts.models import Organisation, Role
from accounts.scoping import AnyUser, scope_for
from referentials import territories
from referentials.models import Definition, Theme
from surveys.campaigns import FREQUENCY_KIND
from surveys.models import (
    AudienceMember,
    Campaign,
    CampaignPeriod,
    Frequency,
    OverlapChoice,
    Question,
)
from surveys.periods import PeriodKind, period_of

REGISTER_ROLES = (Role.REQUESTER, Role.VIEWER)
# What every requester and viewer sees; a draft is shown to its owner organisation only.
PUBLIC_STATUSES = (Campaign.Status.SCHEDULED, Campaign.Status.OPEN, Campaign.Status.CLOSED)


class Order:
    """How the register may be sorted (the values are what the query string carries)."""

    RECENT = ""
    BURDEN = "charge"
    PERIOD_BURDEN = "charge_periode"
    CHOICES = [
        (RECENT, "Les plus récentes d'abord"),
        (BURDEN, "Charge totale décroissante"),
        (PERIOD_BURDEN, "Charge par période décroissante"),
    ]


@dataclass(frozen=True)
class RegisterFilters:
    theme: str = ""  # a Theme code
    definition: str = ""  # a Definition code
    territory: str = ""  # an INSEE territory code (75, 2A, 977...)
    owner: int | None = None  # an Organisation id
    status: str = ""  # a Campaign.Status


@dataclass
class RegisterRow:
    """One campaign of the register, with its burden; ``definitions`` filled per page."""

    pk: int
    title: str
    status: str
    owner_id: int
    owner_name: str
    owner_short_name: str
    survey_id: int
    version_id: int
    version_number: int
    unit_kind: str
    audience_size: int
    frequency: str
    period_kind: str
    crisis_frequency: str
    in_crisis: bool
    start_date: date
    end_date: date | None
    opened_at: datetime | None
    closed_at: datetime | None
    created_at: datetime
    question_count: int
    ad_hoc_count: int
    opened_periods: int
    # Sum over the opened periods of the number of questions of each period's version.
    opened_period_questions: int
    last_period_end: date | None
    is_own: bool
    definitions: list[tuple[str, str]] = field(default_factory=list)
    # The choice after the overlap analysis, and the analysis as it stood (collection.overlaps).
    overlap_choice: str = ""
    overlap_justification: str = ""
    overlap_summary: dict[str, Any] = field(default_factory=dict)

    @property
    def status_label(self) -> str:
        return str(Campaign.Status(self.status).label)

    @property
    def frequency_label(self) -> str:
        return str(Frequency(self.frequency).label)

    @property
    def crisis_frequency_label(self) -> str:
        return str(Frequency(self.crisis_frequency).label) if self.crisis_frequency else ""

    @property
    def overlap_choice_label(self) -> str:
        return str(OverlapChoice(self.overlap_choice).label) if self.overlap_choice else ""

    @property
    def overlap_campaigns(self) -> list[dict[str, Any]]:
        """The overlapping campaigns recorded with the choice (title, owner, cells...)."""
        return list(self.overlap_summary.get("overlaps", [])) if self.overlap_summary else []

    @property
    def owner_label(self) -> str:
        return self.owner_short_name or self.owner_name

    @property
    def current_frequency(self) -> str:
        return self.crisis_frequency if self.in_crisis and self.crisis_frequency else self.frequency

    @property
    def open_ended(self) -> bool:
        """A recurring campaign with no end date: its total grows with every period."""
        return self.end_date is None and self.current_frequency != Frequency.ONCE

    @property
    def planned_periods(self) -> int:
        """Periods still to open until the end date (none once closed or open-ended)."""
        if self.status == Campaign.Status.CLOSED:
            return 0
        if self.current_frequency == Frequency.ONCE:
            return 0 if self.opened_periods else 1
        if self.end_date is None:
            return 0
        kind = FREQUENCY_KIND[self.current_frequency]
        first = self.start_date
        if self.last_period_end is not None and self.last_period_end >= first:
            first = self.last_period_end + timedelta(days=1)
            # A coarser cadence resumes at its next boundary (as surveys.campaigns plans it).
            resumed = period_of(kind, first)
            if resumed.start < first:
                first = resumed.end + timedelta(days=1)
        return period_count(kind, first, self.end_date)

    @property
    def cells_per_period(self) -> int:
        return self.audience_size * self.question_count

    @property
    def opened_cells(self) -> int:
        return self.audience_size * self.opened_period_questions

    @property
    def cells_total(self) -> int:
        return self.opened_cells + self.planned_periods * self.cells_per_period


def period_count(kind: PeriodKind | str, first: date, last: date) -> int:
    """How many periods of ``kind`` run from the one containing ``first`` to ``last``'s (0 if
    ``last`` comes first); arithmetic, so a ten-year daily campaign costs nothing."""
    if last < first:
        return 0
    kind = PeriodKind(kind)
    start, end = period_of(kind, first).start, period_of(kind, last).start
    match kind:
        case PeriodKind.DAY:
            return (end - start).days + 1
        case PeriodKind.WEEK:
            return (end - start).days // 7 + 1
        case PeriodKind.MONTH:
            return (end.year - start.year) * 12 + end.month - start.month + 1
        case PeriodKind.QUARTER:
            return ((end.year - start.year) * 12 + end.month - start.month) // 3 + 1
        case _:
            return end.year - start.year + 1


# --- Who sees what ----------------------------------------------------------------------------


def register_organisation_ids(user: AnyUser) -> frozenset[int]:
    """The organisations where ``user`` is a requester or a viewer (their drafts are shown)."""
    return scope_for(user, roles=REGISTER_ROLES).organisation_ids


def requester_organisation_ids(user: AnyUser) -> frozenset[int]:
    """The organisations where ``user`` may act on campaigns (open, close, create surveys)."""
    return scope_for(user, roles=[Role.REQUESTER]).organisation_ids


def register_campaigns(user: AnyUser) -> QuerySet[Campaign]:
    """Every campaign the register shows ``user``: none unless a requester or a viewer."""
    own = register_organisation_ids(user)
    if not own:
        return Campaign.objects.none()
    return Campaign.objects.filter(
        Q(status__in=PUBLIC_STATUSES) | Q(status=Campaign.Status.DRAFT, owner_id__in=sorted(own))
    )


def _filters_territories(filters: dict[str, Any], owner: Organisation) -> set[str] | None:
    """Territories an unresolved audience (its filters) reaches; None means "all of them"."""
    codes = {
        str(c).upper() for c in [*filters.get("territories", []), *filters.get("departments", [])]
    }
    for region in filters.get("regions", []) or []:
        codes |= {c for c, d in territories.departments().items() if d.region_code == str(region)}
    if codes:
        return codes
    if owner.kind == Organisation.Kind.NATIONAL:
        return None
    return set(owner.covered_territories or []) or ({owner.territory_code} - {""})


def _territory_q(campaigns: QuerySet[Campaign], territory: str) -> Q:
    """Campaigns whose audience reaches ``territory``: their resolved members once sent, their
    filters (and owner's reach) while they have none (drafts, scheduled campaigns)."""
    members = AudienceMember.objects.filter(campaign=OuterRef("pk"))
    in_territory = Exists(members.filter(unit__territory_code=territory))
    unresolved = campaigns.filter(~Exists(members)).select_related("owner")
    from_filters = [
        c.pk
        for c in unresolved
        if (reached := _filters_territories(c.audience_filters or {}, c.owner)) is None
        or territory in reached
    ]
    return in_territory | Q(pk__in=from_filters)


def _count(queryset: QuerySet[Any], group: str) -> Subquery:
    return Subquery(
        queryset.order_by().values(group).annotate(n=Count("pk")).values("n")[:1],
        output_field=IntegerField(),
    )


def register_queryset(*, user: AnyUser, filters: RegisterFilters | None = None) -> QuerySet[Any]:
    """The register's rows as dictionaries, counts annotated, in one query."""
    filters = filters or RegisterFilters()
    campaigns = register_campaigns(user)
    if filters.status:
        campaigns = campaigns.filter(status=filters.status)
    if filters.owner:
        campaigns = campaigns.filter(owner_id=filters.owner)
    asked = Question.objects.filter(version=OuterRef("version"))
    if filters.definition:
        campaigns = campaigns.filter(Exists(asked.filter(definition__code=filters.definition)))
    if filters.theme:
        campaigns = campaigns.filter(Exists(asked.filter(definition__themes__code=filters.theme)))
    if filters.territory:
        campaigns = campaigns.filter(_territory_q(campaigns, filters.territory))
    periods = CampaignPeriod.objects.filter(campaign=OuterRef("pk")).order_by().values("campaign")
    own = sorted(register_organisation_ids(user))
    return campaigns.annotate(
        question_count=Coalesce(_count(asked, "version"), 0),
        ad_hoc_count=Coalesce(_count(asked.filter(definition__isnull=True), "version"), 0),
        opened_periods=Coalesce(_count(periods, "campaign"), 0),
        # One row per (period, question of its version): the sum of the versions' lengths.
        opened_period_questions=Coalesce(
            Subquery(
                periods.annotate(n=Count("version__questions")).values("n")[:1],
                output_field=IntegerField(),
            ),
            0,
        ),
        last_period_end=Subquery(periods.annotate(m=Max("end")).values("m")[:1]),
        is_own=Q(owner_id__in=own),
    ).values(
        "pk",
        "title",
        "status",
        "owner_id",
        "survey_id",
        "version_id",
        "unit_kind",
        "audience_size",
        "frequency",
        "period_kind",
        "crisis_frequency",
        "in_crisis",
        "start_date",
        "end_date",
        "opened_at",
        "closed_at",
        "created_at",
        "question_count",
        "ad_hoc_count",
        "opened_periods",
        "opened_period_questions",
        "last_period_end",
        "is_own",
        "overlap_choice",
        "overlap_justification",
        "overlap_summary",
        owner_name=F("owner__name"),
        owner_short_name=F("owner__short_name"),
        version_number=F("version__number"),
    )


def register_rows(
    *, user: AnyUser, filters: RegisterFilters | None = None, order: str = Order.RECENT
) -> list[RegisterRow]:
    """The register, sorted; call ``attach_definitions`` on the rows you show."""
    rows = [RegisterRow(**values) for values in register_queryset(user=user, filters=filters)]
    rows.sort(key=lambda r: (r.start_date, r.created_at, r.pk), reverse=True)
    if order == Order.BURDEN:
        rows.sort(key=lambda r: r.cells_total, reverse=True)
    elif order == Order.PERIOD_BURDEN:
        rows.sort(key=lambda r: r.cells_per_period, reverse=True)
    return rows


def attach_definitions(rows: Sequence[RegisterRow]) -> Sequence[RegisterRow]:
    """Fill each row's definitions asked (code, label), in one query for all the rows."""
    by_version: dict[int, list[tuple[str, str]]] = defaultdict(list)
    questions = (
        Question.objects.filter(
            version_id__in={r.version_id for r in rows}, definition__isnull=False
        )
        .order_by("version_id", "section__order", "order", "pk")
        .values_list("version_id", "definition__code", "definition__label")
    )
    for version_id, code, label in questions:
        by_version[version_id].append((code, label))
    for row in rows:
        row.definitions = by_version.get(row.version_id, [])
    return rows


def iter_register_rows(rows: Sequence[RegisterRow], *, chunk: int = 500) -> Iterator[RegisterRow]:
    """Rows with their definitions, fetched ``chunk`` rows at a time (for the CSV export)."""
    for start in range(0, len(rows), chunk):
        yield from attach_definitions(rows[start : start + chunk])


# --- Filter choices ---------------------------------------------------------------------------


def theme_choices() -> list[tuple[str, str]]:
    return list(Theme.objects.order_by("label").values_list("code", "label"))


def definition_choices(user: AnyUser) -> list[tuple[str, str]]:
    """Definitions asked by at least one campaign of the register, by label."""
    versions = register_campaigns(user).values("version_id")
    return [
        (code, f"{label} ({code})")
        for code, label in Definition.objects.filter(questions__version_id__in=versions)
        .order_by("label", "code")
        .values_list("code", "label")
        .distinct()
    ]


def owner_choices(user: AnyUser) -> list[tuple[str, str]]:
    """Organisations that own at least one campaign of the register."""
    owners = register_campaigns(user).values("owner_id")
    return [
        (str(pk), short_name or name)
        for pk, name, short_name in Organisation.objects.filter(pk__in=owners)
        .order_by("name")
        .values_list("pk", "name", "short_name")
    ]


def territory_choices() -> list[tuple[str, str]]:
    return [(code, f"{d.name} ({code})") for code, d in sorted(territories.departments().items())]


# --- One campaign -----------------------------------------------------------------------------


@dataclass
class RegisterDetail:
    row: RegisterRow
    campaign: Campaign
    questions: list[Question]
    periods: list[CampaignPeriod]
    audience_criteria: list[tuple[str, list[str]]]


AUDIENCE_LABELS = {
    "categories": "Catégories FINESS",
    "aggregate_categories": "Catégories agrégées",
    "regions": "Régions",
    "departments": "Départements ou territoires",
    "territories": "Départements ou territoires",
    "legal_statuses": "Statuts juridiques",
    "legal_entities": "Entités juridiques (FINESS EJ)",
    "finess": "Établissements ajoutés (FINESS)",
    "exclude_finess": "Établissements exclus (FINESS)",
    "exclude_categories": "Catégories exclues",
    "professions": "Professions",
    "specialties": "Spécialités",
    "modes": "Modes d'exercice",
    "rpps": "Professionnels ajoutés (RPPS)",
    "exclude_rpps": "Professionnels exclus (RPPS)",
}


def audience_summary(filters: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """The audience's criteria as (French label, codes), in a stable order."""
    summary: dict[str, list[str]] = {}
    for key, label in AUDIENCE_LABELS.items():
        raw = filters.get(key) or []
        values = [raw] if isinstance(raw, str) else [str(v) for v in raw]
        if values:
            summary.setdefault(label, []).extend(values)
    return list(summary.items())


def register_detail(*, user: AnyUser, pk: int) -> RegisterDetail:
    """One campaign of the register, read-only; 404 if the register does not show it."""
    rows = [RegisterRow(**v) for v in register_queryset(user=user).filter(pk=pk)]
    if not rows:
        raise Http404("Aucune campagne du registre ne porte ce numéro.")
    row = attach_definitions(rows)[0]
    campaign = Campaign.objects.select_related("owner", "version", "survey").get(pk=pk)
    questions = list(
        Question.objects.filter(version_id=row.version_id)
        .select_related("definition", "section")
        .order_by("section__order", "section_id", "order", "pk")
    )
    periods = list(CampaignPeriod.objects.filter(campaign_id=pk).order_by("start"))
    return RegisterDetail(
        row=row,
        campaign=campaign,
        questions=questions,
        periods=periods,
        audience_criteria=audience_summary(campaign.audience_filters or {}),
    )
