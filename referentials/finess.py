"""Reading FINESS etalab extracts (files 501/502/507): ``;``-separated, quoted, cp1252 or UTF-8.

The first line ``finess;etalab;N;DATE`` is not a header; every data line starts with its record
type and ends with a trailing ``;``. Column order follows the ministry's notice (data/README.md).
"""

import csv
import io
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from referentials.identifiers import (
    FINESS_LENGTH,
    finess_is_valid,
    siren_is_valid,
    siret_is_valid,
)
from referentials.sources import (
    SNIFF_SIZE,
    ClosingReader,
    RowError,
    Source,
    peek,
    sniff_encoding,
    text_stream,
)
from referentials.territories import UnknownTerritoryError, insee_territory

STRUCTUREET_COLUMNS = (
    "nofinesset",
    "nofinessej",
    "rs",
    "rslongue",
    "complrs",
    "compldistrib",
    "numvoie",
    "typvoie",
    "voie",
    "compvoie",
    "lieuditbp",
    "commune",
    "departement",
    "libdepartement",
    "ligneacheminement",
    "telephone",
    "telecopie",
    "categetab",
    "libcategetab",
    "categagretab",
    "libcategagretab",
    "siret",
    "codeape",
    "codemft",
    "libmft",
    "codesph",
    "libsph",
    "dateouv",
    "dateautor",
    "datemaj",
    "numuai",
)


class FinessFormatError(ValueError):
    pass


@dataclass(frozen=True)
class ExtractHeader:
    kind: str
    record_count: int
    extract_date: str


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252")


def read_structureet(path: Path) -> tuple[ExtractHeader, Iterator[dict[str, str]]]:
    text = _decode(path.read_bytes())
    reader = csv.reader(io.StringIO(text), delimiter=";", quotechar='"')
    first = next(reader, None)
    if not first or first[0] != "finess" or len(first) < 4:
        raise FinessFormatError(
            f"{path.name}, ligne 1 : en-tête « finess;etalab;N;DATE » attendu, "
            f"trouvé « {';'.join(first or [])} »."
        )
    header = ExtractHeader(kind=first[1], record_count=int(first[2]), extract_date=first[3])

    def rows() -> Iterator[dict[str, str]]:
        for line_number, fields in enumerate(reader, start=2):
            if not fields or fields[0] != "structureet":
                continue
            values = fields[1:]
            if values and values[-1] == "":
                values = values[:-1]  # the trailing separator
            if len(values) == len(STRUCTUREET_COLUMNS) - 1:
                values.append("")  # "FINESS light" extracts stop before numuai
            if len(values) != len(STRUCTUREET_COLUMNS):
                raise FinessFormatError(
                    f"{path.name}, ligne {line_number} : {len(values)} colonnes au lieu de "
                    f"{len(STRUCTUREET_COLUMNS)} pour un enregistrement structureet."
                )
            yield dict(zip(STRUCTUREET_COLUMNS, values, strict=True))

    return header, rows()


# --- Streaming reader of the etalab extracts 501, 502 and 507 ---------------------------------
#
# ``read_extract`` reads the first line eagerly (a file that is no FINESS extract fails at once
# with ``FinessFormatError``) then streams typed records. A bad row does not stop the file: it
# becomes a ``RowError`` (line, field, message in French) in ``FinessExtract.errors`` and the
# reader goes on with the next line.

# File 501, legal entities, in the order of the ministry's notice (format/etalab_cs1100501):
# unlike 502, ``compldistrib`` follows ``compvoie`` and ``ligneacheminement`` comes before
# ``departement``.
STRUCTUREEJ_COLUMNS = (
    "nofiness",
    "rs",
    "rslongue",
    "complrs",
    "numvoie",
    "typvoie",
    "voie",
    "compvoie",
    "compldistrib",
    "lieuditbp",
    "commune",
    "ligneacheminement",
    "departement",
    "libdepartement",
    "telephone",
    "statutjuridique",
    "libstatutjuridique",
    "categetab",
    "libcategetab",
    "siren",
    "codeape",
    "datecrea",
)
# File 507, second section (format/etalab_cs1100507, positions 33 to 37).
GEOLOCALISATION_COLUMNS = ("nofinesset", "coordxet", "coordyet", "sourcecoordet", "datemaj")

# "Unknown" in FINESS: 1900-01-01 is the notice's default, the others are conventions of the
# files (see data/README.md).
PLACEHOLDER_DATES = frozenset({"1900-01-01", "1901-01-01", "1903-03-03", "1904-04-04"})

_EPSG = re.compile(r"EPSG:\s*(\d+)\s*(.*)", re.IGNORECASE)
_UTM = re.compile(r"UTM\s*(?:zone\s*)?(\d{1,2}\s*[NS])", re.IGNORECASE)
_SPREADSHEET_DATE = re.compile(r"\d{1,2}/\d{1,2}/\d{4}")
_ADVICE_DOWNLOAD = (
    "téléchargez à nouveau le fichier officiel et importez-le sans l'ouvrir ni l'enregistrer "
    "dans un tableur"
)


@dataclass(frozen=True, slots=True)
class LegalEntityRecord:
    """A ``structureej`` line (file 501)."""

    line: int
    finess: str
    name: str
    long_name: str
    name_complement: str
    street_number: str
    street_type: str
    street: str
    street_complement: str
    distribution_complement: str
    locality: str
    commune_code: str
    postcode: str
    city: str
    finess_department: str
    department_label: str
    territory_code: str
    phone: str
    legal_status_code: str
    legal_status_label: str
    category_code: str
    category_label: str
    siren: str
    ape_code: str
    created_on: date | None


@dataclass(frozen=True, slots=True)
class EstablishmentRecord:
    """A ``structureet`` line (files 502 and 507)."""

    line: int
    finess: str
    legal_entity_finess: str
    name: str
    long_name: str
    name_complement: str
    distribution_complement: str
    street_number: str
    street_type: str
    street: str
    street_complement: str
    locality: str
    commune_code: str
    finess_department: str
    department_label: str
    postcode: str
    city: str
    territory_code: str
    phone: str
    fax: str
    category_code: str
    category_label: str
    aggregate_category_code: str
    aggregate_category_label: str
    siret: str
    ape_code: str
    pricing_code: str
    pricing_label: str
    public_service_code: str
    public_service_label: str
    opened_on: date | None
    authorised_on: date | None
    updated_on: date | None
    uai: str


@dataclass(frozen=True, slots=True)
class GeolocationRecord:
    """A ``geolocalisation`` line (file 507): coordinates as published, not reprojected.

    ``crs`` is the coordinate system named by the row (``EPSG:2154`` Lambert-93 in mainland
    France, UTM zones overseas); ``source`` is the whole ``sourcecoordet`` field.
    """

    line: int
    finess: str
    x: float | None
    y: float | None
    crs: str
    crs_label: str
    source: str
    updated_on: date | None


FinessRecord = LegalEntityRecord | EstablishmentRecord | GeolocationRecord


class _SkipRow(Exception):
    """Raised inside a row parser when the row cannot be kept (its error is already noted)."""


def parse_crs(source: str) -> tuple[str, str]:
    """(``EPSG:nnnn`` or ``UTM nnX``, label) from a ``sourcecoordet`` field, ("", "") if none."""
    match = _EPSG.search(source)
    if match:
        return f"EPSG:{match.group(1)}", match.group(2).strip()
    match = _UTM.search(source)
    if match:
        return f"UTM {match.group(1).replace(' ', '').upper()}", source.rsplit(",", 1)[-1].strip()
    return "", ""


class FinessExtract(ClosingReader):
    """An etalab FINESS extract being read: header facts at once, records as a stream.

    Iterate once over it (or over ``records``) to get the records; ``errors`` fills up as the
    rows go by. Use it as a context manager (or iterate to the end) so that a file opened from a
    path is closed.
    """

    def __init__(self, source: Source) -> None:
        stream = self._open(source)
        try:
            prefix, stream = peek(stream, SNIFF_SIZE)
            self.encoding = sniff_encoding(prefix)
            self._text = text_stream(stream, self.encoding)
            self._reader = csv.reader(self._text, delimiter=";", quotechar='"')
            self.header = self._read_header()
        except BaseException:
            self.close()
            raise
        self.extract_date: date = date.fromisoformat(self.header.extract_date)
        self.announced_count: int = self.header.record_count
        self.errors: list[RowError] = []
        self.counts: Counter[str] = Counter()
        self._dates: dict[str, date | None] = {}
        self._valid_legal_entities: set[str] = set()
        self.records: Iterator[FinessRecord] = self._records()

    # -- header ------------------------------------------------------------------------------

    def _fail(self, line: int, message: str) -> FinessFormatError:
        return FinessFormatError(f"{self.file_name}, ligne {line} : {message}")

    def _read_header(self) -> ExtractHeader:
        first = next(self._reader, None)
        if not first or first[0] != "finess" or len(first) < 4:
            found = ";".join(first or [])[:80]
            raise self._fail(
                1,
                "première ligne « finess;etalab;N;AAAA-MM-JJ » attendue, trouvé "
                f"« {found} ». Vérifiez qu'il s'agit bien d'un extrait FINESS etalab "
                "(fichiers 501, 502 ou 507).",
            )
        kind, count, extract_date = first[1], first[2], first[3]
        if _SPREADSHEET_DATE.fullmatch(extract_date) or any(first[4:]):
            raise self._fail(
                1,
                f"la date d'extraction « {extract_date} » ou les colonnes ajoutées montrent un "
                "fichier réenregistré par un tableur (zéros initiaux et SIRET perdus) : "
                f"{_ADVICE_DOWNLOAD}.",
            )
        try:
            date.fromisoformat(extract_date)
        except ValueError:
            raise self._fail(
                1, f"date d'extraction « {extract_date} » illisible (AAAA-MM-JJ attendu)."
            ) from None
        if not count.isdigit():
            raise self._fail(1, f"nombre d'enregistrements « {count} » illisible.")
        return ExtractHeader(kind=kind, record_count=int(count), extract_date=extract_date)

    # -- records -----------------------------------------------------------------------------

    def __iter__(self) -> Iterator[FinessRecord]:
        return self.records

    def _records(self) -> Iterator[FinessRecord]:
        reader = self._reader
        parsers: dict[str, Callable[[int, list[str]], FinessRecord]] = {
            "structureet": self._establishment,
            "structureej": self._legal_entity,
            "geolocalisation": self._geolocation,
        }
        counts = self.counts
        previous = reader.line_num  # the last physical line read
        try:
            while True:
                try:
                    fields = next(reader)
                except StopIteration:
                    return
                except csv.Error as error:
                    previous = reader.line_num
                    self._error(
                        reader.line_num,
                        "",
                        f"ligne illisible ({error}), sans doute un guillemet non refermé : "
                        "les lignes qu'il a englobées sont ignorées ; vérifiez ce champ dans "
                        "le fichier d'origine.",
                    )
                    continue
                first_line, line = previous + 1, reader.line_num
                previous = line
                if not fields or fields == [""]:
                    continue
                if line != first_line:
                    self._error(
                        first_line,
                        "",
                        f"enregistrement étalé sur les lignes {first_line} à {line} : un "
                        "guillemet ouvert n'est pas refermé (aucun champ FINESS ne contient de "
                        "retour à la ligne). Ces lignes sont ignorées ; corrigez ou signalez le "
                        "champ en cause dans le fichier d'origine.",
                    )
                    continue
                parser = parsers.get(fields[0])
                if parser is None:
                    self._error(
                        line,
                        "",
                        f"type d'enregistrement « {fields[0][:40]} » inconnu (structureet, "
                        "structureej ou geolocalisation attendu) : ligne ignorée.",
                    )
                    continue
                try:
                    record = parser(line, fields)
                except _SkipRow:
                    continue
                counts[fields[0]] += 1
                yield record
        finally:
            self.close()

    def _error(self, line: int, field: str, message: str) -> None:
        self.errors.append(RowError(self.file_name, line, field, message))

    def _values(
        self, line: int, fields: list[str], columns: tuple[str, ...], optional_last: bool
    ) -> list[str]:
        values = fields[1:]
        if len(values) == len(columns) + 1 and values[-1] == "":
            values.pop()  # the trailing separator
        if optional_last and len(values) == len(columns) - 1:
            values.append("")  # files 507 and "FINESS light" stop before numuai
        if len(values) == len(columns):
            return values
        if len(values) < len(columns):
            last = columns[len(values) - 1] if values else fields[0]
            self._error(
                line,
                "",
                f"enregistrement {fields[0]} tronqué : {len(values)} champs au lieu de "
                f"{len(columns)}, le dernier lu étant « {last} ». Vérifiez que le fichier a été "
                "téléchargé en entier et qu'aucun retour à la ligne ne coupe un champ : "
                "ligne ignorée.",
            )
        else:
            self._error(
                line,
                "",
                f"enregistrement {fields[0]} : {len(values)} champs au lieu de {len(columns)}, "
                "sans doute un « ; » non protégé par des guillemets : ligne ignorée.",
            )
        raise _SkipRow

    def _finess(self, line: int, field: str, value: str) -> str:
        if value in self._valid_legal_entities:
            return value
        if finess_is_valid(value):
            if field == "nofinessej" and len(self._valid_legal_entities) < 200_000:
                self._valid_legal_entities.add(value)  # many sites share a legal entity
            return value
        if len(value) == FINESS_LENGTH - 1 and value.isdigit():
            advice = (
                f"il n'a que 8 chiffres, son zéro initial a sans doute été supprimé par un "
                f"tableur : {_ADVICE_DOWNLOAD}"
            )
        elif len(value) != FINESS_LENGTH:
            advice = f"{len(value)} caractères au lieu de 9 ; vérifiez le fichier source"
        else:
            advice = "sa clé de contrôle est fausse ; signalez l'erreur à l'ARS ou au ministère"
        self._error(line, field, f"numéro FINESS « {value} » invalide ({advice}) : ligne ignorée.")
        raise _SkipRow

    def _date(self, line: int, field: str, value: str) -> date | None:
        try:
            return self._dates[value]
        except KeyError:
            pass
        parsed: date | None = None
        if value and value not in PLACEHOLDER_DATES:
            try:
                parsed = date.fromisoformat(value)
            except ValueError:
                hint = (
                    "format JJ/MM/AAAA d'un tableur"
                    if _SPREADSHEET_DATE.fullmatch(value)
                    else "AAAA-MM-JJ attendu"
                )
                self._error(
                    line, field, f"date « {value} » illisible ({hint}) : date laissée vide."
                )
                return None
        if len(self._dates) < 100_000:
            self._dates[value] = parsed
        return parsed

    def _territory(self, line: int, department: str, postcode: str) -> str:
        try:
            return insee_territory(department, postcode)
        except UnknownTerritoryError:
            self._error(
                line,
                "departement",
                f"code département FINESS « {department} » inconnu (01 à 95, 2A, 2B, 9A à 9J "
                "attendus) : ligne ignorée.",
            )
            raise _SkipRow from None

    def _establishment(self, line: int, fields: list[str]) -> EstablishmentRecord:
        v = self._values(line, fields, STRUCTUREET_COLUMNS, optional_last=True)
        routing = v[14]
        postcode, _, city = routing.partition(" ")
        return EstablishmentRecord(
            line=line,
            finess=self._finess(line, "nofinesset", v[0]),
            legal_entity_finess=self._finess(line, "nofinessej", v[1]),
            name=v[2],
            long_name=v[3],
            name_complement=v[4],
            distribution_complement=v[5],
            street_number=v[6],
            street_type=v[7],
            street=v[8],
            street_complement=v[9],
            locality=v[10],
            commune_code=v[11],
            finess_department=v[12],
            department_label=v[13],
            postcode=postcode,
            city=city.strip(),
            territory_code=self._territory(line, v[12], postcode),
            phone=v[15],
            fax=v[16],
            category_code=v[17],
            category_label=v[18],
            aggregate_category_code=v[19],
            aggregate_category_label=v[20],
            siret=self._siret(line, v[21]),
            ape_code=v[22],
            pricing_code=v[23],
            pricing_label=v[24],
            public_service_code=v[25],
            public_service_label=v[26],
            opened_on=self._date(line, "dateouv", v[27]),
            authorised_on=self._date(line, "dateautor", v[28]),
            updated_on=self._date(line, "datemaj", v[29]),
            uai=v[30],
        )

    def _siret(self, line: int, value: str) -> str:
        if not value or siret_is_valid(value):
            return value
        self._error(
            line,
            "siret",
            f"SIRET « {value} » invalide (14 chiffres avec clé de contrôle attendus) : SIRET "
            "laissé vide, le reste de la ligne est importé.",
        )
        return ""

    def _legal_entity(self, line: int, fields: list[str]) -> LegalEntityRecord:
        v = self._values(line, fields, STRUCTUREEJ_COLUMNS, optional_last=False)
        postcode, _, city = v[11].partition(" ")
        siren = v[19]
        if siren and not siren_is_valid(siren):
            self._error(
                line,
                "siren",
                f"SIREN « {siren} » invalide (9 chiffres avec clé de contrôle attendus) : SIREN "
                "laissé vide, le reste de la ligne est importé.",
            )
            siren = ""
        return LegalEntityRecord(
            line=line,
            finess=self._finess(line, "nofiness", v[0]),
            name=v[1],
            long_name=v[2],
            name_complement=v[3],
            street_number=v[4],
            street_type=v[5],
            street=v[6],
            street_complement=v[7],
            distribution_complement=v[8],
            locality=v[9],
            commune_code=v[10],
            postcode=postcode,
            city=city.strip(),
            finess_department=v[12],
            department_label=v[13],
            territory_code=self._territory(line, v[12], postcode),
            phone=v[14],
            legal_status_code=v[15],
            legal_status_label=v[16],
            category_code=v[17],
            category_label=v[18],
            siren=siren,
            ape_code=v[20],
            created_on=self._date(line, "datecrea", v[21]),
        )

    def _coordinate(self, line: int, field: str, value: str) -> float | None:
        if not value:
            return None
        try:
            return float(value.replace(",", "."))
        except ValueError:
            self._error(
                line, field, f"coordonnée « {value} » illisible (nombre attendu) : ligne ignorée."
            )
            raise _SkipRow from None

    def _geolocation(self, line: int, fields: list[str]) -> GeolocationRecord:
        v = self._values(line, fields, GEOLOCALISATION_COLUMNS, optional_last=False)
        x = self._coordinate(line, "coordxet", v[1])
        y = self._coordinate(line, "coordyet", v[2])
        if x == 0 and y == 0:
            x = y = None  # the notice's default value: no position
        crs, crs_label = parse_crs(v[3])
        if x is not None and not crs:
            self._error(
                line,
                "sourcecoordet",
                f"système de coordonnées introuvable dans « {v[3][:80]} » (EPSG:nnnn attendu) : "
                "coordonnées importées sans système, à vérifier.",
            )
        return GeolocationRecord(
            line=line,
            finess=self._finess(line, "nofinesset", v[0]),
            x=x,
            y=y,
            crs=crs,
            crs_label=crs_label,
            source=v[3],
            updated_on=self._date(line, "datemaj", v[4]),
        )


def read_extract(source: Source) -> FinessExtract:
    """Open an etalab FINESS extract (501, 502 or 507) from a path or a binary file object.

    Raises ``FinessFormatError`` at once when the first line is not ``finess;etalab;N;DATE``;
    every later problem is collected in ``errors`` and the reading goes on.
    """
    return FinessExtract(source)
