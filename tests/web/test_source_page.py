"""A source's record: its stories, first reports, rewrites, figure agreement and fetch health."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from primenews.domain import FetchOutcome, Source
from primenews.insights.model import Figure, Insights
from primenews.store import Store
from primenews.store.sources import PollState
from primenews.worker.desk import StoryDesk

from .conftest import VENEZUELA, VENEZUELA_2, MakeArticle, MakeSource

pytestmark = pytest.mark.anyio

NOW = datetime.now(UTC).replace(microsecond=0)


def _figure(value: float) -> Figure:
    return Figure(value=value, text=f"{value:g}", sentence=f"Authorities freed {value:g} people.",
                  start=0, end=3, noun="people", counts="people freed")  # fmt: skip


def _setup(
    store: Store, make_source: MakeSource, make_article: MakeArticle
) -> tuple[Source, Source, Source, dict[str, int]]:
    wire = make_source("https://wire.test/feed.xml", "Wire Service")
    other = make_source("https://other.test/feed.xml", "Other Times")
    quiet = make_source("https://quiet.test/feed.xml", "Quiet Gazette")

    def article(source: Source, key: str, title: str, text: str, minutes: int) -> int:
        return make_article(source, url=f"https://{key}.test/a", title=title, text=text,
                            site_name=source.title, published=NOW - timedelta(minutes=minutes),
                            fetched_at=NOW)  # fmt: skip

    ids = {
        "first": article(wire, "wire", "Venezuela frees 103 detainees", VENEZUELA, 90),
        "follow": article(other, "other", "Venezuela releases 103 prisoners held since election",
                          VENEZUELA_2, 30),
    }  # fmt: skip
    desk = StoryDesk(store, clock=lambda: NOW)
    for article_id in ids.values():
        desk.record([article_id])
    desk.merge_pass()
    for key, value in (("first", 103), ("follow", 107)):
        insights = Insights(url="", language="en", figures=(_figure(value),))
        assert store.save_insights(ids[key], 1, insights, NOW)
    assert wire.id is not None
    later = PollState(next_due=NOW + timedelta(minutes=30), poll_interval_minutes=30)
    store.record_fetch(FetchOutcome(wire.id, wire.url, NOW, status=200, new_items=1), later)
    failure = FetchOutcome(wire.id, wire.url, NOW, status=None, error="connect timeout")
    store.record_fetch(failure, later)
    return wire, other, quiet, ids


async def test_source_stats_give_counts_with_their_denominators(
    client: httpx.AsyncClient, store: Store, make_source: MakeSource, make_article: MakeArticle
) -> None:
    wire, other, quiet, ids = _setup(store, make_source, make_article)
    stats = (await client.get(f"/api/v1/sources/{wire.id}/stats")).json()
    assert stats["source"]["title"] == "Wire Service"
    assert stats["stories"] == 1
    assert stats["first_reports"] == {"count": 1, "total": 1, "rate": 1.0}
    assert stats["rewrites"] == {"count": 0, "total": 1, "rate": 0.0}
    # Two outlets, one figure each: neither is a majority, the lower exact value wins the tie.
    figures = stats["figures"]
    assert (figures["stories_read"], figures["stories_with_figures"]) == (1, 1)
    assert figures["agrees"]["total"] == 1
    assert stats["health"]["recent_failures"] == {"count": 1, "total": 2, "rate": 0.5}
    assert stats["feed_url"].endswith(f"/feeds/source/{wire.id}.atom")
    assert [s["first_article_id"] for s in stats["recent_stories"]] == [ids["first"]]

    follow = (await client.get(f"/api/v1/sources/{other.id}/stats")).json()
    assert follow["first_reports"] == {"count": 0, "total": 1, "rate": 0.0}
    assert follow["figures"]["agrees"]["total"] == 1
    mine = {stats["figures"]["agrees"]["count"], follow["figures"]["differs"]["count"]}
    assert mine == {1}  # the consensus value's outlet agrees, the other differs

    empty = (await client.get(f"/api/v1/sources/{quiet.id}/stats")).json()
    assert empty["first_reports"] == {"count": 0, "total": 0, "rate": None}
    assert empty["figures"]["agrees"] == {"count": 0, "total": 0, "rate": None}
    assert empty["health"]["recent_failures"]["rate"] is None

    articles = (await client.get(f"/api/v1/sources/{wire.id}/articles?limit=1")).json()
    assert [a["id"] for a in articles["articles"]] == [ids["first"]]
    assert (await client.get("/api/v1/sources/9999/stats")).status_code == 404
    bad = await client.get(f"/api/v1/sources/{wire.id}/articles?cursor=not-a-cursor")
    assert bad.status_code == 400


async def test_source_page_shows_its_record_and_is_linked(
    client: httpx.AsyncClient, store: Store, make_source: MakeSource, make_article: MakeArticle
) -> None:
    wire, _, quiet, ids = _setup(store, make_source, make_article)
    html = (await client.get(f"/source/{wire.id}")).text
    assert "<h1>Wire Service</h1>" in html
    assert "in 1 of 1 shared story (100%)" in html
    assert "1 of 2 recent fetches" in html and "connect timeout" in html
    assert f'href="/feeds/source/{wire.id}.atom"' in html
    assert f'href="/article/{ids["first"]}"' in html
    assert "Agrees with the consensus on" in html or "differ" in html
    quiet_html = (await client.get(f"/source/{quiet.id}")).text
    assert "No story shared with another outlet yet" in quiet_html
    assert "%" not in quiet_html.split("Its record in stories")[1].split("Fetch health")[0]
    assert (await client.get("/source/9999")).status_code == 404
    assert (await client.get("/source/99999999999999999999")).status_code == 404
    assert (await client.get(f"/source/{wire.id}?cursor=garbage")).status_code == 400
    sources = (await client.get("/sources")).text
    assert f'href="/source/{wire.id}"' in sources
    story_id = store.get_article(ids["first"]).story_id  # type: ignore[union-attr]
    assert "Recent stories" in html and f'href="/story/{story_id}"' in html
    story = (await client.get(f"/story/{story_id}")).text
    assert f'href="/source/{wire.id}"' in story
    article = (await client.get(f"/article/{ids['first']}")).text
    assert f'href="/source/{wire.id}"' in article
