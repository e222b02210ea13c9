"""INSEE territories as the service uses them, and the FINESS codes that hide them.

Data: INSEE's official geography as published by Etalab (``data/regions.json``,
``data/departements.json``, see data/README.md).
"""

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"

# FINESS writes overseas departments with its own codes; INSEE's are what the service stores.
FINESS_OVERSEAS_TO_INSEE = {
    "9A": "971",  # Guadeloupe (Saint-Barthélemy and Saint-Martin hide here too, see below)
    "9B": "972",  # Martinique
    "9C": "973",  # Guyane
    "9D": "974",  # La Réunion
    "9E": "975",  # Saint-Pierre-et-Miquelon
    "9F": "976",  # Mayotte
    "9J": "986",  # Wallis-et-Futuna
}
# Saint-Barthélemy and Saint-Martin left Guadeloupe in 2007 but FINESS still files them under
# 9A; only the postcode tells them apart (INSEE commune codes and postcodes collide overseas).
GUADELOUPE_POSTCODE_TERRITORY = {"97133": "977", "97150": "978"}


class UnknownTerritoryError(ValueError):
    pass


def insee_territory(finess_department: str, postcode: str = "") -> str:
    """The INSEE department or collectivity code of a FINESS row."""
    code = finess_department.strip().upper()
    if code == "9A":
        return GUADELOUPE_POSTCODE_TERRITORY.get(postcode.strip()[:5], "971")
    if code in FINESS_OVERSEAS_TO_INSEE:
        return FINESS_OVERSEAS_TO_INSEE[code]
    if code in {"2A", "2B"} or (len(code) == 2 and code.isdigit() and code not in {"00", "20"}):
        return code
    raise UnknownTerritoryError(f"code département FINESS inconnu : « {finess_department} »")


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    zone: str


@dataclass(frozen=True)
class Department:
    code: str
    name: str
    region_code: str


@cache
def regions() -> dict[str, Region]:
    rows = json.loads((DATA_DIR / "regions.json").read_text(encoding="utf-8"))
    return {r["code"]: Region(code=r["code"], name=r["nom"], zone=r["zone"]) for r in rows}


@cache
def departments() -> dict[str, Department]:
    rows = json.loads((DATA_DIR / "departements.json").read_text(encoding="utf-8"))
    return {
        d["code"]: Department(code=d["code"], name=d["nom"], region_code=d["region"]) for d in rows
    }


# The 18 regional health agencies: one per region (13 in mainland France, 5 overseas). ARS
# Guadeloupe also covers Saint-Barthélemy (977) and Saint-Martin (978).
ARS_EXTRA_TERRITORIES = {"01": ("977", "978")}
ARS_NAMES = {"01": "ARS Guadeloupe, Saint-Martin et Saint-Barthélemy"}


def regional_agencies() -> list[tuple[Region, str, list[str]]]:
    """(region, agency name, covered territory codes) for each of the 18 ARS."""
    agencies = []
    for region in regions().values():
        if region.zone not in {"metro", "drom"}:
            continue
        covered = sorted(
            [d.code for d in departments().values() if d.region_code == region.code]
            + list(ARS_EXTRA_TERRITORIES.get(region.code, ()))
        )
        agencies.append((region, ARS_NAMES.get(region.code, f"ARS {region.name}"), covered))
    return agencies


def territory_region(territory_code: str) -> str:
    """The INSEE region of a territory (a collectivity is its own region code)."""
    department = departments().get(territory_code)
    if department is None:
        raise UnknownTerritoryError(f"territoire inconnu : « {territory_code} »")
    return department.region_code


def territory_of_commune(insee_commune: str) -> str:
    """The INSEE department or collectivity of an INSEE commune code ("" when not one).

    Overseas codes keep three characters (97123 -> 971, 97701 -> 977); a postcode is no
    commune code (they collide overseas) and must not be passed here.
    """
    code = insee_commune.strip().upper()
    if len(code) != 5:
        return ""
    if code.startswith(("97", "98")):
        territory = code[:3]
    elif code[:2] in {"2A", "2B"} or (code[:2].isdigit() and code[:2] not in {"00", "20"}):
        territory = code[:2]
    else:
        return ""
    return territory if code[2:].isdigit() else ""
