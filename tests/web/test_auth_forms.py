"""Admin forms (sources, tokens) and API tokens: who may write, and what a forgery gets."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import select
from starlette.routing import BaseRoute

from primenews.auth import PasswordHasher
from primenews.auth.accounts import create_api_token, create_user
from primenews.config import Settings
from primenews.domain import Source
from primenews.store import Store
from primenews.store.schema import api_tokens
from primenews.web.app import create_app

from .test_auth import PASSWORD, csrf_of, log_in

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.fixture
def admin_app(
    settings: Settings, store: Store, added_sources: list[Source], quick_hasher: PasswordHasher
) -> FastAPI:
    app = create_app(settings, store, on_source_added=added_sources.append)
    app.state.auth.hasher = quick_hasher
    create_user(store, quick_hasher, "alice", PASSWORD, NOW)
    return app


@pytest.fixture
async def web(admin_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=admin_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


def api_routes(routes: Sequence[BaseRoute]) -> Iterator[APIRoute]:
    for route in routes:
        included = getattr(route, "original_router", None)  # FastAPI >= 0.13x wraps routers
        if included is not None:
            yield from api_routes(included.routes)
        elif isinstance(route, APIRoute):
            yield route


# POST routes that are not forms: WebSub hubs deliver content signed with the
# subscription's secret (HMAC, checked in web/websub.py; its own tests refuse bad ones);
# an alert e-mail's unsubscribe link carries its own signed token (tests/alerts/test_web.py).
SIGNED_NOT_SESSION = ("/websub/", "/alerts/unsubscribe/")


def form_posts(app: FastAPI) -> list[str]:
    """Every POST route of the site outside the JSON API, with ids filled in."""
    paths = [
        route.path
        for route in api_routes(app.routes)
        if "POST" in route.methods
        and not route.path.startswith("/api")
        and not route.path.startswith(SIGNED_NOT_SESSION)
    ]
    return [re.sub(r"\{[^}]+\}", "1", path) for path in paths if path != "/login"]


async def test_every_form_post_needs_a_session(admin_app: FastAPI, web: httpx.AsyncClient) -> None:
    posts = form_posts(admin_app)
    assert set(posts) >= {"/logout", "/sources/add", "/sources/1/remove", "/tokens",
                          "/tokens/1/revoke"}  # fmt: skip
    for path in posts:
        response = await web.post(path, data={"csrf_token": "anything", "url": "https://a.b/"})
        assert response.status_code == 401, path
        assert "/login" in response.text


@pytest.mark.parametrize("token", [None, "", "forged", "0" * 43])
async def test_every_form_post_needs_the_sessions_csrf_token(
    admin_app: FastAPI, web: httpx.AsyncClient, store: Store, token: str | None
) -> None:
    source, _ = store.add_source(Source(url="https://keep.example/feed"), NOW)
    await log_in(web)
    data = {"url": "https://new.example/feed", "name": "x"}
    if token is not None:
        data["csrf_token"] = token
    for path in form_posts(admin_app):
        response = await web.post(path.replace("/1/", f"/{source.id}/"), data=data)
        assert response.status_code == 403, path
        assert "did not come from this site" in response.text
    assert store.source_by_url("https://keep.example/feed") is not None
    assert store.source_by_url("https://new.example/feed") is None
    assert store.users.list_api_tokens() == []
    assert "Logged in as alice" in (await web.get("/sources")).text, "still logged in"


async def test_another_sessions_csrf_token_is_refused(
    admin_app: FastAPI, web: httpx.AsyncClient, store: Store
) -> None:
    transport = httpx.ASGITransport(app=admin_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
        await log_in(other)
        their_token = csrf_of((await other.get("/sources")).text)
    await log_in(web)
    response = await web.post(
        "/sources/add", data={"url": "https://new.example/feed", "csrf_token": their_token}
    )
    assert response.status_code == 403


async def test_anonymous_sources_page_has_no_forms(web: httpx.AsyncClient) -> None:
    page = await web.get("/sources")
    assert "<form" not in page.text
    assert 'href="/login?next=/sources"' in page.text


async def test_admin_adds_and_removes_a_source(
    web: httpx.AsyncClient, store: Store, added_sources: list[Source]
) -> None:
    await log_in(web)
    csrf = csrf_of((await web.get("/sources")).text)
    added = await web.post(
        "/sources/add", data={"url": " https://new.example/feed ", "csrf_token": csrf}
    )
    assert added.status_code == 303 and added.headers["location"].endswith("/sources")
    source = store.source_by_url("https://new.example/feed")
    assert source is not None and [s.url for s in added_sources] == [source.url]
    page = await web.get("/sources")
    assert f'action="/sources/{source.id}/remove"' in page.text
    removed = await web.post(f"/sources/{source.id}/remove", data={"csrf_token": csrf})
    assert removed.status_code == 303
    assert store.list_sources() == []
    again = await web.post(f"/sources/{source.id}/remove", data={"csrf_token": csrf})
    assert again.status_code == 404


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "file:///etc/passwd", "news.example/feed", "", "http://[::1"]
)
async def test_the_source_form_refuses_what_is_not_a_web_address(
    web: httpx.AsyncClient, store: Store, url: str
) -> None:
    await log_in(web)
    csrf = csrf_of((await web.get("/sources")).text)
    response = await web.post("/sources/add", data={"url": url, "csrf_token": csrf})
    assert response.status_code == 422
    assert "Not a source URL" in response.text
    assert store.list_sources() == []


async def test_tokens_page_shows_a_new_token_once_and_revokes_it(
    web: httpx.AsyncClient, store: Store
) -> None:
    assert (await web.get("/tokens")).status_code == 401
    await log_in(web)
    page = await web.get("/tokens")
    assert page.headers["cache-control"] == "no-store"
    created = await web.post("/tokens", data={"name": "importer", "csrf_token": csrf_of(page.text)})
    assert created.status_code == 200
    token = re.search(r'<code class="token">(pn_[^<]+)</code>', created.text)
    assert token
    [listed] = store.users.list_api_tokens()
    assert (listed.name, listed.user_name) == ("importer", "alice")
    assert token.group(1).startswith(listed.hint)
    later = await web.get("/tokens")
    assert token.group(1) not in later.text, "shown once only"
    assert listed.hint in later.text
    with store.engine.connect() as conn:
        assert token.group(1) not in conn.execute(select(api_tokens.c.token_hash)).scalars().all()
    revoked = await web.post(
        f"/tokens/{listed.id}/revoke", data={"csrf_token": csrf_of(later.text)}
    )
    assert revoked.status_code == 303
    assert store.users.list_api_tokens() == []


async def test_form_writes_hit_the_write_limit(
    settings: Settings, store: Store, quick_hasher: PasswordHasher
) -> None:
    app = create_app(settings.replace(write_requests_per_minute=3), store)
    app.state.auth.hasher = quick_hasher
    create_user(store, quick_hasher, "alice", PASSWORD, NOW)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        await log_in(client)
        csrf = csrf_of((await client.get("/sources")).text)
        statuses = [
            (await client.post("/tokens", data={"name": f"t{n}", "csrf_token": csrf})).status_code
            for n in range(4)
        ]
    assert statuses == [200, 200, 200, 429]
    assert len(store.users.list_api_tokens()) == 3


# The JSON API


async def post_source(client: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
    return await client.post(
        "/api/v1/sources", json={"url": "https://a.example/feed"}, headers=headers
    )


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer ", "Bearer pn_forged", "Basic YWxpY2U6cHc=", "pn_x",
     "Bearer " + "x" * 5000],
)  # fmt: skip
async def test_api_writes_need_a_valid_token(
    web: httpx.AsyncClient, store: Store, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = await post_source(web, headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="primenews"'
    body = response.json()
    assert set(body) == {"ok", "status", "error", "errors"} and body["status"] == 401
    assert "primenews tokens add" in body["error"]
    assert store.list_sources() == []


async def test_api_reads_need_no_token(web: httpx.AsyncClient) -> None:
    for path in ("/api/v1/articles", "/api/v1/sources", "/api/v1/health", "/", "/sources"):
        assert (await web.get(path)).status_code == 200, path


async def test_a_session_cookie_does_not_authorise_api_writes(web: httpx.AsyncClient) -> None:
    await log_in(web)
    assert (await post_source(web, {})).status_code == 401


async def test_revoked_tokens_and_removed_users_lose_access(
    web: httpx.AsyncClient, store: Store, quick_hasher: PasswordHasher
) -> None:
    alice = store.users.credentials("alice")
    assert alice is not None
    stored, token = create_api_token(store, alice.user, "one", NOW)
    headers = {"Authorization": f"Bearer {token}"}
    assert (await post_source(web, headers)).status_code == 201
    assert store.users.list_api_tokens()[0].last_used is not None
    assert store.users.revoke_api_token(stored.id)
    assert (await post_source(web, headers)).status_code == 401

    bob = create_user(store, quick_hasher, "bob", PASSWORD, NOW)
    _, bobs = create_api_token(store, bob, "two", NOW)
    headers = {"Authorization": f"bearer  {bobs} "}  # scheme is case-insensitive
    assert (await post_source(web, headers)).status_code == 200
    assert store.users.remove_user("bob")
    assert (await post_source(web, headers)).status_code == 401
    assert store.users.list_api_tokens() == []


async def test_api_writes_hit_the_write_limit(
    settings: Settings, store: Store, api_headers: dict[str, str]
) -> None:
    app = create_app(settings.replace(write_requests_per_minute=2), store)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        statuses = [(await post_source(client, api_headers)).status_code for _ in range(3)]
        limited = await post_source(client, api_headers)
    assert statuses == [201, 200, 429]
    assert limited.json()["status"] == 429 and int(limited.headers["retry-after"]) >= 1


async def test_every_api_write_needs_a_token(admin_app: FastAPI, web: httpx.AsyncClient) -> None:
    writes = [
        (method, route.path)
        for route in api_routes(admin_app.routes)
        if route.path.startswith("/api")
        for method in route.methods - {"GET", "HEAD", "OPTIONS"}
    ]
    assert ("POST", "/api/v1/sources") in writes
    for method, path in writes:
        response = await web.request(method, re.sub(r"\{[^}]+\}", "1", path), json={})
        assert response.status_code == 401, (method, path)


async def test_openapi_says_which_writes_need_a_token(web: httpx.AsyncClient) -> None:
    spec = (await web.get("/api/openapi.json")).json()
    assert spec["components"]["securitySchemes"]["API token"]["scheme"] == "bearer"
    post = spec["paths"]["/api/v1/sources"]["post"]
    assert post["security"] == [{"API token": []}]
    assert {"401", "429"} <= set(post["responses"])
    assert "security" not in spec["paths"]["/api/v1/articles"]["get"], "reads need nothing"
