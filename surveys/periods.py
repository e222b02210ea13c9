"""Periods: the day, week, month, quarter or year a value is about.

A period has a kind and a key that sorts and reads well: ``2026-11-30`` (day), ``2026-W49``
(ISO week), ``2026-11`` (month), ``2026-T4`` (quarter, « trimestre »), ``2026`` (year). The key
is what the value store and assignments record; ``parse_period`` gives the period back.
"""

import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum


class PeriodKind(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


PERIOD_KIND_LABELS = {
    PeriodKind.DAY: "Jour",
    PeriodKind.WEEK: "Semaine",
    PeriodKind.MONTH: "Mois",
    PeriodKind.QUARTER: "Trimestre",
    PeriodKind.YEAR: "Année",
}
PERIOD_KIND_CHOICES = [(k.value, label) for k, label in PERIOD_KIND_LABELS.items()]
# Coarse to fine: a period of a kind contains whole periods of every finer kind but weeks,
# which straddle months.
_ORDER = [PeriodKind.DAY, PeriodKind.WEEK, PeriodKind.MONTH, PeriodKind.QUARTER, PeriodKind.YEAR]

MONTHS = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
]


class PeriodError(ValueError):
    """A period key or date range that means nothing; the message is in French."""


@dataclass(frozen=True, order=True)
class Period:
    start: date
    end: date  # inclusive
    kind: PeriodKind
    key: str

    @property
    def label(self) -> str:
        match self.kind:
            case PeriodKind.DAY:
                return f"{self.start.day} {MONTHS[self.start.month - 1]} {self.start.year}"
            case PeriodKind.WEEK:
                return (
                    f"semaine {self.start.isocalendar().week} de {self.start.isocalendar().year} "
                    f"(du {self.start:%d/%m} au {self.end:%d/%m/%Y})"
                )
            case PeriodKind.MONTH:
                return f"{MONTHS[self.start.month - 1]} {self.start.year}"
            case PeriodKind.QUARTER:
                quarter = (self.start.month - 1) // 3 + 1
                ordinal = "1er" if quarter == 1 else f"{quarter}e"
                return f"{ordinal} trimestre {self.start.year}"
            case _:
                return str(self.start.year)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def contains(self, other: "Period") -> bool:
        return self.start <= other.start and other.end <= self.end

    def overlaps(self, other: "Period") -> bool:
        return self.start <= other.end and other.start <= self.end

    def previous(self) -> "Period":
        return period_of(self.kind, self.start - timedelta(days=1))

    def next(self) -> "Period":
        return period_of(self.kind, self.end + timedelta(days=1))

    def sub_periods(self, kind: PeriodKind) -> list["Period"]:
        """The periods of ``kind`` lying wholly inside this one, in order."""
        return [p for p in periods_between(kind, self.start, self.end) if self.contains(p)]


def period_of(kind: PeriodKind | str, day: date) -> Period:
    """The period of ``kind`` that contains ``day``."""
    kind = PeriodKind(kind)
    match kind:
        case PeriodKind.DAY:
            return Period(day, day, kind, day.isoformat())
        case PeriodKind.WEEK:
            year, week, weekday = day.isocalendar()
            start = day - timedelta(days=weekday - 1)
            return Period(start, start + timedelta(days=6), kind, f"{year}-W{week:02d}")
        case PeriodKind.MONTH:
            start = day.replace(day=1)
            end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
            return Period(start, end, kind, f"{day.year}-{day.month:02d}")
        case PeriodKind.QUARTER:
            quarter = (day.month - 1) // 3
            start = date(day.year, 3 * quarter + 1, 1)
            end = (
                date(day.year + 1, 1, 1) if quarter == 3 else date(day.year, 3 * quarter + 4, 1)
            ) - timedelta(days=1)
            return Period(start, end, kind, f"{day.year}-T{quarter + 1}")
        case _:
            return Period(date(day.year, 1, 1), date(day.year, 12, 31), kind, str(day.year))


_KEYS = [
    (re.compile(r"^(\d{4})-(\d{2})-(\d{2})$"), PeriodKind.DAY),
    (re.compile(r"^(\d{4})-W(\d{2})$"), PeriodKind.WEEK),
    (re.compile(r"^(\d{4})-T([1-4])$"), PeriodKind.QUARTER),
    (re.compile(r"^(\d{4})-(\d{2})$"), PeriodKind.MONTH),
    (re.compile(r"^(\d{4})$"), PeriodKind.YEAR),
]


def parse_period(key: str) -> Period:
    """The period a key names: ``2026-11-30``, ``2026-W49``, ``2026-11``, ``2026-T4``, ``2026``."""
    text = (key or "").strip()
    for pattern, kind in _KEYS:
        match = pattern.match(text)
        if not match:
            continue
        numbers = [int(g) for g in match.groups()]
        try:
            match kind:
                case PeriodKind.DAY:
                    day = date(numbers[0], numbers[1], numbers[2])
                case PeriodKind.WEEK:
                    day = date.fromisocalendar(numbers[0], numbers[1], 1)
                case PeriodKind.QUARTER:
                    day = date(numbers[0], 3 * numbers[1] - 2, 1)
                case PeriodKind.MONTH:
                    day = date(numbers[0], numbers[1], 1)
                case _:
                    day = date(numbers[0], 1, 1)
        except ValueError as error:
            raise PeriodError(f"Période « {text} » impossible : {error}.") from error
        return period_of(kind, day)
    raise PeriodError(
        f"Période « {text} » non reconnue. Formats attendus : 2026-11-30 (jour), 2026-W49 "
        "(semaine), 2026-11 (mois), 2026-T4 (trimestre), 2026 (année)."
    )


def periods_between(kind: PeriodKind | str, first: date, last: date) -> list[Period]:
    """Every period of ``kind`` from the one containing ``first`` to the one containing ``last``."""
    if last < first:
        raise PeriodError(
            f"La date de fin ({last:%d/%m/%Y}) précède la date de début ({first:%d/%m/%Y})."
        )
    periods = [period_of(kind, first)]
    while periods[-1].end < last:
        periods.append(periods[-1].next())
    return periods


def is_finer(kind: PeriodKind | str, than: PeriodKind | str) -> bool:
    return _ORDER.index(PeriodKind(kind)) < _ORDER.index(PeriodKind(than))
