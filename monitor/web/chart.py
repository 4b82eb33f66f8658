"""A bar chart of mentions per day, laid out here and drawn as inline SVG by the template.

Server-side on purpose: no chart library, no script, nothing fetched; the page's
Content-Security-Policy can forbid scripts outright and the chart still shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    day: str  # ISO date
    count: int


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int  # the plot area starts here (room for the y labels)
    top: int
    bottom: int  # the plot area's baseline (y coordinate)
    bars: tuple[Bar, ...]
    y_ticks: tuple[Tick, ...]
    x_ticks: tuple[Tick, ...]
    total: int
    peak: int


def nice_step(peak: int, lines: int = 4) -> int:
    """A round step (1, 2, 5 × 10^n) giving about `lines` grid lines up to `peak`."""
    raw = max(peak, 1) / lines
    magnitude = 1
    while magnitude * 10 <= raw:
        magnitude *= 10
    for factor in (1, 2, 5, 10):
        if factor * magnitude >= raw:
            return factor * magnitude
    return 10 * magnitude


def daily_bars(days: Sequence[tuple[date, int]], width: int = 720, height: int = 180) -> Chart:
    """One bar per day, in the order given; the y axis starts at 0 and ends on a round number."""
    left, top, right, bottom_margin = 36, 8, 8, 22
    bottom = height - bottom_margin
    plot_w, plot_h = width - left - right, bottom - top
    peak = max((n for _, n in days), default=0)
    step = nice_step(peak)
    scale_max = max(step * -(-max(peak, 1) // step), 1)
    slot = plot_w / max(len(days), 1)
    gap = min(2.0, slot * 0.2)
    bars = tuple(Bar(x=round(left + i * slot + gap / 2, 2), y=round(bottom - n / scale_max * plot_h, 2),
                     width=round(max(slot - gap, 0.5), 2), height=round(n / scale_max * plot_h, 2),
                     day=d.isoformat(), count=n) for i, (d, n) in enumerate(days))
    y_ticks = tuple(Tick(round(bottom - v / scale_max * plot_h, 2), str(v)) for v in range(0, scale_max + 1, step))
    every = max(1, -(-len(days) // 8))  # at most about 8 date labels
    x_ticks = tuple(Tick(round(left + (i + 0.5) * slot, 2), d.strftime("%d/%m"))
                    for i, (d, _) in enumerate(days) if i % every == 0)
    return Chart(width, height, left, top, bottom, bars, y_ticks, x_ticks, sum(n for _, n in days), peak)
