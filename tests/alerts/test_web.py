"""Alerts on the web: the owner's pages with CSRF forms, the token API, unsubscribing by link."""

from __future__ import annotations

import re

import httpx
import pytest

from primenews.alerts.digest import unsubscribe_token
from primenews.alerts.model import AlertRule, Frequency
from primenews.auth import PasswordHasher
from primenews.auth.accounts import create_api_token, create_user
from primenews.store import Store
from primenews.store.alerts import AlertFields
from primenews.store.users import User

from .conftest import NOW, MakeArticle
from factories import name_person

pytestmark = pytest.mark.anyio
PASSWORD = "correct horse battery"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = CSRF_FIELD.search(html)
    assert match, "the page has a form with a CSRF token"
    return match.group(1)


async def log_in(client: httpx.AsyncClient, name: str = "alice") -> None:
    form = await client.get("/login")
    data = {"name": name, "password": PASSWORD, "csrf_token": csrf_of(form.text)}
    assert (await client.post("/login", data=data)).status_code == 303


async def test_alert_pages_need_a_login(web: httpx.AsyncClient) -> None:
    for path in ("/alerts", "/alerts/new", "/alerts/1"):
        assert (await web.get(path)).status_code == 401, path


async def test_owner_creates_edits_and_deletes_an_alert(
    web: httpx.AsyncClient, store: Store, owner: User, make_article: MakeArticle
) -> None:
    entity_id = name_person(store, make_article(), "Ana Ruiz")
    await log_in(web)
    form = await web.get(f"/alerts/new?entities={entity_id}&name=Ruiz")
    assert form.status_code == 200 and form.headers["cache-control"] == "no-store"
    assert f'value="{entity_id}"' in form.text and "Ana Ruiz" in form.text
    csrf = csrf_of(form.text)
    data = {"csrf_token": csrf, "name": "Ruiz", "entities": str(entity_id), "q": "",
            "frequency": "hourly", "email": "ana@example.org", "section": "", "source": "",
            "since": "", "webhook_url": ""}  # fmt: skip
    created = await web.post("/alerts", data=data)
    assert created.status_code == 303
    [alert] = store.alerts.list_alerts(owner.id)
    assert created.headers["location"].endswith(f"/alerts/{alert.id}")
    assert (alert.rule.entity_ids, alert.frequency) == ((entity_id,), Frequency.HOURLY)
    page = await web.get(f"/alerts/{alert.id}")
    assert "Delivery log" in page.text and "Nothing delivered yet" in page.text
    listing = await web.get("/alerts")
    assert f'href="/alerts/{alert.id}"' in listing.text
    edited = await web.post(f"/alerts/{alert.id}", data={**data, "q": "election"})
    assert edited.status_code == 303
    changed = store.alerts.get(alert.id)
    assert changed is not None and changed.rule.query == "election"
    deleted = await web.post(f"/alerts/{alert.id}/delete", data={"csrf_token": csrf})
    assert deleted.status_code == 303 and store.alerts.list_alerts() == []


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"q": "-only -excluded"}, "has no word to look for"),
        ({"q": "", "entities": ""}, "needs words to search for, or entities"),
        ({"entities": "999999"}, "There is no entity 999999"),
        ({"webhook_url": "http://10.0.0.1/hook"}, "webhook URL is refused"),
        ({"email": "x@y.example\r\nBcc: z@w.example"}, "is not an e-mail address"),
        ({"since": "last week"}, "is not a date"),
    ],
)
async def test_bad_form_input_comes_back_explained(
    web: httpx.AsyncClient, store: Store, owner: User, fields: dict[str, str], problem: str
) -> None:
    await log_in(web)
    csrf = csrf_of((await web.get("/alerts/new?q=storm")).text)
    data = {"csrf_token": csrf, "q": "storm", "email": "ana@example.org", **fields}
    response = await web.post("/alerts", data=data)
    assert response.status_code == 422
    assert "The alert was not saved" in response.text
    assert problem.replace("'", "&#39;") in response.text or problem in response.text
    assert store.alerts.list_alerts() == []


async def test_another_users_alert_is_not_there(
    web: httpx.AsyncClient, store: Store, owner: User, quick_hasher: PasswordHasher
) -> None:
    bob = create_user(store, quick_hasher, "bob", PASSWORD, NOW)
    theirs = store.alerts.create(bob.id, AlertFields("b", AlertRule("x"), Frequency.DAILY,
                                                     email="b@example.org"), NOW)  # fmt: skip
    await log_in(web)
    csrf = csrf_of((await web.get("/alerts")).text)
    assert (await web.get(f"/alerts/{theirs.id}")).status_code == 404
    gone = await web.post(f"/alerts/{theirs.id}/delete", data={"csrf_token": csrf})
    assert gone.status_code == 404 and store.alerts.get(theirs.id) is not None


async def test_unsubscribe_link_works_without_login_after_confirming(
    web: httpx.AsyncClient, store: Store, owner: User
) -> None:
    alert = store.alerts.create(owner.id, AlertFields("Storms", AlertRule("storm"),
                                Frequency.DAILY, email="ana@example.org"), NOW)  # fmt: skip
    token = unsubscribe_token(alert)
    page = await web.get(f"/alerts/unsubscribe/{token}")
    assert page.status_code == 200 and "Stop the e-mails" in page.text
    still = store.alerts.get(alert.id)
    assert still is not None and still.email_enabled, "a GET (a link scanner) changes nothing"
    done = await web.post(f"/alerts/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "sends no more e-mail" in done.text
    after = store.alerts.get(alert.id)
    assert after is not None and not after.email_enabled
    for forged in (f"{alert.id}.{'0' * 32}", "abc", f"{alert.id + 1}.{token.split('.')[1]}"):
        assert (await web.post(f"/alerts/unsubscribe/{forged}")).status_code == 404


async def test_api_creates_lists_updates_and_deletes(
    web: httpx.AsyncClient, store: Store, owner: User
) -> None:
    _, token = create_api_token(store, owner, "tests", NOW)
    auth = {"Authorization": f"Bearer {token}"}
    body = {"name": "Storms", "query": "storm", "frequency": "immediate",
            "email": "ana@example.org", "section": "world"}  # fmt: skip
    assert (await web.post("/api/v1/alerts", json=body)).status_code == 401
    assert (await web.get("/api/v1/alerts")).status_code == 401
    created = await web.post("/api/v1/alerts", json=body, headers=auth)
    assert created.status_code == 201, created.text
    alert = created.json()
    assert (alert["query"], alert["section"], alert["owed"]) == ("storm", "world", {"email": 0})
    assert len(alert["webhook_secret"]) >= 32
    listed = (await web.get("/api/v1/alerts", headers=auth)).json()
    assert [a["id"] for a in listed["alerts"]] == [alert["id"]]
    bad = await web.post("/api/v1/alerts", json={**body, "query": '"" -x'}, headers=auth)
    assert bad.status_code == 422 and bad.json()["ok"] is False
    assert "no word to look for" in bad.json()["error"]
    updated = await web.put(f"/api/v1/alerts/{alert['id']}", json={**body, "frequency": "daily"},
                            headers=auth)  # fmt: skip
    assert updated.status_code == 200 and updated.json()["frequency"] == "daily"
    log = await web.get(f"/api/v1/alerts/{alert['id']}/deliveries", headers=auth)
    assert log.json() == {"deliveries": []}
    assert (await web.delete(f"/api/v1/alerts/{alert['id']}", headers=auth)).status_code == 204
    assert (await web.get(f"/api/v1/alerts/{alert['id']}", headers=auth)).status_code == 404


async def test_search_and_entity_pages_offer_an_alert(
    web: httpx.AsyncClient, store: Store, make_article: MakeArticle
) -> None:
    entity_id = name_person(store, make_article(), "Ana Ruiz")
    entity_page = await web.get(f"/entity/{entity_id}")
    assert f'href="/alerts/new?entities={entity_id}&amp;name=Ana+Ruiz"' in entity_page.text
    if store.backend == "sqlite":
        search = await web.get("/search?q=storm&section=world")
        assert 'href="/alerts/new?q=storm&amp;section=world' in search.text
