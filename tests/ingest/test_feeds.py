"""parse_feed: field mapping, entity attacks, robustness over upstream suites and real feeds."""

from __future__ import annotations

import gzip
import html
import json
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from primenews.domain import Feed, FeedEntry, SourceKind
from primenews.errors import ParseError
from primenews.ingest.feeds import absolute_url, parse_date, parse_feed, plain_text
from primenews.ingest.sniff import sniff_kind

DATA = Path(__file__).resolve().parents[1] / "data" / "ingest"
SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
EDGE_CASES = SHARED_DATA / "feed_edge_cases"
SNAPSHOTS = SHARED_DATA / "multi_outlet_feed_snapshots"
FEED_RS = EDGE_CASES / "feed_rs"
_HEADER_CONTENT_TYPE = re.compile(rb"^\s*Header:\s*Content-type:\s*(.+?)\s*$", re.I | re.M)


def _shared_files(folder: Path, pattern: str) -> list[Path]:
    """Files for a parametrised test; one missing-data marker when the shared set is absent."""
    if not folder.is_dir():
        return [folder / "__missing__"]
    return sorted(path for path in folder.glob(pattern) if path.is_file())


def _skip_if_missing(path: Path) -> None:
    if path.name == "__missing__":
        pytest.skip(f"{path.parent} is absent: the shared data sets sit beside the repository")


def _check_entry(entry: FeedEntry) -> None:
    """Invariants every entry of every feed keeps."""
    assert entry.url == "" or urlsplit(entry.url).scheme in ("http", "https")
    for moment in (entry.published, entry.updated):
        assert moment is None or moment.utcoffset() == UTC.utcoffset(None)
    assert entry.title == " ".join(entry.title.split())


# -- robustness over the upstream suites ------------------------------------------------------

EDGE_FILES = _shared_files(EDGE_CASES, "**/*")


@pytest.mark.parametrize(
    "path", EDGE_FILES, ids=[str(p.relative_to(EDGE_CASES.parent)) for p in EDGE_FILES]
)
def test_edge_case_files_parse_or_raise_parse_error(path: Path) -> None:
    _skip_if_missing(path)
    content = path.read_bytes()
    header = _HEADER_CONTENT_TYPE.search(content[:2000])  # feedparser's simulated HTTP header
    content_type = header.group(1).decode("latin-1") if header else ""
    sniff_kind(content, content_type, "https://example.com/feed")
    try:
        feed = parse_feed(content, "https://example.com/feed", content_type)
    except ParseError as err:
        assert str(err).startswith("feed: ")
        return
    assert feed.kind in ("rss", "atom", "json")
    for entry in feed.entries:
        _check_entry(entry)


# -- field mapping against feed-rs' parsed models ---------------------------------------------

SERDE_FILES = _shared_files(FEED_RS, "*/*.serde.json")
# where feed-rs and we disagree on purpose (see the test docstring)
_URL_DIFFERENCES = {"atom_xml_base", "rss_0.92_spec_1", "rss_2.0_spec_1", "atom_relative"}


def _source_of(serde: Path) -> Path:
    xml = serde.with_name(serde.name.replace(".serde.json", ".xml"))
    return xml if xml.exists() else serde.with_name(serde.name.replace(".serde.json", ".json"))


def _text(node: dict[str, str] | None) -> str:
    return " ".join(html.unescape((node or {}).get("content") or "").split())


def _comparable(url: str) -> tuple[str, str, str, str]:
    """A URL with its host lower-cased and an empty path read as "/"."""
    parts = urlsplit(url)
    return (parts.scheme, parts.netloc.lower(), parts.path or "/", parts.query)


def _moment(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).replace(microsecond=0)


@pytest.mark.parametrize("serde", SERDE_FILES, ids=[p.name for p in SERDE_FILES])
def test_feed_rs_fixtures_map_titles_links_and_dates(serde: Path) -> None:
    """Titles, counts, links and dates agree with feed-rs.

    Known, deliberate differences: we keep an RSS item's single date as
    ``published`` only (feed-rs copies it into ``updated`` too); we fall back
    to a permalink guid or enclosure when an item has no <link>; we resolve
    relative links against the feed URL; we compare hosts case-insensitively.
    """
    _skip_if_missing(serde)
    expected = json.loads(serde.read_text("utf-8"))
    feed = parse_feed(_source_of(serde).read_bytes())
    name = serde.name.removesuffix(".serde.json")
    assert feed.title == _text(expected.get("title"))
    assert len(feed.entries) == len(expected["entries"])
    for want, got in zip(expected["entries"], feed.entries, strict=True):
        assert got.title == _text(want.get("title"))
        links = [link["href"] for link in want.get("links", [])]
        if links and absolute_url(links[0], "") and name not in _URL_DIFFERENCES:
            assert _comparable(got.url) == _comparable(links[0])
        if want.get("published"):
            assert got.published is not None
            assert got.published.replace(microsecond=0) == _moment(want["published"])
        if feed.kind == "atom" and want.get("updated"):
            assert got.updated == _moment(want["updated"])


# -- real feeds -----------------------------------------------------------------------------


def _manifest() -> list[dict[str, object]]:
    manifest = SNAPSHOTS / "manifest.jsonl"
    if not manifest.exists():
        return [{"file": "__missing__"}]
    return [json.loads(line) for line in manifest.read_text("utf-8").splitlines() if line]


MANIFEST = _manifest()


@pytest.mark.parametrize("row", MANIFEST, ids=[str(row["file"]) for row in MANIFEST])
def test_real_feed_snapshots_parse_with_expected_counts(row: dict[str, object]) -> None:
    if row["file"] == "__missing__":
        pytest.skip(f"{SNAPSHOTS} is absent: the shared data sets sit beside the repository")
    content = gzip.decompress((SNAPSHOTS / str(row["file"])).read_bytes())
    feed = parse_feed(content, "https://feeds.example.com/feed.xml")
    assert sniff_kind(content) is SourceKind.FEED
    assert feed.kind == ("atom" if row["format"] == "atom" else "rss")
    assert feed.title == row["feed_title"]
    assert len(feed.entries) == row["entries"]
    assert all(entry.url.startswith(("http://", "https://")) for entry in feed.entries)
    assert all(entry.title for entry in feed.entries)
    if feed.kind == "rss":  # the one Atom outlet gives entries <updated> only
        assert all(entry.published is not None for entry in feed.entries)


# -- our own fixtures: one rule each ----------------------------------------------------------


@pytest.fixture(scope="module")
def rss() -> Feed:
    content = (DATA / "rss2_news.xml").read_bytes()
    return parse_feed(content, "https://news.example.com/feed.xml", "application/rss+xml")


def test_rss_channel_fields(rss: Feed) -> None:
    assert rss.kind == "rss"
    assert rss.title == "The Daily & Co"  # double-escaped entity decoded once more
    assert rss.site_url == "https://news.example.com/"
    assert rss.self_url == "https://news.example.com/feed.xml"
    assert rss.hub_url == "https://pubsubhubbub.example.org/"
    assert rss.ttl_minutes == 15
    assert rss.language == "en-gb"
    assert rss.warnings == ()


def test_rss_item_with_everything(rss: Feed) -> None:
    entry = rss.entries[0]
    assert entry.url == "https://news.example.com/2026/08/storm.html"  # relative link resolved
    assert entry.title == "Storm hits coast & town"
    assert entry.guid == "storm-123"
    assert entry.published == datetime(2026, 8, 13, 2, 48, 25, tzinfo=UTC)
    assert entry.updated is None
    assert entry.summary == "Winds of 90 mph."  # tags stripped, script dropped
    assert entry.content_html == "<p>Winds of <b>90 mph</b> hit the coast.</p><p>More later.</p>"
    assert entry.author == "Jane Reporter"
    assert entry.categories == ("Weather", "UK")
    assert entry.image == "https://img.example.com/storm.jpg"
    assert entry.language == "en-gb"


def test_rss_link_fallbacks(rss: Feed) -> None:
    urls = [entry.url for entry in rss.entries]
    assert urls[1] == "https://news.example.com/2026/08/guid.html"  # permalink guid
    assert urls[2] == "https://cdn.example.com/ep9.mp3"  # enclosure
    assert urls[4] == ""  # a guid "12345" is not resolved into a made-up URL


def test_rss_images(rss: Feed) -> None:
    assert rss.entries[1].image == "https://img.example.com/thumb.jpg"  # media:thumbnail
    assert rss.entries[2].image == ""  # an audio enclosure is no image
    assert rss.entries[3].image == "https://img.example.com/pod.png"  # image enclosure


def test_rss_dates_are_never_invented(rss: Feed) -> None:
    assert rss.entries[1].published == datetime(2023, 12, 16, 14, 2, 33, tzinfo=UTC)  # "PM"
    assert rss.entries[2].published is None  # "not a date at all"
    assert rss.entries[3].published == datetime(2022, 11, 15, 23, 38, 15, tzinfo=UTC)  # "mer,"
    assert rss.entries[4].published is None  # no date


def test_atom_with_xml_base() -> None:
    feed = parse_feed((DATA / "atom_xml_base.xml").read_bytes())
    assert (feed.kind, feed.title, feed.language) == ("atom", "Le blog", "fr")
    assert feed.site_url == "https://blog.example.org/"
    assert feed.self_url == "https://blog.example.org/atom.xml"
    assert feed.hub_url == "https://hub.example.net/"
    first, second = feed.entries
    assert first.url == "https://blog.example.org/posts/premier.html"
    assert first.image == "https://blog.example.org/img/premier.jpg"
    assert first.published == datetime(2026, 8, 12, 8, 0, tzinfo=UTC)
    assert first.updated == datetime(2026, 8, 13, 8, 30, tzinfo=UTC)
    assert (first.author, first.categories) == ("Marie Curie", ("Science",))
    assert first.summary == "Un résumé & plus."
    assert first.content_html == "<p>Le <strong>contenu</strong>.</p>"
    assert second.url == "https://blog.example.org/posts/second.html"  # from its URL id
    assert (second.published, second.updated) == (
        None,
        datetime(2026, 8, 13, 9, 25, 10, tzinfo=UTC),
    )


def test_json_feed() -> None:
    feed = parse_feed((DATA / "jsonfeed_1_1.json").read_bytes(), "", "application/feed+json")
    assert (feed.kind, feed.title, feed.language) == ("json", "JSON & Friends", "en-US")
    assert feed.hub_url == "https://websub.example.com/"  # the WebSub hub, not rssCloud
    assert feed.self_url == "https://json.example.com/feed.json"
    first, second, third, fourth = feed.entries
    assert first.url == "https://json.example.com/posts/1"
    assert (first.title, first.guid, first.author, first.language) == (
        "First post",
        "1",
        "Item Author",
        "de",
    )
    assert first.published == datetime(2026, 8, 13, 8, 0, tzinfo=UTC)
    assert first.updated == datetime(2026, 8, 14, 19, 17, 58, tzinfo=UTC)  # RFC 822 tolerated
    assert first.categories == ("news", "json")
    assert second.url == "https://json.example.com/posts/2"  # from its URL id
    assert second.content_html == "Plain &lt;text&gt; only"
    assert (second.published, second.author) == (None, "Feed Author")
    assert (third.url, third.guid) == ("https://elsewhere.example.net/story", "3")
    assert fourth.url == ""


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "feed: empty document"),
        (b"  \n ", "feed: empty document"),
        (b"<!DOCTYPE html><html><body>Hi</body></html>", "looks like HTML"),
        (b"<html><head><title>x</title></head></html>", "looks like HTML"),
        (b"<urlset><url><loc>https://e.com/</loc></url></urlset>", "looks like a sitemap"),
        (b'<opml version="2.0"><body/></opml>', "looks like OPML"),
        (b"<catalog><book/></catalog>", "root element <catalog>"),
        (b'{"version": "1", "items": []}', "JSON without a jsonfeed.org version"),
        (b"{not json", "invalid JSON"),
        (b"[1, 2]", "not a feed"),
        (b"just some words", "not a feed"),
    ],
)
def test_non_feeds_raise_parse_error(content: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=re.escape(message)):
        parse_feed(content)


def test_a_json_array_is_not_a_feed() -> None:
    with pytest.raises(ParseError, match="feed: "):
        parse_feed(b'[{"version": "https://jsonfeed.org/version/1"}]')


def test_empty_but_valid_feed_has_no_entries() -> None:
    feed = parse_feed(b'<rss version="2.0"><channel><title>Quiet</title></channel></rss>')
    assert (feed.kind, feed.title, feed.entries) == ("rss", "Quiet", ())


def test_recoverable_problems_become_warnings() -> None:
    content = b'<rss version="2.0"><channel><title>T</title><item><title>A & B</title></item>'
    feed = parse_feed(content)
    assert feed.warnings and feed.warnings[0].startswith("feed: ")
    assert feed.entries[0].title == "A & B"


# -- charsets ---------------------------------------------------------------------------------

_CAFE = '<rss version="2.0"><channel><title>Café – news</title></channel></rss>'


@pytest.mark.parametrize(
    ("content", "content_type", "title"),
    [
        (
            ('<?xml version="1.0" encoding="windows-1252"?>' + _CAFE).encode("cp1252"),
            "",
            "Café – news",
        ),
        (('<?xml version="1.0" encoding="utf-16"?>' + _CAFE).encode("utf-16"), "", "Café – news"),
        (_CAFE.encode("utf-8"), "text/xml", "Café – news"),  # text/xml means us-ascii; bytes win
        (_CAFE.replace("–", "-").encode("latin-1"), "text/xml; charset=iso-8859-1", "Café - news"),
        # declared UTF-8, really Latin-1: decoded as windows-1252 with a warning
        (
            ('<?xml version="1.0" encoding="utf-8"?>' + _CAFE.replace("–", "-")).encode("latin-1"),
            "",
            "Café - news",
        ),
    ],
)
def test_charsets_decode_sensibly(content: bytes, content_type: str, title: str) -> None:
    assert parse_feed(content, "", content_type).title == title


# -- entity attacks -------------------------------------------------------------------------


def _billion_laughs(root: str = "rss") -> bytes:
    entities = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
    )
    return (
        f'<?xml version="1.0"?><!DOCTYPE {root} [{entities}]>'
        f'<rss version="2.0"><channel><title>&lol9;</title></channel></rss>'
    ).encode()


_XXE = (
    b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    b'<rss version="2.0"><channel><title>&xxe;</title></channel></rss>'
)
_PARAMETER = (
    b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/x.dtd">'
    b"%remote;]><rss/>"
)
_QUADRATIC = (
    b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "' + b"x" * 100_000 + b'">]>'
    b'<rss version="2.0"><channel><title>' + b"&a;" * 10_000 + b"</title></channel></rss>"
)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (_billion_laughs(), "entity expansion"),
        (_XXE, "external entity 'xxe'"),
        (_PARAMETER, "parameter entity"),
        (_QUADRATIC, "characters long"),
        (_billion_laughs().decode().encode("utf-16"), "entity expansion"),
    ],
    ids=["billion-laughs", "xxe", "parameter-entity", "quadratic-blowup", "utf-16"],
)
def test_entity_attacks_are_refused_quickly(content: bytes, reason: str) -> None:
    started = time.perf_counter()
    with pytest.raises(ParseError, match=f"feed: refused: .*{re.escape(reason)}"):
        parse_feed(content)
    assert time.perf_counter() - started < 1.0


def test_a_harmless_internal_entity_still_works() -> None:
    # feedparser keeps only declarations that start a line, as real feeds write them
    content = (
        b'<!DOCTYPE rss [\n<!ENTITY id "tag:example.com,">\n]>\n<rss version="2.0"><channel>'
        b'<item><guid isPermaLink="false">&id;2006</guid></item></channel></rss>'
    )
    assert parse_feed(content).entries[0].guid == "tag:example.com,2006"


# -- helpers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("markup", "text"),
    [
        ("AT&amp;T", "AT&T"),
        ("<p>one</p><p>two</p>", "one two"),
        ("a <script>var x = '<p>';</script>b", "a b"),
        ("  spaced \n out ", "spaced out"),
        ("5 < 6 & 7 > 3", "5 < 6 & 7 > 3"),
        ("", ""),
    ],
)
def test_plain_text(markup: str, text: str) -> None:
    assert plain_text(markup) == text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-08-13T10:00:00+02:00", datetime(2026, 8, 13, 8, tzinfo=UTC)),
        ("2026-08-13", datetime(2026, 8, 13, tzinfo=UTC)),
        ("Thu, 13 Aug 2026 04:48:25 GMT", datetime(2026, 8, 13, 4, 48, 25, tzinfo=UTC)),
        ("Sat, Dec 16 2023 12:02:33 AM", datetime(2023, 12, 16, 0, 2, 33, tzinfo=UTC)),
        ("Sat, Dec 16 2023 02:02:33 PM -0500", datetime(2023, 12, 16, 19, 2, 33, tzinfo=UTC)),
        ("yesterday", None),
        ("", None),
        ("2026-13-45", None),
    ],
)
def test_parse_date(value: str, expected: datetime | None) -> None:
    assert parse_date(value) == expected


@pytest.mark.parametrize(
    ("href", "base", "expected"),
    [
        ("/a", "https://e.com/feed", "https://e.com/a"),
        ("https://x.org/b", "", "https://x.org/b"),
        ("/a", "", ""),
        ("javascript:alert(1)", "https://e.com/", ""),
        ("mailto:a@e.com", "https://e.com/", ""),
        ("http://[::1", "", ""),
        ("  https://e.com/c  ", "", "https://e.com/c"),
    ],
)
def test_absolute_url(href: str, base: str, expected: str) -> None:
    assert absolute_url(href, base) == expected


# -- properties -----------------------------------------------------------------------------


def _seed_feeds() -> list[bytes]:
    own = [path.read_bytes() for path in sorted(DATA.glob("*.xml")) + [DATA / "jsonfeed_1_1.json"]]
    real = [
        path.read_bytes()
        for path in (FEED_RS / "rss2/rss_2.0_bbc.xml", FEED_RS / "atom/atom_example_1.xml")
        if path.exists()
    ]
    return own + real


_SEEDS = _seed_feeds()


@st.composite
def mutated_feeds(draw: st.DrawFn) -> bytes:
    """A real feed with a few slices deleted, duplicated or overwritten with random bytes."""
    content = bytearray(draw(st.sampled_from(_SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        start = draw(st.integers(0, len(content)))
        end = min(len(content), start + draw(st.integers(0, 64)))
        action = draw(st.sampled_from(["delete", "duplicate", "replace"]))
        if action == "delete":
            del content[start:end]
        elif action == "duplicate":
            content[start:start] = content[start:end]
        else:
            content[start:end] = draw(st.binary(max_size=16))
    return bytes(content)


_PROPERTY_SETTINGS = settings(
    max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


@_PROPERTY_SETTINGS
@given(st.binary(max_size=2048))
def test_random_bytes_parse_or_raise_parse_error(content: bytes) -> None:
    try:
        feed = parse_feed(content, "https://example.com/feed")
    except ParseError:
        return
    for entry in feed.entries:
        _check_entry(entry)


@_PROPERTY_SETTINGS
@given(mutated_feeds())
def test_mutated_feeds_parse_or_raise_parse_error(content: bytes) -> None:
    try:
        feed = parse_feed(content, "https://example.com/feed")
    except ParseError:
        return
    for entry in feed.entries:
        _check_entry(entry)
