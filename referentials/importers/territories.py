"""INSEE territories into the directory: regions, departments and collectivities, communes.

The files ship with the service (``referentials/data``, see its README): ``regions.json`` and
``departements.json`` (read through ``referentials.territories``), ``communes.csv`` and
``communes-outremer.json``. Overseas collectivities (975, 977 Saint-Barthélemy, 978
Saint-Martin, 984, 986-989) are territories under their own codes, each its own region. Only
current communes are loaded (``commune-actuelle``: not the municipal arrondissements of Paris,
Lyon and Marseille); the overseas file gives the same rows as the national one for its codes
and is merged by code, so that a commune only it lists would still be loaded.

Idempotent and set-based: what exists is read once (35,000 communes fit comfortably), then
only the differences are written, by batches. Nothing is deleted: a commune that left the
files (a merger) stays, counted as ``absent``. Each regional agency is then brought up to date
with the territories it covers (``organisations_seed``).
"""

import csv
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from referentials import territories
from referentials.models import Commune, ImportRun, Region, Territory
from referentials.services import organisations_seed

DATA_DIR = territories.DATA_DIR
COMMUNES_CSV = DATA_DIR / "communes.csv"
COMMUNES_OVERSEAS_JSON = DATA_DIR / "communes-outremer.json"
SOURCE_FILES = (
    DATA_DIR / "regions.json",
    DATA_DIR / "departements.json",
    COMMUNES_CSV,
    COMMUNES_OVERSEAS_JSON,
)
BATCH_SIZE = 2000
CURRENT_COMMUNE = "commune-actuelle"


class UnknownCommuneTerritoryError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class CommuneRow:
    code: str
    name: str
    territory: str
    postcodes: tuple[str, ...]


def files_checksum(paths: tuple[Path, ...] = SOURCE_FILES) -> str:
    digest = hashlib.sha256()
    for path in paths:
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def commune_rows() -> dict[str, CommuneRow]:
    """Current communes by INSEE code: the national file, then the overseas one over it."""
    rows: dict[str, CommuneRow] = {}
    with COMMUNES_CSV.open(encoding="utf-8-sig", newline="") as handle:
        for record in csv.DictReader(handle):
            if record["type"] != CURRENT_COMMUNE:
                continue
            postcodes = tuple(p for p in record["codes_postaux"].split("|") if p)
            rows[record["code"]] = CommuneRow(
                record["code"], record["nom"], record["departement"], postcodes
            )
    for record in json.loads(COMMUNES_OVERSEAS_JSON.read_text(encoding="utf-8")):
        if record.get("type", CURRENT_COMMUNE) != CURRENT_COMMUNE:
            continue
        rows[record["code"]] = CommuneRow(
            record["code"],
            record["nom"],
            record["departement"],
            tuple(record.get("codesPostaux") or ()),
        )
    return rows


def _new_counts() -> dict[str, int]:
    return {"created": 0, "updated": 0, "unchanged": 0}


def _sync_regions() -> dict[str, int]:
    counts = _new_counts()
    existing = {region.code: region for region in Region.objects.all()}
    to_create, to_update = [], []
    for source in territories.regions().values():
        region = existing.get(source.code)
        if region is None:
            to_create.append(Region(code=source.code, name=source.name, zone=source.zone))
        elif (region.name, region.zone) != (source.name, source.zone):
            region.name, region.zone = source.name, source.zone
            to_update.append(region)
        else:
            counts["unchanged"] += 1
    Region.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
    Region.objects.bulk_update(to_update, ["name", "zone"], batch_size=BATCH_SIZE)
    counts["created"], counts["updated"] = len(to_create), len(to_update)
    return counts


def _sync_territories() -> dict[str, int]:
    counts = _new_counts()
    existing = {territory.code: territory for territory in Territory.objects.all()}
    to_create, to_update = [], []
    for source in territories.departments().values():
        territory = existing.get(source.code)
        if territory is None:
            to_create.append(
                Territory(code=source.code, name=source.name, region_id=source.region_code)
            )
        elif (territory.name, territory.region_id) != (source.name, source.region_code):
            territory.name, territory.region_id = source.name, source.region_code
            to_update.append(territory)
        else:
            counts["unchanged"] += 1
    Territory.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
    Territory.objects.bulk_update(to_update, ["name", "region"], batch_size=BATCH_SIZE)
    counts["created"], counts["updated"] = len(to_create), len(to_update)
    return counts


def _sync_communes(rows: dict[str, CommuneRow]) -> dict[str, int]:
    counts = _new_counts()
    existing = {commune.code: commune for commune in Commune.objects.all()}
    to_create, to_update = [], []
    for row in rows.values():
        commune = existing.get(row.code)
        postcodes = list(row.postcodes)
        if commune is None:
            to_create.append(
                Commune(
                    code=row.code, name=row.name, territory_id=row.territory, postcodes=postcodes
                )
            )
        elif (commune.name, commune.territory_id, commune.postcodes) != (
            row.name,
            row.territory,
            postcodes,
        ):
            commune.name, commune.territory_id, commune.postcodes = (
                row.name,
                row.territory,
                postcodes,
            )
            to_update.append(commune)
        else:
            counts["unchanged"] += 1
    Commune.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
    Commune.objects.bulk_update(
        to_update, ["name", "territory", "postcodes"], batch_size=BATCH_SIZE
    )
    counts["created"], counts["updated"] = len(to_create), len(to_update)
    counts["absent"] = len(existing.keys() - rows.keys())
    return counts


def import_territories(*, started_by: User | None = None) -> ImportRun:
    """Load (or bring up to date) regions, territories and communes; then the ARS coverage."""
    run = ImportRun.objects.create(
        source=ImportRun.Source.TERRITORIES,
        file_name=", ".join(path.name for path in SOURCE_FILES),
        checksum=files_checksum(),
        started_by=started_by,
    )
    try:
        rows = commune_rows()
        unknown = {row.territory for row in rows.values()} - territories.departments().keys()
        if unknown:
            raise UnknownCommuneTerritoryError(
                f"communes rattachées à des territoires absents de departements.json : "
                f"{', '.join(sorted(unknown))}"
            )
        with transaction.atomic():
            detail = {
                "regions": _sync_regions(),
                "territories": _sync_territories(),
                "communes": _sync_communes(rows),
            }
            organisations_seed(acting_user=started_by)
    except Exception as error:
        run.status = ImportRun.Status.FAILED
        run.message = f"Échec de l'import des territoires, rien n'a été modifié : {error}"
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "message", "finished_at"])
        raise
    totals = {
        key: sum(part[key] for part in detail.values())
        for key in ("created", "updated", "unchanged")
    }
    run.counts = {**totals, "closed": 0, "reopened": 0, "rejected": 0, **detail}
    run.progress = len(rows)
    run.status = ImportRun.Status.SUCCEEDED
    changed = totals["created"] + totals["updated"]
    run.message = (
        f"{len(territories.regions())} régions, "
        f"{len(territories.departments())} territoires, {len(rows)} communes : "
        + (f"{changed} créations ou mises à jour." if changed else "aucune modification.")
    )
    run.finished_at = timezone.now()
    run.save()
    return run
