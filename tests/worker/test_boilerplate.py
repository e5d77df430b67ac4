"""Site boilerplate learnt from a site's own pages and removed from its articles only."""

from __future__ import annotations

import asyncio
import gzip
import json
from datetime import UTC, datetime
from html import escape

from primenews import service
from primenews.domain import Article, Page
from primenews.extract.boilerplate import paragraph_key, strip_boilerplate
from primenews.store import Store
from primenews.worker.boilerplate import BoilerplateFilter
from primenews.worker.local import ExtractPool

from shared_data import SEED_DIR, SHARED_DATA, require_shared

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
BOX = "Sign up for our Morning Briefing newsletter: the day's five biggest stories, every weekday."
TRUST = "Why you can trust Example News: our reporters follow a strict code of editorial standards."


def _bbc(count: int) -> list[dict[str, str]]:
    path = require_shared(SHARED_DATA / "bbc_news" / "bbc_fulltext.jsonl.gz")
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        return [json.loads(line) for _, line in zip(range(count), lines, strict=False)]


def _page(site: str, n: int, item: dict[str, str], *, box: bool) -> Page:
    """A news page whose article container holds the body and, if ``box``, a newsletter box."""
    paragraphs = [p for p in item["text"].split("\n\n")[1:] if p.strip()]
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs[:6])
    if box:
        middle = len(paragraphs[:6]) // 2
        boxed = "".join(f"<p>{escape(p)}</p>" for p in paragraphs[:middle])
        body = f"{boxed}<div class='promo'><p>{BOX}</p></div>" + body[len(boxed) :]
        body += f"<p>{TRUST}</p>"
    url = f"https://{site}/news/{n}-{item['id'].replace('/', '-')}"
    html = (
        f"<html><head><title>{escape(item['title'])}</title>"
        f"<link rel='canonical' href='{url}'></head><body><main><article>"
        f"<h1>{escape(item['title'])}</h1>{body}</article></main></body></html>"
    )
    return Page(url=url, final_url=url, status=200, content=html.encode(), fetched_at=NOW,
                headers={"content-type": "text/html; charset=utf-8"})  # fmt: skip


def test_strip_keeps_unknown_paragraphs_and_never_empties_an_article() -> None:
    real = "Quarterly profits at the media group jumped 76% to $1.13bn in the three months."
    article = Article(url="https://a.test/x", title="T", text=f"{real}\n{BOX}\n{real} Again.",
                      html=f"<p>{real}</p><div><p>{BOX}</p></div><p>{real} Again.</p>")  # fmt: skip
    key = paragraph_key(BOX)
    assert key is not None
    stripped = strip_boilerplate(article, {key})
    assert stripped.text == f"{real}\n{real} Again." and BOX not in stripped.html
    assert stripped.html == f"<p>{real}</p><p>{real} Again.</p>"  # the box div went too
    assert strip_boilerplate(article, set()) is article
    only_box = Article(url="https://a.test/y", title="T", text=BOX)
    assert strip_boilerplate(only_box, {key}) is only_box  # would leave nothing: kept


def test_ingest_learns_a_sites_newsletter_box_and_removes_it_from_that_site_only(
    store: Store,
) -> None:
    items = _bbc(9)
    pages = [_page("news.example", n, item, box=True) for n, item in enumerate(items[:6])]
    pages += [_page("other.example", n, item, box=True) for n, item in enumerate(items[6:8])]
    pages.append(_page("news.example", 99, items[8], box=False))
    extractor = ExtractPool(0)
    try:
        report = asyncio.run(
            service.ingest_pages(store, pages, extractor, boilerplate=BoilerplateFilter(store))
        )
    finally:
        extractor.close()
    assert report.new == 9
    articles, _ = store.list_articles(limit=20)
    by_site: dict[str, list[str]] = {}
    for stored in articles:
        site = stored.article.url.split("/")[2]
        by_site.setdefault(site, []).append(stored.article.text)
    assert len(by_site["news.example"]) == 7
    # Six pages of news.example carried the box: it is the site's, gone from every article,
    # the ones stored before it was learnt included.
    assert all(BOX not in text and TRUST not in text for text in by_site["news.example"])
    # other.example carried it twice only: nothing learnt there, nothing removed.
    assert all(BOX in text for text in by_site["other.example"])
    # Every paragraph unique to an article stays.
    for stored in articles:
        first_paragraph = [p for p in items_text(items, stored.article.title)[1:] if p][0]
        assert first_paragraph in stored.article.text


def items_text(items: list[dict[str, str]], title: str) -> list[str]:
    return next(item["text"].split("\n\n") for item in items if item["title"] == title)


def test_the_seed_page_keeps_every_paragraph_once_its_sites_template_is_known(
    store: Store,
) -> None:
    """Ten pages of the seed's site share its template and a box inside the article;
    ingested before the seed, they teach the box, and the seed keeps all its own text."""
    seed = require_shared(SEED_DIR / "page.html").read_text(encoding="utf-8")
    expected = json.loads((SEED_DIR / "expected.json").read_text(encoding="utf-8"))
    start, end = seed.index("<article>") + len("<article>"), seed.index("</article>")
    box = f"<p>{BOX}</p>"  # a plain paragraph mid-article: no class or position gives it away

    def page(url: str, body: str) -> Page:
        middle = body.index("<p>", body.index("<p>", body.index("<p>") + 1) + 1)
        html = seed[:start] + body[:middle] + box + body[middle:] + seed[end:]
        html = html.replace(
            "https://primenews.example/world/venezuela-frees-103-detained-after-election", url
        )
        return Page(url=url, final_url=url, status=200, content=html.encode(), fetched_at=NOW,
                    headers={"content-type": "text/html; charset=utf-8"})  # fmt: skip

    siblings = []
    for n, item in enumerate(_bbc(10)):
        paragraphs = [p for p in item["text"].split("\n\n")[1:] if p.strip()][:6]
        body = f"<h1>{escape(item['title'])}</h1>" + "".join(
            f"<p>{escape(p)}</p>" for p in paragraphs
        )
        siblings.append(page(f"https://primenews.example/business/story-{n}", body))
    seed_url = "https://primenews.example/world/venezuela-frees-103-detained-after-election"
    pages = [*siblings, page(seed_url, seed[start:end])]
    extractor = ExtractPool(0)
    try:
        asyncio.run(
            service.ingest_pages(store, pages, extractor, boilerplate=BoilerplateFilter(store))
        )
    finally:
        extractor.close()
    articles, _ = store.list_articles(limit=20)
    assert len(articles) == 11
    for stored in articles:
        assert BOX not in stored.article.text  # learnt from the site's pages, removed everywhere
    with store.engine.connect() as conn:  # the extractor kept it: the first page was stored with it
        [(first,)] = conn.exec_driver_sql(
            "SELECT text FROM article_revisions ORDER BY article_id LIMIT 1"
        ).all()
    assert BOX in first
    [stored_seed] = [a for a in articles if a.article.url == seed_url]
    for snippet in expected["text_must_contain"]:
        assert snippet in stored_seed.article.text
    for snippet in expected["text_must_not_contain"]:
        assert snippet not in stored_seed.article.text
