"""Insights on the web: the article API and page, the entities API and the entity page."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
import pytest

from primenews.insights.canonical import entity_key
from primenews.insights.model import (
    DateMention,
    Entity,
    EntityKind,
    Figure,
    Insights,
    Mention,
    Place,
    Qualifier,
    Quote,
)
from primenews.store import Store
from primenews.web.headers import CONTENT_SECURITY_POLICY
from primenews.web.sparkline import sparkline

from .conftest import NOW, MakeArticle

pytestmark = pytest.mark.anyio

HOSTILE = '<script>alert("x")</script>'
EVIL_NAME = 'Eve <img src=x onerror=alert(1)> "Quote"'
CARACAS = Place("Caracas", "city", "VE", "Venezuela", 10.49, -66.88, 3_000_000, 3646738)


def _entity(name: str, kind: EntityKind, count: int = 1, **extra: object) -> Entity:
    mentions = tuple(Mention(name, i * 10, i * 10 + 5, "PERSON") for i in range(count))
    return Entity(entity_key(kind, name), name, kind, mentions, **extra)  # type: ignore[arg-type]


def _insights(*entities: Entity, quotes: tuple[Quote, ...] = ()) -> Insights:
    return Insights(
        url="https://news.example/x",
        language="en",
        entities=entities,
        figures=(
            Figure(
                2000.0,
                "around 2,000",
                f"Around 2,000 people {HOSTILE} were arrested.",
                0,
                12,
                noun="people",
                counts="people arrested",
                qualifier=Qualifier.AROUND,
                attributed_to="government figures",
            ),
        ),  # fmt: skip
        quotes=quotes,
        dates=(
            DateMention("November 26", 0, 5, "2024-11-26", date(2024, 11, 26), "day", "vote", "S."),
            DateMention("in September", 0, 5, "2024-09", date(2024, 9, 1), "month", "exile", "S."),
        ),
        summary=("The first sentence.", f"A second one {HOSTILE}."),
    )


def _enriched(store: Store, make_article: MakeArticle) -> tuple[int, dict[str, int]]:
    """An article naming a hostile person, a place and an organisation, with a quote."""
    evil = _entity(EVIL_NAME, EntityKind.PERSON, 2)
    place = _entity("Caracas", EntityKind.PLACE, 1, place=CARACAS)
    oas = _entity("Organization of American States", EntityKind.ORGANIZATION, 1)
    quote = Quote(f"We will stay {HOSTILE}", 0, 10, EVIL_NAME, evil.key, cue="said")
    unnamed = Quote("all cases related to the protests", 0, 10, "", "", partial=True)
    article_id = make_article(title="Venezuela frees detainees")
    stored = store.get_article(article_id)
    assert stored is not None
    assert store.save_insights(
        article_id, stored.revision, _insights(evil, place, oas, quotes=(quote, unnamed)), NOW
    )
    saved = store.get_article_insights(article_id)
    assert saved is not None
    ids = {e.entity.name: e.entity.id for e in saved.entities}
    return article_id, ids


async def test_article_api_includes_insights(
    client: httpx.AsyncClient, store: Store, make_article: MakeArticle
) -> None:
    article_id, ids = _enriched(store, make_article)
    body = (await client.get(f"/api/v1/articles/{article_id}")).json()
    insights = body["insights"]
    assert insights["language"] == "en" and insights["error"] is None
    assert insights["summary"][0] == "The first sentence."
    assert [(e["name"], e["kind"], e["mentions"]) for e in insights["entities"]] == [
        (EVIL_NAME, "person", 2),
        ("Caracas", "place", 1),
        ("Organization of American States", "organization", 1),
    ]
    assert insights["entities"][1]["place"]["country_code"] == "VE"
    assert insights["entities"][0]["links"]["html"].endswith(f"/entity/{ids[EVIL_NAME]}")
    figure = insights["figures"][0]
    assert (figure["value"], figure["qualifier"], figure["counts"]) == (
        2000.0,
        "around",
        "people arrested",
    )
    assert figure["attribution"] == "government figures"
    assert insights["quotes"][0]["speaker_entity_id"] == ids[EVIL_NAME]
    assert insights["quotes"][1] == {
        "text": "all cases related to the protests",
        "speaker": "",
        "speaker_entity_id": None,
        "partial": True,
        "cue": "",
    }
    assert [d["resolved"] for d in insights["dates"]] == ["2024-09", "2024-11-26"]  # timeline


async def test_article_without_insights_says_null(
    client: httpx.AsyncClient, make_article: MakeArticle
) -> None:
    article_id = make_article()
    assert (await client.get(f"/api/v1/articles/{article_id}")).json()["insights"] is None


async def test_enrichment_error_shows_in_the_api(
    client: httpx.AsyncClient, store: Store, make_article: MakeArticle
) -> None:
    article_id = make_article()
    store.record_insights_error(article_id, 1, "RuntimeError: spaCy crashed", NOW)
    insights = (await client.get(f"/api/v1/articles/{article_id}")).json()["insights"]
    assert insights["error"] == "RuntimeError: spaCy crashed" and insights["entities"] == []
    page = await client.get(f"/article/{article_id}")
    assert page.status_code == 200 and "In this article" not in page.text


async def test_article_page_shows_insights_escaped(
    client: httpx.AsyncClient, store: Store, make_article: MakeArticle
) -> None:
    article_id, ids = _enriched(store, make_article)
    response = await client.get(f"/article/{article_id}")
    assert response.status_code == 200
    html = response.text
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "<script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert f'<a href="/entity/{ids[EVIL_NAME]}">Eve &lt;img src=x onerror=alert(1)&gt;' in html
    assert f'<a href="/entity/{ids["Caracas"]}">Caracas</a> <span class="muted">(Venezuela)' in html
    assert "Key figures" in html and "people arrested" in html
    assert "Speaker not named" in html and "(partial quote)" in html
    assert html.index("2024-09</time>") < html.index("2024-11-26</time>")
    assert "The first sentence." in html


async def test_entities_list_filters_and_pages(
    client: httpx.AsyncClient, store: Store, make_article: MakeArticle
) -> None:
    _enriched(store, make_article)
    body = (await client.get("/api/v1/entities")).json()
    assert [e["name"] for e in body["entities"]][0] == EVIL_NAME
    assert body["next_cursor"] is None
    places = (await client.get("/api/v1/entities", params={"kind": "place"})).json()
    assert [e["name"] for e in places["entities"]] == ["Caracas"]
    found = (await client.get("/api/v1/entities", params={"q": "amer"})).json()
    assert [e["name"] for e in found["entities"]] == ["Organization of American States"]
    first = (await client.get("/api/v1/entities", params={"limit": 2, "sort": "recent"})).json()
    params = {"limit": 2, "sort": "recent", "cursor": first["next_cursor"]}
    rest = (await client.get("/api/v1/entities", params=params)).json()
    assert len(first["entities"]) + len(rest["entities"]) == 3
    bad = await client.get("/api/v1/entities", params={"cursor": "nonsense"})
    assert bad.status_code == 400 and bad.json()["ok"] is False
    assert (await client.get("/api/v1/entities", params={"kind": "planet"})).status_code == 422


async def test_entity_detail_api_and_page(
    client: httpx.AsyncClient, store: Store, make_article: MakeArticle
) -> None:
    _, ids = _enriched(store, make_article)
    second = make_article(title=f"Second {HOSTILE}")
    assert store.save_insights(
        second, 1, _insights(_entity("Caracas", EntityKind.PLACE, 3, place=CARACAS)), NOW
    )
    caracas = ids["Caracas"]
    body = (await client.get(f"/api/v1/entities/{caracas}")).json()
    assert (body["name"], body["kind"], body["articles"], body["mentions"]) == (
        "Caracas",
        "place",
        2,
        4,
    )
    assert body["aliases"] == ["Caracas"]
    assert body["mentions_by_day"] == [
        {"day": (NOW - timedelta(minutes=1)).date().isoformat(), "mentions": 4}
    ]
    assert [a["title"] for a in body["recent_articles"]] == [
        "Venezuela frees detainees",
        f"Second {HOSTILE}",
    ]
    assert {r["name"] for r in body["related"]} == {EVIL_NAME, "Organization of American States"}

    page = await client.get(f"/entity/{caracas}")
    assert page.status_code == 200
    html = page.text
    assert "<svg" in html and "<polyline points=" in html and "<script" not in html
    assert "Second &lt;script&gt;" in html
    assert f'<a href="/entity/{ids[EVIL_NAME]}">Eve &lt;img' in html
    assert "(10.49, -66.88)" in html

    assert (await client.get("/api/v1/entities/999")).status_code == 404
    assert (await client.get("/entity/999")).status_code == 404


def test_sparkline_fills_missing_days_and_scales() -> None:
    day = date(2024, 11, 1)
    line = sparkline([(day, 2), (day + timedelta(days=2), 4)], width=100, height=20)
    assert line is not None
    assert line.points == "0.0,10.0 50.0,18.0 100.0,2.0"
    assert (line.peak, line.total, line.start, line.end) == (4, 6, day, day + timedelta(days=2))
    single = sparkline([(day, 1)], width=10, height=10)
    assert single is not None and single.points == "0.0,2.0 10.0,2.0"
    assert sparkline([]) is None
    long = sparkline([(day, 1), (day + timedelta(days=400), 1)])
    assert long is not None and (long.end - long.start).days == 59
