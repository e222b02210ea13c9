"""From the readers' records to the rows the merge writes: checked, hashed, reprojected.

The readers (``referentials.finess``, ``referentials.finess_plus``) type and check each line;
this module turns their records into flat tuples in the order of ``ET_COLUMNS`` / ``EJ_COLUMNS``
(the staging tables' columns), rejects what would not fit the directory (a malformed category,
a value longer than its column: never truncated, never imported wrong), reprojects coordinates
to WGS84 and computes each row's hash.
"""

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache

from django.db.models import Model
from pyproj import Transformer

from referentials.finess import EstablishmentRecord, LegalEntityRecord
from referentials.finess_plus import Address as PlusAddress
from referentials.finess_plus import Establishment as PlusEstablishment
from referentials.finess_plus import LegalEntity as PlusLegalEntity
from referentials.models import Establishment, LegalEntity
from referentials.search import establishment_search_text
from referentials.territories import (
    FINESS_OVERSEAS_TO_INSEE,
    UnknownTerritoryError,
    territory_region,
)

# Columns of the establishment staging table, in the order of the tuples built here.
ET_COLUMNS = (
    "finess",
    "legal_entity_finess",
    "name",
    "long_name",
    "category_code",
    "category_label",
    "aggregate_category_code",
    "aggregate_category_label",
    "address",
    "postcode",
    "city",
    "commune_code",
    "finess_department",
    "territory_code",
    "region_code",
    "phone",
    "fax",
    "siret",
    "ape_code",
    "pricing_code",
    "pricing_label",
    "sph_code",
    "sph_label",
    "opened_on",
    "authorised_on",
    "source_updated_on",
    "latitude",
    "longitude",
    "source_x",
    "source_y",
    "source_crs",
    "status",
    "closed_at",
    # Not hashed: derived, or flags for the merge.
    "has_geo",
    "search_text",
    "row_hash",
)
ET_HASHED = len(ET_COLUMNS) - 3
ET_GEO = slice(ET_COLUMNS.index("latitude"), ET_COLUMNS.index("source_crs") + 1)
ET_DATES = frozenset({"opened_on", "authorised_on", "source_updated_on", "closed_at"})
ET_FLOATS = frozenset({"latitude", "longitude", "source_x", "source_y"})

EJ_COLUMNS = (
    "finess",
    "name",
    "long_name",
    "siren",
    "legal_status_code",
    "legal_status_label",
    "address",
    "postcode",
    "city",
    "commune_code",
    "finess_department",
    "territory_code",
    "phone",
    "opened_on",
    "source_updated_on",
    "status",
    "closed_at",
    "row_hash",
)
EJ_DATES = frozenset({"opened_on", "source_updated_on", "closed_at"})

OPEN, CLOSED = Establishment.Status.OPEN.value, Establishment.Status.CLOSED.value

_INSEE_TO_FINESS_DEPARTMENT = {insee: finess for finess, insee in FINESS_OVERSEAS_TO_INSEE.items()}
_INSEE_TO_FINESS_DEPARTMENT.update({"977": "9A", "978": "9A"})
# Saint-Barthélemy and Saint-Martin are one commune each; FINESS still gives Guadeloupe's old
# commune codes (123, 127), which are no INSEE codes any more.
_SINGLE_COMMUNE = {"977": "97701", "978": "97801"}
_CATEGORY = re.compile(r"\d{3}")
UNDECODABLE = "\ufffd"
_AGGREGATE = re.compile(r"\d{4}")


def _max_lengths(model: type[Model]) -> dict[str, int]:
    limits = {}
    for model_field in model._meta.concrete_fields:
        limit = getattr(model_field, "max_length", None)
        if limit:
            limits[model_field.attname] = int(limit)
    return limits


ET_MAX_LENGTHS = _max_lengths(Establishment)
EJ_MAX_LENGTHS = _max_lengths(LegalEntity) | {"legal_entity_finess": 9}


@dataclass
class Rejection:
    file: str
    line: int
    field: str
    reason: str
    rejected: bool = True  # False: the line was imported, one field repaired or left empty

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "field": self.field,
            "reason": self.reason,
            "rejected": self.rejected,
        }


class RowRejected(Exception):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


def row_hash(values: Iterable[object]) -> str:
    """md5 of the source fields: equal hashes, equal rows (no field-by-field comparison)."""
    text = "\x1f".join("" if v is None else str(v) for v in values)
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def insee_commune(territory: str, finess_department: str, commune: str) -> str:
    """The INSEE commune code of a FINESS row (department + 3-digit commune), "" if unsure."""
    if territory in _SINGLE_COMMUNE:
        return _SINGLE_COMMUNE[territory]
    if len(commune) != 3 or not commune.isdigit():
        return ""
    if len(territory) == 3:  # overseas: 97 + 123 (Guadeloupe), 98 + 613 (Wallis)
        return territory[:2] + commune
    return finess_department + commune


def finess_department_of(territory: str) -> str:
    return _INSEE_TO_FINESS_DEPARTMENT.get(territory, territory)


def _location(record: EstablishmentRecord | LegalEntityRecord) -> dict[str, str]:
    """Address and territory columns, the same for an establishment and a legal entity."""
    return {
        "address": _address(
            record.street_number,
            record.street_complement,
            record.street_type,
            record.street,
            complement=record.distribution_complement,
            locality=record.locality,
        ),
        "postcode": record.postcode,
        "city": record.city,
        "commune_code": insee_commune(
            record.territory_code, record.finess_department, record.commune_code
        ),
        "finess_department": record.finess_department,
        "territory_code": record.territory_code,
    }


def _address(*parts: str, locality: str = "", complement: str = "") -> str:
    street = " ".join(p for p in parts if p)
    return ", ".join(p for p in (street, complement, locality) if p)


def _check_lengths(values: Mapping[str, object], limits: dict[str, int]) -> None:
    """Reject a value longer than its column, or holding bytes the reader could not decode."""
    for name, value in values.items():
        if not isinstance(value, str):
            continue
        limit = limits.get(name)
        if limit and len(value) > limit:
            raise RowRejected(
                name,
                f"valeur « {value[:60]} » de {len(value)} caractères pour un champ qui en "
                f"admet {limit} : ligne ignorée (aucune valeur n'est tronquée).",
            )
        # The readers decode what neither UTF-8 nor cp1252 knows as U+FFFD: never imported.
        if UNDECODABLE in value:
            raise RowRejected(
                name,
                f"valeur « {value[:60]} » illisible (octets ni UTF-8 ni cp1252 : encodage "
                "inconnu ou fichier abîmé) : ligne ignorée.",
            )


def _region(territory: str) -> str:
    try:
        return territory_region(territory)
    except UnknownTerritoryError:
        raise RowRejected(
            "departement", f"territoire « {territory} » absent de la géographie INSEE."
        ) from None


@cache
def _transformer(crs: str) -> Transformer | None:
    """A transformer to WGS84 for a row's CRS (``EPSG:2154``, ``UTM 20N``), cached per CRS."""
    epsg = crs
    match = re.fullmatch(r"UTM (\d{1,2})([NS])", crs)
    if match:  # WGS84 UTM zones: RGAF09 / RGFG95 / RGR92 agree with them within a metre
        zone, hemisphere = int(match.group(1)), match.group(2)
        epsg = f"EPSG:{32600 + zone if hemisphere == 'N' else 32700 + zone}"
    try:
        return Transformer.from_crs(epsg, "EPSG:4326", always_xy=True)
    except Exception:  # pyproj.exceptions.CRSError and its kin: unknown system
        return None


@dataclass
class Geolocation:
    x: float | None
    y: float | None
    crs: str


@dataclass
class Collected:
    """Everything read from the files of one run, keyed by FINESS number (later files win)."""

    establishments: dict[str, list[object]] = field(default_factory=dict)
    legal_entities: dict[str, tuple[object, ...]] = field(default_factory=dict)
    geolocations: dict[str, Geolocation] = field(default_factory=dict)
    rejections: list[Rejection] = field(default_factory=list)
    has_structureet: bool = False
    has_structureej: bool = False
    has_geolocation: bool = False
    lines: int = 0

    def reject(self, file: str, line: int, error: RowRejected) -> None:
        self.rejections.append(Rejection(file, line, error.field, error.reason))


def _category(record: EstablishmentRecord) -> None:
    if not _CATEGORY.fullmatch(record.category_code) or not record.category_label.strip():
        raise RowRejected(
            "categetab",
            f"catégorie « {record.category_code} » inconnue ou mal formée (code de 3 chiffres "
            "et libellé attendus) : ligne ignorée.",
        )
    aggregate = record.aggregate_category_code
    if aggregate and not _AGGREGATE.fullmatch(aggregate):
        raise RowRejected(
            "categagretab",
            f"catégorie agrégée « {aggregate} » mal formée (4 chiffres attendus) : ligne ignorée.",
        )


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _iso_text(value: str) -> str | None:
    """A FiNESS+ timestamp's date (``2021-10-18 00:00:00``), None when it is not one."""
    try:
        return date.fromisoformat(value[:10]).isoformat()
    except ValueError:
        return None


def establishment_row(record: EstablishmentRecord) -> list[object]:
    """The staging row of a ``structureet`` line (coordinates, search text and hash: later)."""
    _category(record)
    region = _region(record.territory_code)
    values = {
        "finess": record.finess,
        "legal_entity_finess": record.legal_entity_finess,
        "name": record.name,
        "long_name": record.long_name,
        "category_code": record.category_code,
        "category_label": record.category_label,
        "aggregate_category_code": record.aggregate_category_code,
        "aggregate_category_label": record.aggregate_category_label,
        **_location(record),
        "region_code": region,
        "phone": record.phone,
        "fax": record.fax,
        "siret": record.siret,
        "ape_code": record.ape_code,
        "pricing_code": record.pricing_code,
        "pricing_label": record.pricing_label,
        "sph_code": record.public_service_code,
        "sph_label": record.public_service_label,
    }
    _check_lengths(values, ET_MAX_LENGTHS)
    return [
        *values.values(),
        _iso(record.opened_on),
        _iso(record.authorised_on),
        _iso(record.updated_on),
        None,  # latitude, longitude, source_x, source_y, source_crs: from geolocalisation
        None,
        None,
        None,
        "",
        OPEN,  # an etalab stock file lists open establishments only
        None,
        0,
        "",
        "",
    ]


def legal_entity_row(record: LegalEntityRecord) -> tuple[object, ...]:
    values = {
        "finess": record.finess,
        "name": record.name,
        "long_name": record.long_name,
        "siren": record.siren,
        "legal_status_code": record.legal_status_code,
        "legal_status_label": record.legal_status_label,
        **_location(record),
        "phone": record.phone,
    }
    _check_lengths(values, EJ_MAX_LENGTHS)
    row = (*values.values(), _iso(record.created_on), None, OPEN, None)
    return (*row, row_hash(row))


def finish_establishments(
    collected: Collected, known_hashes: dict[str, str] | None = None
) -> list[tuple[object, ...]]:
    """Join the geolocations (before or after their structureet lines), reproject, hash.

    The search text is only computed for rows whose hash is not in ``known_hashes`` (the
    directory's): an unchanged row keeps the one it has.
    """
    rows = collected.establishments
    by_crs: dict[str, list[tuple[list[object], Geolocation]]] = {}
    if collected.has_geolocation:
        for finess, geolocation in collected.geolocations.items():
            row = rows.get(finess)
            if row is None:
                continue
            row[ET_COLUMNS.index("has_geo")] = 1
            if geolocation.x is None or geolocation.y is None:
                continue
            by_crs.setdefault(geolocation.crs, []).append((row, geolocation))
    lat, lon, sx, sy, scrs = (
        ET_COLUMNS.index(n) for n in ("latitude", "longitude", "source_x", "source_y", "source_crs")
    )
    for crs, items in by_crs.items():
        transformer = _transformer(crs) if crs else None
        xs = [g.x for _, g in items]
        ys = [g.y for _, g in items]
        if transformer is not None:
            longitudes, latitudes = transformer.transform(xs, ys)
        else:
            longitudes = latitudes = [None] * len(items)
        for (row, geolocation), longitude, latitude in zip(
            items, longitudes, latitudes, strict=True
        ):
            row[sx], row[sy], row[scrs] = geolocation.x, geolocation.y, crs
            if latitude is not None and abs(latitude) <= 90 and abs(longitude) <= 180:
                row[lat], row[lon] = round(latitude, 6), round(longitude, 6)
    known = known_hashes or {}
    return [_finished(row, known) for row in rows.values()]


_SEARCH_TEXT = ET_COLUMNS.index("search_text")


def _finished(row: list[object], known: dict[str, str]) -> tuple[object, ...]:
    # Coordinates are left out of the hash: they come from other lines (geolocalisation), absent
    # from a file 502, and the merge compares them apart for the rows that have them.
    hashed = row[: ET_GEO.start] + row[ET_GEO.stop : ET_HASHED]
    row[-1] = digest = row_hash(hashed)
    if known.get(str(row[0])) != digest:
        row[_SEARCH_TEXT] = establishment_search_text(
            name=str(row[2]), long_name=str(row[3]), city=str(row[10]), finess=str(row[0])
        )
    return tuple(row)


# --- FiNESS+ --------------------------------------------------------------------------------


def plus_rows(
    entity: PlusLegalEntity, categories: dict[str, tuple[str, str, str]], collected: Collected
) -> None:
    """Add a FiNESS+ legal entity and its sites to ``collected`` (closures stated, not guessed)."""
    address = entity.addresses[0] if entity.addresses else None
    territory = entity.territory_code
    try:
        values = {
            "finess": entity.finess,
            "name": entity.name or entity.long_name,
            "long_name": entity.long_name,
            "siren": entity.siren,
            "legal_status_code": entity.legal_status_code,
            "legal_status_label": "",
            "address": _plus_address(address),
            "postcode": address.postcode if address else "",
            "city": address.city if address else "",
            "commune_code": address.commune_code if address else "",
            "finess_department": finess_department_of(territory),
            "territory_code": territory,
            "phone": "",
        }
        _check_lengths(values, EJ_MAX_LENGTHS)
        closed = entity.is_closed
        row = (
            *values.values(),
            _iso(entity.created_on),
            _iso_text(entity.last_updated),
            CLOSED if closed else OPEN,
            _iso(entity.closed_on) if closed else None,
        )
        collected.legal_entities[entity.finess] = (*row, row_hash(row))
    except RowRejected as error:
        collected.reject("", entity.line, error)
        return
    for site in entity.establishments:
        try:
            collected.establishments[site.finess] = _plus_establishment(entity, site, categories)
        except RowRejected as error:
            collected.reject("", site.line, error)


def _plus_address(address: PlusAddress | None) -> str:
    if address is None:
        return ""
    return _address(
        address.street_number,
        address.street_type,
        address.street,
        locality=address.locality,
    )


def _plus_establishment(
    entity: PlusLegalEntity, site: PlusEstablishment, categories: dict[str, tuple[str, str, str]]
) -> list[object]:
    category = site.category_code
    if not _CATEGORY.fullmatch(category):
        raise RowRejected(
            "categorieEntiteGeographiqueExercice",
            f"catégorie « {category} » mal formée (3 chiffres attendus) : établissement ignoré.",
        )
    # FiNESS+ gives the code only: the label comes from the categories the etalab files named.
    label, aggregate, aggregate_label = categories.get(category, (f"Catégorie {category}", "", ""))
    address = site.addresses[0] if site.addresses else None
    territory = site.territory_code
    if not territory:
        raise RowRejected(
            "adresse.cogCommune",
            "établissement sans commune INSEE valide : territoire inconnu, établissement ignoré.",
        )
    closed = site.is_closed
    values = {
        "finess": site.finess,
        "legal_entity_finess": entity.finess,
        "name": site.short_name or site.long_name,
        "long_name": site.long_name,
        "category_code": category,
        "category_label": label,
        "aggregate_category_code": aggregate,
        "aggregate_category_label": aggregate_label,
        "address": _plus_address(address),
        "postcode": address.postcode if address else "",
        "city": address.city if address else "",
        "commune_code": address.commune_code if address else "",
        "finess_department": finess_department_of(territory),
        "territory_code": territory,
        "region_code": _region(territory),
        "phone": "",
        "fax": "",
        "siret": site.siret,
        "ape_code": "",
        "pricing_code": site.pricing_code,
        "pricing_label": "",
        "sph_code": "",
        "sph_label": "",
    }
    _check_lengths(values, ET_MAX_LENGTHS)
    latitude = address.latitude if address else None
    longitude = address.longitude if address else None
    return [
        *values.values(),
        _iso(site.opened_on),
        _iso(site.first_authorised_on),
        _iso_text(site.last_updated),
        latitude,
        longitude,
        None,  # FiNESS+ publishes X/Y swapped in its example: WGS84 given, X/Y not kept
        None,
        "EPSG:4326" if latitude is not None else "",
        CLOSED if closed else OPEN,
        _iso(site.closed_on) if closed else None,
        1,
        "",
        "",
    ]
