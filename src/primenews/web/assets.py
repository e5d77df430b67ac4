"""Static files under fingerprinted names, cached by browsers for a year.

Pages link ``/static/style.<hash>.css`` (``asset_url``), where the hash is of
the file's bytes: a new release changes the name, so the old copy can be kept
forever (``immutable``) and a reader never sees a stale stylesheet with new
HTML. The plain names still work and are revalidated on every use (ETag).
"""

from __future__ import annotations

import hashlib
import re
from functools import cache
from pathlib import Path

from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC_DIR = Path(__file__).parent / "static"
STATIC_URL = "/static"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"

_HASHED = re.compile(r"^(?P<stem>.+)\.(?P<digest>[0-9a-f]{12})(?P<suffix>\.[A-Za-z0-9]+)$")


@cache
def fingerprint(name: str) -> str:
    """The first 12 hex digits of the SHA-256 of a static file (read once per process)."""
    return hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:12]


def asset_url(name: str) -> str:
    """``/static/style.css`` → ``/static/style.3f2a9c1be04d.css``."""
    path = Path(name)
    return f"{STATIC_URL}/{path.stem}.{fingerprint(name)}{path.suffix}"


class FingerprintedStaticFiles(StaticFiles):
    """StaticFiles that also answers the fingerprinted names, with the caching each deserves."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        hashed = _HASHED.match(path)
        if hashed and (STATIC_DIR / f"{hashed['stem']}{hashed['suffix']}").is_file():
            plain = f"{hashed['stem']}{hashed['suffix']}"
            response = await super().get_response(plain, scope)
            # An old name (a page cached before a release) gets today's file, not kept.
            current = hashed["digest"] == fingerprint(plain)
            response.headers["Cache-Control"] = IMMUTABLE if current else REVALIDATE
            return response
        response = await super().get_response(path, scope)
        response.headers.setdefault("Cache-Control", REVALIDATE)
        return response
