"""Reporting units: the one row per establishment or professional that assignments and values
point to. Created in bulk, on demand, when a campaign resolves its audience.

Reads plain tuples, not model instances: resolving a national audience (tens of thousands of
establishments) stays a handful of queries and little Python.
"""

from collections.abc import Iterable

from django.db import transaction

from referentials.models import Establishment, Professional, ProfessionalActivity, ReportingUnit

_SCOPING_FIELDS = ("label", "territory_code", "legal_entity_finess", "finess", "national_id")
Fields = tuple[str, str, str, str, str]  # in the order of _SCOPING_FIELDS


def _sync(kind: str, key: str, wanted: dict[int, Fields], order: list[int]) -> list[int]:
    """Create the missing units and refresh stale scoping fields; ids in ``order``."""
    existing: dict[int, tuple[int, Fields]] = {
        row[0]: (row[1], tuple(row[2:]))  # type: ignore[misc]
        for row in ReportingUnit.objects.filter(**{f"{key}__in": list(wanted)}).values_list(
            key, "pk", *_SCOPING_FIELDS
        )
    }
    missing = [
        ReportingUnit(kind=kind, **{key: source}, **dict(zip(_SCOPING_FIELDS, fields, strict=True)))
        for source, fields in wanted.items()
        if source not in existing
    ]
    stale = [
        ReportingUnit(pk=existing[source][0], **dict(zip(_SCOPING_FIELDS, fields, strict=True)))
        for source, fields in wanted.items()
        if source in existing and existing[source][1] != fields
    ]
    ids = {source: unit for source, (unit, _) in existing.items()}
    with transaction.atomic():
        if missing:
            ReportingUnit.objects.bulk_create(missing, batch_size=2000, ignore_conflicts=True)
            ids.update(
                ReportingUnit.objects.filter(
                    **{f"{key}__in": [getattr(u, key) for u in missing]}
                ).values_list(key, "pk")
            )
        if stale:
            ReportingUnit.objects.bulk_update(stale, list(_SCOPING_FIELDS), batch_size=500)
    return [ids[source] for source in order if source in ids]


def units_for_establishments(establishment_ids: Iterable[int]) -> list[int]:
    """Reporting unit ids of these establishments, creating the units that do not exist yet."""
    order = list(dict.fromkeys(establishment_ids))
    wanted: dict[int, Fields] = {
        pk: (name, territory, legal_entity, finess, "")
        for pk, name, territory, legal_entity, finess in Establishment.objects.filter(
            pk__in=order
        ).values_list("pk", "name", "territory_code", "legal_entity__finess", "finess")
    }
    return _sync(ReportingUnit.Kind.ESTABLISHMENT, "establishment_id", wanted, order)


def units_for_professionals(professional_ids: Iterable[int]) -> list[int]:
    """Reporting unit ids of these professionals, creating the units that do not exist yet.

    A professional's territory is that of their first activity (several are possible).
    """
    order = list(dict.fromkeys(professional_ids))
    territories: dict[int, str] = {}
    for professional_id, territory in (
        ProfessionalActivity.objects.filter(professional_id__in=order)
        .order_by("professional_id", "pk")
        .values_list("professional_id", "territory_code")
    ):
        territories.setdefault(professional_id, territory)
    wanted: dict[int, Fields] = {}
    for pk, first, last, profession, national_id in Professional.objects.filter(
        pk__in=order
    ).values_list("pk", "first_name", "last_name", "profession_label", "national_id"):
        name = " ".join(part for part in (first, last) if part)
        label = f"{name} — {profession}" if profession else name
        wanted[pk] = (label[:255], territories.get(pk, ""), "", "", national_id)
    return _sync(ReportingUnit.Kind.PROFESSIONAL, "professional_id", wanted, order)


_CHUNK = 10_000


def refresh_units() -> None:
    """Bring every reporting unit's copied scoping fields in line with the directory.

    Called by the FINESS and RPPS imports in their transaction: an establishment that moved to
    another legal entity or territory leaves the old one's scope at once.
    """
    for kind, key, sync in (
        (ReportingUnit.Kind.ESTABLISHMENT, "establishment_id", units_for_establishments),
        (ReportingUnit.Kind.PROFESSIONAL, "professional_id", units_for_professionals),
    ):
        ids = list(ReportingUnit.objects.filter(kind=kind).values_list(key, flat=True))
        for start in range(0, len(ids), _CHUNK):
            sync(ids[start : start + _CHUNK])


def unit_for_establishment(establishment: Establishment) -> ReportingUnit:
    return ReportingUnit.objects.get(pk=units_for_establishments([establishment.pk])[0])


def unit_for_professional(professional: Professional) -> ReportingUnit:
    return ReportingUnit.objects.get(pk=units_for_professionals([professional.pk])[0])
