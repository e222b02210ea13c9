"""Writes to the directory and to the organisations that stand on it."""

from collections.abc import Sequence
from pathlib import Path

from django.db import transaction

from accounts.models import Organisation, User
from accounts.services import audit_record
from referentials import territories
from referentials.importers.finess import import_finess
from referentials.models import Establishment, ImportRun, LegalEntity

NATIONAL_DIRECTORATES = [
    ("DGOS", "Direction générale de l'offre de soins"),
    ("DGS", "Direction générale de la santé"),
    ("DGCS", "Direction générale de la cohésion sociale"),
    ("DREES", "Direction de la recherche, des études, de l'évaluation et des statistiques"),
    ("SpF", "Santé publique France"),
]


@transaction.atomic
def organisations_seed(*, acting_user: User | None = None) -> dict[str, int]:
    """Create (or bring up to date) the national directorates and the 18 regional agencies."""
    created = {"national": 0, "ars": 0}
    for short_name, name in NATIONAL_DIRECTORATES:
        organisation, was_created = Organisation.objects.update_or_create(
            kind=Organisation.Kind.NATIONAL,
            short_name=short_name,
            defaults={"name": name},
        )
        created["national"] += was_created
        if was_created:
            audit_record(actor=acting_user, action="organisation.create", target=organisation)
    for region, name, covered in territories.regional_agencies():
        organisation, was_created = Organisation.objects.update_or_create(
            kind=Organisation.Kind.REGIONAL_AGENCY,
            region_code=region.code,
            defaults={
                "name": name,
                "short_name": f"ARS {region.code}",
                "covered_territories": covered,
            },
        )
        created["ars"] += was_created
        if was_created:
            audit_record(actor=acting_user, action="organisation.create", target=organisation)
    return created


def directory_load_excerpt(*, paths: Sequence[Path]) -> ImportRun:
    """Load etalab excerpts through the FINESS importer (the demo's directory is a real import).

    The files are imported in one run, the newer extract winning for an establishment in both.
    """
    return import_finess(path=paths)


@transaction.atomic
def establishment_organisation_ensure(*, establishment: Establishment) -> Organisation:
    organisation, _ = Organisation.objects.update_or_create(
        kind=Organisation.Kind.ESTABLISHMENT,
        finess=establishment.finess,
        defaults={
            "name": establishment.name,
            "territory_code": establishment.territory_code,
            "legal_entity_finess": establishment.legal_entity.finess,
        },
    )
    return organisation


@transaction.atomic
def legal_entity_organisation_ensure(*, legal_entity: LegalEntity, name: str = "") -> Organisation:
    organisation, _ = Organisation.objects.update_or_create(
        kind=Organisation.Kind.LEGAL_ENTITY,
        finess=legal_entity.finess,
        defaults={
            "name": name or legal_entity.name,
            "territory_code": legal_entity.territory_code,
        },
    )
    return organisation
