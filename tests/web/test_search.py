"""Search over HTTP: GET /api/v1/search and the /search page, hostile input included."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import httpx
import pytest

from primenews.domain import Source

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)  # the fixtures' clock (conftest.py)
MakeSource = Callable[..., Source]
MakeArticle = Callable[..., int]

HOSTILE = [
    "", '"', '"unbalanced phrase', "NEAR(", "NEAR(a b, 3)", "*", "-", "-only", "title:x",
    "text: source_title:", "a OR", "AND AND", "(((", "^x", "\x00", "'; DROP TABLE articles; --",
    "<script>alert(1)</script>", "😀", "x" * 10_000, "fire " * 2_000,
]  # fmt: skip


class Tags(HTMLParser):
    """The tags inside the search results list."""

    def __init__(self) -> None:
        super().__init__()
        self.inside = 0
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "ol" and ("class", "article-list search-results") in attrs:
            self.inside += 1
        elif self.inside:
            self.tags.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "ol" and self.inside:
            self.inside -= 1


async def test_search_api_shape_and_highlights(
    client: httpx.AsyncClient, make_source: MakeSource, make_article: MakeArticle
) -> None:
    source = make_source()
    found = make_article(source, title="Wildfire near the coast", text="The wildfire grew.")
    make_article(source, title="Other", text="Nothing to see.")
    response = await client.get("/api/v1/search", params={"q": "wildfire"})
    assert response.status_code == 200
    body = response.json()
    assert (body["query"], body["order"], body["next_cursor"]) == ("wildfire", "relevance", None)
    [hit] = body["hits"]
    assert hit["article"]["id"] == found
    assert hit["article"]["source"] == {"id": source.id, "title": "Example News"}
    assert hit["title_html"] == "<mark>Wildfire</mark> near the coast"
    assert hit["snippet_html"] == "The <mark>wildfire</mark> grew."
    assert isinstance(hit["score"], float)


async def test_search_api_filters_order_and_pages(
    client: httpx.AsyncClient, make_source: MakeSource, make_article: MakeArticle
) -> None:
    one = make_source()
    two = make_source(url="https://other.example/feed", title="Other")
    ids = [
        make_article(
            one if n % 2 else two,
            title=f"Flood {n}",
            text="Flood water.",
            sections={"world": 0.9} if n < 3 else {"science": 0.7},
        )  # fmt: skip
        for n in range(7)
    ]  # ids[0] is the newest (the fixture makes each article a minute older)

    async def ids_of(**params: str) -> list[int]:
        body = (await client.get("/api/v1/search", params={"q": "flood", **params})).json()
        return [hit["article"]["id"] for hit in body["hits"]]

    assert await ids_of(order="recent") == ids
    assert await ids_of(order="recent", source=str(two.id)) == ids[0::2]
    assert await ids_of(order="recent", section="world") == ids[:3]
    cutoff = (NOW - timedelta(minutes=4, seconds=30)).isoformat()
    assert await ids_of(order="recent", since=cutoff) == ids[:4]
    assert await ids_of(order="recent", until=cutoff) == ids[4:]
    seen, cursor = [], None
    while True:
        params = {"q": "flood", "limit": "3", **({"cursor": cursor} if cursor else {})}
        body = (await client.get("/api/v1/search", params=params)).json()
        seen.extend(hit["article"]["id"] for hit in body["hits"])
        if (cursor := body["next_cursor"]) is None:
            break
    assert sorted(seen) == sorted(ids)


@pytest.mark.parametrize("query", HOSTILE)
async def test_hostile_queries_never_fail(
    client: httpx.AsyncClient, make_article: MakeArticle, query: str
) -> None:
    make_article(title="Fire", text="A fire. xxxx")
    api = await client.get("/api/v1/search", params={"q": query})
    assert api.status_code == 200, api.text
    assert isinstance(api.json()["hits"], list)
    page = await client.get("/search", params={"q": query})
    assert page.status_code == 200
    assert "<script>alert" not in page.text


async def test_bad_parameters_answer_in_the_error_shape(client: httpx.AsyncClient) -> None:
    for params, status in (
        ({"q": "x", "cursor": "not-a-cursor"}, 400),
        ({"q": "x", "order": "random"}, 422),
        ({"q": "x", "section": "gossip"}, 422),
        ({"q": "x", "since": "yesterday"}, 422),
        ({"q": "x", "limit": "0"}, 422),
    ):
        response = await client.get("/api/v1/search", params=params)
        assert response.status_code == status, params
        assert response.json()["ok"] is False


async def test_search_page_form_and_safe_results(
    client: httpx.AsyncClient, make_source: MakeSource, make_article: MakeArticle
) -> None:
    source = make_source(title="Herald <i>")
    make_article(
        source,
        title="Storm <img src=x onerror=alert(1)> warning",
        text="The storm <script>alert(2)</script> is coming. " * 3,
    )
    response = await client.get("/search", params={"q": "storm", "source": str(source.id)})
    assert response.status_code == 200
    html = response.text
    for label in ("search-q", "search-section", "search-source", "search-since",
                  "search-until", "search-order"):  # fmt: skip
        assert f'<label for="{label}">' in html and f'id="{label}"' in html
    assert 'value="storm"' in html
    assert f'<option value="{source.id}" selected>Herald &lt;i&gt;</option>' in html
    scan = Tags()
    scan.feed(html)
    assert set(scan.tags) <= {"li", "article", "h3", "a", "p", "span", "time", "mark"}
    assert "mark" in scan.tags
    assert "<script>alert" not in html and "<img src=x" not in html


async def test_search_page_notes_bad_form_values_and_still_searches(
    client: httpx.AsyncClient, make_article: MakeArticle
) -> None:
    make_article(title="Harvest", text="Harvest season.")
    params = {"q": "harvest", "since": "last week", "section": "gossip", "source": "x",
              "cursor": "junk"}  # fmt: skip
    response = await client.get("/search", params=params)
    assert response.status_code == 200
    assert "is not a date like 2026-11-28" in response.text
    assert "There is no section" in response.text and "There is no source" in response.text
    assert "<mark>Harvest</mark>" in response.text


async def test_search_page_pages_and_says_when_nothing_matches(
    client: httpx.AsyncClient, make_article: MakeArticle
) -> None:
    for _ in range(25):
        make_article(title="Tide", text="Tide tables.")
    first = await client.get("/search", params={"q": "tide", "order": "recent"})
    assert first.text.count('<article class="item">') == 20
    [more] = re.findall(r'<a href="([^"]+)" rel="next">', first.text)
    second = await client.get(more.replace("&amp;", "&"))
    assert second.text.count('<article class="item">') == 5
    assert 'rel="next"' not in second.text
    empty = await client.get("/search", params={"q": "zebra"})
    assert "No articles match" in empty.text
    blank = await client.get("/search")
    assert blank.status_code == 200 and "Results" not in blank.text
