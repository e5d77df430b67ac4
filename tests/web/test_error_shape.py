"""Every error under /api has one shape; pages answer with an HTML error page instead.

The shape (anchor: datasette's tests/test_error_shape.py) is::

    {"ok": false, "status": <int>, "error": "<message>", "errors": [<details>]}
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from primenews.config import Settings
from primenews.store import Store
from primenews.web.app import create_app

pytestmark = pytest.mark.anyio


def assert_error_shape(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert set(body) == {"ok", "status", "error", "errors"}
    assert body["ok"] is False
    assert body["status"] == status
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["errors"], list)
    for detail in body["errors"]:
        assert set(detail) == {"loc", "msg", "type"}
    return body


@pytest.mark.parametrize(
    ("method", "path", "json_body", "status"),
    [
        ("GET", "/api/v1/articles/999", None, 404),
        ("GET", "/api/v1/sources/999", None, 404),
        ("GET", "/api/v1/nothing-here", None, 404),
        ("GET", "/api/nothing-here", None, 404),
        ("GET", "/api", None, 404),
        ("GET", "/api/v1/articles?limit=0", None, 422),
        ("GET", "/api/v1/articles?limit=201", None, 422),
        ("GET", "/api/v1/articles?limit=ten", None, 422),
        ("GET", "/api/v1/articles?since=yesterday", None, 422),
        ("GET", "/api/v1/articles?source=abc", None, 422),
        ("GET", "/api/v1/articles/abc", None, 422),
        ("GET", "/api/v1/articles?cursor=not-a-cursor", None, 400),
        ("GET", "/api/v1/articles?cursor=" + "x" * 201, None, 422),
        ("POST", "/api/v1/sources", {"url": "ftp://news.example/feed"}, 422),
        ("POST", "/api/v1/sources", {"url": "https://news.example", "kind": "podcast"}, 422),
        ("POST", "/api/v1/sources", {}, 422),
        ("POST", "/api/v1/sources", "not an object", 422),
        ("DELETE", "/api/v1/articles", None, 405),
        ("PUT", "/api/v1/health", None, 405),
    ],
)
async def test_api_errors_share_one_shape(
    client: httpx.AsyncClient,
    api_headers: dict[str, str],
    method: str,
    path: str,
    json_body: Any,
    status: int,
) -> None:
    # With a valid API token, so the write endpoints get as far as validating the body.
    response = await client.request(method, path, json=json_body, headers=api_headers)
    assert_error_shape(response, status)


async def test_validation_errors_list_each_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/articles?limit=0&since=soon")
    body = assert_error_shape(response, 422)
    assert sorted(tuple(detail["loc"]) for detail in body["errors"]) == [
        ("query", "limit"),
        ("query", "since"),
    ]
    assert "limit" in body["error"] and "since" in body["error"]


async def test_method_not_allowed_says_what_is(client: httpx.AsyncClient) -> None:
    response = await client.delete("/api/v1/articles")
    assert_error_shape(response, 405)
    assert response.headers["allow"] == "GET"


@pytest.fixture
def broken_app(settings: Settings, new_database_url: Callable[[], str]) -> Iterator[FastAPI]:
    """An app over a store that was never migrated: every query fails inside the store."""
    store = Store.open(new_database_url())
    yield create_app(settings, store)
    store.close()


@pytest.fixture
async def broken_client(broken_app: FastAPI) -> Any:
    transport = httpx.ASGITransport(app=broken_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.mark.parametrize("path", ["/api/v1/articles", "/api/v1/health", "/api/v1/sources"])
async def test_unexpected_failures_are_500_in_the_same_shape(
    broken_client: httpx.AsyncClient, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    response = await broken_client.get(path)
    body = assert_error_shape(response, 500)
    assert body["error"] == "Internal server error"  # no internals leak out
    assert response.headers["x-frame-options"] == "DENY"
    assert any(record.exc_info for record in caplog.records), "the traceback is logged"


async def test_a_failing_page_renders_the_error_page(broken_client: httpx.AsyncClient) -> None:
    response = await broken_client.get("/")
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")
    assert "<h1>Internal Server Error</h1>" in response.text
    assert "content-security-policy" in response.headers


@pytest.mark.parametrize(
    "path",
    ["/nothing-here", "/article/999", "/article/abc", "/static/missing.css", "/?source=999"],
)
async def test_pages_answer_404_with_an_html_page(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "<h1>Page not found</h1>" in response.text
    assert '<a href="/">Back to the latest news</a>' in response.text


async def test_a_bad_cursor_on_a_page_is_a_400_page(client: httpx.AsyncClient) -> None:
    response = await client.get("/?cursor=garbage")
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert "Invalid cursor" in response.text
