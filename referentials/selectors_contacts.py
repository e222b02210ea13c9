"""Reads of the curators' list of establishments nobody would be told about (issue #8: "an
establishment with no contact at all, listed for curators").

An open establishment of the curator's scope with no active functional contact and no active
respondent (of the establishment, or of its legal entity): ``referentials.recipients`` decides,
the same rule as the warning on a campaign's sending page, so the two lists never disagree.
"""

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, QuerySet

from accounts.models import Role, User
from referentials.models import Establishment, Territory
from referentials.recipients import establishments_nobody_answers


@dataclass(frozen=True)
class TerritoryCount:
    code: str
    name: str  # empty when the territories are not loaded
    open: int
    missing: int


@dataclass(frozen=True)
class MissingContacts:
    open_count: int  # open establishments of the scope, after the filters
    count: int  # of which nobody would be told about
    by_territory: list[TerritoryCount]  # where ``missing`` > 0, most first
    establishments: QuerySet[Establishment]  # the ``count`` ones, by name, for a paginator


def curator_establishments(user: User | AnonymousUser) -> QuerySet[Establishment]:
    """The open establishments of ``user``'s curator scope."""
    return Establishment.objects.visible_to(user, roles=[Role.CURATOR]).open()


def filter_choices(user: User | AnonymousUser) -> dict[str, list[tuple[str, str]]]:
    """Categories and territories present among the curator's open establishments."""
    rows = (
        curator_establishments(user)
        .order_by()
        .values_list("category_code", "category_label", "territory_code")
        .distinct()
    )
    categories: dict[str, str] = {}
    territories: set[str] = set()
    for code, label, territory in rows:
        categories.setdefault(code, label)
        territories.add(territory)
    names = dict(Territory.objects.filter(code__in=territories).values_list("code", "name"))
    return {
        "categories": [(code, f"{code} — {label}") for code, label in sorted(categories.items())],
        "territories": [
            (code, f"{names[code]} ({code})" if code in names else code)
            for code in sorted(territories)
        ],
    }


def establishments_without_contacts(
    *, user: User | AnonymousUser, category: str = "", territory: str = ""
) -> MissingContacts:
    """The open establishments of the curator's scope, filtered by category and territory,
    that have no active functional contact and no respondent. Three queries, plus the page."""
    scope = curator_establishments(user).order_by()
    if category:
        scope = scope.filter(category_code=category)
    if territory:
        scope = scope.filter(territory_code=territory)
    missing = establishments_nobody_answers(scope)
    open_by = dict(
        scope.values_list("territory_code")
        .annotate(n=Count("pk"))
        .values_list("territory_code", "n")
    )
    missing_by = dict(
        missing.values_list("territory_code")
        .annotate(n=Count("pk"))
        .values_list("territory_code", "n")
    )
    names = dict(Territory.objects.filter(code__in=missing_by).values_list("code", "name"))
    by_territory = sorted(
        (
            TerritoryCount(
                code=code, name=names.get(code, ""), open=open_by.get(code, n), missing=n
            )
            for code, n in missing_by.items()
        ),
        key=lambda row: (-row.missing, row.code),
    )
    return MissingContacts(
        open_count=sum(open_by.values()),
        count=sum(missing_by.values()),
        by_territory=by_territory,
        establishments=missing.select_related("legal_entity").order_by("name", "finess"),
    )
