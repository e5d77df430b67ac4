"""Small charts drawn on the server as inline SVG: no script, no chart framework.

Every value that reaches the SVG is a number we computed or text escaped by
markupsafe, so publisher content cannot inject markup through a chart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from markupsafe import Markup, escape

WIDTH, HEIGHT = 600, 120
AXIS = 18  # room under the bars for the first and last hour


# Outlets with their own colour in the coverage chart; the others share one.
OUTLET_COLOURS = 6


def timeline_svg(
    buckets: Sequence[tuple[datetime, Mapping[str, int]]], label: str = "Articles per hour"
) -> Markup:
    """Stacked bars of articles per hour by outlet; each segment's tooltip names its outlet.

    The outlets with the most articles get a colour each (classes ``o0``…``o5``),
    the rest ``other``; ``outlet_legend`` lists them for the reader.
    """
    if not buckets:
        return Markup("")
    colour = outlet_colours(buckets)
    peak = max(sum(counts.values()) for _, counts in buckets) or 1
    slot = WIDTH / len(buckets)
    bar = max(slot * 0.8, 1.0)
    plot = HEIGHT - AXIS
    parts = []
    for n, (hour, counts) in enumerate(buckets):
        top = float(plot)
        for outlet, count in counts.items():
            height = plot * count / peak
            top -= height
            tip = f"{hour:%d %b %H:00} UTC · {outlet}: {count} article{'s' if count != 1 else ''}"
            x = n * slot + (slot - bar) / 2
            parts.append(
                f'<rect class="{colour.get(outlet, "other")}" x="{x:.1f}" y="{top:.1f}" '
                f'width="{bar:.1f}" height="{height:.1f}"><title>{escape(tip)}</title></rect>'
            )
    first, last = buckets[0][0], buckets[-1][0]
    total = sum(sum(counts.values()) for _, counts in buckets)
    summary = f"{label}: {total} articles from {first:%d %b %H:00} to {last:%d %b %H:00} UTC"
    return Markup(
        f'<svg class="chart timeline" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(summary)}">'
        f"{''.join(parts)}"
        f'<text x="0" y="{HEIGHT - 4}">{first:%d %b %H:00}</text>'
        f'<text x="{WIDTH}" y="{HEIGHT - 4}" text-anchor="end">{last:%d %b %H:00}</text>'
        "</svg>"
    )


def outlet_colours(buckets: Sequence[tuple[datetime, Mapping[str, int]]]) -> dict[str, str]:
    """CSS class per outlet: the busiest ``OUTLET_COLOURS`` get their own (ties: first seen)."""
    totals: dict[str, int] = {}
    for _, counts in buckets:
        for outlet, count in counts.items():
            totals[outlet] = totals.get(outlet, 0) + count
    ranked = sorted(totals, key=lambda outlet: -totals[outlet])  # stable: first seen first
    return {outlet: f"o{n}" for n, outlet in enumerate(ranked[:OUTLET_COLOURS])}


def agreement_svg(segments: Sequence[tuple[str, int, str]], label: str) -> Markup:
    """A stacked bar of outlets per value: (value text, outlets, kind) each, kind styling it.

    kind is "agrees", "approximate" or "differs"; the bar reads left to right
    from the value most outlets give.
    """
    total = sum(count for _, count, _ in segments)
    if not total:
        return Markup("")
    width, height, x = 300, 14, 0.0
    parts = []
    for text, count, kind in segments:
        share = width * count / total
        tip = f"{text}: {count} outlet{'s' if count != 1 else ''} ({kind})"
        parts.append(
            f'<rect class="{escape(kind)}" x="{x:.1f}" y="0" width="{share:.1f}" '
            f'height="{height}"><title>{escape(tip)}</title></rect>'
        )
        x += share
    return Markup(
        f'<svg class="chart agreement" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(label)}">{"".join(parts)}</svg>'
    )
