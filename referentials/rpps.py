"""Reading the RPPS extract ``PS_LibreAcces_Personne_activite`` (health professionals).

``|``-separated, UTF-8 with a possible BOM, a header row, a trailing ``|`` on every line, one
line per activity (a person appears on as many lines as activities and savoir-faire). Columns
are found by their header name, so the 52-column layout and the 2026 one (56 columns, some
headers reworded) both work.

These are personal data: only what a survey service needs is kept (identity used to invite
and recognise a professional, profession, specialty, mode of practice, and where each activity
takes place). Phones, e-mails, street addresses and the rest are dropped while reading.
"""

import csv
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from referentials.identifiers import (
    adeli_is_valid,
    finess_is_valid,
    rpps_is_valid,
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
from referentials.territories import territory_of_commune

RPPS_TYPE, ADELI_TYPE = "8", "0"


def normalise_header(name: str) -> str:
    """Header names compared without case, accents, curly apostrophes or extra spaces."""
    decomposed = unicodedata.normalize("NFKD", name.replace("\u2019", "'"))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())


# field -> accepted header names (normalised); the first layout's name comes first.
COLUMNS: dict[str, tuple[str, ...]] = {
    "identifier_type": ("type d'identifiant pp",),
    "identifier": ("identifiant pp",),
    "national_id": ("identification nationale pp",),
    "title_code": ("code civilite d'exercice",),
    "title_label": ("libelle civilite d'exercice", "libelle civilite exercice"),
    "civility_code": ("code civilite",),
    "civility_label": ("libelle civilite",),
    "last_name": ("nom d'exercice",),
    "first_name": ("prenom d'exercice",),
    "profession_code": ("code profession",),
    "profession_label": ("libelle profession",),
    "skill_type_code": ("code type savoir-faire",),
    "skill_type_label": ("libelle type savoir-faire",),
    "skill_code": ("code savoir-faire",),
    "skill_label": ("libelle savoir-faire",),
    "practice_mode_code": ("code mode exercice",),
    "practice_mode_label": ("libelle mode exercice",),
    "siret": ("numero siret site",),
    "finess_site": ("numero finess site",),
    "finess_legal_entity": ("numero finess etablissement juridique",),
    "structure_id": ("identifiant technique de la structure",),
    "postcode": ("code postal (coord. structure)",),
    "commune_code": ("code commune (coord. structure)",),
    "department_code": ("code departement (structure)", "code departement (coord. structure)"),
}
REQUIRED = ("identifier_type", "identifier", "national_id", "last_name", "profession_code")


class RppsFormatError(ValueError):
    """The file cannot be read at all (no usable header)."""


@dataclass(frozen=True, slots=True)
class Practitioner:
    """The person part of a line: the same on every line of one professional."""

    national_id: str
    identifier_type: str
    identifier: str
    title_code: str
    title_label: str
    civility_code: str
    civility_label: str
    last_name: str
    first_name: str
    profession_code: str
    profession_label: str

    @property
    def rpps(self) -> str:
        """The RPPS number ("" for a professional still known by ADELI number only)."""
        return self.identifier if self.identifier_type == RPPS_TYPE else ""


@dataclass(frozen=True, slots=True)
class Activity:
    """Where and how one activity is practised.

    ``department_code`` comes from the file, or else from the INSEE commune code; it is never
    derived from the postcode (postcodes and commune codes collide overseas).
    """

    skill_type_code: str
    skill_type_label: str
    skill_code: str
    skill_label: str
    practice_mode_code: str
    practice_mode_label: str
    siret: str
    finess_site: str
    finess_legal_entity: str
    structure_id: str
    postcode: str
    commune_code: str
    department_code: str


@dataclass(frozen=True, slots=True)
class RppsLine:
    line: int
    practitioner: Practitioner
    activity: Activity


@dataclass(frozen=True, slots=True)
class PractitionerActivities:
    practitioner: Practitioner
    activities: tuple[Activity, ...]


class RppsExtract(ClosingReader):
    """An RPPS extract being read: header checked at once, lines as a stream.

    Iterate once over it (or ``lines``); ``errors`` fills up as lines go by. Use it as a
    context manager (or iterate to the end) so that a file opened from a path is closed.
    """

    def __init__(self, source: Source) -> None:
        stream = self._open(source)
        try:
            prefix, stream = peek(stream, SNIFF_SIZE)
            self.encoding = sniff_encoding(prefix)
            self._text = text_stream(stream, self.encoding)
            self._reader = csv.reader(self._text, delimiter="|", quoting=csv.QUOTE_NONE)
            self.header: list[str] = next(self._reader, [])
            self.positions = self._map_columns(self.header)
        except BaseException:
            self.close()
            raise
        self.errors: list[RowError] = []
        self.counts: Counter[str] = Counter()
        self.lines: Iterator[RppsLine] = self._lines()

    def _map_columns(self, header: list[str]) -> dict[str, int]:
        names = [normalise_header(name) for name in header]
        while names and not names[-1]:
            names.pop()  # the trailing separator
        index = {name: position for position, name in enumerate(names)}
        positions: dict[str, int] = {}
        for field, aliases in COLUMNS.items():
            for alias in aliases:
                if alias in index:
                    positions[field] = index[alias]
                    break
        missing = [COLUMNS[field][0] for field in REQUIRED if field not in positions]
        if missing:
            found = " | ".join(header[:6])[:120]
            raise RppsFormatError(
                f"{self.file_name}, ligne 1 : colonnes obligatoires absentes de l'en-tête : "
                f"{', '.join(missing)}. En-tête trouvé : « {found} ». Le fichier attendu est "
                "l'extraction RPPS « PS_LibreAcces_Personne_activite » avec sa ligne d'en-tête."
            )
        self.width = len(names)
        return positions

    def __iter__(self) -> Iterator[RppsLine]:
        return self.lines

    def _error(self, line: int, field: str, message: str) -> None:
        self.errors.append(RowError(self.file_name, line, field, message))

    def _lines(self) -> Iterator[RppsLine]:
        reader = self._reader
        width = self.width
        get = self.positions.get
        fields = {field: get(field) for field in COLUMNS}
        try:
            for row in reader:
                line = reader.line_num
                if not row or row == [""]:
                    continue
                if len(row) == width + 1 and row[-1] == "":
                    row.pop()  # the trailing separator
                if len(row) != width:
                    state = "tronquée" if len(row) < width else "trop longue"
                    self._error(
                        line,
                        "",
                        f"ligne {state} : {len(row)} champs au lieu de {width} (en-tête). "
                        "Vérifiez que le fichier a été téléchargé en entier et n'a pas été "
                        "modifié : ligne ignorée.",
                    )
                    continue
                values = {
                    field: (row[position].strip() if position is not None else "")
                    for field, position in fields.items()
                }
                parsed = self._parse(line, values)
                if parsed is not None:
                    self.counts[parsed.practitioner.identifier_type] += 1
                    yield parsed
        finally:
            self.close()

    def _column(self, field: str) -> str:
        position = self.positions.get(field)
        return self.header[position] if position is not None else COLUMNS[field][0]

    def _parse(self, line: int, v: dict[str, str]) -> RppsLine | None:
        kind, identifier, national_id = v["identifier_type"], v["identifier"], v["national_id"]
        if kind == RPPS_TYPE:
            valid, what = rpps_is_valid(identifier), "RPPS (11 chiffres avec clé de Luhn)"
        elif kind == ADELI_TYPE:
            valid, what = adeli_is_valid(identifier), "ADELI (9 chiffres avec clé de Luhn)"
        else:
            self._error(
                line,
                self._column("identifier_type"),
                f"type d'identifiant « {kind} » inconnu (8 pour RPPS, 0 pour ADELI) : "
                "ligne ignorée.",
            )
            return None
        if not valid:
            self._error(
                line,
                self._column("identifier"),
                f"numéro {what} « {identifier} » invalide : ligne ignorée ; signalez-le à "
                "l'Agence du numérique en santé si le fichier est l'extraction officielle.",
            )
            return None
        if national_id != kind + identifier:
            self._error(
                line,
                self._column("national_id"),
                f"identification nationale « {national_id} » différente de « {kind}{identifier} » "
                "(type d'identifiant suivi du numéro) : ligne ignorée.",
            )
            return None
        finess_site = self._finess(line, "finess_site", v["finess_site"])
        finess_legal_entity = self._finess(line, "finess_legal_entity", v["finess_legal_entity"])
        siret = v["siret"]
        if siret and not siret_is_valid(siret):
            self._error(
                line,
                self._column("siret"),
                f"SIRET « {siret} » invalide : laissé vide, le reste de la ligne est importé.",
            )
            siret = ""
        return RppsLine(
            line=line,
            practitioner=Practitioner(
                national_id=national_id,
                identifier_type=kind,
                identifier=identifier,
                title_code=v["title_code"],
                title_label=v["title_label"],
                civility_code=v["civility_code"],
                civility_label=v["civility_label"],
                last_name=v["last_name"],
                first_name=v["first_name"],
                profession_code=v["profession_code"],
                profession_label=v["profession_label"],
            ),
            activity=Activity(
                skill_type_code=v["skill_type_code"],
                skill_type_label=v["skill_type_label"],
                skill_code=v["skill_code"],
                skill_label=v["skill_label"],
                practice_mode_code=v["practice_mode_code"],
                practice_mode_label=v["practice_mode_label"],
                siret=siret,
                finess_site=finess_site,
                finess_legal_entity=finess_legal_entity,
                structure_id=v["structure_id"],
                postcode=v["postcode"],
                commune_code=v["commune_code"],
                department_code=v["department_code"] or territory_of_commune(v["commune_code"]),
            ),
        )

    def _finess(self, line: int, field: str, value: str) -> str:
        if not value or finess_is_valid(value):
            return value
        self._error(
            line,
            self._column(field),
            f"numéro FINESS « {value} » invalide : laissé vide, le reste de la ligne est importé.",
        )
        return ""


def read_rpps(source: Source) -> RppsExtract:
    """Open an RPPS ``Personne_activite`` extract from a path or a binary file object.

    Raises ``RppsFormatError`` at once when the header lacks the identity columns; problems in
    single lines are collected in ``errors`` and the reading goes on.
    """
    return RppsExtract(source)


def group_by_practitioner(lines: Iterable[RppsLine]) -> Iterator[PractitionerActivities]:
    """Consecutive lines of one professional gathered with their activities.

    The extract lists a person's lines together; should a person come back later in the file,
    they form a second group with the same ``national_id`` (merge on it when importing).
    """
    current: Practitioner | None = None
    activities: list[Activity] = []
    for item in lines:
        if current is not None and item.practitioner.national_id != current.national_id:
            yield PractitionerActivities(current, tuple(activities))
            activities = []
        current = item.practitioner
        activities.append(item.activity)
    if current is not None:
        yield PractitionerActivities(current, tuple(activities))
