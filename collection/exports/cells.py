"""One cell as a spreadsheet will read it: text can never become a formula.

A spreadsheet runs a cell starting with ``=``, ``+``, ``-`` or ``@`` (and, for some, a tab or a
carriage return) as a formula: an establishment typing ``=HYPERLINK(...)`` in a free-text
answer would run it on the requester's computer (CSV injection). Every *text* cell starting
with one of these is prefixed with ``'``, which the spreadsheet shows and never evaluates.

Numbers are not text: a negative number (``Decimal("-2")``) stays a number in both formats, so
that sums still work; only a *text* « -2 » (a free-text answer) is neutralised.
"""

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_TRIGGERS = frozenset(FORMULA_TRIGGERS)

Cell = str | Decimal | int | float | dt.datetime | dt.date | None


def neutralise(text: str) -> str:
    """``text`` as it may be written in a cell: prefixed with ``'`` when it could run."""
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def safe_cell(value: Any) -> Cell:
    """A value for a cell: numbers and dates as they are, anything else as neutralised text."""
    if value is None or isinstance(value, Decimal | int | float | dt.date):
        # bool is an int: a stored boolean is turned into « oui » / « non » before it gets here.
        return value  # type: ignore[no-any-return]
    return neutralise(str(value))


def decimal_text(number: Decimal, *, decimal_comma: bool) -> str:
    """A number as a CSV cell: no exponent, no trailing zeros, French comma if asked."""
    text = format(number.normalize(), "f") if number != 0 else "0"
    return text.replace(".", ",") if decimal_comma else text


def csv_text(value: Cell, *, decimal_comma: bool) -> str:
    """A cell as CSV text (the value has been through ``safe_cell``)."""
    match value:
        case None:
            return ""
        case Decimal():
            return decimal_text(value, decimal_comma=decimal_comma)
        case int() | float():
            return decimal_text(Decimal(str(value)), decimal_comma=decimal_comma)
        case dt.datetime():
            return value.strftime("%Y-%m-%d %H:%M:%S")
        case dt.date():
            return value.isoformat()
        case _:
            return value


def csv_cells(row: Iterable[Cell], *, decimal_comma: bool) -> list[str]:
    """A row as CSV texts: ``csv_text(safe_cell(v))`` for each cell, the common types (text,
    empty, Decimal, datetime) tested first: this runs for every cell of a million-row export."""
    out: list[str] = []
    for value in row:
        if isinstance(value, str):
            out.append("'" + value if value[:1] in _TRIGGERS else value)
        elif value is None:
            out.append("")
        elif isinstance(value, Decimal):
            out.append(decimal_text(value, decimal_comma=decimal_comma))
        elif isinstance(value, dt.datetime):
            out.append(value.isoformat(" ", "seconds"))
        else:
            out.append(csv_text(safe_cell(value), decimal_comma=decimal_comma))
    return out
