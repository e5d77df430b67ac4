"""parse_opml / write_opml: folders, attribute variants, round trips, hostile input."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from primenews.errors import ParseError
from primenews.ingest.opml import OpmlOutline, parse_opml, write_opml

DATA = Path(__file__).resolve().parents[1] / "data" / "ingest"
SHARED_OPML = (
    Path(__file__).resolve().parents[3]
    / "shared/data/feed_edge_cases/w3c_feedvalidator/testcases/opml"
)


def test_nested_folders_and_attribute_variants() -> None:
    outlines = parse_opml((DATA / "subscriptions.opml").read_bytes())
    assert outlines == [
        OpmlOutline(
            xml_url="https://feeds.example.co.uk/news/world/rss.xml",
            title="BBC News - World",
            html_url="https://www.example.co.uk/news/world",
            folders=("News", "World"),
        ),
        OpmlOutline("https://www.example.net/xml/rss/all.xml", "Al Example", "", ("News", "World")),
        OpmlOutline("https://local.example.org/feed/", "Local & Regional", "", ("News",)),
        OpmlOutline("https://loose.example.com/atom.xml", "Loose feed", "", ("Tech", "Web")),
    ]
    assert outlines[0].category == "News/World"


def test_round_trip_keeps_everything() -> None:
    outlines = parse_opml((DATA / "subscriptions.opml").read_bytes())
    text = write_opml(outlines, title="Export")
    assert parse_opml(text.encode("utf-8")) == outlines


def test_written_opml_is_opml_2() -> None:
    text = write_opml(
        [OpmlOutline("https://e.com/feed", 'A <b> & "quoted" \x07bell', "https://e.com/")],
        title="Prime News sources",
        created=datetime(2026, 8, 13, 9, 30, tzinfo=UTC),
    )
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<opml version="2.0">')
    root = etree.fromstring(text.encode("utf-8"))
    assert root.findtext("head/title") == "Prime News sources"
    assert root.findtext("head/dateCreated") == "Thu, 13 Aug 2026 09:30:00 +0000"
    outline = root.find("body/outline")
    assert outline is not None
    assert dict(outline.attrib) == {
        "type": "rss",
        "text": 'A <b> & "quoted" bell',
        "title": 'A <b> & "quoted" bell',
        "xmlUrl": "https://e.com/feed",
        "htmlUrl": "https://e.com/",
    }


def test_an_empty_title_is_written_as_the_url() -> None:
    text = write_opml([OpmlOutline("https://e.com/feed")])
    assert parse_opml(text.encode()) == [OpmlOutline("https://e.com/feed", "https://e.com/feed")]


def test_w3c_subscription_list() -> None:
    path = SHARED_OPML / "clean" / "subscriptionList.opml"
    if not path.exists():
        pytest.skip(f"{path} is absent: the shared data sets sit beside the repository")
    outlines = parse_opml(path.read_bytes())
    assert len(outlines) == 13
    assert outlines[0].xml_url == "http://news.com.com/2547-1_3-0-5.xml"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "opml: empty document"),
        (b'<rss version="2.0"/>', "not an OPML document (root element <rss>)"),
        (b"<html><body/></html>", "not an OPML document (root element <html>)"),
        (b"plain text", "not an OPML document (no XML root element)"),
        (
            b'<!DOCTYPE opml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<opml><body><outline xmlUrl="&x;"/></body></opml>',
            "opml: refused: declares the external entity 'x'",
        ),
    ],
)
def test_not_opml(content: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=re.escape(message)):
        parse_opml(content)


def test_broken_opml_is_read_as_far_as_it_goes() -> None:
    content = b'<opml><body><outline text="A & B" xmlUrl="https://e.com/a"/><outline xmlUrl='
    assert parse_opml(content) == [OpmlOutline("https://e.com/a", "A & B")]


_names = (
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")),
        min_size=1,
        max_size=20,
    )
    .map(lambda text: " ".join(text.split()))
    .filter(bool)
)
_urls = st.from_regex(r"https://[a-z]{1,10}\.example/[a-z0-9/]{0,12}", fullmatch=True)


@settings(max_examples=100, deadline=None, database=None)
@given(
    st.lists(
        st.builds(
            OpmlOutline,
            xml_url=_urls,
            title=_names,
            html_url=st.one_of(st.just(""), _urls),
            folders=st.lists(_names, max_size=3).map(tuple),
        ),
        max_size=8,
        unique_by=lambda outline: outline.xml_url,
    )
)
def test_round_trip_property(outlines: list[OpmlOutline]) -> None:
    parsed = parse_opml(write_opml(outlines).encode("utf-8"))
    # write_opml groups feeds folder by folder, so compare as sets
    assert sorted(parsed, key=repr) == sorted(outlines, key=repr)


@settings(max_examples=200, deadline=None, database=None)
@given(st.binary(max_size=1024))
def test_random_bytes_parse_or_raise_parse_error(content: bytes) -> None:
    try:
        parse_opml(content)
    except ParseError as err:
        assert str(err).startswith("opml: ")
