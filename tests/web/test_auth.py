"""Admin login, sessions, CSRF and rate limits against hostile requests, in-process."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from primenews.auth import PasswordHasher, hash_token
from primenews.auth.accounts import create_user
from primenews.config import Settings
from primenews.domain import Source
from primenews.store import Store
from primenews.store.schema import sessions
from primenews.web.app import create_app
from primenews.web.auth import LOGIN_COOKIE, SESSION_COOKIE

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


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


def csrf_of(html: str) -> str:
    match = CSRF_FIELD.search(html)
    assert match, "the page has a form with a CSRF token"
    return match.group(1)


async def log_in(
    client: httpx.AsyncClient, name: str = "alice", password: str = PASSWORD, **extra: str
) -> httpx.Response:
    form = await client.get("/login")
    assert form.status_code == 200
    data = {"name": name, "password": password, "csrf_token": csrf_of(form.text), **extra}
    return await client.post("/login", data=data)


async def test_login_starts_a_session_with_a_safe_cookie(web: httpx.AsyncClient) -> None:
    form = await web.get("/login")
    assert form.headers["cache-control"] == "no-store"
    assert 'type="password"' in form.text
    response = await log_in(web)
    assert response.status_code == 303
    assert response.headers["location"] == "/sources"
    cookie = next(
        value
        for name, value in response.headers.multi_items()
        if name == "set-cookie" and value.startswith(SESSION_COOKIE + "=")
    )
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie, "plain http in this test; https gets Secure"
    page = await web.get("/sources")
    assert 'action="/sources/add"' in page.text and "Logged in as alice" in page.text


async def test_cookie_is_secure_over_https(admin_app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=admin_app)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
        response = await log_in(client)
    assert response.status_code == 303
    assert "Secure" in response.headers["set-cookie"]


async def test_cookie_secure_setting_forces_secure(
    settings: Settings, store: Store, quick_hasher: PasswordHasher
) -> None:
    app = create_app(settings.replace(cookie_secure=True), store)
    app.state.auth.hasher = quick_hasher
    create_user(store, quick_hasher, "alice", PASSWORD, NOW)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        form = await client.get("/login")
    assert "Secure" in form.headers["set-cookie"]


async def test_the_session_token_is_stored_hashed(web: httpx.AsyncClient, store: Store) -> None:
    await log_in(web)
    token = web.cookies[SESSION_COOKIE]
    with store.engine.connect() as conn:
        stored = conn.execute(select(sessions.c.token_hash)).scalars().all()
    assert stored == [hash_token(token)]
    assert token not in stored


@pytest.mark.parametrize(
    ("name", "password"),
    [("alice", "wrong horse battery"), ("alice", ""), ("mallory", PASSWORD), ("", PASSWORD),
     ("ALICE", PASSWORD), ("alice", PASSWORD + " "), ("alice", "x" * 1024)],
)  # fmt: skip
async def test_wrong_credentials_are_refused_alike(
    web: httpx.AsyncClient, name: str, password: str
) -> None:
    response = await log_in(web, name, password)
    assert response.status_code == 401
    assert "Wrong user name or password." in response.text
    assert SESSION_COOKIE not in web.cookies
    assert "Logged in" not in (await web.get("/sources")).text


async def test_an_oversized_password_is_a_validation_error(web: httpx.AsyncClient) -> None:
    response = await log_in(web, "alice", "x" * 5000)
    assert response.status_code == 422
    assert SESSION_COOKIE not in web.cookies


@pytest.mark.parametrize("token", ["", "forged", "0" * 64])
async def test_login_without_the_form_token_is_refused(web: httpx.AsyncClient, token: str) -> None:
    await web.get("/login")
    response = await web.post("/login", data={"name": "alice", "password": PASSWORD,
                                              "csrf_token": token})  # fmt: skip
    assert response.status_code == 403
    assert SESSION_COOKIE not in web.cookies


async def test_login_token_of_another_browser_is_refused(
    web: httpx.AsyncClient, admin_app: FastAPI
) -> None:
    # An attacker's own valid form token does not go with the victim's cookie nonce.
    transport = httpx.ASGITransport(app=admin_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as attacker:
        stolen = csrf_of((await attacker.get("/login")).text)
    await web.get("/login")
    data = {"name": "alice", "password": PASSWORD, "csrf_token": stolen}
    assert (await web.post("/login", data=data)).status_code == 403
    web.cookies.delete(LOGIN_COOKIE)
    assert (await web.post("/login", data=data)).status_code == 403


async def test_login_brute_force_hits_the_rate_limit(web: httpx.AsyncClient) -> None:
    statuses = [(await log_in(web, "alice", f"guess number {n}")).status_code for n in range(5)]
    assert statuses == [401] * 5
    blocked = await log_in(web)  # even the right password, once over the limit
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) >= 1
    assert "Too many login attempts" in blocked.text
    assert SESSION_COOKIE not in web.cookies


async def test_the_limit_is_per_address_and_per_name(admin_app: FastAPI) -> None:
    async def attempts(address: str, name: str, count: int) -> list[int]:
        transport = httpx.ASGITransport(app=admin_app, client=(address, 1234))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            return [(await log_in(c, name, "wrong password!")).status_code for _ in range(count)]

    assert await attempts("10.0.0.1", "alice", 5) == [401] * 5
    assert await attempts("10.0.0.2", "bob", 1) == [401], "another address, another name: fine"
    assert await attempts("10.0.0.3", "alice", 1) == [429], "alice's bucket is empty everywhere"


async def test_logout_ends_the_session_for_good(web: httpx.AsyncClient) -> None:
    await log_in(web)
    stolen = web.cookies[SESSION_COOKIE]
    page = await web.get("/sources")
    response = await web.post("/logout", data={"csrf_token": csrf_of(page.text)})
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert SESSION_COOKIE not in web.cookies
    # Replaying the old cookie: the session row is gone.
    web.cookies.set(SESSION_COOKIE, stolen)
    assert "Logged in" not in (await web.get("/sources")).text
    replay = await web.post(
        "/sources/add", data={"url": "https://a.example/feed", "csrf_token": csrf_of(page.text)}
    )
    assert replay.status_code == 401


async def test_an_expired_session_is_refused(web: httpx.AsyncClient, store: Store) -> None:
    await log_in(web)
    page = await web.get("/sources")
    with store.engine.begin() as conn:
        conn.execute(update(sessions).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    response = await web.post(
        "/sources/add", data={"url": "https://a.example/feed", "csrf_token": csrf_of(page.text)}
    )
    assert response.status_code == 401
    assert store.source_by_url("https://a.example/feed") is None


async def test_a_forged_session_cookie_is_nobody(web: httpx.AsyncClient) -> None:
    for forged in ("x", "0" * 43, "a" * 5000, hash_token("x")):
        web.cookies.set(SESSION_COOKIE, forged)
        assert "Logged in" not in (await web.get("/sources")).text
        assert (await web.get("/tokens")).status_code == 401


async def test_removing_a_user_ends_their_sessions(web: httpx.AsyncClient, store: Store) -> None:
    await log_in(web)
    page = await web.get("/sources")
    assert store.users.remove_user("alice")
    response = await web.post(
        "/sources/add", data={"url": "https://a.example/feed", "csrf_token": csrf_of(page.text)}
    )
    assert response.status_code == 401


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "javascript:x",
        "/\t/evil.example",
        "/\n/evil.example",
        " //evil.example",
        "",
    ],  # fmt: skip
)
async def test_login_never_redirects_off_site(web: httpx.AsyncClient, target: str) -> None:
    response = await log_in(web, next=target)
    assert response.status_code == 303
    assert response.headers["location"] == "/sources"


async def test_login_goes_on_to_a_local_next(web: httpx.AsyncClient) -> None:
    response = await log_in(web, next="/tokens")
    assert response.headers["location"] == "/tokens"
    assert (await web.get("/login?next=/tokens")).headers["location"] == "/tokens"
