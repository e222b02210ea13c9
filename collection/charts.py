"""Charts drawn by the server as SVG, with the same figures as a table beside them.

Why not a JavaScript library: the pages run under a strict Content-Security-Policy (no inline
script or style), must work without JavaScript and be read by screen readers. An SVG with a
title, a description and a data table gives all three, and the geometry is a few lines of
arithmetic. Colours come from CSS classes (``static/css/charts.css``), never inline styles.

Build a ``Chart`` with ``line_chart`` or ``bar_chart`` and include
``charts/line.html`` / ``charts/bar.html`` with ``chart=...``.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

WIDTH = 640
HEIGHT = 260
LEFT = 56
RIGHT = 16
TOP = 16
BOTTOM = 48
# Up to six series, each with its own colour class and dash pattern (not colour alone).
SERIES_CLASSES = ["chart-s1", "chart-s2", "chart-s3", "chart-s4", "chart-s5", "chart-s6"]

Number = int | float | Decimal | None


@dataclass
class Series:
    label: str
    values: Sequence[Number]  # one per x label; None for no value


@dataclass
class Point:
    x: float
    y: float
    value: Number
    x_label: str


@dataclass
class DrawnSeries:
    label: str
    css: str
    points: list[Point]
    path: str  # "M x y L x y ..." over the points that have a value (gaps split the line)


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: Number
    label: str
    css: str


@dataclass
class Tick:
    position: float
    label: str


@dataclass
class Chart:
    id: str
    title: str
    description: str
    unit: str
    x_labels: list[str]
    series: list[Series]
    width: int = WIDTH
    height: int = HEIGHT
    drawn: list[DrawnSeries] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    x_ticks: list[Tick] = field(default_factory=list)

    @property
    def plot_bottom(self) -> float:
        return self.height - BOTTOM

    @property
    def plot_right(self) -> float:
        return self.width - RIGHT

    @property
    def rows(self) -> list[tuple[str, list[str]]]:
        """The data table: one row per x label, one cell per series."""
        return [
            (label, [_format(s.values[i]) for s in self.series])
            for i, label in enumerate(self.x_labels)
        ]

    @property
    def empty(self) -> bool:
        return not any(v is not None for s in self.series for v in s.values)


def _format(value: Number) -> str:
    if value is None:
        return "—"
    number = Decimal(str(value))
    if number == number.to_integral_value():
        return f"{int(number):,}".replace(",", "\u202f")
    return f"{number:.1f}".replace(".", ",")


def _nice_max(top: float) -> float:
    if top <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(top))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if top <= step * magnitude:
            return step * magnitude
    return 10.0 * magnitude


def _scale(chart: Chart, y_max: float | None) -> tuple[float, float]:
    values = [float(v) for s in chart.series for v in s.values if v is not None]
    top = _nice_max(max(values, default=0.0)) if y_max is None else y_max
    height = chart.plot_bottom - TOP
    chart.y_ticks = [
        Tick(chart.plot_bottom - height * i / 4, _format(Decimal(str(top * i / 4))))
        for i in range(5)
    ]
    return top, height


def _x_ticks(chart: Chart, positions: list[float]) -> None:
    # At most about 12 labels on the axis; the table has them all.
    step = max(1, -(-len(positions) // 12))
    chart.x_ticks = [Tick(x, chart.x_labels[i]) for i, x in enumerate(positions) if i % step == 0]


def line_chart(
    *,
    id: str,
    title: str,
    description: str,
    x_labels: Sequence[str],
    series: Sequence[Series],
    unit: str = "",
    y_max: float | None = None,
) -> Chart:
    """A line per series over the x labels (periods); ``y_max=100`` for rates in %."""
    chart = Chart(id, title, description, unit, list(x_labels), list(series)[:6])
    top, height = _scale(chart, y_max)
    count = len(chart.x_labels)
    span = chart.plot_right - LEFT
    positions = [LEFT + (span * i / (count - 1) if count > 1 else span / 2) for i in range(count)]
    _x_ticks(chart, positions)
    for index, item in enumerate(chart.series):
        points = [
            Point(positions[i], chart.plot_bottom - height * float(v) / top, v, chart.x_labels[i])
            for i, v in enumerate(item.values)
            if v is not None and i < count
        ]
        path, previous = [], None
        for i, v in enumerate(item.values[:count]):
            if v is None:
                previous = None
                continue
            y = chart.plot_bottom - height * float(v) / top
            path.append(f"{'L' if previous is not None else 'M'}{positions[i]:.1f} {y:.1f}")
            previous = i
        chart.drawn.append(DrawnSeries(item.label, SERIES_CLASSES[index], points, " ".join(path)))
    return chart


def bar_chart(
    *,
    id: str,
    title: str,
    description: str,
    x_labels: Sequence[str],
    series: Sequence[Series],
    unit: str = "",
    y_max: float | None = None,
) -> Chart:
    """Grouped bars: one group per x label (a region, a week), one bar per series."""
    chart = Chart(id, title, description, unit, list(x_labels), list(series)[:6])
    top, height = _scale(chart, y_max)
    count = max(len(chart.x_labels), 1)
    group = (chart.plot_right - LEFT) / count
    width = group * 0.8 / max(len(chart.series), 1)
    centres = [LEFT + group * (i + 0.5) for i in range(count)]
    _x_ticks(chart, centres)
    for s_index, item in enumerate(chart.series):
        for i, v in enumerate(item.values[:count]):
            if v is None:
                continue
            bar_height = height * float(v) / top
            chart.bars.append(
                Bar(
                    x=LEFT + group * i + group * 0.1 + width * s_index,
                    y=chart.plot_bottom - bar_height,
                    width=width,
                    height=bar_height,
                    value=v,
                    label=f"{item.label} — {chart.x_labels[i]} : {_format(v)}",
                    css=SERIES_CLASSES[s_index],
                )
            )
    return chart
