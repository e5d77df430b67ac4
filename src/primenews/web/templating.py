"""The Jinja2 environment of the site: autoescaping on, a few display filters."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.templating import Jinja2Templates

from primenews.web.assets import asset_url
from primenews.web.sanitize import is_web_url, snippet

TEMPLATE_DIR = Path(__file__).parent / "templates"


def build_templates() -> Jinja2Templates:
    """Templates with autoescaping on for every file, and our filters."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["human_time"] = human_time
    env.filters["iso_time"] = iso_time
    env.filters["web_url"] = web_url
    env.filters["snippet"] = snippet
    env.filters["minutes"] = minutes
    env.globals["asset_url"] = asset_url
    return Jinja2Templates(env=env)


def human_time(value: datetime | None) -> str:
    """``2024-05-01 14:03 UTC``, or an empty string."""
    if value is None:
        return ""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def iso_time(value: datetime | None) -> str:
    """ISO 8601 with ``Z``, for ``<time datetime>``."""
    if value is None:
        return ""
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def web_url(value: str | None) -> str:
    """The URL when it is http(s), else an empty string: never link a ``javascript:``."""
    return value.strip() if value and is_web_url(value) else ""


def minutes(value: float | None) -> str:
    """A polling interval for people: ``45 min``, ``2 h 5 min``; empty when unknown."""
    if value is None:
        return ""
    total = max(1, round(value))
    hours, rest = divmod(total, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h {rest} min" if rest else f"{hours} h"
