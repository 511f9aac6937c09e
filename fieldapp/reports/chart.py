"""Visits per day as a bar chart drawn on the server (an SVG in the page, no chart library).

Only geometry is computed here; ``templates/reports/_chart.html`` draws it.
Presentation attributes (x, y, width, height) are used, not ``style``, which
the CSP forbids.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

WIDTH = 640
HEIGHT = 220
LEFT = 36
BOTTOM = 24
TOP = 10


@dataclass
class Bar:
    day: dt.date
    count: int
    x: float
    y: float
    width: float
    height: float


@dataclass
class Tick:
    value: int
    y: float


@dataclass
class DayLabel:
    text: str
    x: float


@dataclass
class Chart:
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    baseline: float = HEIGHT - BOTTOM
    bars: list[Bar] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    labels: list[DayLabel] = field(default_factory=list)
    total: int = 0


def _nice_max(value: int) -> int:
    """The axis maximum: 1, 2 or 5 times a power of ten, at least ``value``."""
    if value <= 5:
        return 5
    magnitude: int = 10 ** int(math.floor(math.log10(value)))
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return int(step * magnitude)
    return int(10 * magnitude)


def visits_chart(days: list[tuple[dt.date, int]]) -> Chart:
    """One bar per calendar day from the first to the last visit day (gaps drawn as empty days)."""
    chart = Chart()
    if not days:
        return chart
    counts = dict(days)
    first, last = days[0][0], days[-1][0]
    span = (last - first).days + 1
    top = _nice_max(max(counts.values()))
    plot_width = WIDTH - LEFT - 4
    plot_height = chart.baseline - TOP
    slot = plot_width / span
    gap = min(2.0, slot * 0.2)
    for offset in range(span):
        day = first + dt.timedelta(days=offset)
        count = counts.get(day, 0)
        height = plot_height * count / top
        chart.bars.append(Bar(day, count, round(LEFT + offset * slot + gap / 2, 2),
                              round(chart.baseline - height, 2), round(max(slot - gap, 0.5), 2),
                              round(height, 2)))
    chart.ticks = [Tick(round(top * i / 4), round(chart.baseline - plot_height * i / 4, 2)) for i in range(5)]
    every = max(1, math.ceil(span / 6))
    chart.labels = [DayLabel(f"{bar.day.month}/{bar.day.day}", round(bar.x + bar.width / 2, 2))
                    for index, bar in enumerate(chart.bars) if index % every == 0]
    chart.total = sum(counts.values())
    return chart
