"""Reading an uploaded spreadsheet safely: refuse what must not be opened, then read cells.

Every check that can be made without parsing the workbook is made first (size, compressed
size, number of entries, macros, encryption, empty file, file type), each with a French message
naming the file. Cells are then read with calamine (xlsx, ods) or the ``csv`` module. Calamine
gives formulas' cached results; formulas and merged cells are found in the sheet's XML (xlsx
only), by a cheap byte search first and a streaming parse only when the search finds one.
"""

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from xml.etree import ElementTree

from django.conf import settings
from python_calamine import CalamineError, CalamineWorkbook

OLE2_HEADER = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_HEADER = b"PK\x03\x04"
MAX_ZIP_ENTRIES = 2000
MAX_ROWS = 100_000
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")
_MERGE = re.compile(rb"<(?:\w+:)?mergeCell[\s>/]")


class UnreadableFile(Exception):
    """The file cannot be read as a spreadsheet; the French message says why and what to do."""


@dataclass
class Sheet:
    name: str
    rows: list[list[Any]]
    # Cell reference ("D12") -> the formula's cached value (None when the file has none).
    formulas: dict[str, Any] = field(default_factory=dict)
    merged: list[str] = field(default_factory=list)


@dataclass
class Workbook:
    kind: str  # "xlsx", "ods" or "csv"
    sheets: dict[str, Sheet]

    def first(self) -> Sheet:
        return next(iter(self.sheets.values()))


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def kind_of(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def precheck(name: str, data: bytes) -> str:
    """Refuse a file before anything parses it; returns its kind (xlsx, ods, csv)."""
    kind = kind_of(name)
    if not data:
        raise UnreadableFile(f"Le fichier « {name} » est vide : déposez le tableur rempli.")
    if len(data) > settings.UPLOAD_MAX_BYTES:
        raise UnreadableFile(
            f"Le fichier « {name} » pèse {len(data) / 1_048_576:.1f} Mo, au-delà de la limite de "
            f"{settings.UPLOAD_MAX_BYTES / 1_048_576:.0f} Mo : découpez-le en plusieurs fichiers."
        )
    if kind in ("xlsm", "xltm", "xlam"):
        raise UnreadableFile(
            f"Le fichier « {name} » contient des macros (.{kind}) : enregistrez-le au format "
            ".xlsx (classeur Excel sans macros) et déposez-le à nouveau."
        )
    if kind == "csv":
        return kind
    if kind not in ("xlsx", "ods"):
        raise UnreadableFile(
            f"« {name} » n'est pas un tableur accepté : déposez un fichier .xlsx, .ods ou .csv."
        )
    if data.startswith(OLE2_HEADER):
        if kind == "xlsx":
            raise UnreadableFile(
                f"Le fichier « {name} » est protégé par mot de passe : enregistrez-le sans mot "
                "de passe et déposez-le à nouveau."
            )
        raise UnreadableFile(f"« {name} » n'est pas un fichier .{kind} lisible.")
    if not data.startswith(ZIP_HEADER):
        raise UnreadableFile(
            f"« {name} » n'est pas un tableur .{kind} lisible : ouvrez-le dans votre tableur et "
            "enregistrez-le à nouveau au format .xlsx."
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, OSError):
        raise UnreadableFile(
            f"« {name} » est endommagé (archive illisible) : enregistrez-le à nouveau."
        ) from None
    if len(entries) > MAX_ZIP_ENTRIES:
        raise UnreadableFile(
            f"Le fichier « {name} » contient {len(entries)} éléments internes, bien plus qu'un "
            "tableur ordinaire : il est refusé par précaution."
        )
    expanded = sum(entry.file_size for entry in entries)
    if expanded > settings.UPLOAD_MAX_UNCOMPRESSED_BYTES:
        raise UnreadableFile(
            f"Le fichier « {name} » occuperait {expanded / 1_048_576:.0f} Mo une fois "
            f"décompressé, au-delà de la limite de "
            f"{settings.UPLOAD_MAX_UNCOMPRESSED_BYTES / 1_048_576:.0f} Mo : il est refusé par "
            "précaution. Découpez-le en plusieurs fichiers."
        )
    names = {entry.filename.lower() for entry in entries}
    if any(n.endswith("vbaproject.bin") for n in names):
        raise UnreadableFile(
            f"Le fichier « {name} » contient des macros : enregistrez-le au format .xlsx "
            "(classeur Excel sans macros) et déposez-le à nouveau."
        )
    if kind == "xlsx" and "[content_types].xml" not in names:
        raise UnreadableFile(f"« {name} » n'est pas un classeur .xlsx lisible.")
    if kind == "ods" and "content.xml" not in names:
        raise UnreadableFile(f"« {name} » n'est pas un classeur .ods lisible.")
    return kind


def _clean(value: Any) -> Any:
    """A calamine cell as the engine reads it: integral floats as ints, blanks as None."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, time | datetime | date):
        return value
    return value


def read(name: str, data: bytes, *, sheets: list[str] | None = None) -> Workbook:
    """Check, then read ``sheets`` (every sheet when None) of the file ``name``."""
    kind = precheck(name, data)
    if kind == "csv":
        return Workbook(kind="csv", sheets={"CSV": Sheet(name="CSV", rows=_read_csv(name, data))})
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        wanted = [s for s in book.sheet_names if sheets is None or s in sheets]
        result: dict[str, Sheet] = {}
        for sheet_name in wanted:
            rows = book.get_sheet_by_name(sheet_name).to_python(skip_empty_area=False)
            if len(rows) > MAX_ROWS:
                raise UnreadableFile(
                    f"La feuille « {sheet_name} » de « {name} » compte {len(rows)} lignes, au-delà "
                    f"de {MAX_ROWS} : découpez le fichier."
                )
            result[sheet_name] = Sheet(
                name=sheet_name, rows=[[_clean(v) for v in row] for row in rows]
            )
    except CalamineError as error:
        raise UnreadableFile(f"« {name} » n'a pas pu être lu comme un tableur ({error}).") from None
    if kind == "xlsx":
        try:
            _formulas_and_merges(data, result)
        except UnreadableFile as error:
            raise UnreadableFile(f"« {name} » : {error}") from None
    return Workbook(kind=kind, sheets=result)


def _read_csv(name: str, data: bytes) -> list[list[Any]]:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - cp1252 decodes almost anything
        raise UnreadableFile(f"« {name} » n'est pas un fichier texte lisible (encodage).")
    if "\x00" in text:
        raise UnreadableFile(f"« {name} » n'est pas un fichier CSV (contenu binaire).")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=";,\t")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ";"
    rows = [[_clean(v) for v in row] for row in csv.reader(io.StringIO(text), delimiter=delimiter)]
    if len(rows) > MAX_ROWS:
        raise UnreadableFile(f"« {name} » compte {len(rows)} lignes, au-delà de {MAX_ROWS}.")
    return rows


def _safe(xml: bytes) -> bytes:
    """Spreadsheet XML never declares a DTD: one that does may hide entity tricks (billion
    laughs, external entities), so it is refused before the standard parser sees it."""
    if b"<!DOCTYPE" in xml or b"<!ENTITY" in xml:
        raise UnreadableFile("le fichier contient des déclarations XML interdites (DTD).")
    return xml


def _sheet_paths(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> path of its XML inside the xlsx."""
    workbook = ElementTree.fromstring(_safe(archive.read("xl/workbook.xml")))  # noqa: S314
    rels = ElementTree.fromstring(_safe(archive.read("xl/_rels/workbook.xml.rels")))  # noqa: S314
    targets = {r.get("Id"): r.get("Target", "") for r in rels.iter(f"{{{PKG_REL_NS}}}Relationship")}
    paths = {}
    for sheet in workbook.iter(f"{{{MAIN_NS}}}sheet"):
        target = targets.get(sheet.get(f"{{{REL_NS}}}id"), "")
        target = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        paths[sheet.get("name", "")] = target
    return paths


def _formulas_and_merges(data: bytes, sheets: dict[str, Sheet]) -> None:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        try:
            paths = _sheet_paths(archive)
        except (KeyError, ElementTree.ParseError):
            return
        for sheet in sheets.values():
            path = paths.get(sheet.name)
            if not path:
                continue
            xml = _safe(archive.read(path))
            if _MERGE.search(xml):
                sheet.merged = [
                    element.get("ref", "")
                    for element in ElementTree.fromstring(xml).iter(  # noqa: S314
                        f"{{{MAIN_NS}}}mergeCell"
                    )
                ]
            if _FORMULA.search(xml):
                sheet.formulas = _formulas(xml)


def _formulas(xml: bytes) -> dict[str, Any]:
    """Cell reference -> cached value ('' when absent) of every cell holding a formula."""
    found: dict[str, Any] = {}
    cell_tag, f_tag, v_tag = (f"{{{MAIN_NS}}}{t}" for t in ("c", "f", "v"))
    for _event, element in ElementTree.iterparse(io.BytesIO(xml)):  # noqa: S314 (checked by _safe)
        if element.tag != cell_tag:
            continue
        if element.find(f_tag) is not None:
            cached = element.find(v_tag)
            found[element.get("r", "")] = cached.text if cached is not None else None
        element.clear()
    return found
