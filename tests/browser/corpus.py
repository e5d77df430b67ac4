"""Real news pages from ../shared, for the browser tests' seeded server.

Two ways in, as the product has them:

- a WARC of publishers' own HTML as crawled (Fundus' English test pages, a
  few of its German ones, and the seed article), each record with the page's
  real URL and crawl time, for ``primenews ingest``;
- an RSS feed listing Trafilatura's news pages, served with those pages by a
  loopback publisher, for ``primenews poll`` (so the sources page has a
  source that was really fetched).

The data sets are read by path; the WARC is written to a temporary folder and
never into the repository.
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from shared_data import SEED_DIR, SHARED_DATA

FUNDUS = SHARED_DATA / "fundus_articles"
TRAFILATURA = SHARED_DATA / "trafilatura_eval_news"
# Sizes keep seeding (extraction, stories, insights) near 30 s on two busy cores; every
# fifth English page spreads the choice over publishers and countries.
ENGLISH_STEP = 5
GERMAN_PAGES = 2  # pages in another language: the article page marks their words with lang
FEED_PAGES = 4


@dataclass(frozen=True, slots=True)
class SavedPage:
    """One page of a data set: where it came from, when, and its bytes."""

    url: str
    crawled: datetime
    html: bytes
    title: str = ""


def archive_pages() -> Iterator[SavedPage]:
    """The pages of the WARC, in a fixed order."""
    rows = [json.loads(line) for line in (FUNDUS / "index.jsonl").read_text().splitlines()]
    english = [r for r in rows if (r.get("html_lang") or "").startswith("en")][::ENGLISH_STEP]
    german = [r for r in rows if (r.get("html_lang") or "").startswith("de")][:GERMAN_PAGES]
    for row in english + german:
        yield SavedPage(
            url=row["url"],
            crawled=_utc(row["crawl_date"]),
            html=gzip.decompress((FUNDUS / row["html"]).read_bytes()),
        )
    seed = _seed_metadata()
    yield SavedPage(
        url=seed["canonical_url"],
        crawled=_utc(seed["published"]),
        html=(SEED_DIR / "page.html").read_bytes(),
    )


def seed_url() -> str:
    """The seed article's canonical URL."""
    return str(_seed_metadata()["canonical_url"])


def _seed_metadata() -> dict[str, Any]:
    return dict(json.loads((SEED_DIR / "expected.json").read_text())["metadata"])


def feed_pages() -> list[SavedPage]:
    """The pages the loopback feed lists, with their publication dates."""
    lines = (TRAFILATURA / "expected.jsonl").read_text().splitlines()[:FEED_PAGES]
    rows = [json.loads(line) for line in lines]
    return [
        SavedPage(
            url=row["url"],
            crawled=_utc(row["date"]),
            html=gzip.decompress((TRAFILATURA / row["html"]).read_bytes()),
            title=row["title"],
        )
        for row in rows
    ]


def rss_feed(base_url: str, pages: list[SavedPage]) -> bytes:
    """An RSS 2.0 feed whose items link to ``{base_url}/page/N`` for each page."""
    items = "".join(
        f"<item><title>{escape(page.title)}</title><link>{base_url}/page/{n}</link>"
        f"<guid>{escape(page.url)}</guid><pubDate>{format_datetime(page.crawled)}</pubDate></item>"
        for n, page in enumerate(pages)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Trafilatura news pages</title><link>{base_url}/</link>"
        f"<description>News pages of the Trafilatura benchmark</description>{items}"
        "</channel></rss>"
    ).encode()


def write_archive(path: Path) -> int:
    """Write every archive page as a WARC response record; returns how many."""
    count = 0
    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=True)
        for page in archive_pages():
            # No charset: each page declares its own (not all are UTF-8).
            http_headers = StatusAndHeaders(
                "200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1"
            )
            record = writer.create_warc_record(
                page.url,
                "response",
                payload=io.BytesIO(page.html),
                http_headers=http_headers,
                warc_headers_dict={"WARC-Date": page.crawled.strftime("%Y-%m-%dT%H:%M:%SZ")},
            )
            writer.write_record(record)
            record.raw_stream.close()  # warcio buffers the payload in a temporary file
            count += 1
    return count


def _utc(text: str) -> datetime:
    """A data set's timestamp ("2024-05-03 18:19:08.72", "2020-01-20", "…Z") as aware UTC."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
