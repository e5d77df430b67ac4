"""Swagger UI for the API at /api/docs, under a Content-Security-Policy of its own.

Swagger UI is the one page that runs JavaScript: FastAPI's page loads it from
a CDN and starts it with an inline script. Rather than loosen the site-wide
policy, this page allows exactly that CDN and that inline script (by hash).
"""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)

CDN = "https://cdn.jsdelivr.net"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


@router.get("/api/docs", name="api_docs")
def api_docs(request: Request) -> HTMLResponse:
    """Swagger UI over this app's OpenAPI schema."""
    openapi_url = request.app.openapi_url or "/api/openapi.json"
    page = get_swagger_ui_html(openapi_url=openapi_url, title="Prime News API")
    page.headers["Content-Security-Policy"] = docs_policy(bytes(page.body).decode())
    return page


def docs_policy(html: str) -> str:
    """A CSP allowing the CDN and the page's own inline scripts (by hash), nothing else."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(html)
    )
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src {CDN} {hashes}".strip(),
            f"style-src 'self' {CDN} 'unsafe-inline'",  # Swagger UI sets style attributes
            "img-src 'self' data: https://fastapi.tiangolo.com",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        )
    )
