"""Reporting units: the one row per establishment or professional that assignments and values
point to. Created in bulk, on demand, when a campaign resolves its audience."""

from collections.abc import Iterable

from django.db import transaction

from referentials.models import Establishment, Professional, ProfessionalActivity, ReportingUnit

_SCOPING_FIELDS = ["label", "territory_code", "legal_entity_finess", "finess", "national_id"]


def _establishment_unit(establishment: Establishment) -> ReportingUnit:
    return ReportingUnit(
        kind=ReportingUnit.Kind.ESTABLISHMENT,
        establishment_id=establishment.pk,
        label=establishment.name,
        territory_code=establishment.territory_code,
        legal_entity_finess=establishment.legal_entity.finess,
        finess=establishment.finess,
    )


def _professional_unit(professional: Professional, territory_code: str) -> ReportingUnit:
    name = " ".join(p for p in (professional.first_name, professional.last_name) if p)
    return ReportingUnit(
        kind=ReportingUnit.Kind.PROFESSIONAL,
        professional_id=professional.pk,
        label=f"{name} — {professional.profession_label}"
        if professional.profession_label
        else name,
        territory_code=territory_code,
        national_id=professional.national_id,
    )


def _sync(wanted: list[ReportingUnit], existing: dict[int, ReportingUnit], key: str) -> list[int]:
    """Create the missing units, refresh stale scoping fields; return unit ids in input order."""
    missing = [u for u in wanted if getattr(u, key) not in existing]
    stale = []
    for unit in wanted:
        current = existing.get(getattr(unit, key))
        if current is not None and any(
            getattr(current, f) != getattr(unit, f) for f in _SCOPING_FIELDS
        ):
            for f in _SCOPING_FIELDS:
                setattr(current, f, getattr(unit, f))
            stale.append(current)
    with transaction.atomic():
        if missing:
            ReportingUnit.objects.bulk_create(missing, batch_size=2000, ignore_conflicts=True)
        if stale:
            ReportingUnit.objects.bulk_update(stale, _SCOPING_FIELDS, batch_size=2000)
    ids = (
        dict(
            ReportingUnit.objects.filter(
                **{f"{key}__in": [getattr(u, key) for u in missing]}
            ).values_list(key, "pk")
        )
        if missing
        else {}
    )
    ids.update({k: u.pk for k, u in existing.items()})
    return [ids[getattr(u, key)] for u in wanted]


def units_for_establishments(establishment_ids: Iterable[int]) -> list[int]:
    """Reporting unit ids of these establishments, creating the units that do not exist yet."""
    ids = list(dict.fromkeys(establishment_ids))
    establishments = Establishment.objects.filter(pk__in=ids).select_related("legal_entity")
    by_id = {e.pk: e for e in establishments}
    wanted = [_establishment_unit(by_id[i]) for i in ids if i in by_id]
    existing = {
        u.establishment_id: u for u in ReportingUnit.objects.filter(establishment_id__in=ids)
    }
    return _sync(wanted, existing, "establishment_id")


def units_for_professionals(professional_ids: Iterable[int]) -> list[int]:
    """Reporting unit ids of these professionals, creating the units that do not exist yet."""
    ids = list(dict.fromkeys(professional_ids))
    professionals = {p.pk: p for p in Professional.objects.filter(pk__in=ids)}
    territories: dict[int, str] = {}
    for professional_id, territory in (
        ProfessionalActivity.objects.filter(professional_id__in=ids)
        .order_by("professional_id", "pk")
        .values_list("professional_id", "territory_code")
    ):
        territories.setdefault(professional_id, territory)
    wanted = [
        _professional_unit(professionals[i], territories.get(i, ""))
        for i in ids
        if i in professionals
    ]
    existing = {u.professional_id: u for u in ReportingUnit.objects.filter(professional_id__in=ids)}
    return _sync(wanted, existing, "professional_id")


def unit_for_establishment(establishment: Establishment) -> ReportingUnit:
    return ReportingUnit.objects.get(pk=units_for_establishments([establishment.pk])[0])


def unit_for_professional(professional: Professional) -> ReportingUnit:
    return ReportingUnit.objects.get(pk=units_for_professionals([professional.pk])[0])
