"""The audience of a campaign: which establishments (FINESS) or professionals (RPPS) it asks.

A campaign stores its audience as filters (``Campaign.audience_filters``, JSON), resolved to
reporting units when it opens (``resolve_units``). Establishments::

    {"categories": ["500"], "aggregate_categories": ["4401"], "regions": ["11"],
     "departments": ["75", "92"], "legal_statuses": ["13"], "legal_entities": ["750712184"],
     "finess": ["750100042"], "exclude_finess": ["750000549"], "exclude_categories": ["355"]}

Professionals::

    {"professions": ["10"], "specialties": ["SM54"], "modes": ["L"], "territories": ["75"],
     "rpps": ["10002345678"], "exclude_rpps": ["10001234567"]}

How filters combine:

1. Within one criterion the codes are alternatives (OR): ``categories: [500, 355]`` is
   "Ehpad or CH".
2. Across criteria every one must hold (AND): ``categories: [500]`` and ``departments: [75]``
   is "Ehpad of Paris". ``departments`` and ``territories`` are the same criterion (INSEE
   territory codes, 977 and 978 being their own). For professionals, the activity criteria
   (``modes``, ``territories``) must hold for ONE activity: "liberal in Paris" is not "liberal
   somewhere, with some activity in Paris".
3. An audience with no criterion selects nobody by criteria: targeting "everything" takes one
   explicit choice (a region, a category), never an empty form.
4. The explicit lists (``finess``, ``rpps``) are then added.
5. The exclusions (``exclude_finess``, ``exclude_categories``, ``exclude_rpps``) are then
   removed, from the criteria and the explicit lists alike.
6. Only open establishments and professionals are kept, and only those inside the scope of the
   campaign's OWNER organisation (``accounts.scoping.scope_for_organisations``): an ARS reaches
   its territories only (ARS Guadeloupe: 971, 977 and 978), a national directorate everything.
   ``check_filters`` refuses (and logs) a choice outside that scope rather than dropping it
   silently.
"""

import csv
import io
import re
from collections.abc import Iterable, Mapping
from typing import IO, Any

from django.db import transaction
from django.db.models import Q, QuerySet

from accounts.models import Organisation, User
from accounts.scoping import Scope, scope_for_organisations
from accounts.services import audit_record
from referentials import territories
from referentials.identifiers import finess_is_valid, rpps_is_valid
from referentials.models import (
    Category,
    Establishment,
    LegalEntity,
    Professional,
    ProfessionalActivity,
    ReportingUnit,
    Status,
)
from referentials.units import units_for_establishments, units_for_professionals
from surveys.campaigns import overlap_reset
from surveys.models import Campaign, CampaignEvent

ESTABLISHMENT = ReportingUnit.Kind.ESTABLISHMENT
PROFESSIONAL = ReportingUnit.Kind.PROFESSIONAL

ESTABLISHMENT_KEYS = (
    "categories",
    "aggregate_categories",
    "regions",
    "departments",
    "territories",
    "legal_statuses",
    "legal_entities",
    "finess",
    "exclude_finess",
    "exclude_categories",
)
PROFESSIONAL_KEYS = ("professions", "specialties", "modes", "territories", "rpps", "exclude_rpps")
KEYS: dict[str, tuple[str, ...]] = {
    ESTABLISHMENT: ESTABLISHMENT_KEYS,
    PROFESSIONAL: PROFESSIONAL_KEYS,
}
# Criteria (the explicit lists and the exclusions are not: see the module docstring).
_ESTABLISHMENT_CRITERIA = (
    "categories",
    "aggregate_categories",
    "regions",
    "departments",
    "territories",
    "legal_statuses",
    "legal_entities",
)
_PROFESSIONAL_CRITERIA = ("professions", "specialties", "modes", "territories")

SAMPLE_SIZE = 10
_SEPARATORS = re.compile(r"[;,\s]+")


class AudienceError(Exception):
    """A refused audience; ``messages`` are French sentences saying what and where."""

    def __init__(self, messages: str | Iterable[str]):
        self.messages: list[str] = [messages] if isinstance(messages, str) else list(messages)
        super().__init__(" ".join(self.messages))


Filters = Mapping[str, Any]


def normalize_filters(filters: Filters | None, *, unit_kind: str) -> dict[str, list[str]]:
    """Only the known keys of ``unit_kind``, as lists of stripped, unique, non-empty codes."""
    cleaned: dict[str, list[str]] = {}
    for key in KEYS[unit_kind]:
        raw = (filters or {}).get(key) or []
        if isinstance(raw, str):
            raw = [raw]
        values = [str(v).strip().upper() for v in raw if str(v).strip()]
        if values:
            cleaned[key] = list(dict.fromkeys(values))
    territory_codes = [*cleaned.pop("departments", []), *cleaned.pop("territories", [])]
    if territory_codes:
        cleaned["territories"] = list(dict.fromkeys(territory_codes))
    return cleaned


def owner_scope(owner: Organisation) -> Scope:
    return scope_for_organisations([owner])


# --- Querysets --------------------------------------------------------------------------------


def _establishments(filters: dict[str, list[str]], scope: Scope) -> QuerySet[Establishment]:
    criteria = Q()
    lookups = {
        "categories": "category_code__in",
        "aggregate_categories": "aggregate_category_code__in",
        "regions": "region_code__in",
        "territories": "territory_code__in",
        "legal_statuses": "legal_entity__legal_status_code__in",
        "legal_entities": "legal_entity__finess__in",
    }
    has_criteria = False
    for key, lookup in lookups.items():
        if filters.get(key):
            criteria &= Q(**{lookup: filters[key]})
            has_criteria = True
    selected = criteria if has_criteria else Q(pk__in=[])
    if filters.get("finess"):
        selected |= Q(finess__in=filters["finess"])
    queryset = Establishment.objects.filter(scope.establishments_q(), selected, status=Status.OPEN)
    if filters.get("exclude_finess"):
        queryset = queryset.exclude(finess__in=filters["exclude_finess"])
    if filters.get("exclude_categories"):
        queryset = queryset.exclude(category_code__in=filters["exclude_categories"])
    return queryset


def _professionals(filters: dict[str, list[str]], scope: Scope) -> QuerySet[Professional]:
    # One activity must be inside the owner's scope and match the activity criteria.
    activity_q = scope.establishments_q(
        territory="territory_code",
        legal_entity="finess_legal_entity",
        finess="finess_site",
    )
    in_scope = ProfessionalActivity.objects.filter(activity_q)
    matching = in_scope
    has_criteria = False
    if filters.get("modes"):
        matching = matching.filter(mode_code__in=filters["modes"])
        has_criteria = True
    if filters.get("territories"):
        matching = matching.filter(territory_code__in=filters["territories"])
        has_criteria = True
    criteria = Q(pk__in=matching.values("professional_id")) if has_criteria else Q()
    if filters.get("professions"):
        criteria &= Q(profession_code__in=filters["professions"])
        has_criteria = True
    if filters.get("specialties"):
        criteria &= Q(specialty_code__in=filters["specialties"])
        has_criteria = True
    selected = criteria if has_criteria else Q(pk__in=[])
    if filters.get("rpps"):
        selected |= Q(rpps__in=filters["rpps"])
    queryset = Professional.objects.filter(selected, status=Status.OPEN)
    if not scope.nationwide:
        queryset = queryset.filter(pk__in=in_scope.values("professional_id"))
    if filters.get("exclude_rpps"):
        queryset = queryset.exclude(rpps__in=filters["exclude_rpps"])
    return queryset


def audience_queryset(
    *, filters: Filters | None, unit_kind: str, owner: Organisation
) -> QuerySet[Any]:
    """Open establishments (or professionals) of ``filters``, inside ``owner``'s scope."""
    cleaned = normalize_filters(filters, unit_kind=unit_kind)
    scope = owner_scope(owner)
    if unit_kind == PROFESSIONAL:
        return _professionals(cleaned, scope)
    return _establishments(cleaned, scope)


def audience_count(*, filters: Filters | None, unit_kind: str, owner: Organisation) -> int:
    return audience_queryset(filters=filters, unit_kind=unit_kind, owner=owner).count()


def audience_sample(
    *, filters: Filters | None, unit_kind: str, owner: Organisation, size: int = SAMPLE_SIZE
) -> list[Any]:
    """``size`` members, shown by name.

    The first ones by primary key, not by name: ``ORDER BY pk LIMIT 10`` stops after ten rows
    where ``ORDER BY name`` sorts every match (see docs/performance.md). They are then sorted
    by name for display.
    """
    queryset = audience_queryset(filters=filters, unit_kind=unit_kind, owner=owner)
    if unit_kind == PROFESSIONAL:
        professionals = list(queryset.prefetch_related("activities").order_by("pk")[:size])
        return sorted(professionals, key=lambda p: (p.last_name, p.first_name, p.pk))
    establishments = list(queryset.order_by("pk")[:size])
    return sorted(establishments, key=lambda e: (e.name, e.pk))


# --- Reference lists (labels for the page, codes for the checks) --------------------------------


def category_choices() -> list[tuple[str, str]]:
    """(code, label) of every establishment category: the FINESS nomenclature and what the
    directory holds (a category seen only in the directory still has its label)."""
    labels = dict(Category.objects.values_list("code", "label"))
    for code, label in (
        Establishment.objects.order_by().values_list("category_code", "category_label").distinct()
    ):
        labels.setdefault(code, label)
    return sorted((code, label or code) for code, label in labels.items() if code)


def aggregate_category_choices() -> list[tuple[str, str]]:
    labels = {
        code: label
        for code, label in Category.objects.values_list("aggregate_code", "aggregate_label")
        if code
    }
    for code, label in (
        Establishment.objects.exclude(aggregate_category_code="")
        .order_by()
        .values_list("aggregate_category_code", "aggregate_category_label")
        .distinct()
    ):
        labels.setdefault(code, label)
    return sorted((code, label or code) for code, label in labels.items())


def legal_status_choices() -> list[tuple[str, str]]:
    rows = (
        LegalEntity.objects.exclude(legal_status_code="")
        .order_by()
        .values_list("legal_status_code", "legal_status_label")
        .distinct()
    )
    labels: dict[str, str] = {}
    for code, label in rows:
        labels.setdefault(code, label)
    return sorted((code, label or code) for code, label in labels.items())


def territory_choices(owner: Organisation) -> list[tuple[str, str]]:
    """INSEE territories (departments, 977, 978...) inside ``owner``'s scope."""
    scope = owner_scope(owner)
    return [
        (code, f"{d.name} ({code})")
        for code, d in sorted(territories.departments().items())
        if scope.covers_territory(code)
    ]


def region_choices(owner: Organisation) -> list[tuple[str, str]]:
    return [
        (code, f"{r.name} ({code})")
        for code, r in sorted(territories.regions().items())
        if _region_in_scope(code, owner_scope(owner), owner)
    ]


def _professional_choices(code_field: str, label_field: str) -> list[tuple[str, str]]:
    labels: dict[str, str] = {}
    for code, label in (
        Professional.objects.exclude(**{code_field: ""})
        .order_by()
        .values_list(code_field, label_field)
        .distinct()
    ):
        labels.setdefault(code, label)
    return sorted(((c, lbl or c) for c, lbl in labels.items()), key=lambda item: item[1])


def profession_choices() -> list[tuple[str, str]]:
    return _professional_choices("profession_code", "profession_label")


def specialty_choices() -> list[tuple[str, str]]:
    return _professional_choices("specialty_code", "specialty_label")


def mode_choices() -> list[tuple[str, str]]:
    labels: dict[str, str] = {}
    for code, label in (
        ProfessionalActivity.objects.exclude(mode_code="")
        .order_by()
        .values_list("mode_code", "mode_label")
        .distinct()
    ):
        labels.setdefault(code, label)
    return sorted((c, lbl or c) for c, lbl in labels.items())


def _region_in_scope(code: str, scope: Scope, owner: Organisation) -> bool:
    if scope.nationwide or (owner.region_code and owner.region_code == code):
        return True
    return any(
        d.region_code == code and d.code in scope.territory_codes
        for d in territories.departments().values()
    )


# --- Checks -------------------------------------------------------------------------------------


def _unknown(label: str, codes: list[str], known: Iterable[str]) -> str | None:
    missing = [c for c in codes if c not in set(known)]
    if not missing:
        return None
    return f"{label} inconnu(s) : {', '.join(missing)}."


def check_filters(
    *, filters: Filters | None, unit_kind: str, user: User | None, owner: Organisation
) -> None:
    """Refuse unknown codes and choices outside ``owner``'s scope, naming each of them.

    A choice outside the owner's territories is refused, never silently dropped, and the
    attempt is recorded (``audience.refused_out_of_scope``): the data of another region is
    not this requester's to ask.
    """
    unknown_keys = sorted(set(filters or {}) - set(KEYS[unit_kind]))
    errors: list[str] = []
    if unknown_keys:
        errors.append(f"Critères inconnus : {', '.join(unknown_keys)}.")
    cleaned = normalize_filters(filters, unit_kind=unit_kind)
    scope = owner_scope(owner)
    out_of_scope: dict[str, list[str]] = {}

    all_territories = territories.departments()
    territory_codes = cleaned.get("territories", [])
    if message := _unknown("Territoire(s)", territory_codes, all_territories):
        errors.append(message)
    outside = [c for c in territory_codes if c in all_territories and not scope.covers_territory(c)]
    if outside:
        out_of_scope["territories"] = outside
        errors.append(
            f"Territoire(s) hors du périmètre de {owner} : {', '.join(outside)}. "
            "Une agence régionale ne peut interroger que ses propres territoires."
        )

    if unit_kind == ESTABLISHMENT:
        region_codes = cleaned.get("regions", [])
        if message := _unknown("Région(s)", region_codes, territories.regions()):
            errors.append(message)
        outside_regions = [
            c
            for c in region_codes
            if c in territories.regions() and not _region_in_scope(c, scope, owner)
        ]
        if outside_regions:
            out_of_scope["regions"] = outside_regions
            errors.append(f"Région(s) hors du périmètre de {owner} : {', '.join(outside_regions)}.")
        categories = [*cleaned.get("categories", []), *cleaned.get("exclude_categories", [])]
        if categories:
            known = {code for code, _ in category_choices()}
            if message := _unknown("Catégorie(s) d'établissement", categories, known):
                errors.append(message)
        if aggregates := cleaned.get("aggregate_categories", []):
            known = {code for code, _ in aggregate_category_choices()}
            if message := _unknown("Catégorie(s) agrégée(s)", aggregates, known):
                errors.append(message)
        if statuses := cleaned.get("legal_statuses", []):
            known = {code for code, _ in legal_status_choices()}
            if message := _unknown("Statut(s) juridique(s)", statuses, known):
                errors.append(message)
        if legal_entities := cleaned.get("legal_entities", []):
            found = dict(
                LegalEntity.objects.filter(finess__in=legal_entities).values_list(
                    "finess", "territory_code"
                )
            )
            if message := _unknown("Entité(s) juridique(s) (FINESS EJ)", legal_entities, found):
                errors.append(message)
        for key, label in (("finess", "ciblés"), ("exclude_finess", "exclus")):
            numbers = cleaned.get(key, [])
            if not numbers:
                continue
            invalid = [n for n in numbers if not finess_is_valid(n)]
            if invalid:
                errors.append(f"Numéros FINESS {label} invalides : {', '.join(invalid)}.")
            found_numbers = set(
                Establishment.objects.filter(finess__in=numbers).values_list("finess", flat=True)
            )
            missing = [n for n in numbers if n not in found_numbers and n not in invalid]
            if missing:
                errors.append(
                    f"Numéros FINESS {label} inconnus de l'annuaire : {', '.join(missing)}."
                )
            if key == "finess":
                visible = set(
                    Establishment.objects.filter(
                        scope.establishments_q(), finess__in=numbers
                    ).values_list("finess", flat=True)
                )
                outside_finess = [n for n in numbers if n in found_numbers and n not in visible]
                if outside_finess:
                    out_of_scope["finess"] = outside_finess
                    errors.append(
                        f"Établissement(s) hors du périmètre de {owner} : "
                        f"{', '.join(outside_finess)}."
                    )
    else:
        for key, choices, label in (
            ("professions", profession_choices, "Profession(s)"),
            ("specialties", specialty_choices, "Savoir-faire"),
            ("modes", mode_choices, "Mode(s) d'exercice"),
        ):
            codes = cleaned.get(key, [])
            if codes and (message := _unknown(label, codes, {c for c, _ in choices()})):
                errors.append(message)
        for key, label in (("rpps", "ciblés"), ("exclude_rpps", "exclus")):
            numbers = cleaned.get(key, [])
            invalid = [n for n in numbers if not rpps_is_valid(n)]
            if invalid:
                errors.append(f"Numéros RPPS {label} invalides : {', '.join(invalid)}.")
            found_numbers = set(
                Professional.objects.filter(rpps__in=numbers).values_list("rpps", flat=True)
            )
            missing = [n for n in numbers if n not in found_numbers and n not in invalid]
            if missing:
                errors.append(
                    f"Numéros RPPS {label} inconnus de l'annuaire : {', '.join(missing)}."
                )

    if out_of_scope:
        audit_record(
            actor=user,
            action="audience.refused_out_of_scope",
            target=owner,
            details={"unit_kind": unit_kind, "out_of_scope": out_of_scope},
        )
    if errors:
        raise AudienceError(errors)


# --- Explicit lists -----------------------------------------------------------------------------


def split_numbers(text: str) -> list[tuple[int, str]]:
    """(line number, token) of every number in ``text``; a first line without digits (a
    column header) is skipped."""
    found: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        tokens = [t.strip().strip("\"'") for t in _SEPARATORS.split(line)]
        tokens = [t for t in tokens if t]
        if number == 1 and tokens and not any(ch.isdigit() for ch in "".join(tokens)):
            continue
        found.extend((number, t.upper()) for t in tokens)
    return found


def parse_finess_list(
    text: str, *, owner: Organisation | None = None
) -> tuple[list[str], list[str]]:
    """FINESS ET numbers of a pasted list (one per line, or separated by ; , or spaces).

    Returns (valid numbers known to the directory and inside ``owner``'s scope, in order and
    without duplicates; French errors, each naming its line).
    """
    tokens = split_numbers(text)
    candidates = [t for _, t in tokens if finess_is_valid(t)]
    known = dict(
        Establishment.objects.filter(finess__in=candidates).values_list("finess", "status")
    )
    visible: set[str] = set(known)
    if owner is not None:
        visible = set(
            Establishment.objects.filter(
                owner_scope(owner).establishments_q(), finess__in=candidates
            ).values_list("finess", flat=True)
        )
    numbers: list[str] = []
    errors: list[str] = []
    for line, token in tokens:
        if not finess_is_valid(token):
            errors.append(
                f"ligne {line} : « {token} » n'est pas un numéro FINESS valide (9 caractères, clé)"
            )
        elif token not in known:
            errors.append(f"ligne {line} : {token} inconnu de l'annuaire")
        elif token not in visible:
            errors.append(f"ligne {line} : {token} hors de votre territoire")
        elif known[token] != Status.OPEN:
            errors.append(f"ligne {line} : {token} est fermé dans l'annuaire")
        elif token not in numbers:
            numbers.append(token)
    return numbers, errors


def parse_rpps_list(text: str, *, owner: Organisation | None = None) -> tuple[list[str], list[str]]:
    """RPPS numbers of a pasted list, as ``parse_finess_list`` does for FINESS numbers."""
    tokens = split_numbers(text)
    candidates = [t for _, t in tokens if rpps_is_valid(t)]
    known = dict(Professional.objects.filter(rpps__in=candidates).values_list("rpps", "status"))
    visible: set[str] = set(known)
    if owner is not None and not owner_scope(owner).nationwide:
        activity_q = owner_scope(owner).establishments_q(
            territory="activities__territory_code",
            legal_entity="activities__finess_legal_entity",
            finess="activities__finess_site",
        )
        visible = set(
            Professional.objects.filter(activity_q, rpps__in=candidates).values_list(
                "rpps", flat=True
            )
        )
    numbers: list[str] = []
    errors: list[str] = []
    for line, token in tokens:
        if not rpps_is_valid(token):
            errors.append(
                f"ligne {line} : « {token} » n'est pas un numéro RPPS valide (11 chiffres, clé)"
            )
        elif token not in known:
            errors.append(f"ligne {line} : {token} inconnu de l'annuaire")
        elif token not in visible:
            errors.append(f"ligne {line} : {token} hors de votre territoire")
        elif known[token] != Status.OPEN:
            errors.append(f"ligne {line} : {token} n'exerce plus selon l'annuaire")
        elif token not in numbers:
            numbers.append(token)
    return numbers, errors


def text_from_upload(upload: IO[bytes]) -> str:
    """The first column of an uploaded CSV or TXT file, one value per line.

    UTF-8 (with or without BOM) or, failing that, Windows-1252 (what spreadsheets save).
    """
    raw = upload.read()
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        content = raw.decode("cp1252", errors="replace")
    lines = content.splitlines()
    sample = "\n".join(lines[:5])
    delimiter = ";" if sample.count(";") >= sample.count(",") else ","
    if ";" not in sample and "," not in sample:
        return "\n".join(lines)
    rows = csv.reader(io.StringIO(content), delimiter=delimiter)
    return "\n".join((row[0] if row else "") for row in rows)


# --- Saving ---------------------------------------------------------------------------------------


def audience_save(*, campaign: Campaign, filters: Filters, user: User) -> Campaign:
    """Store a draft campaign's audience filters and their current size.

    The check runs (and logs a refusal) outside the transaction, so that a refused attempt is
    kept in the audit log.
    """
    if campaign.status != Campaign.Status.DRAFT:
        raise AudienceError(
            "La campagne n'est plus en brouillon : son audience ne se modifie plus."
        )
    check_filters(filters=filters, unit_kind=campaign.unit_kind, user=user, owner=campaign.owner)
    cleaned = normalize_filters(filters, unit_kind=campaign.unit_kind)
    size = audience_count(filters=cleaned, unit_kind=campaign.unit_kind, owner=campaign.owner)
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if locked.status != Campaign.Status.DRAFT:
            raise AudienceError(
                "La campagne n'est plus en brouillon : son audience ne se modifie plus."
            )
        changed = locked.audience_filters != cleaned
        locked.audience_filters = cleaned
        locked.audience_size = size
        locked.save(update_fields=["audience_filters", "audience_size", "updated_at"])
        # Other establishments asked: the overlap choice was made on another analysis.
        reset = changed and overlap_reset(campaign=locked, user=user)
        CampaignEvent.objects.create(
            campaign=locked,
            kind=CampaignEvent.Kind.EDIT,
            actor=user,
            comment="Audience modifiée",
            details={"audience_filters": cleaned, "audience_size": size, "overlap_reset": reset},
        )
        audit_record(
            actor=user,
            action="campaign.audience_set",
            target=locked,
            details={"audience_filters": cleaned, "audience_size": size},
        )
    return locked


# --- Resolution -----------------------------------------------------------------------------------


def resolve_units(*, campaign: Campaign) -> list[int]:
    """Reporting unit ids of ``campaign``'s audience (created as needed), by directory order.

    Raises ``AudienceError`` when the audience is empty: a campaign sent to nobody is a mistake.
    """
    queryset = audience_queryset(
        filters=campaign.audience_filters, unit_kind=campaign.unit_kind, owner=campaign.owner
    )
    ids = list(queryset.order_by("pk").values_list("pk", flat=True))
    if campaign.unit_kind == PROFESSIONAL:
        if not ids:
            raise AudienceError(
                "L'audience ne contient aucun professionnel de santé : élargissez les critères."
            )
        return units_for_professionals(ids)
    if not ids:
        raise AudienceError("L'audience ne contient aucun établissement : élargissez les critères.")
    return units_for_establishments(ids)
