"""ingest.websub: hub discovery, signatures, subscription forms, leases (pure)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from primenews.domain import Feed
from primenews.ingest.feeds import parse_feed
from primenews.ingest.websub import (
    HubLink,
    discover_hub,
    granted_lease,
    link_header_urls,
    renew_at,
    sign,
    signature_matches,
    subscription_form,
)

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Wire</title>
  <link rel="hub" href="https://hub.example/"/>
  <link rel="self" href="https://news.example/atom.xml"/>
  <id>urn:wire</id><updated>2026-11-28T12:00:00Z</updated>
</feed>"""

RSS = b"""<?xml version="1.0"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>
  <title>Paper</title><link>https://paper.example/</link>
  <atom:link rel="hub" href="/hub"/>
  <atom:link rel="self" type="application/rss+xml" href="https://paper.example/rss"/>
</channel></rss>"""


def test_hub_and_self_come_from_atom_links() -> None:
    feed = parse_feed(ATOM, "https://news.example/fetched.xml")
    assert discover_hub(feed, {}, "https://news.example/fetched.xml") == HubLink(
        "https://hub.example/", "https://news.example/atom.xml"
    )


def test_hub_and_self_come_from_rss_atom_links_made_absolute() -> None:
    feed = parse_feed(RSS, "https://paper.example/rss?x=1")
    link = discover_hub(feed, {}, "https://paper.example/rss?x=1")
    assert link == HubLink("https://paper.example/hub", "https://paper.example/rss")


def test_the_link_header_wins_over_the_document() -> None:
    feed = parse_feed(ATOM, "https://news.example/atom.xml")
    headers = {"link": '<https://push.example/hub>; rel="hub", </topic>; rel=self'}
    link = discover_hub(feed, headers, "https://news.example/atom.xml")
    assert link == HubLink("https://push.example/hub", "https://news.example/topic")


def test_without_a_self_link_the_fetched_url_is_the_topic() -> None:
    feed = Feed(kind="rss", hub_url="https://hub.example/")
    link = discover_hub(feed, {}, "https://news.example/feed")
    assert link == HubLink("https://hub.example/", "https://news.example/feed")


@pytest.mark.parametrize(
    "hub",
    ["", "mailto:hub@example.org", "ftp://hub.example/", "javascript:alert(1)", "http:///nohost"],
)
def test_no_usable_hub_means_no_subscription(hub: str) -> None:
    assert discover_hub(Feed(kind="atom", hub_url=hub), {}, "https://news.example/f") is None


def test_link_header_parsing_takes_multiple_rels_and_ignores_junk() -> None:
    value = '<https://a.example/>; rel="hub self", garbage, <https://b.example/>; rel="hub"'
    assert link_header_urls(value, "hub", "") == ["https://a.example/", "https://b.example/"]
    assert link_header_urls(value, "self", "") == ["https://a.example/"]
    assert link_header_urls("<unclosed; rel=hub", "hub", "") == []


@pytest.mark.parametrize("method", ["sha1", "sha256", "sha384", "sha512"])
def test_every_allowed_signature_method_is_checked(method: str) -> None:
    body = b"<feed>pushed</feed>"
    digest = hmac.new(b"s3cret", body, getattr(hashlib, method)).hexdigest()
    assert signature_matches("s3cret", body, f"{method}={digest}")
    assert signature_matches("s3cret", body, f"{method.upper()}={digest.upper()}")
    assert sign("s3cret", body, method) == f"{method}={digest}"


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sha256",
        "sha256=",
        "md5=" + hashlib.md5(b"x").hexdigest(),
        sign("other secret", b"<feed>pushed</feed>"),
        sign("s3cret", b"<feed>tampered</feed>"),
        "sha256=" + "0" * 64,
        "sha256=zz\u00e9",
    ],
)
def test_missing_wrong_or_unknown_signatures_do_not_match(header: str | None) -> None:
    assert not signature_matches("s3cret", b"<feed>pushed</feed>", header)


def test_an_empty_secret_never_matches() -> None:
    assert not signature_matches("", b"x", sign("", b"x"))


def test_subscription_form_carries_secret_and_lease() -> None:
    link = HubLink("https://hub.example/", "https://news.example/feed")
    form = subscription_form(link, "https://me.example/websub/3", "abc", 86400)
    assert form == {
        "hub.mode": "subscribe",
        "hub.topic": "https://news.example/feed",
        "hub.callback": "https://me.example/websub/3",
        "hub.secret": "abc",
        "hub.lease_seconds": "86400",
    }
    unsubscribe = subscription_form(
        link, "https://me.example/websub/3", "abc", 1, mode="unsubscribe"
    )
    assert "hub.secret" not in unsubscribe and unsubscribe["hub.mode"] == "unsubscribe"


def test_leases_are_renewed_with_a_tenth_left() -> None:
    verified = datetime(2026, 11, 28, tzinfo=UTC)
    assert renew_at(verified, 864000) == verified + timedelta(seconds=777600)
    assert renew_at(verified, 300) == verified + timedelta(seconds=240)  # at least a minute early
    assert renew_at(verified, 30) == verified  # shorter than the margin: renew at once
    assert granted_lease("3600", 99) == 3600
    assert granted_lease("", 99) == granted_lease("soon", 99) == granted_lease("-5", 99) == 99
