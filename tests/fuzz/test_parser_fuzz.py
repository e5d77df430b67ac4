"""Property tests: the feed, sitemap, OPML and article parsers on random and mutated input.

Whatever bytes come in, each parser returns its result or raises its own
error (ParseError, ExtractError); anything else is a bug. Seeds are real
documents: ../shared/data/feed_edge_cases (RSS, Atom, JSON Feed, OPML from
feedparser, feed-rs and the W3C validator), our own fixtures and article
pages from trafilatura_eval_news. Example counts are modest here;
bench/fuzz.py pushes 10,000 mutated documents through the same parsers.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from primenews.domain import Page
from primenews.errors import ExtractError, ParseError
from primenews.extract import extract_article
from primenews.ingest.feeds import parse_feed
from primenews.ingest.opml import parse_opml
from primenews.ingest.sitemaps import parse_sitemap
from primenews.pipeline import read_listing

from shared_data import SHARED_DATA

OWN = Path(__file__).resolve().parents[1] / "data" / "ingest"
EDGE = SHARED_DATA / "feed_edge_cases"
PACKAGED_OPML = Path(__file__).resolve().parents[2] / "src/primenews/data/default_sources.opml"
BASE = "https://news.example/feed"
FETCHED = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def _files(pattern: str, limit: int) -> list[bytes]:
    # Every n-th file, so the few seeds span the corpus's folders.
    found = sorted(EDGE.glob(pattern)) if EDGE.exists() else []
    step = max(1, len(found) // limit)
    return [path.read_bytes() for path in found[::step][:limit]]


def _sitemaps() -> list[bytes]:
    urls = "".join(
        f"<url><loc>https://news.example/{n}</loc><lastmod>2026-08-1{n}</lastmod></url>"
        for n in range(5)
    )
    urlset = f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
    index = (
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        "<sitemap><loc>https://news.example/a.xml</loc></sitemap></sitemapindex>"
    )
    text = "\n".join(f"https://news.example/{n}" for n in range(5))
    own = (OWN / "news_sitemap.xml").read_bytes()
    return [own, urlset.encode(), index.encode(), text.encode(), gzip.compress(own)]


FEEDS = [(OWN / name).read_bytes() for name in ("rss2_news.xml", "atom_xml_base.xml",
                                                "jsonfeed_1_1.json")]  # fmt: skip
FEEDS += _files("**/*.xml", 40) + _files("**/*.json", 8)
SITEMAPS = _sitemaps()
OPMLS = [(OWN / "subscriptions.opml").read_bytes(), PACKAGED_OPML.read_bytes()]
OPMLS += _files("**/*.opml", 10)
PAGES_DIR = SHARED_DATA / "trafilatura_eval_news" / "html"
PAGES = [
    gzip.decompress(path.read_bytes()) for path in sorted(PAGES_DIR.glob("*.html.gz"))[:6]
] if PAGES_DIR.exists() else []  # fmt: skip

FUZZ = settings(
    max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


@st.composite
def mutated(draw: st.DrawFn, seeds: list[bytes]) -> bytes:
    """A real document with a few slices deleted, duplicated, swapped or overwritten."""
    content = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 6))):
        start = draw(st.integers(0, len(content)))
        end = min(len(content), start + draw(st.integers(0, 200)))
        action = draw(st.sampled_from(["delete", "duplicate", "replace", "truncate", "nest"]))
        if action == "delete":
            del content[start:end]
        elif action == "duplicate":
            content[start:start] = content[start:end] * draw(st.integers(1, 5))
        elif action == "replace":
            content[start:end] = draw(st.binary(max_size=32))
        elif action == "truncate":
            del content[start:]
        else:  # deep nesting and tricky markup
            content[start:start] = draw(
                st.sampled_from(
                    [
                        b"<div>" * 300,
                        b"<![CDATA[",
                        b"&#0;&#xD800;",
                        b"<?xml ",
                        b"\xff\xfe",
                        b"<!DOCTYPE x [<!ENTITY a 'b'>]>",
                        b"]]>",
                    ]
                )  # fmt: skip
            )
    return bytes(content)


def _check(parse: Callable[[bytes], object], content: bytes, allowed: type[Exception]) -> None:
    try:
        parse(content)
    except allowed:
        pass


def _listing(content: bytes) -> object:
    return read_listing(
        Page(url=BASE, final_url=BASE, content=content, status=200, fetched_at=FETCHED)
    )


PARSERS: dict[str, Callable[[bytes], object]] = {
    "feed": lambda content: parse_feed(content, BASE),
    "listing": _listing,
    "sitemap": lambda content: parse_sitemap(content, BASE),
    "opml": parse_opml,
}


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_seeds_are_read(name: str) -> None:
    seeds = {"feed": FEEDS[:3], "listing": FEEDS[:2], "sitemap": SITEMAPS, "opml": OPMLS[:2]}
    for seed in seeds[name]:
        PARSERS[name](seed)  # the unmutated documents parse: the fuzzing starts from valid input


@FUZZ
@given(st.sampled_from(sorted(PARSERS)), st.binary(max_size=4096))
def test_random_bytes_give_a_result_or_our_error(name: str, content: bytes) -> None:
    _check(PARSERS[name], content, ParseError)


@FUZZ
@given(mutated(FEEDS))
def test_mutated_feeds(content: bytes) -> None:
    _check(PARSERS["feed"], content, ParseError)
    _check(PARSERS["listing"], content, ParseError)


@FUZZ
@given(mutated(SITEMAPS))
def test_mutated_sitemaps(content: bytes) -> None:
    _check(PARSERS["sitemap"], content, ParseError)
    _check(PARSERS["listing"], content, ParseError)


@FUZZ
@given(mutated(OPMLS))
def test_mutated_opml(content: bytes) -> None:
    _check(PARSERS["opml"], content, ParseError)


@settings(FUZZ, max_examples=15)
@given(st.data())
def test_mutated_pages_give_an_article_or_extract_error(data: st.DataObject) -> None:
    if not PAGES:
        pytest.skip(f"{PAGES_DIR} is missing: the shared data sets sit beside the repository")
    content = data.draw(mutated(PAGES))
    url = data.draw(st.sampled_from([BASE, "", "not a url", "https://[::1/x", "file:///etc/x"]))
    _check(lambda page: extract_article(page, url), content, ExtractError)


@settings(FUZZ, max_examples=30)
@given(st.text(max_size=3000))
def test_random_text_pages(text: str) -> None:
    _check(
        lambda page: extract_article(page, BASE),
        text.encode("utf-8", "surrogatepass"),
        ExtractError,
    )


# Found by bench/fuzz.py: recover mode keeps a lone surrogate ("&#xD800;") or bad bytes in a
# text or attribute, and lxml raised UnicodeDecodeError when asked for it.
UNDECODABLE = [b"&#xD800;", b"\xed\xa0\x80", b"\xff"]


@pytest.mark.parametrize("bad", UNDECODABLE)
def test_undecodable_sitemap_values_are_dropped(bad: bytes) -> None:
    content = (b"<urlset><url><loc>https://a.example/" + bad + b"</loc></url>"
               b"<url><loc>https://b.example/</loc></url></urlset>")  # fmt: skip
    urls = [entry.url for entry in parse_sitemap(content, BASE).entries]
    assert urls[-1] == "https://b.example/"  # the bad value dropped or replaced, never a crash
    index = (
        b"<sitemapindex><sitemap><loc>https://a.example/" + bad + b"</loc></sitemap></sitemapindex>"
    )
    parse_sitemap(index, BASE)


@pytest.mark.parametrize("bad", UNDECODABLE)
def test_undecodable_opml_outlines_are_skipped(bad: bytes) -> None:
    content = (b'<opml><body><outline text="a' + bad + b'" xmlUrl="https://x.example/f"/>'
               b'<outline xmlUrl="https://ok.example/"/></body></opml>')  # fmt: skip
    urls = [outline.xml_url for outline in parse_opml(content)]
    assert urls[-1] == "https://ok.example/"
