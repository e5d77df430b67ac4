"""Stories on the API and the pages: lists, ranking, one story, copies shown once."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import feedparser
import httpx
import pytest

from primenews.domain import Source
from primenews.insights.model import Entity, EntityKind, Figure, Insights, Mention, Place, Quote
from primenews.store import Store
from primenews.stories.rank import StoryMember, activity_of
from primenews.worker.desk import StoryDesk

from .conftest import VENEZUELA, VENEZUELA_2, MakeArticle, MakeSource

pytestmark = pytest.mark.anyio

NOW = datetime.now(UTC).replace(microsecond=0)

TESLA = (
    "Tesla reported quarterly revenue of $25.2 billion, beating analyst forecasts, as "
    "deliveries of its cheaper Model Y rose in China and Europe; shares climbed 9 percent in "
    "after-hours trading in New York on the electric carmaker's earnings call."
)
HOSTILE = '<script>alert("x")</script> Tesla <img src=x onerror=alert(1)> earnings'


def _stories(store: Store, make_source: MakeSource, make_article: MakeArticle) -> dict[str, int]:
    """Two events: Venezuela (3 outlets, one a wire copy) and Tesla; returns article ids."""
    wire = make_source("https://wire.test/feed.xml", "Wire Service")
    paper = make_source("https://paper.test/feed.xml", "Daily Paper")
    other = make_source("https://other.test/feed.xml", "Other Times")

    def article(source: Source, key: str, title: str, text: str, minutes: int, **kw: object) -> int:
        return make_article(
            source, url=f"https://{key}.test/a", title=title, text=text, site_name=source.title,
            published=NOW - timedelta(minutes=minutes), fetched_at=NOW, **kw,
        )  # fmt: skip

    world = {"world": 0.9, "politics": 0.8}
    ids = {
        "first": article(wire, "wire", "Venezuela frees 103 detainees", VENEZUELA, 90,
                         sections=world),
        "copy": article(paper, "paper", "Venezuela frees 103 detainees", VENEZUELA, 60,
                        sections=world),
        "follow": article(other, "other", "Venezuela releases 103 prisoners held since election",
                          VENEZUELA_2, 30, sections=world),
        "tesla": article(other, "tesla", HOSTILE, TESLA, 10, sections={"business": 0.9}),
    }  # fmt: skip
    desk = StoryDesk(store, clock=lambda: NOW)
    for article_id in ids.values():  # in first-seen order, as the poller would
        desk.record([article_id])
    desk.merge_pass()
    return ids


async def test_stories_api_lists_and_details_a_story(
    client: httpx.AsyncClient, store: Store, make_source: MakeSource, make_article: MakeArticle
) -> None:
    ids = _stories(store, make_source, make_article)
    listing = (await client.get("/api/v1/stories")).json()
    assert [s["article_count"] for s in listing["stories"]] == [1, 3]  # newest article first
    tesla, venezuela = listing["stories"]
    assert venezuela["outlet_count"] == 3 and venezuela["first_article_id"] == ids["first"]
    assert set(venezuela["sections"]) == {"world", "politics"}
    assert tesla["sections"] == ["business"]

    detail = (await client.get(venezuela["links"]["self"])).json()
    assert detail["headline"].startswith("Venezuela")
    members = [m["article_id"] for m in detail["members"]]
    assert members == [ids["first"], ids["copy"], ids["follow"]]
    assert detail["first_report"]["outlet"] == "Wire Service"
    outlets = [o["outlet"] for o in detail["outlets"]]
    assert outlets == ["Wire Service", "Daily Paper", "Other Times"]
    assert detail["duplicates"] == [
        {"article_id": ids["copy"], "original_id": ids["first"], "outlet": "Daily Paper",
         "kind": "exact", "similarity": 1.0}
    ]  # fmt: skip
    assert sum(bucket["articles"] for bucket in detail["timeline"]) == 3
    by_outlet: dict[str, int] = {}
    for bucket in detail["timeline"]:
        for outlet, count in bucket["by_outlet"].items():
            by_outlet[outlet] = by_outlet.get(outlet, 0) + count
    assert by_outlet == {"Wire Service": 1, "Daily Paper": 1, "Other Times": 1}
    assert detail["members"][0]["started"] and detail["members"][2]["evidence"]["text"] > 0

    article = (await client.get(f"/api/v1/articles/{ids['copy']}")).json()
    assert (article["story_id"], article["duplicate_of"]) == (venezuela["id"], ids["first"])


async def test_stories_api_filters_pages_and_ranks(
    client: httpx.AsyncClient, store: Store, make_source: MakeSource, make_article: MakeArticle
) -> None:
    _stories(store, make_source, make_article)
    business = (await client.get("/api/v1/stories", params={"section": "business"})).json()
    assert [s["article_count"] for s in business["stories"]] == [1]
    first = (await client.get("/api/v1/stories", params={"limit": 1})).json()
    second = (
        await client.get("/api/v1/stories", params={"limit": 1, "cursor": first["next_cursor"]})
    ).json()
    assert [s["article_count"] for s in first["stories"] + second["stories"]] == [1, 3]
    assert second["next_cursor"] is None

    ranked = (await client.get("/api/v1/stories", params={"order": "rank"})).json()
    scores = [s["score"] for s in ranked["stories"]]
    assert scores == sorted(scores, reverse=True) and len(scores) == 2
    assert ranked["stories"][0]["outlet_count"] == 3  # three outlets outrank one
    bad = await client.get("/api/v1/stories", params={"order": "rank", "cursor": "abc"})
    assert bad.status_code == 400
    assert (await client.get("/api/v1/stories", params={"section": "nonsense"})).status_code == 422
    assert (await client.get("/api/v1/stories/999999")).status_code == 404


async def test_a_merged_story_redirects_to_the_survivor(
    client: httpx.AsyncClient, store: Store, make_source: MakeSource, make_article: MakeArticle
) -> None:
    _stories(store, make_source, make_article)
    stories, _ = store.list_stories()
    survivor, absorbed = stories[1].id, stories[0].id
    with store.engine.begin() as conn:
        from primenews.store.stories import merge_stories

        merge_stories(conn, absorbed, survivor, NOW)
    response = await client.get(f"/api/v1/stories/{absorbed}")
    assert response.status_code == 308
    assert response.headers["location"].endswith(f"/api/v1/stories/{survivor}")
    page = await client.get(f"/story/{absorbed}")
    assert page.status_code == 308 and page.headers["location"].endswith(f"/story/{survivor}")


async def test_story_page_shows_coverage_by_outlet_with_copies_once(
    client: httpx.AsyncClient, store: Store, make_source: MakeSource, make_article: MakeArticle
) -> None:
    ids = _stories(store, make_source, make_article)
    story_id = store.get_article(ids["first"]).story_id  # type: ignore[union-attr]
    page = await client.get(f"/story/{story_id}")
    assert page.status_code == 200
    html = page.text
    assert "First reported" in html and "by Wire Service" in html
    assert "3 articles from 3 outlets" in html
    assert f'Also carried by <a href="/article/{ids["copy"]}">Daily Paper</a>' in html
    assert "<h3>Daily Paper</h3>" not in html  # the copy is not listed on its own
    assert "<h3>Other Times</h3>" in html
    # The inline chart carries no script; the page's only one is static/live.js.
    only_ours = re.sub(r'<script src="/static/live\.[0-9a-f]{12}\.js" defer></script>', "", html)
    assert '<svg class="chart timeline"' in html and "<script" not in only_ours
    assert '<span class="swatch o0" aria-hidden="true"></span>Wire Service' in html  # legend
    assert "UTC · Daily Paper: 1 article" in html  # a segment's tooltip


async def test_front_page_ranks_stories_and_escapes_headlines(
    client: httpx.AsyncClient, store: Store, make_source: MakeSource, make_article: MakeArticle
) -> None:
    ids = _stories(store, make_source, make_article)
    html = (await client.get("/")).text
    venezuela = store.get_article(ids["first"]).story_id  # type: ignore[union-attr]
    tesla = store.get_article(ids["tesla"]).story_id  # type: ignore[union-attr]
    assert html.index(f'href="/story/{venezuela}"') < html.index(f'href="/story/{tesla}"')
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html
    # The latest list shows the wire text once: the copy is left out.
    assert f'href="/article/{ids["copy"]}"' not in html
    section = (await client.get("/business")).text
    assert f'href="/story/{tesla}"' in section and f'href="/story/{venezuela}"' not in section
    story = (await client.get(f"/story/{tesla}")).text
    assert "<script>alert" not in story and "&lt;script&gt;" in story


async def test_story_feeds_round_trip_and_are_announced(
    client: httpx.AsyncClient, store: Store, make_source: MakeSource, make_article: MakeArticle
) -> None:
    ids = _stories(store, make_source, make_article)
    venezuela = store.get_article(ids["first"]).story_id  # type: ignore[union-attr]
    top = feedparser.parse((await client.get("/feeds/stories.atom")).content)
    assert not top.bozo
    assert top.entries[0].link.endswith(f"/story/{venezuela}")
    assert top.entries[0].summary == "3 articles from 3 outlets."
    story = feedparser.parse((await client.get(f"/feeds/story/{venezuela}.rss")).content)
    assert not story.bozo
    # Newest first, the wire copy shown once (its original is there).
    assert [e.link.rsplit("/", 1)[1] for e in story.entries] == [
        str(ids["follow"]),
        str(ids["first"]),
    ]
    page = (await client.get(f"/story/{venezuela}")).text
    assert f"/feeds/story/{venezuela}.atom" in page
    assert "/feeds/stories.atom" in (await client.get("/")).text
    assert (await client.get("/feeds/story/999999.json")).status_code == 404


def _figure(value: float, text: str) -> Figure:
    return Figure(value=value, text=text, sentence=f"Authorities freed {text} people.", start=0,
                  end=3, noun="people", counts="people freed")  # fmt: skip


async def test_story_insights_compare_figures_and_show_quotes(
    client: httpx.AsyncClient, store: Store, make_source: MakeSource, make_article: MakeArticle
) -> None:
    ids = _stories(store, make_source, make_article)
    maduro = Entity(key="person:nicolas maduro", name="Nicolás Maduro", kind=EntityKind.PERSON,
                    mentions=(Mention("Maduro", 0, 6, "PERSON"),))  # fmt: skip
    said = Quote(text="We will release everyone held <b>unjustly</b>", start=0, end=10,
                 speaker="Nicolás Maduro", cue="said")  # fmt: skip
    for key, figure in (("first", _figure(103, "103")), ("follow", _figure(107, "107"))):
        insights = Insights(url="", language="en", entities=(maduro,), figures=(figure,),
                            quotes=(said,))  # fmt: skip
        assert store.save_insights(ids[key], 1, insights, NOW)
    story_id = store.get_article(ids["first"]).story_id  # type: ignore[union-attr]
    detail = (await client.get(f"/api/v1/stories/{story_id}")).json()
    [check] = detail["figures"]
    assert (check["what"], check["value"]) == ("people freed", 103)
    assert [(v["text"], v["kind"], v["outlets"]) for v in check["variants"]] == [
        ("103", "agrees", ["Wire Service"]),
        ("107", "differs", ["Other Times"]),
    ]
    [quote] = detail["quotes"]
    assert quote["speaker"] == "Nicolás Maduro"
    assert quote["outlets"] == ["Wire Service", "Other Times"]
    assert [(e["name"], e["articles"]) for e in detail["entities"]] == [("Nicolás Maduro", 2)]
    html = (await client.get(f"/story/{story_id}")).text
    assert "Key figures across outlets" in html and "<em>differs</em>" in html
    assert '<svg class="chart agreement"' in html
    assert "&lt;b&gt;unjustly&lt;/b&gt;" in html and "<b>unjustly" not in html


async def test_front_page_maps_where_the_stories_happen(
    client: httpx.AsyncClient, store: Store, make_source: MakeSource, make_article: MakeArticle
) -> None:
    ids = _stories(store, make_source, make_article)
    caracas = Entity(key="place:caracas", name="Caracas", kind=EntityKind.PLACE,
                     mentions=(Mention("Caracas", 0, 7, "GPE"),),
                     place=Place(name="Caracas", feature="city", country_code="VE",
                                 country="Venezuela", latitude=10.5, longitude=-66.9))  # fmt: skip
    insights = Insights(url="", language="en", entities=(caracas,))
    assert store.save_insights(ids["first"], 1, insights, NOW)
    html = (await client.get("/")).text
    assert '<svg class="chart worldmap"' in html
    assert "Venezuela: 1 story" in html  # the tooltip of the shaded country
    assert 'aria-label="Stories of the last 24 hours by country: Venezuela 1"' in html


async def test_entity_page_and_api_list_the_stories_that_name_it(
    client: httpx.AsyncClient, store: Store, make_source: MakeSource, make_article: MakeArticle
) -> None:
    ids = _stories(store, make_source, make_article)
    maduro = Entity(key="person:nicolas maduro", name="Nicolás Maduro", kind=EntityKind.PERSON,
                    mentions=(Mention("Maduro", 0, 6, "PERSON"),))  # fmt: skip
    assert store.save_insights(ids["follow"], 1, Insights(url="", language="en",
                                                           entities=(maduro,)), NOW)  # fmt: skip
    story_id = store.get_article(ids["follow"]).story_id  # type: ignore[union-attr]
    [entity] = (await client.get("/api/v1/entities")).json()["entities"]
    detail = (await client.get(f"/api/v1/entities/{entity['id']}")).json()
    assert [s["id"] for s in detail["recent_stories"]] == [story_id]
    page = (await client.get(f"/entity/{entity['id']}")).text
    assert "Recent stories" in page and f'href="/story/{story_id}"' in page


def test_ranking_activity_is_counted_in_the_store_as_from_the_members(
    store: Store, make_source: MakeSource, make_article: MakeArticle
) -> None:
    ids = _stories(store, make_source, make_article)
    # A feed of many sites with no site names of their own: each host is an outlet.
    aggregator = make_source("https://news.example/feed.xml", "Aggregator")
    for host, minutes in (("one", 20), ("two", 5), ("two", 300)):
        make_article(
            aggregator, url=f"https://{host}.test/{minutes}", title="Tesla beats forecasts",
            text=TESLA, site_name="", published=NOW - timedelta(minutes=minutes),
            fetched_at=NOW,
        )  # fmt: skip
    desk = StoryDesk(store, clock=lambda: NOW)
    desk.start()
    desk.record(range(ids["tesla"] + 1, ids["tesla"] + 4))
    counted = store.ranking_activity(NOW - timedelta(hours=48), NOW, 3.0)
    assert len(counted) == 2
    for story_id, activity in counted.items():
        members = [
            StoryMember(a.title, a.outlet, a.published) for a in store.story_articles(story_id)
        ]
        assert activity == activity_of(members, NOW), story_id
    tesla = counted[store.get_article(ids["tesla"]).story_id]  # type: ignore[union-attr]
    assert (tesla.outlets, tesla.recent) == (3, 3)  # Other Times, one.test, two.test
