"""Undoing what a spreadsheet program does to an etalab FINESS extract, where it is unambiguous.

A file opened and saved again in a spreadsheet loses the leading zeros of every code
(``010000024`` -> ``10000024``, department ``01`` -> ``1``, phone ``0474...`` -> ``474...``),
turns SIRET numbers into ``2,601E+13`` (the digits are gone) and writes dates ``dd/mm/yyyy``.
Such a file is recognised by its first line (``finess;etalab;93;07/01/2026;;;;``). Each line is
then repaired where one answer only is possible: a FINESS number whose zero-padding restores a
valid check digit, a one-digit department, a commune code of fewer than three digits, a
nine-digit phone number, a ``dd/mm/yyyy`` date. A destroyed SIRET is blanked (its digits cannot
come back). Everything else goes to the reader untouched, which rejects what stays invalid: a
wrong value is never imported.

The repaired copy keeps one line per line of the original, so that line numbers stay those of
the file the user has.
"""

import csv
import re
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from referentials.identifiers import finess_is_valid, siren_is_valid
from referentials.sources import SNIFF_SIZE, sniff_encoding

_SPREADSHEET_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_SCIENTIFIC = re.compile(r"\d+(?:[.,]\d+)?E\+?\d+", re.IGNORECASE)

# Positions (in the line, the record type being 0) of the fields a spreadsheet damages.
_FIELDS = {
    "structureet": {
        "finess": {1: "nofinesset", 2: "nofinessej"},
        "commune": {12: "commune"},
        "department": {13: "departement"},
        "phone": {16: "telephone", 17: "telecopie"},
        "siret": {22: "siret"},
        "two_digits": {24: "codemft"},
        "date": {28: "dateouv", 29: "dateautor", 30: "datemaj"},
    },
    "structureej": {
        "finess": {1: "nofiness"},
        "commune": {11: "commune"},
        "department": {13: "departement"},
        "phone": {15: "telephone"},
        "siren": {20: "siren"},
        "date": {22: "datecrea"},
    },
    "geolocalisation": {"finess": {1: "nofinesset"}, "date": {5: "datemaj"}},
}


@dataclass(frozen=True)
class Repair:
    line: int
    field: str
    reason: str


def is_damaged(path: Path) -> bool:
    """Whether the first line shows a file saved again by a spreadsheet program."""
    with path.open("rb") as handle:
        prefix = handle.read(SNIFF_SIZE)
    first = prefix.split(b"\n", 1)[0].decode(sniff_encoding(prefix), errors="replace")
    fields = next(csv.reader([first.rstrip("\r")], delimiter=";"), [])
    if len(fields) < 4 or fields[0] != "finess":
        return False
    return bool(_SPREADSHEET_DATE.fullmatch(fields[3])) or len(fields) > 5


def _iso_date(value: str) -> str | None:
    match = _SPREADSHEET_DATE.fullmatch(value)
    if not match:
        return None
    day, month, year = (int(part) for part in match.groups())
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def _repair_line(fields: list[str], line: int, repairs: list[Repair]) -> list[str]:
    positions = _FIELDS.get(fields[0])
    if positions is None:
        return fields
    fields = list(fields)

    def note(index: int, field: str, new: str, reason: str) -> None:
        repairs.append(Repair(line, field, f"« {fields[index]} » {reason}"))
        fields[index] = new

    def each(kind: str):
        return ((i, name) for i, name in positions.get(kind, {}).items() if i < len(fields))

    for index, name in each("finess"):
        value = fields[index]
        if len(value) == 8 and value.isdigit() and finess_is_valid("0" + value):
            note(index, name, "0" + value, f"lu 0{value} (zéro initial perdu par un tableur)")
    for index, name in each("department"):
        value = fields[index]
        if len(value) == 1 and value.isdigit() and value != "0":
            note(index, name, "0" + value, f"lu 0{value} (zéro initial perdu)")
    for index, name in each("commune"):
        value = fields[index]
        if 0 < len(value) < 3 and value.isdigit():
            note(index, name, value.zfill(3), f"lu {value.zfill(3)} (zéros initiaux perdus)")
    for index, name in each("two_digits"):
        value = fields[index]
        if len(value) == 1 and value.isdigit():
            note(index, name, "0" + value, f"lu 0{value} (zéro initial perdu)")
    for index, name in each("phone"):
        value = fields[index]
        if len(value) == 9 and value.isdigit() and value[0] != "0":
            note(index, name, "0" + value, f"lu 0{value} (zéro initial perdu)")
    for index, name in each("siret"):
        if _SCIENTIFIC.fullmatch(fields[index]):
            note(
                index,
                name,
                "",
                "détruit par un tableur (notation scientifique, chiffres perdus) : SIRET laissé "
                "vide, le reste de la ligne est importé",
            )
    for index, name in each("siren"):
        value = fields[index]
        if _SCIENTIFIC.fullmatch(value):
            note(index, name, "", "détruit par un tableur : SIREN laissé vide")
        elif len(value) == 8 and value.isdigit() and siren_is_valid("0" + value):
            note(index, name, "0" + value, f"lu 0{value} (zéro initial perdu)")
    for index, name in each("date"):
        iso = _iso_date(fields[index])
        if iso is not None:
            note(index, name, iso, f"lu {iso} (date JJ/MM/AAAA d'un tableur)")
    return fields


def repaired_copy(path: Path, directory: Path) -> tuple[Path, list[Repair]]:
    """A repaired UTF-8 copy of a spreadsheet-damaged extract, and what was repaired."""
    with path.open("rb") as handle:
        encoding = sniff_encoding(handle.read(SNIFF_SIZE))
    repairs: list[Repair] = []
    target = directory / path.name
    with (
        path.open(encoding=encoding, errors="replace", newline="") as source,
        target.open("w", encoding="utf-8", newline="") as output,
    ):
        reader = csv.reader(source, delimiter=";")
        writer = csv.writer(output, delimiter=";", lineterminator="\n")
        for fields in reader:
            line = reader.line_num
            if line == 1 and fields and fields[0] == "finess":
                header = fields[:4]
                iso = _iso_date(header[3]) if len(header) == 4 else None
                if iso:
                    header[3] = iso
                writer.writerow(header)
                continue
            writer.writerow(_repair_line(fields, line, repairs) if fields else fields)
    return target, repairs


def temporary_directory() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="finess-repair-")
