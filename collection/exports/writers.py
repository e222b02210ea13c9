"""CSV and XLSX writers: every cell goes through ``cells.safe_cell``.

CSV is written for French Excel, the tool most requesters open it with: UTF-8 with a byte
order mark (without it, Excel reads the file as Windows-1252 and breaks accents), « ; » between
fields and a decimal comma (Excel set to French reads « 12.5 » as text or as a date), CRLF
line ends. Tools read it as well with ``sep=";", decimal=","`` (pandas) or
``read.csv2`` (R). The open-data CSV follows the portal's conventions instead (see
``collection.opendata``).

XLSX is written with openpyxl's ``write_only`` workbook: rows go to a temporary file as they
come, so that memory stays bounded whatever the number of rows.
"""

import csv
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import IO

from openpyxl import Workbook

from collection.exports.cells import Cell, csv_cells, safe_cell
from collection.exports.rows import CODEBOOK_HEADER, Table

BOM = "\ufeff"
LINES_PER_CHUNK = 1000
# An XLSX sheet holds 1,048,576 rows, the header included.
XLSX_MAX_ROWS = 1_048_575
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class _Echo:
    """A file-like object that gives back what it is asked to write (for ``csv.writer``)."""

    def write(self, value: str) -> str:
        return value


def csv_lines(
    header: list[str],
    rows: Iterable[list[Cell]],
    *,
    delimiter: str = ";",
    decimal_comma: bool = True,
    bom: bool = True,
) -> Iterator[bytes]:
    """The CSV file in chunks of ``LINES_PER_CHUNK`` lines (UTF-8)."""
    writer = csv.writer(_Echo(), delimiter=delimiter, lineterminator="\r\n")  # type: ignore[arg-type]
    first = writer.writerow([safe_cell(name) for name in header])
    yield ((BOM if bom else "") + first).encode()
    chunk: list[str] = []
    for row in rows:
        chunk.append(writer.writerow(csv_cells(row, decimal_comma=decimal_comma)))
        if len(chunk) >= LINES_PER_CHUNK:
            yield "".join(chunk).encode()
            chunk = []
    if chunk:
        yield "".join(chunk).encode()


class Counted:
    """Rows passed through, counted (the ``row_count`` of an export is what was written)."""

    def __init__(self, rows: Iterable[list[Cell]]) -> None:
        self._rows = rows
        self.count = 0

    def __iter__(self) -> Iterator[list[Cell]]:
        for row in self._rows:
            self.count += 1
            yield row


def table_csv(table: Table) -> tuple[Iterator[bytes], Counted]:
    rows = Counted(table.rows())
    return csv_lines(table.header, rows), rows


def _xlsx_cell(value: Cell) -> Cell:
    value = safe_cell(value)
    if isinstance(value, Decimal):
        # openpyxl writes a Decimal as its str(): « 1.2E+3 » is a number for Excel, but an
        # integer is clearer, and a float is what every reader expects.
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def write_xlsx(table: Table, target: IO[bytes]) -> int:
    """The data sheet and the « Dictionnaire » sheet into ``target``; the rows written."""
    workbook = Workbook(write_only=True)
    data = workbook.create_sheet("Données")
    data.append([_xlsx_cell(name) for name in table.header])
    count = 0
    for row in table.rows():
        data.append([_xlsx_cell(v) for v in row])
        count += 1
    if table.codebook:
        sheet = workbook.create_sheet("Dictionnaire")
        sheet.append(CODEBOOK_HEADER)
        for entry in table.codebook:
            sheet.append([_xlsx_cell(v) for v in entry.as_row()])
    workbook.save(target)
    return count


def write_csv(table: Table, target: IO[bytes]) -> int:
    chunks, counted = table_csv(table)
    for chunk in chunks:
        target.write(chunk)
    return counted.count
