"""Swagger UI for the API at /api/docs, served from this host, under a CSP of its own.

Swagger UI is the one page that runs a third-party script. Its files come from
the fastapi-offline package (so the page works offline and sends no reader to
a CDN) and are mounted at /static/api-docs; the page starts it with one inline
script, which this page's policy allows by hash rather than loosening the
site-wide policy.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

ASSETS_DIR = Path(fastapi_offline.__file__).parent / "static"
ASSETS_URL = "/static/api-docs"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


@router.get("/api/docs", name="api_docs")
def api_docs(request: Request) -> HTMLResponse:
    """Swagger UI over this app's OpenAPI schema."""
    openapi_url = request.app.openapi_url or "/api/openapi.json"
    page = get_swagger_ui_html(
        openapi_url=openapi_url,
        title="Prime News API",
        swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS_URL}/favicon.png",
    )
    page.headers["Content-Security-Policy"] = docs_policy(bytes(page.body).decode())
    return page


def docs_policy(html: str) -> str:
    """A CSP allowing this host's scripts and the page's own inline script (by hash)."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(html)
    )
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src 'self' {hashes}".strip(),
            "style-src 'self' 'unsafe-inline'",  # Swagger UI sets style attributes
            "img-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        )
    )
