"""A sparkline of counts per day as SVG polyline points, drawn on the server (no JavaScript).

The template puts the points into an inline ``<svg>``; they are numbers only,
so nothing a publisher wrote reaches the SVG.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

SPAN_DAYS = 60  # the line ends on the newest day and reaches back this far at most


@dataclass(frozen=True, slots=True)
class Sparkline:
    points: str  # "x,y x,y …" in a width x height box, y downwards
    width: int
    height: int
    start: date
    end: date
    peak: int
    total: int


def sparkline(
    days: Sequence[tuple[date, int]], *, width: int = 240, height: int = 40
) -> Sparkline | None:
    """The line of ``days`` (day, count) with the days between filled with zeros.

    Returns None when there is nothing to draw.
    """
    if not days:
        return None
    counts = dict(days)
    end = max(counts)
    start = max(min(counts), end - timedelta(days=SPAN_DAYS - 1))
    series = [counts.get(start + timedelta(days=i), 0) for i in range((end - start).days + 1)]
    peak = max(series)
    if len(series) == 1:
        series = series * 2  # one day is a flat line across, not an invisible point
    step = width / (len(series) - 1)
    top = 2  # keep the stroke inside the box
    scale = (height - 2 * top) / peak if peak else 0.0
    points = " ".join(
        f"{i * step:.1f},{height - top - count * scale:.1f}" for i, count in enumerate(series)
    )
    return Sparkline(points, width, height, start, end, peak, sum(counts.values()))
