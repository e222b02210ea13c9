"""Reading FiNESS+ structure files (JSON, plain or gzip): legal entities with their sites.

FiNESS+ replaces the etalab CSV extracts. The file is one JSON object whose ``pmej`` array lists
the legal entities (``informationsGeneralesPMEJ``) each with its establishments (``ege``); it
also holds the groups ``gcc``/``gco`` (skipped here). Unlike the CSV stock files, FiNESS+ states
closures: ``etatObjet`` (``A`` active, ``I`` inactive) and ``dateFermeture``.

The published example and the JSON schema disagree on spelling (``informationsGeneralesPMEJ``
vs ``informationsGeneralesPmej``, ``pmSmsseId`` vs ``pm_smsseId``, a plain code vs a
``{"code": ...}`` object, the EGE's ``siret`` inside or beside ``informationsGeneralesEGE``):
both are accepted.

The national file is large, so it is never loaded whole: the top-level object is scanned and
the ``pmej`` array decoded one legal entity at a time. ``line`` (on entities, their
establishments and errors) is the line where the legal entity starts; an error's ``field`` is
the JSON path of the value in cause (``pmej[12].ege[0].informationsGeneralesEGE.numFinessEge``).
"""

import gzip
import io
import json
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any, TextIO

from referentials.identifiers import finess_is_valid, siren_is_valid, siret_is_valid
from referentials.sources import ClosingReader, RowError, Source, peek
from referentials.territories import territory_of_commune

GZIP_MAGIC = b"\x1f\x8b"
CHUNK_SIZE = 256 * 1024
MAX_VALUE_GAP = 1024 * 1024
PLACEHOLDER_DATES = frozenset({"1900-01-01", "1901-01-01", "1903-03-03", "1904-04-04"})
ACTIVE, INACTIVE = "A", "I"


class FinessPlusFormatError(ValueError):
    """The file cannot be read at all (not JSON, not a FiNESS+ structure file)."""


@dataclass(frozen=True, slots=True)
class Address:
    """An address as FiNESS+ gives it; ``commune_code`` is an INSEE code, not a postcode.

    ``x``/``y`` are kept as published (projected, not converted). In the official example
    ``coordonneeX`` carries the Lambert-93 northing and ``coordonneeY`` the easting: rely on
    ``latitude``/``longitude`` (WGS84) or check before converting.
    """

    usage: str
    street_number: str
    street_type: str
    street: str
    locality: str
    commune_code: str
    postcode: str
    city: str
    territory_code: str
    x: str
    y: str
    latitude: float | None
    longitude: float | None


@dataclass(frozen=True, slots=True)
class Establishment:
    """An ``ege`` (geographical entity) of a legal entity."""

    line: int
    ege_id: str
    finess: str
    short_name: str
    long_name: str
    siret: str
    category_code: str
    pricing_code: str
    opened_on: date | None
    first_authorised_on: date | None
    closed_on: date | None
    state: str
    last_updated: str
    addresses: tuple[Address, ...]

    @property
    def is_closed(self) -> bool:
        return self.state == INACTIVE or self.closed_on is not None

    @property
    def territory_code(self) -> str:
        return _first_territory(self.addresses)


@dataclass(frozen=True, slots=True)
class LegalEntity:
    """A ``pmej`` (legal entity) with its establishments."""

    line: int
    pm_id: str
    finess: str
    name: str
    long_name: str
    siren: str
    ape_code: str
    legal_status_code: str
    created_on: date | None
    closed_on: date | None
    state: str
    last_updated: str
    addresses: tuple[Address, ...]
    establishments: tuple[Establishment, ...]

    @property
    def is_closed(self) -> bool:
        return self.state == INACTIVE or self.closed_on is not None

    @property
    def territory_code(self) -> str:
        return _first_territory(self.addresses)


def _first_territory(addresses: tuple[Address, ...]) -> str:
    return next((a.territory_code for a in addresses if a.territory_code), "")


def _get(mapping: dict[str, Any], *names: str) -> Any:
    for name in names:
        if name in mapping:
            return mapping[name]
    return None


def _text(value: Any) -> str:
    """A code or text whether given plain, as ``{"code": ...}``, or as a one-item list."""
    if isinstance(value, list):
        value = value[0] if value else ""
    if isinstance(value, dict):
        value = value.get("code", "")
    if value is None:
        return ""
    return str(value).strip()


def _float(value: Any) -> float | None:
    try:
        return float(str(value).replace(",", "."))
    except (TypeError, ValueError):
        return None


class _JsonScanner:
    """Decodes the top-level object of a JSON text piece by piece, with a bounded buffer."""

    def __init__(self, text: TextIO, file_name: str) -> None:
        self._text = text
        self._file_name = file_name
        self._buffer = ""
        self._pos = 0
        self._eof = False
        self._line = 1  # line number at self._counted
        self._counted = 0  # buffer position up to which newlines are counted
        self._decoder = json.JSONDecoder()

    @property
    def line(self) -> int:
        if self._pos > self._counted:
            self._line += self._buffer.count("\n", self._counted, self._pos)
            self._counted = self._pos
        return self._line

    def _fill(self) -> bool:
        if self._eof:
            return False
        if self._pos:
            _ = self.line
            self._buffer = self._buffer[self._pos :]
            self._pos = self._counted = 0
        try:
            chunk = self._text.read(max(CHUNK_SIZE, len(self._buffer)))
        except (OSError, EOFError, zlib.error, UnicodeDecodeError) as error:
            raise self.fail(
                f"lecture impossible ({error}) : fichier gzip tronqué ou abîmé, ou texte qui "
                "n'est pas en UTF-8. Téléchargez-le à nouveau."
            ) from None
        if not chunk:
            self._eof = True
            return False
        self._buffer += chunk
        return True

    def fail(self, message: str) -> FinessPlusFormatError:
        return FinessPlusFormatError(f"{self._file_name}, ligne {self.line} : {message}")

    def next_char(self) -> str:
        """The next non-blank character, not consumed ("" at the end of the file)."""
        while True:
            buffer, pos = self._buffer, self._pos
            while pos < len(buffer) and buffer[pos] in " \t\r\n":
                pos += 1
            self._pos = pos
            if pos < len(buffer):
                return buffer[pos]
            if not self._fill():
                return ""

    def expect(self, characters: str) -> str:
        found = self.next_char()
        if not found or found not in characters:
            expected = " ou ".join(f"« {c} »" for c in characters)
            raise self.fail(
                f"{expected} attendu, trouvé « {found or 'fin du fichier'} » : le fichier "
                "est tronqué ou n'est pas un fichier FiNESS+ ; téléchargez-le à nouveau."
            )
        self._pos += 1
        return found

    def value(self) -> Any:
        """Decode one JSON value, loading more text until it is complete."""
        self.next_char()
        while True:
            try:
                value, end = self._decoder.raw_decode(self._buffer, self._pos)
            except json.JSONDecodeError as error:
                # Past a value cut by the end of the buffer, read on; an error far from the
                # end is a real one (no FiNESS+ string is that long): stop, memory stays bounded.
                near_end = len(self._buffer) - error.pos < MAX_VALUE_GAP
                if near_end and self._fill():
                    continue
                self._pos = min(error.pos, len(self._buffer))
                raise self.fail(
                    f"JSON invalide ({error.msg}) : le fichier est tronqué ou abîmé ; "
                    "téléchargez-le à nouveau."
                ) from None
            if end == len(self._buffer) and self._fill():
                continue  # a number may go on in the next chunk
            self._pos = end
            return value


class FinessPlusFile(ClosingReader):
    """A FiNESS+ structure file being read: metadata at once, legal entities as a stream.

    Iterate once over it (or ``legal_entities``); ``errors`` fills up as entities go by. Use it
    as a context manager (or iterate to the end) so that a file opened from a path is closed.
    """

    def __init__(self, source: Source) -> None:
        stream = self._open(source)
        self.errors: list[RowError] = []
        self.counts: Counter[str] = Counter()
        self.metadata: dict[str, Any] = {}
        try:
            magic, stream = peek(stream, 2)
            self.compressed = magic == GZIP_MAGIC
            if self.compressed:
                stream = gzip.GzipFile(fileobj=stream, mode="rb")  # type: ignore[assignment]
            text = io.TextIOWrapper(stream, encoding="utf-8-sig")
            self._scanner = _JsonScanner(text, self.file_name)
            self._next_key = self._read_metadata()
        except (OSError, EOFError, zlib.error, UnicodeDecodeError) as error:
            self.close()
            raise FinessPlusFormatError(
                f"{self.file_name} : illisible ({error}) ; un fichier FiNESS+ est du JSON en "
                "UTF-8, éventuellement compressé en gzip. Téléchargez-le à nouveau."
            ) from None
        except BaseException:
            self.close()
            raise
        self.legal_entities: Iterator[LegalEntity] = self._entities()

    @property
    def generated_at(self) -> str:
        return _text(self.metadata.get("generatedAt"))

    @property
    def schema_version(self) -> str:
        return _text(self.metadata.get("schemaVersion"))

    def __iter__(self) -> Iterator[LegalEntity]:
        return self.legal_entities

    # -- scanning ----------------------------------------------------------------------------

    def _key(self) -> str | None:
        """The next top-level key (``None`` at the closing brace)."""
        scanner = self._scanner
        if scanner.next_char() == "}":
            scanner.expect("}")
            return None
        key = scanner.value()
        if not isinstance(key, str):
            raise scanner.fail("nom de propriété attendu dans l'objet principal.")
        scanner.expect(":")
        return key

    def _after_value(self) -> str | None:
        if self._scanner.expect(",}") == "}":
            return None
        return self._key()

    def _read_metadata(self) -> str | None:
        """Read the top-level scalars up to the first array (kept for streaming)."""
        scanner = self._scanner
        if scanner.next_char() != "{":
            raise scanner.fail(
                "objet JSON « { » attendu en début de fichier : ce n'est pas un fichier de "
                "structures FiNESS+."
            )
        scanner.expect("{")
        key = self._key()
        while key is not None and scanner.next_char() != "[":
            self.metadata[key] = scanner.value()
            key = self._after_value()
        return key

    def _array(self, key: str) -> Iterator[tuple[int, int, Any]]:
        """(index, line, item) for each item of the array at the scanner's position."""
        scanner = self._scanner
        scanner.expect("[")
        if scanner.next_char() == "]":
            scanner.expect("]")
            return
        index = 0
        while True:
            line = scanner.line
            yield index, line, scanner.value()
            index += 1
            if scanner.expect(",]") == "]":
                return

    def _entities(self) -> Iterator[LegalEntity]:
        scanner = self._scanner
        try:
            key = self._next_key
            seen_pmej = False
            while key is not None:
                if scanner.next_char() == "[":
                    for index, line, item in self._array(key):
                        self.counts[key] += 1
                        if key == "pmej":
                            entity = self._entity(f"pmej[{index}]", line, item)
                            if entity is not None:
                                yield entity
                else:
                    self.metadata[key] = scanner.value()
                seen_pmej = seen_pmej or key == "pmej"
                key = self._after_value()
            if not seen_pmej:
                self._error(
                    scanner.line,
                    "pmej",
                    "aucune liste « pmej » d'entités juridiques : est-ce bien un fichier de "
                    "structures FiNESS+ (et non d'activités) ?",
                )
        finally:
            self.close()

    # -- records -----------------------------------------------------------------------------

    def _error(self, line: int, field: str, message: str) -> None:
        self.errors.append(RowError(self.file_name, line, field, message))

    def _date(self, line: int, path: str, value: Any) -> date | None:
        text = _text(value)[:10]
        if not text or text in PLACEHOLDER_DATES:
            return None
        try:
            return date.fromisoformat(text)
        except ValueError:
            self._error(line, path, f"date « {text} » illisible (AAAA-MM-JJ attendu) : ignorée.")
            return None

    def _addresses(self, line: int, path: str, items: Any) -> tuple[Address, ...]:
        addresses = []
        for index, item in enumerate(items if isinstance(items, list) else []):
            if not isinstance(item, dict):
                continue
            commune = _text(item.get("cogCommune"))
            territory = territory_of_commune(commune)
            if commune and not territory:
                self._error(
                    line,
                    f"{path}.adresse[{index}].cogCommune",
                    f"code commune INSEE « {commune} » invalide : territoire laissé vide.",
                )
            coordinates = item.get("coordonneesGeographique") or {}
            addresses.append(
                Address(
                    usage=_text(item.get("usageAdresse")),
                    street_number=_text(item.get("numeroVoie")),
                    street_type=_text(item.get("typeVoie")),
                    street=_text(item.get("libelleVoie")),
                    locality=_text(item.get("lieuDit")),
                    commune_code=commune,
                    postcode=_text(item.get("codePostal")),
                    city=_text(item.get("ligneAcheminement")),
                    territory_code=territory,
                    x=_text(coordinates.get("coordonneeX")),
                    y=_text(coordinates.get("coordonneeY")),
                    latitude=_float(coordinates.get("directionLatitude")),
                    longitude=_float(coordinates.get("directionLongitude")),
                )
            )
        return tuple(addresses)

    def _finess(self, line: int, path: str, value: str, what: str) -> bool:
        if finess_is_valid(value):
            return True
        self._error(
            line,
            path,
            f"numéro FINESS « {value} » invalide (9 caractères avec clé de contrôle attendus) : "
            f"{what} ignoré(e).",
        )
        return False

    def _closure(self, line: int, path: str, state: str, closed_on: date | None, what: str) -> None:
        if state == ACTIVE and closed_on is not None:
            self._error(
                line,
                f"{path}.etatObjet",
                f"{what} « actif » (etatObjet A) mais avec une date de fermeture "
                f"{closed_on.isoformat()} : tenu pour fermé, à vérifier.",
            )

    def _entity(self, path: str, line: int, item: Any) -> LegalEntity | None:
        if not isinstance(item, dict):
            self._error(line, path, "objet attendu pour une entité juridique : ignorée.")
            return None
        general = _get(item, "informationsGeneralesPMEJ", "informationsGeneralesPmej") or {}
        general_path = f"{path}.informationsGeneralesPMEJ"
        finess = _text(general.get("numFinessPm"))
        if not self._finess(line, f"{general_path}.numFinessPm", finess, "entité juridique"):
            return None
        siren = _text(general.get("siren"))
        if siren and not siren_is_valid(siren):
            self._error(line, f"{general_path}.siren", f"SIREN « {siren} » invalide : laissé vide.")
            siren = ""
        state = _text(_get(item, "etatObjet") or general.get("etatObjet"))
        closed_on = self._date(line, f"{general_path}.dateFermeture", general.get("dateFermeture"))
        self._closure(line, path, state, closed_on, "entité juridique")
        establishments = []
        for index, ege in enumerate(item.get("ege") or []):
            establishment = self._establishment(f"{path}.ege[{index}]", line, ege)
            if establishment is not None:
                establishments.append(establishment)
        return LegalEntity(
            line=line,
            pm_id=_text(_get(general, "pmSmsseId", "pm_smsseId")),
            finess=finess,
            name=_text(general.get("denominationPm")),
            long_name=_text(general.get("denominationLonguePmSmsse")),
            siren=siren,
            ape_code=_text(general.get("codeApe")),
            legal_status_code=_text(general.get("statutJuridique")),
            created_on=self._date(
                line, f"{general_path}.dateCreation", general.get("dateCreation")
            ),
            closed_on=closed_on,
            state=state,
            last_updated=_text(_last_update(item)),
            addresses=self._addresses(line, path, item.get("adresse")),
            establishments=tuple(establishments),
        )

    def _establishment(self, path: str, line: int, item: Any) -> Establishment | None:
        if not isinstance(item, dict):
            self._error(line, path, "objet attendu pour un établissement : ignoré.")
            return None
        general = item.get("informationsGeneralesEGE") or {}
        general_path = f"{path}.informationsGeneralesEGE"
        finess = _text(general.get("numFinessEge"))
        if not self._finess(line, f"{general_path}.numFinessEge", finess, "établissement"):
            return None
        siret = _text(general.get("siret") or item.get("siret"))
        if siret and not siret_is_valid(siret):
            self._error(line, f"{path}.siret", f"SIRET « {siret} » invalide : laissé vide.")
            siret = ""
        state = _text(item.get("etatObjet") or general.get("etatObjet"))
        closed_on = self._date(line, f"{general_path}.dateFermeture", general.get("dateFermeture"))
        self._closure(line, path, state, closed_on, "établissement")
        return Establishment(
            line=line,
            ege_id=_text(general.get("egeId")),
            finess=finess,
            short_name=_text(general.get("nomEgeCourt")),
            long_name=_text(general.get("nomEgeLong")),
            siret=siret,
            category_code=_text(
                _get(
                    item,
                    "categorieEntiteGeographiqueExercice",
                    "categorieentiteGeographiqueExercice",
                )
            ),
            pricing_code=_text(_get(item, "modeFixationTarifaire", "modefixationtarifaire")),
            opened_on=self._date(
                line, f"{general_path}.dateOuverture", general.get("dateOuverture")
            ),
            first_authorised_on=self._date(
                line,
                f"{general_path}.datePremiereAutorisation",
                general.get("datePremiereAutorisation"),
            ),
            closed_on=closed_on,
            state=state,
            last_updated=_text(_last_update(item)),
            addresses=self._addresses(line, path, item.get("adresse")),
        )


def _last_update(item: dict[str, Any]) -> Any:
    value = item.get("dateDerniereMaj")
    if isinstance(value, dict):
        return value.get("dateEvenement", "")
    return value


def read_finess_plus(source: Source) -> FinessPlusFile:
    """Open a FiNESS+ structure file (JSON, plain or gzip) from a path or binary file object.

    Raises ``FinessPlusFormatError`` at once when the file is not a JSON object; problems in
    single entities are collected in ``errors`` and the reading goes on.
    """
    return FinessPlusFile(source)
