"""sniff_kind and the DTD check: the bytes decide, the content type and URL break ties."""

from __future__ import annotations

import gzip
import time

import pytest

from primenews.domain import SourceKind
from primenews.ingest.sniff import root_element, sniff_kind, unsafe_dtd_reason

FEED, SITEMAP, PAGE = SourceKind.FEED, SourceKind.SITEMAP, SourceKind.PAGE
_RSS = b'<?xml version="1.0"?>\n<!-- generator -->\n<rss version="2.0"><channel/></rss>'


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (_RSS, FEED),
        (b'<feed xmlns="http://www.w3.org/2005/Atom"></feed>', FEED),
        (b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>', FEED),
        (b'<entry xmlns="http://www.w3.org/2005/Atom"/>', FEED),
        (b'  {"version": "https://jsonfeed.org/version/1.1", "items": []}', FEED),
        (b'{"title": "x", "version": "https://jsonfeed.org/version/1"}', FEED),
        (b"<urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'/>", SITEMAP),
        (b"<?xml version='1.0'?><sitemapindex/>", SITEMAP),
        (b"https://example.com/a\nhttps://example.com/b\n", SITEMAP),
        (b"<!DOCTYPE html>\n<html><head><title>x</title></head></html>", PAGE),
        (b"<HTML><BODY>shouting</BODY></HTML>", PAGE),
        (b"\xef\xbb\xbf<html></html>", PAGE),
        (
            b'<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "x.dtd"><rss/>',
            FEED,
        ),
        (b'<!DOCTYPE rss [<!ENTITY a "]>">]><rss/>', FEED),
        (_RSS.decode().encode("utf-16"), FEED),
        (_RSS.decode().encode("utf-16-be"), FEED),
        (_RSS.decode().encode("utf-32-le"), FEED),
        (gzip.compress(b"<urlset><url><loc>https://e.com/</loc></url></urlset>"), SITEMAP),
        (b"", PAGE),
        (b'{"not": "a feed"}', PAGE),
    ],
)
def test_the_bytes_decide(content: bytes, kind: SourceKind) -> None:
    assert sniff_kind(content) is kind


@pytest.mark.parametrize(
    ("content", "content_type", "url", "kind"),
    [
        (_RSS, "text/html; charset=utf-8", "https://e.com/", FEED),  # a feed served as HTML
        (b"<html><body>Error</body></html>", "application/rss+xml", "https://e.com/rss", PAGE),
        (b"", "application/atom+xml", "https://e.com/", FEED),
        (b"", "application/feed+json", "https://e.com/", FEED),
        (b"garbage", "", "https://e.com/sitemap_index.xml", SITEMAP),
        (b"garbage", "", "https://e.com/blog/feed/", FEED),
        (b"garbage", "", "https://e.com/news.rss?x=1", FEED),
        (b"garbage", "text/html", "https://e.com/article", PAGE),
        (
            b"https://e.com/a\n",
            "text/html",
            "https://e.com/",
            PAGE,
        ),  # a page that starts with a URL
    ],
)
def test_content_type_and_url_break_ties(
    content: bytes, content_type: str, url: str, kind: SourceKind
) -> None:
    assert sniff_kind(content, content_type, url) is kind


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"<?xml version='1.0'?><?xml-stylesheet href='x.xsl'?><rss/>", "rss"),
        (b"<!-- <html> in a comment --><feed/>", "feed"),
        (b"<atom:feed xmlns:atom='http://www.w3.org/2005/Atom'/>", "feed"),
        (b"text first <rss/>", ""),
        (b"", ""),
    ],
)
def test_root_element(content: bytes, name: str) -> None:
    assert root_element(content) == name


@pytest.mark.parametrize(
    "content",
    [
        b"<rss/>",
        b'<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "x.dtd"><rss/>',
        b'<!DOCTYPE rss [\n<!ENTITY copy "&#169;">\n<!ENTITY site "Example">\n]><rss/>',
        b"<rss><description><![CDATA[<!ENTITY x SYSTEM 'file:///etc/passwd'>]]></description></rss>",
    ],
)
def test_harmless_documents_pass_the_dtd_check(content: bytes) -> None:
    assert unsafe_dtd_reason(content) is None


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r/>', "external entity"),
        (b'<!DOCTYPE r [<!ENTITY x PUBLIC "-//x//EN" "http://e.com/x">]><r/>', "external entity"),
        (b'<!DOCTYPE r [<!ENTITY % p SYSTEM "http://e.com/x.dtd"> %p;]><r/>', "parameter entity"),
        (b'<!DOCTYPE r [<!ENTITY a "x"><!ENTITY b "&a;&a;">]><r/>', "refers to other entities"),
        (b'<!DOCTYPE r [<!ENTITY a "' + b"x" * 5000 + b'">]><r/>', "characters long"),
        (b"<!DOCTYPE r [" + b'<!ENTITY a "x">' * 100 + b"]><r/>", "declares 100 XML entities"),
        # a comment before the DOCTYPE must not hide its declarations
        (b'<!-- <a> --><!DOCTYPE r [<!ENTITY x SYSTEM "file:///x">]><r/>', "external entity"),
        # nor a quoted ">" or "]" inside an earlier declaration
        (b'<!DOCTYPE r [<!ENTITY a "]>"><!ENTITY x SYSTEM "file:///x">]><r/>', "external entity"),
    ],
)
def test_dangerous_dtds_are_named(content: bytes, reason: str) -> None:
    found = unsafe_dtd_reason(content)
    assert found is not None and reason in found


@pytest.mark.parametrize(
    "content",
    [
        b'<!DOCTYPE r [<!ENTITY a "b">' + b"<!--" * 500_000 + b"]><r/>",
        b'<!DOCTYPE r [<!ENTITY a "b">' + b'"' * 1_000_001,
        b"<!DOCTYPE r [<!ENTITY a " + b"[" * 1_000_000,
        b"<!DOCTYPE r [<!ENTITY " + b"a" * 5_000_000,
    ],
    ids=["unclosed-comments", "quotes", "brackets", "long-name"],
)
def test_hostile_prologs_are_scanned_quickly(content: bytes) -> None:
    started = time.perf_counter()
    reason = unsafe_dtd_reason(content)
    root_element(content)
    sniff_kind(content)
    assert reason == "its DOCTYPE runs past the first 256 KB"
    assert time.perf_counter() - started < 1.0
