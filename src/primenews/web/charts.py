"""Small charts drawn on the server as inline SVG: no script, no chart framework.

Every value that reaches the SVG is a number we computed or text escaped by
markupsafe, so publisher content cannot inject markup through a chart.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from markupsafe import Markup, escape

WIDTH, HEIGHT = 600, 120
AXIS = 18  # room under the bars for the first and last hour


def timeline_svg(
    buckets: Sequence[tuple[datetime, int]], label: str = "Articles per hour"
) -> Markup:
    """A bar chart of articles per hour; each bar has a tooltip with its hour and count."""
    if not buckets:
        return Markup("")
    peak = max(count for _, count in buckets) or 1
    slot = WIDTH / len(buckets)
    bar = max(slot * 0.8, 1.0)
    plot = HEIGHT - AXIS
    parts = []
    for n, (hour, count) in enumerate(buckets):
        height = plot * count / peak
        tip = f"{hour:%d %b %H:00} UTC: {count} article{'s' if count != 1 else ''}"
        parts.append(
            f'<rect x="{n * slot + (slot - bar) / 2:.1f}" y="{plot - height:.1f}" '
            f'width="{bar:.1f}" height="{height:.1f}"><title>{escape(tip)}</title></rect>'
        )
    first, last = buckets[0][0], buckets[-1][0]
    total = sum(count for _, count in buckets)
    summary = f"{label}: {total} articles from {first:%d %b %H:00} to {last:%d %b %H:00} UTC"
    return Markup(
        f'<svg class="chart timeline" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(summary)}">'
        f"{''.join(parts)}"
        f'<text x="0" y="{HEIGHT - 4}">{first:%d %b %H:00}</text>'
        f'<text x="{WIDTH}" y="{HEIGHT - 4}" text-anchor="end">{last:%d %b %H:00}</text>'
        "</svg>"
    )
