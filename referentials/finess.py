"""Reading FINESS etalab extracts (files 501/502/507): ``;``-separated, quoted, cp1252 or UTF-8.

The first line ``finess;etalab;N;DATE`` is not a header; every data line starts with its record
type and ends with a trailing ``;``. Column order follows the ministry's notice (data/README.md).
"""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

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
