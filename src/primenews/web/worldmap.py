"""A world map of where the stories happen, drawn on the server as inline SVG.

Country shapes come from ``countryinfo`` (its per-country GeoJSON, from the
package index, nothing fetched), projected equirectangularly and thinned to
points at least ``MIN_STEP`` degrees apart, once per process. Countries where
stories happen are shaded by how many stories name a place in them; each has
a tooltip and the whole map a text alternative listing them, so the picture
is never the only way to read it.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Mapping
from typing import Any

import countryinfo
from markupsafe import Markup, escape

logger = logging.getLogger(__name__)

WIDTH, HEIGHT = 720, 360  # 2 px a degree
MIN_STEP = 0.6  # degrees between kept points: the map is small, borders need not be exact
SHADES = 4


@functools.cache
def country_shapes() -> dict[str, tuple[str, str]]:
    """ISO alpha-2 code -> (country name, SVG path data), built once."""
    shapes: dict[str, tuple[str, str]] = {}
    for country in countryinfo.all_countries():
        try:
            info = country.info()
            code = str(info.get("ISO", {}).get("alpha2", "")).upper()
            geometry = info.get("geoJSON", {}).get("features", [{}])[0].get("geometry", {})
        except (AttributeError, IndexError, KeyError, TypeError, ValueError):
            continue
        path = _path(geometry)
        if code and path:
            shapes[code] = (str(info.get("name", code)), path)
    return shapes


def _path(geometry: Mapping[str, Any]) -> str:
    kind, coordinates = geometry.get("type"), geometry.get("coordinates") or []
    polygons = coordinates if kind == "MultiPolygon" else [coordinates] if kind == "Polygon" else []
    return "".join(_ring(ring) for polygon in polygons for ring in polygon[:1])  # outer rings


def _ring(points: Iterable[Any]) -> str:
    kept: list[tuple[float, float]] = []
    for point in points:
        try:
            lon, lat = float(point[0]), float(point[1])
        except (TypeError, ValueError, IndexError):
            continue
        if kept and abs(lon - kept[-1][0]) < MIN_STEP and abs(lat - kept[-1][1]) < MIN_STEP:
            continue
        kept.append((lon, lat))
    if len(kept) < 3:
        return ""
    xy = [f"{(lon + 180) * WIDTH / 360:.1f},{(90 - lat) * HEIGHT / 180:.1f}" for lon, lat in kept]
    return "M" + "L".join(xy) + "Z"


def world_map_svg(stories_by_country: Mapping[str, int], label: str) -> Markup:
    """The map with each country shaded by its number of stories (0: not shaded)."""
    shapes = country_shapes()
    if not shapes:
        return Markup("")
    peak = max(stories_by_country.values(), default=0)
    parts = []
    for code, (name, path) in sorted(shapes.items()):
        count = stories_by_country.get(code, 0)
        if count and peak:
            shade = 1 + min(SHADES - 1, (SHADES * count - 1) // peak)
            tip = f"{name}: {count} stor{'ies' if count != 1 else 'y'}"
            parts.append(
                f'<path class="land s{shade}" d="{path}"><title>{escape(tip)}</title></path>'
            )
        else:
            parts.append(f'<path class="land" d="{path}"></path>')
    named = sorted(
        ((shapes[c][0], n) for c, n in stories_by_country.items() if c in shapes),
        key=lambda item: (-item[1], item[0]),
    )
    alternative = f"{label}: " + (
        "; ".join(f"{name} {count}" for name, count in named) if named else "no places yet"
    )
    return Markup(
        f'<svg class="chart worldmap" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(alternative)}">{"".join(parts)}</svg>'
    )
