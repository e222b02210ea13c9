"""What respondents read: their inbox (every assignment of every unit they answer for).

One rule decides which assignments a person or an API key sees: ``accounts.scoping`` as a
respondent, turned into a filter over the assignment's reporting unit (``units_q("unit__")``):
the establishments of their organisation, every site of their legal entity, or their own
professional unit. Everything else is absent (404), whoever asks.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from accounts.models import ApiKey, Role, User
from accounts.scoping import Scope, scope_for, scope_for_api_key
from referentials.models import Establishment, ReportingUnit
from surveys.models import Assignment, Campaign

# Closed campaigns stay in the « Historique » tab this long after they close.
HISTORY_DAYS = 90

# The statuses the inbox shows and filters on; « late » also covers an open assignment whose
# due date has passed, whatever its stored status.
OVERDUE = "late"
STATUS_FILTERS = [
    (Assignment.Status.TODO, "À faire"),
    (Assignment.Status.IN_PROGRESS, "En cours"),
    (OVERDUE, "En retard"),
    (Assignment.Status.SUBMITTED, "Transmise"),
    (Assignment.Status.EXEMPTED, "Dispensée"),
]


def respondent_scope(
    *, user: User | AnonymousUser | None = None, key: ApiKey | None = None
) -> Scope:
    """The scope a respondent (a person, or an organisation's API key) answers for."""
    if key is not None:
        return scope_for_api_key(key)
    if user is None:
        return Scope()
    return scope_for(user, roles=[Role.RESPONDENT])


def answerable_assignments(
    *, user: User | AnonymousUser | None = None, key: ApiKey | None = None
) -> QuerySet[Assignment]:
    """Every assignment of every unit in the respondent's scope, any campaign, any status."""
    scope = respondent_scope(user=user, key=key)
    if scope.is_empty:
        return Assignment.objects.none()
    return Assignment.objects.filter(scope.units_q("unit__")).select_related(
        "campaign__owner", "period", "unit", "version"
    )


def _overdue_q(now: datetime) -> Q:
    open_statuses = [Assignment.Status.TODO, Assignment.Status.IN_PROGRESS]
    return Q(status=Assignment.Status.LATE) | Q(status__in=open_statuses, due_at__lt=now)


def status_q(status: str, *, now: datetime) -> Q:
    """Assignments in ``status`` as the inbox shows it (``late`` includes the overdue)."""
    if status == OVERDUE:
        return _overdue_q(now)
    if status in (Assignment.Status.TODO, Assignment.Status.IN_PROGRESS):
        return Q(status=status, due_at__gte=now)
    return Q(status=status)


@dataclass(frozen=True)
class InboxFilters:
    site: str = ""  # FINESS ET of one site
    status: str = ""  # one of STATUS_FILTERS
    campaign: int | None = None
    history: bool = False  # recently closed campaigns instead of open ones


def inbox_assignments(
    *,
    user: User | AnonymousUser,
    filters: InboxFilters = InboxFilters(),
    now: datetime | None = None,
) -> QuerySet[Assignment]:
    """The inbox: open campaigns (or recently closed ones), due date first."""
    now = now or timezone.now()
    assignments = _tab(answerable_assignments(user=user), history=filters.history, now=now)
    if filters.site:
        assignments = assignments.filter(unit__finess=filters.site)
    if filters.campaign is not None:
        assignments = assignments.filter(campaign_id=filters.campaign)
    if filters.status:
        assignments = assignments.filter(status_q(filters.status, now=now))
    return assignments.order_by("due_at", "campaign__title", "unit__label", "pk")


def _tab(
    assignments: QuerySet[Assignment], *, history: bool, now: datetime
) -> QuerySet[Assignment]:
    if history:
        return assignments.filter(
            campaign__status=Campaign.Status.CLOSED,
            campaign__closed_at__gte=now - timedelta(days=HISTORY_DAYS),
        )
    return assignments.filter(campaign__status=Campaign.Status.OPEN)


def inbox_counts(
    *,
    user: User | AnonymousUser,
    filters: InboxFilters = InboxFilters(),
    now: datetime | None = None,
) -> dict[str, int]:
    """How many assignments per status (as shown), for the tab, site and campaign chosen."""
    now = now or timezone.now()
    unfiltered = InboxFilters(site=filters.site, campaign=filters.campaign, history=filters.history)
    assignments = inbox_assignments(user=user, filters=unfiltered, now=now).order_by()
    aggregates = {
        str(status): Count("pk", filter=status_q(str(status), now=now))
        for status, _label in STATUS_FILTERS
    }
    counts = assignments.aggregate(total=Count("pk"), **aggregates)
    return {key: int(value or 0) for key, value in counts.items()}


def inbox_campaigns(
    *, user: User | AnonymousUser, history: bool = False, now: datetime | None = None
) -> list[tuple[int, str]]:
    """(pk, title) of the campaigns the inbox holds, for its filter."""
    now = now or timezone.now()
    assignments = _tab(answerable_assignments(user=user), history=history, now=now)
    return list(
        Campaign.objects.filter(pk__in=assignments.order_by().values("campaign_id"))
        .order_by("title", "pk")
        .values_list("pk", "title")
    )


def respondent_sites(*, user: User | AnonymousUser) -> QuerySet[Establishment]:
    """The establishments ``user`` answers for (every site of a legal entity)."""
    scope = respondent_scope(user=user)
    if scope.is_empty:
        return Establishment.objects.none()
    return Establishment.objects.filter(scope.establishments_q()).order_by("name", "finess")


def respondent_professional_units(*, user: User | AnonymousUser) -> list[str]:
    """Labels of the professional units ``user`` answers for (their own, once verified)."""
    scope = respondent_scope(user=user)
    if not scope.professional_ids:
        return []
    return list(
        ReportingUnit.objects.filter(
            scope.units_q(), kind=ReportingUnit.Kind.PROFESSIONAL
        ).values_list("label", flat=True)
    )


def overdue_days(assignment: Assignment, *, now: datetime) -> int | None:
    """Whole days past the due date of an assignment still owed (0: due earlier today)."""
    owed = assignment.status in (
        Assignment.Status.TODO,
        Assignment.Status.IN_PROGRESS,
        Assignment.Status.LATE,
    )
    if not owed or assignment.due_at >= now:
        return None
    return (timezone.localdate(now) - timezone.localdate(assignment.due_at)).days
