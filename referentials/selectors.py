"""Reads of the directory. Every one starts from ``Establishment.objects.visible_to(user)``."""

from dataclasses import dataclass
from typing import TypedDict

from django.contrib.auth.models import AnonymousUser
from django.db.models import (
    Count,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    prefetch_related_objects,
)
from django.http import Http404

from accounts.models import User
from referentials.models import (
    Commune,
    DirectoryChange,
    Establishment,
    FunctionalContact,
    ProfessionalActivity,
    Region,
    Territory,
)
from referentials.search import normalise

HISTORY_LENGTH = 50
SISTER_SITES_SHOWN = 20


def _with_place_names(establishments: QuerySet[Establishment]) -> QuerySet[Establishment]:
    """Territory and region names in the same query (codes are not foreign keys: the INSEE
    tables may be loaded after the establishments, or not at all in a test)."""
    return establishments.annotate(
        territory_name=Subquery(
            Territory.objects.filter(code=OuterRef("territory_code")).values("name")[:1]
        ),
        region_name=Subquery(
            Region.objects.filter(code=OuterRef("region_code")).values("name")[:1]
        ),
    )


def establishment_list(
    *,
    user: User | AnonymousUser,
    query: str = "",
    finess: str = "",
    category: str = "",
    aggregate_category: str = "",
    region: str = "",
    territory: str = "",
    legal_entity: str = "",
    status: str = "",
) -> QuerySet[Establishment]:
    """The establishments of ``user``'s scope matching every filter given.

    ``query`` is compared without accents, case or punctuation with ``search_text`` (name, long
    name, city, FINESS), and also as a FINESS number: an ET number finds the establishment, an
    EJ number its sites. ``status`` is ``open``, ``closed`` or empty for both.
    """
    establishments = Establishment.objects.visible_to(user)
    if query := query.strip():
        number = query.replace(" ", "").upper()
        establishments = establishments.filter(
            Q(search_text__icontains=normalise(query))
            | Q(finess=number)
            | Q(legal_entity__finess=number)
        )
    if finess:
        establishments = establishments.filter(Q(finess=finess) | Q(legal_entity__finess=finess))
    if category:
        establishments = establishments.filter(category_code=category)
    if aggregate_category:
        establishments = establishments.filter(aggregate_category_code=aggregate_category)
    if region:
        establishments = establishments.filter(region_code=region)
    if territory:
        establishments = establishments.filter(territory_code=territory)
    if legal_entity:
        establishments = establishments.filter(legal_entity__finess=legal_entity)
    if status:
        establishments = establishments.filter(status=status)
    return _with_place_names(establishments.select_related("legal_entity")).order_by(
        "name", "finess"
    )


@dataclass(frozen=True)
class FilterChoices:
    """What the search form offers: only values present in the user's scope."""

    categories: list[tuple[str, str]]
    aggregate_categories: list[tuple[str, str]]
    regions: list[tuple[str, str]]
    territories: list[tuple[str, str]]


def establishment_filter_choices(*, user: User | AnonymousUser) -> FilterChoices:
    rows = (
        Establishment.objects.visible_to(user)
        .order_by()
        .values_list(
            "category_code",
            "category_label",
            "aggregate_category_code",
            "aggregate_category_label",
            "region_code",
            "territory_code",
        )
        .distinct()
    )
    categories: dict[str, str] = {}
    aggregates: dict[str, str] = {}
    region_codes: set[str] = set()
    territory_codes: set[str] = set()
    for code, label, aggregate_code, aggregate_label, region, territory in rows:
        categories.setdefault(code, label)
        if aggregate_code:
            aggregates.setdefault(aggregate_code, aggregate_label)
        region_codes.add(region)
        territory_codes.add(territory)
    region_names = dict(Region.objects.filter(code__in=region_codes).values_list("code", "name"))
    territory_names = dict(
        Territory.objects.filter(code__in=territory_codes).values_list("code", "name")
    )

    def labelled(names: dict[str, str], codes: set[str]) -> list[tuple[str, str]]:
        return [
            (code, f"{names[code]} ({code})" if code in names else code) for code in sorted(codes)
        ]

    return FilterChoices(
        categories=[(code, f"{code} — {label}") for code, label in sorted(categories.items())],
        aggregate_categories=[
            (code, f"{code} — {label}" if label else code)
            for code, label in sorted(aggregates.items())
        ],
        regions=labelled(region_names, region_codes),
        territories=labelled(territory_names, territory_codes),
    )


def establishment_access(*, user: User | AnonymousUser, finess: str) -> Establishment:
    """Fetch and check in one call: outside the user's scope is the same as not found."""
    establishment = (
        _with_place_names(Establishment.objects.visible_to(user))
        .select_related("legal_entity")
        .annotate(
            commune_name=Subquery(
                Commune.objects.filter(code=OuterRef("commune_code")).values("name")[:1]
            )
        )
        .filter(finess=finess)
        .first()
    )
    if establishment is None:
        raise Http404("Établissement introuvable ou hors de votre périmètre.")
    return establishment


def establishment_with_contacts(*, user: User | AnonymousUser, finess: str) -> Establishment:
    """``establishment_access`` with its active functional contacts in ``active_contacts``."""
    establishment = establishment_access(user=user, finess=finess)
    active = (
        FunctionalContact.objects.filter(is_active=True)
        .select_related("verified_by")
        .order_by("role", "email")
    )
    prefetch_related_objects(
        [establishment], Prefetch("contacts", queryset=active, to_attr="active_contacts")
    )
    return establishment


class ProfessionCount(TypedDict):
    profession: str
    count: int


@dataclass(frozen=True)
class EstablishmentPage:
    establishment: Establishment
    contacts: list[FunctionalContact]
    sister_sites: list[Establishment]
    sister_sites_count: int
    professions: list[ProfessionCount]
    history: list[DirectoryChange]


def establishment_page(*, user: User | AnonymousUser, finess: str) -> EstablishmentPage:
    """Everything the establishment page shows, each part in one query (404 outside scope)."""
    establishment = establishment_with_contacts(user=user, finess=finess)
    sisters = (
        Establishment.objects.visible_to(user)
        .filter(legal_entity_id=establishment.legal_entity_id)
        .exclude(pk=establishment.pk)
        .order_by("name", "finess")
    )
    sister_sites = list(sisters[: SISTER_SITES_SHOWN + 1])
    sister_sites_count = (
        len(sister_sites) if len(sister_sites) <= SISTER_SITES_SHOWN else sisters.count()
    )
    professions = list(
        ProfessionalActivity.objects.filter(finess_site=establishment.finess)
        .values(profession=F("professional__profession_label"))
        .annotate(count=Count("professional", distinct=True))
        .order_by("-count", "profession")
    )
    history = list(
        DirectoryChange.objects.filter(establishment=establishment)
        .select_related("actor")
        .order_by("-created_at", "-id")[:HISTORY_LENGTH]
    )
    return EstablishmentPage(
        establishment=establishment,
        contacts=establishment.active_contacts,  # type: ignore[attr-defined]
        sister_sites=sister_sites[:SISTER_SITES_SHOWN],
        sister_sites_count=sister_sites_count,
        professions=professions,
        history=history,
    )
