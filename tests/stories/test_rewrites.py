"""Rewrites: an outlet retelling another's earlier report is found and the original credited."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx

from primenews.config import load_settings
from primenews.domain import Article
from primenews.store import Store
from primenews.stories.cluster import Assignment, Evidence, Merge
from primenews.stories.rewrites import RewriteCandidate, find_rewrite_source
from primenews.web.app import create_app
from primenews.worker.desk import StoryDesk

T0 = datetime(2005, 2, 10, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)

ORIGINAL = (
    "Quarterly profits at US media giant TimeWarner jumped 76% to $1.13bn for the three "
    "months to December, from $639m year-earlier. The firm, which is now one of the biggest "
    "investors in Google, benefited from sales of high-speed internet connections and higher "
    "advert sales. TimeWarner said fourth quarter sales rose 2% to $11.1bn from $10.9bn. Its "
    "profits were buoyed by one-off gains which offset a profit dip at Warner Bros, and less "
    "users for AOL. Time Warner said on Friday that it now owns 8% of search-engine Google."
)
# The same report retold: sentences reordered and trimmed, words swapped, a name misspelt.
REWRITE = (
    "Time Warner said on Friday that it now owned 8% of the search engine Google. Quarterly "
    "profits at US media giant Time Warnr jumped 76% to $1.13bn for the three months to "
    "December, up from $639m a year earlier. The company, now one of the biggest investors in "
    "Google, benefited from sales of high-speed internet connections and higher advertising "
    "sales. Fourth quarter sales rose 2% to $11.1bn from $10.9bn, TimeWarner said."
)
# Same event, own reporting: it quotes one shared fact and adds its own.
OWN_REPORTING = (
    "TimeWarner shares rose in early trading in New York after the results were published. "
    "Analysts at several brokers said the AOL unit remained the main worry for investors this "
    "year. The internet division lost 464,000 subscribers in the fourth quarter alone, the "
    "filing showed. Quarterly profits at US media giant TimeWarner jumped 76% to $1.13bn for "
    "the three months to December. Chairman Richard Parsons told analysts on a call that the "
    "film division had endured a difficult year at the box office."
)


def _candidate(article_id: int, outlet: str, hours: float, text: str) -> RewriteCandidate:
    return RewriteCandidate(article_id, outlet, T0 + timedelta(hours=hours), text)


def test_a_retold_report_credits_the_earliest_outlet() -> None:
    original = _candidate(1, "bbc", 0, ORIGINAL)
    relay = _candidate(2, "relay", 1, ORIGINAL)  # an intermediate copy of the same text
    match = find_rewrite_source(_candidate(3, "paper", 2, REWRITE), [relay, original])
    assert match is not None
    assert (match.original_id, match.outlet) == (1, "bbc")
    assert match.share >= 0.75


def test_own_reporting_same_outlet_or_later_articles_are_not_rewrites() -> None:
    original = _candidate(1, "bbc", 0, ORIGINAL)
    assert find_rewrite_source(_candidate(2, "wsj", 1, OWN_REPORTING), [original]) is None
    assert find_rewrite_source(_candidate(2, "bbc", 1, REWRITE), [original]) is None
    later = _candidate(1, "bbc", 5, ORIGINAL)
    assert find_rewrite_source(_candidate(2, "paper", 1, REWRITE), [later]) is None
    short = _candidate(2, "paper", 1, "TimeWarner profits jumped 76% to $1.13bn.")
    assert find_rewrite_source(short, [original]) is None


def test_the_desk_records_the_credit_on_the_story(store: Store) -> None:
    desk = StoryDesk(store, clock=lambda: T0 + DAY)
    desk.start()
    ids = []
    for n, (site, text) in enumerate(
        (("bbc.test", ORIGINAL), ("paper.test", REWRITE), ("wsj.test", OWN_REPORTING))
    ):
        article = Article(url=f"https://{site}/timewarner", title="TimeWarner profits jump 76%",
                          text=text, published=T0 + timedelta(hours=n))  # fmt: skip
        saved = store.save_article(article, source_id=None, raw_html=b"", fetched_at=T0 + DAY)
        ids.append(saved.article_id)
    desk.record(ids)
    story_id = store.get_article(ids[0]).story_id  # type: ignore[union-attr]
    members = {m.article_id: m for m in store.story_articles(story_id or 0)}
    assert set(members) == set(ids)
    assert [members[i].rewrite_of for i in ids] == [None, ids[0], None]

    async def page() -> str:
        app = create_app(load_settings(environ={}), store)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return (await client.get(f"/story/{story_id}")).text

    html = asyncio.run(page())
    assert f'rewritten from <a href="/article/{ids[0]}">bbc.test</a>' in html


def test_a_merge_checks_rewrites_between_the_two_stories(store: Store) -> None:
    """The rewrite sat in a story of its own; once merged into the original's, it is credited."""
    desk = StoryDesk(store, clock=lambda: T0 + DAY)
    desk.start()
    ids = []
    for n, (site, text) in enumerate((("bbc.test", ORIGINAL), ("paper.test", REWRITE))):
        article = Article(url=f"https://{site}/timewarner", title="TimeWarner profits jump 76%",
                          text=text, published=T0 + timedelta(hours=n))  # fmt: skip
        ids.append(store.save_article(article, source_id=None, raw_html=b"",
                                      fetched_at=T0 + DAY).article_id)  # fmt: skip
    desk.record([ids[0]])
    original_key = desk.tracker.index.resolve(str(ids[0]))
    assign = desk.tracker.index.assign
    # The stories stage opens a story of its own for the rewrite (as for a late, reworded copy).
    desk.tracker.index.assign = lambda doc: Assignment(  # type: ignore[method-assign]
        doc.id, "apart", True, 0.0, Evidence()
    )
    desk.record([ids[1]])
    desk.tracker.index.assign = assign  # type: ignore[method-assign]
    apart = store.get_article(ids[1]).story_id  # type: ignore[union-attr]
    story = store.get_article(ids[0]).story_id  # type: ignore[union-attr]
    assert apart != story
    assert {m.article_id: m.rewrite_of for m in store.story_articles(apart or 0)} == {ids[1]: None}

    desk.tracker.merge_pass = lambda: [Merge("apart", original_key, 0.9)]  # type: ignore[method-assign]
    desk.merge_pass()
    members = {m.article_id: m.rewrite_of for m in store.story_articles(story or 0)}
    assert members == {ids[0]: None, ids[1]: ids[0]}
