"""Campaign follow-up: who has answered, who is late, and each unit's history in a campaign.

Who reads a campaign's follow-up (and its results, ``collection.results``):

- the requesters and viewers of its owner organisation: the whole campaign, as on the
  campaign's own page (``surveys.views_campaigns``);
- the requesters and viewers of another national directorate or of an ARS, once the campaign
  has been sent, if its audience has units in their scope: **only those units**, in every
  figure (an ARS agent looking at a national campaign sees its region, nothing else);
- nobody else (respondents, curators, outsiders): 404, as if the campaign did not exist.

Every figure is one grouped SQL query over the campaign's assignments, so that the page costs
the same number of queries for ten establishments or ten thousand.

Statuses as the page counts them: « transmises » (submitted), « dispensées » (exempted),
« en retard » (marked late, or still open past its due time: the beat task that marks them
may not have run yet) and « à faire » (open, not yet due). The response rate is submitted /
(assignments - exempted): an exempted establishment owes nothing.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count, Max, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from accounts.models import Membership, Role, User
from accounts.scoping import Scope, scope_for
from collection.models import Value
from collection.values import display
from referentials.models import Establishment, FunctionalContact, Professional, ReportingUnit
from referentials.recipients import recipients_for_units
from referentials.territories import departments, regions
from surveys.models import Assignment, Campaign, CampaignPeriod
from surveys.periods import parse_period
from surveys.schema import VersionSchema, version_schema

NOT_FOUND = "Campagne introuvable ou hors de votre périmètre."
READER_ROLES = (Role.REQUESTER, Role.VIEWER)
OPEN = (Assignment.Status.TODO, Assignment.Status.IN_PROGRESS)


# --- Who reads what ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Access:
    """A campaign as one user may read it: ``scope`` None is the whole campaign."""

    campaign: Campaign
    scope: Scope | None
    is_owner: bool
    can_act: bool

    @property
    def restricted(self) -> bool:
        return self.scope is not None

    def units_q(self, prefix: str = "unit__") -> Q:
        return Q() if self.scope is None else self.scope.units_q(prefix)

    def covers_territory(self, code: str) -> bool:
        return self.scope is None or self.scope.covers_territory(code)


def access_for(*, campaign: Campaign, user: User) -> Access | None:
    """How ``user`` may read ``campaign``'s follow-up and results; None if not at all."""
    if not user.is_authenticated or not user.is_active:
        return None
    roles = set(
        Membership.objects.filter(
            user=user,
            organisation_id=campaign.owner_id,
            organisation__is_active=True,
            role__in=READER_ROLES,
        ).values_list("role", flat=True)
    )
    if roles:
        return Access(campaign, None, is_owner=True, can_act=Role.REQUESTER in roles)
    if campaign.status == Campaign.Status.DRAFT:
        return None
    scope = scope_for(user, roles=READER_ROLES)
    if scope.is_empty:
        return None
    if scope.nationwide:
        return Access(campaign, None, is_owner=False, can_act=False)
    audience = Assignment.objects.filter(campaign=campaign).filter(scope.units_q("unit__"))
    if not audience.exists():
        return None
    return Access(campaign, scope, is_owner=False, can_act=False)


def campaign_reader_access(*, user: User, pk: int) -> Access:
    """The campaign ``pk`` as ``user`` may read it, or 404 (not theirs looks like missing)."""
    campaign = Campaign.objects.select_related("owner", "survey", "version").filter(pk=pk).first()
    access = access_for(campaign=campaign, user=user) if campaign is not None else None
    if access is None:
        raise Http404(NOT_FOUND)
    return access


def _assignments(access: Access) -> QuerySet[Assignment]:
    return Assignment.objects.filter(campaign=access.campaign).filter(access.units_q())


def _late_q(now: datetime) -> Q:
    return Q(status=Assignment.Status.LATE) | Q(status__in=OPEN, due_at__lt=now)


def _status_counts(now: datetime) -> dict[str, Count]:
    return {
        "total": Count("pk"),
        "submitted": Count("pk", filter=Q(status=Assignment.Status.SUBMITTED)),
        "exempted": Count("pk", filter=Q(status=Assignment.Status.EXEMPTED)),
        "late": Count("pk", filter=_late_q(now)),
    }


# --- Figures ----------------------------------------------------------------------------------


@dataclass
class Rates:
    """Counts of one group (a period, a region...) and its response rate."""

    key: str
    label: str
    total: int = 0
    submitted: int = 0
    exempted: int = 0
    late: int = 0

    @property
    def todo(self) -> int:
        return self.total - self.submitted - self.exempted - self.late

    @property
    def expected(self) -> int:
        return self.total - self.exempted

    @property
    def rate(self) -> float | None:
        """Submitted / expected, in %, one decimal; None when nothing is expected."""
        return round(100 * self.submitted / self.expected, 1) if self.expected else None

    @property
    def late_rate(self) -> float | None:
        return round(100 * self.late / self.expected, 1) if self.expected else None

    def counts(self) -> dict[str, int]:
        return {
            "total": self.total,
            "submitted": self.submitted,
            "exempted": self.exempted,
            "late": self.late,
        }

    def add(self, row: Mapping[str, Any]) -> None:
        self.total += row["total"]
        self.submitted += row["submitted"]
        self.exempted += row["exempted"]
        self.late += row["late"]


@dataclass
class Dashboard:
    access: Access
    periods: list[CampaignPeriod]
    period: CampaignPeriod | None  # the selected period; None: all periods together
    overall: Rates
    by_period: list[Rates]  # oldest first
    by_region: list[Rates]
    by_department: list[Rates]
    by_category: list[Rates]
    late_count: int = 0
    late: list["LateRow"] = field(default_factory=list)


def campaign_periods(campaign: Campaign) -> list[CampaignPeriod]:
    return list(CampaignPeriod.objects.filter(campaign=campaign).order_by("start", "key"))


def _period_label(key: str) -> str:
    try:
        return parse_period(key).label
    except ValueError:
        return key


def territory_labels() -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """(territory -> its region code, territory -> « 75 — Paris », region -> its name).

    An establishment's region is the directory's (``Establishment.region_code``: Saint-Martin
    and Saint-Barthélemy under Guadeloupe, as their ARS); this map is the fallback for
    professionals, who have only a territory."""
    departments_ = departments()
    region_of = {code: d.region_code for code, d in departments_.items()}
    department_label = {code: f"{code} — {d.name}" for code, d in departments_.items()}
    region_label = {code: r.name for code, r in regions().items()}
    return region_of, department_label, region_label


UNIT_GROUP_FIELDS = (
    "unit__territory_code",
    "unit__establishment__region_code",
    "unit__establishment__category_code",
    "unit__professional__profession_code",
)


def unit_fields(unit_ids: Iterable[int] | QuerySet[Any]) -> dict[int, dict[str, Any]]:
    """Unit id -> its territory and category fields, keyed as ``UNIT_GROUP_FIELDS``. One
    query (``unit_ids`` may be a subquery)."""
    fields = [f.removeprefix("unit__") for f in UNIT_GROUP_FIELDS]
    return {
        row["pk"]: {f"unit__{name}": row[name] for name in fields}
        for row in ReportingUnit.objects.filter(
            pk__in=unit_ids if isinstance(unit_ids, QuerySet) else list(unit_ids)
        )
        .order_by()
        .values("pk", *fields)
    }


def category_of(row: Mapping[str, Any], prefix: str = "unit__") -> str:
    """An establishment's FINESS category, or a professional's profession code."""
    return (
        row[f"{prefix}establishment__category_code"]
        or row[f"{prefix}professional__profession_code"]
        or ""
    )


def category_labels(rows: Iterable[Mapping[str, Any]], prefix: str = "unit__") -> dict[str, str]:
    """Category code -> « 355 — Centre Hospitalier (C.H.) » for the codes of grouped ``rows``
    (labels looked up once per code, not carried through the grouping). One or two queries."""
    rows = list(rows)
    categories = {r[f"{prefix}establishment__category_code"] for r in rows} - {None, ""}
    professions = {r[f"{prefix}professional__profession_code"] for r in rows} - {None, ""}
    found: dict[str, str] = {}
    if categories:
        found.update(
            Establishment.objects.filter(category_code__in=sorted(categories))
            .values("category_code")
            .annotate(label=Max("category_label"))
            .order_by()
            .values_list("category_code", "label")
        )
    if professions:
        found.update(
            Professional.objects.filter(profession_code__in=sorted(professions))
            .values("profession_code")
            .annotate(label=Max("profession_label"))
            .order_by()
            .values_list("profession_code", "label")
        )
    return {code: f"{code} — {label}" for code, label in found.items()}


def dashboard(*, access: Access, period_key: str | None = None, late_limit: int = 100) -> Dashboard:
    """The follow-up of a campaign as ``access`` allows, for one period (``period_key``) or,
    when None or unknown, for all periods together. A fixed number of queries."""
    now = timezone.now()
    periods = campaign_periods(access.campaign)
    period = next((p for p in periods if p.key == period_key), None)
    base = _assignments(access)
    counts = _status_counts(now)

    # By period: one grouped query over the assignments alone.
    per_period: dict[int, Rates] = {p.pk: Rates(p.key, _period_label(p.key)) for p in periods}
    for row in base.values("period_id").annotate(**counts).order_by():
        if row["period_id"] in per_period:
            per_period[row["period_id"]].add(row)
    by_period = list(per_period.values())
    overall = Rates("", "Toutes les périodes")
    for rates in by_period:
        overall.add(rates.counts())
    if period is not None:
        overall = per_period[period.pk]

    # Counted per unit without joins (a hash aggregate over the assignments), then each unit's
    # territory and category read once: cheaper than grouping the joined rows by territory.
    selected = base.filter(period=period) if period is not None else base
    per_unit = list(selected.values("unit_id").annotate(**counts).order_by())
    fields = unit_fields(selected.values("unit_id"))
    rows: list[dict[str, Any]] = [
        fields[r["unit_id"]] | dict(r) for r in per_unit if r["unit_id"] in fields
    ]
    labels = category_labels(fields.values())
    region_of, department_label, region_label = territory_labels()
    by_department: dict[str, Rates] = {}
    by_region: dict[str, Rates] = {}
    by_category: dict[str, Rates] = {}
    for unit_row in rows:
        territory = unit_row["unit__territory_code"] or ""
        by_department.setdefault(
            territory, Rates(territory, department_label.get(territory, territory or "—"))
        ).add(unit_row)
        region = unit_row["unit__establishment__region_code"] or region_of.get(territory, "")
        by_region.setdefault(region, Rates(region, region_label.get(region, region or "—"))).add(
            unit_row
        )
        code = category_of(unit_row)
        by_category.setdefault(code, Rates(code, labels.get(code, code or "—"))).add(unit_row)
    late_count = overall.late
    late = late_rows(access=access, period=period, now=now, limit=late_limit)
    return Dashboard(
        access=access,
        periods=periods,
        period=period,
        overall=overall,
        by_period=by_period,
        by_region=sorted(by_region.values(), key=lambda r: r.key),
        by_department=sorted(by_department.values(), key=lambda r: r.key),
        by_category=sorted(by_category.values(), key=lambda r: r.key),
        late_count=late_count,
        late=late,
    )


# --- The late list ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LateRow:
    """One late assignment, with the unit's contacts (helper of the late-list export)."""

    assignment_id: int
    unit_id: int
    unit_kind: str  # "establishment" or "professional"
    name: str
    identifier: str  # FINESS ET of an establishment, RPPS of a professional
    identifier_label: str  # "FINESS" or "RPPS"
    department_code: str
    department: str  # « 75 — Paris »
    region_code: str
    region: str
    category_code: str
    category: str  # establishment category, or the professional's profession
    period_key: str
    period: str  # « mars 2026 »
    due_at: datetime
    days_late: int  # whole days since the due day (0: due today, already past the hour)
    status: str  # "late", or "todo"/"in_progress" past due
    contact_emails: tuple[str, ...]  # active functional contacts of the establishment
    contact_phones: tuple[str, ...]  # their phones (and the establishment's own, if any)
    respondent_emails: tuple[str, ...]  # respondents who answer for the unit


def late_rows(
    *,
    access: Access,
    period: CampaignPeriod | None = None,
    now: datetime | None = None,
    limit: int | None = None,
) -> list[LateRow]:
    """Late assignments readable through ``access``, most overdue first. Five queries."""
    now = now or timezone.now()
    queryset = _assignments(access).filter(_late_q(now))
    if period is not None:
        queryset = queryset.filter(period=period)
    rows = list(
        queryset.order_by("due_at", "unit__label", "pk").values(
            "pk",
            "unit_id",
            "status",
            "due_at",
            "period__key",
            "unit__kind",
            "unit__label",
            "unit__finess",
            "unit__national_id",
            "unit__territory_code",
            "unit__establishment__region_code",
            "unit__establishment_id",
            "unit__establishment__phone",
            "unit__establishment__category_code",
            "unit__establishment__category_label",
            "unit__professional__rpps",
            "unit__professional__profession_code",
            "unit__professional__profession_label",
        )[:limit]
    )
    if not rows:
        return []
    emails: dict[int, list[str]] = defaultdict(list)
    phones: dict[int, list[str]] = defaultdict(list)
    for establishment_id, email, phone in (
        FunctionalContact.objects.filter(
            establishment_id__in={r["unit__establishment_id"] for r in rows} - {None},
            is_active=True,
        )
        .order_by("establishment_id", "role", "email")
        .values_list("establishment_id", "email", "phone")
    ):
        if email not in emails[establishment_id]:
            emails[establishment_id].append(email)
        if phone and phone not in phones[establishment_id]:
            phones[establishment_id].append(phone)
    respondents = {
        unit_id: tuple(r.user.email for r in recipients if r.user is not None)
        for unit_id, recipients in recipients_for_units({r["unit_id"] for r in rows}).items()
    }
    region_of, department_label, region_label = territory_labels()
    today = timezone.localdate(now)
    result = []
    for r in rows:
        territory = r["unit__territory_code"] or ""
        region = r["unit__establishment__region_code"] or region_of.get(territory, "")
        professional = r["unit__kind"] == ReportingUnit.Kind.PROFESSIONAL
        establishment_id = r["unit__establishment_id"]
        unit_phones = list(phones.get(establishment_id, []))
        if r["unit__establishment__phone"] and r["unit__establishment__phone"] not in unit_phones:
            unit_phones.append(r["unit__establishment__phone"])
        result.append(
            LateRow(
                assignment_id=r["pk"],
                unit_id=r["unit_id"],
                unit_kind=r["unit__kind"],
                name=r["unit__label"],
                identifier=(
                    r["unit__professional__rpps"] or r["unit__national_id"]
                    if professional
                    else r["unit__finess"]
                ),
                identifier_label="RPPS" if professional else "FINESS",
                department_code=territory,
                department=department_label.get(territory, territory),
                region_code=region,
                region=region_label.get(region, region),
                category_code=(
                    r["unit__professional__profession_code"]
                    if professional
                    else r["unit__establishment__category_code"]
                )
                or "",
                category=(
                    r["unit__professional__profession_label"]
                    if professional
                    else r["unit__establishment__category_label"]
                )
                or "",
                period_key=r["period__key"],
                period=_period_label(r["period__key"]),
                due_at=r["due_at"],
                days_late=max(0, (today - timezone.localdate(r["due_at"])).days),
                status=r["status"],
                contact_emails=tuple(emails.get(establishment_id, [])),
                contact_phones=tuple(unit_phones),
                respondent_emails=respondents.get(r["unit_id"], ()),
            )
        )
    return result


def late_assignments(
    *, campaign: Campaign, user: User, period_key: str | None = None
) -> list[LateRow]:
    """Every late assignment of ``campaign`` that ``user`` may read (an ARS agent: its own
    territories only; someone who may not read the campaign: nothing), for one period or all,
    most overdue first, with each unit's contacts."""
    access = access_for(campaign=campaign, user=user)
    if access is None:
        return []
    period = None
    if period_key is not None:
        period = CampaignPeriod.objects.filter(campaign=campaign, key=period_key).first()
        if period is None:
            return []
    return late_rows(access=access, period=period)


# --- One unit's history in a campaign ---------------------------------------------------------


@dataclass(frozen=True)
class HistoryValue:
    code: str
    label: str
    shown: str
    status: str
    revision_count: int
    value_id: int


@dataclass(frozen=True)
class HistoryPeriod:
    assignment: Assignment
    period_label: str
    channel: str  # of the latest value written for the period, « — » if none
    values: list[HistoryValue]


def _questions_q(schema: VersionSchema) -> Q:
    """The store's keys of a version's questions: definitions, or the survey's ad-hoc codes."""
    q = Q(definition_id__in=[x.definition_id for x in schema.questions if x.definition_id])
    if ad_hoc := [x.code for x in schema.questions if x.definition_id is None]:
        q |= Q(definition__isnull=True, survey_id=schema.survey_id, code__in=ad_hoc)
    return q


def unit_history(*, access: Access, unit_pk: int) -> tuple[ReportingUnit, list[HistoryPeriod]]:
    """A unit's periods in the campaign, each with its status and values; 404 if the unit has
    no assignment in the campaign that ``access`` reads. Four queries, plus one per version."""
    assignments = list(
        _assignments(access)
        .filter(unit_id=unit_pk)
        .select_related("period", "submitted_by", "unit", "version")
        .order_by("period__start", "pk")
    )
    if not assignments:
        raise Http404("Établissement introuvable dans cette campagne ou hors de votre périmètre.")
    unit = assignments[0].unit
    schemas = {a.version_id: version_schema(a.version) for a in assignments}
    key_q = Q(pk__in=[])
    for schema in schemas.values():
        key_q |= _questions_q(schema)
    stored: dict[str, list[Value]] = defaultdict(list)
    for value in Value.objects.filter(
        key_q, unit_id=unit_pk, period_key__in=[a.period.key for a in assignments]
    ).order_by("changed_at"):
        stored[value.period_key].append(value)
    periods = []
    for assignment in assignments:
        schema = schemas[assignment.version_id]
        by_definition = {q.definition_id: q for q in schema.questions if q.definition_id}
        by_code = schema.by_code
        found = stored.get(assignment.period.key, [])
        rows = []
        for value in found:
            question = by_definition.get(value.definition_id or 0) or by_code.get(value.code)
            if question is None:
                continue
            rows.append(
                HistoryValue(
                    code=question.code,
                    label=question.label or question.spec.label,
                    shown=display(question.spec, value.data) or "(vide)",
                    status=value.get_status_display(),
                    revision_count=value.revision_count,
                    value_id=value.pk,
                )
            )
        order = {q.code: i for i, q in enumerate(schema.questions)}
        rows.sort(key=lambda row: order.get(row.code, len(order)))
        periods.append(
            HistoryPeriod(
                assignment=assignment,
                period_label=_period_label(assignment.period.key),
                channel=found[-1].get_channel_display() if found else "—",
                values=rows,
            )
        )
    return unit, periods
