"""canonical_url and friends: one spelling per article, whatever link led to it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from primenews.extract.urls import (
    canonical_url,
    is_plausible_canonical,
    registrable_domain,
    same_site,
)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTPS://Example.COM/Path", "https://example.com/Path"),  # path case is the site's
        ("https://example.com:443/a", "https://example.com/a"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("https://example.com/a#comments", "https://example.com/a"),
        ("https://example.com/a/../b/./c", "https://example.com/b/c"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com/a?b=2&a=1", "https://example.com/a?a=1&b=2"),
        ("https://example.com/a?id=7&utm_source=x&utm_medium=email", "https://example.com/a?id=7"),
        ("https://example.com/a?fbclid=abc&gclid=def&msclkid=1", "https://example.com/a"),
        ("https://example.com/a?mc_cid=1&mc_eid=2&ocid=3&cmpid=4", "https://example.com/a"),
        ("https://example.com/a?ns_campaign=1&ns_mchannel=2&at_medium=3", "https://example.com/a"),
        ("https://example.com/a?_ga=1&_gl=2&igshid=3&ref=rss", "https://example.com/a"),
        ("https://example.com/a?ITM_SOURCE=x&p=2", "https://example.com/a?p=2"),
        # content identifiers that broader tracker patterns would eat
        (
            "https://example.com/a?cid=5&game=3&gallery=2",
            "https://example.com/a?cid=5&gallery=2&game=3",
        ),
        ("  https://example.com/a?x=1&amp;y=2 ", "https://example.com/a?x=1&y=2"),
    ],
)
def test_canonical_url_normalises(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


@pytest.mark.parametrize(
    ("url", "base", "expected"),
    [
        ("/world/story", "https://www.example.com/home?x=1", "https://www.example.com/world/story"),
        ("story-2", "https://example.com/world/story-1", "https://example.com/world/story-2"),
        ("//cdn.example.com/a", "https://example.com/", "https://cdn.example.com/a"),
        ("https://other.org/a", "https://example.com/", "https://other.org/a"),
    ],
)
def test_canonical_url_resolves_against_base(url: str, base: str, expected: str) -> None:
    assert canonical_url(url, base) == expected


@pytest.mark.parametrize("url", ["", "mailto:desk@example.com", "javascript:void(0)", "ftp://x/y"])
def test_canonical_url_leaves_what_is_not_http_alone(url: str) -> None:
    assert canonical_url(url) == url


def test_canonical_url_survives_a_broken_host() -> None:
    assert canonical_url("http://[::1/x") == "http://[::1/x"


@given(
    host=st.sampled_from(["Example.com", "news.example.co.uk", "EXAMPLE.org:443"]),
    path=st.lists(st.sampled_from(["a", "B", "..", ".", "ü", "%20", "x y"]), max_size=4),
    query=st.dictionaries(
        st.sampled_from(["id", "p", "utm_source", "fbclid", "page", "q"]),
        st.text(alphabet="ab1 &=", max_size=3),
        max_size=3,
    ),
)
def test_canonical_url_is_idempotent(host: str, path: list[str], query: dict[str, str]) -> None:
    url = f"https://{host}/{'/'.join(path)}?" + "&".join(f"{k}={v}" for k, v in query.items())
    once = canonical_url(url)
    assert canonical_url(once) == once


def test_registrable_domain() -> None:
    assert registrable_domain("https://news.bbc.co.uk/x") == "bbc.co.uk"
    assert registrable_domain("https://www.primenews.example/a") == "primenews.example"
    assert registrable_domain("http://127.0.0.1:8000/") == "127.0.0.1"
    assert registrable_domain("not a url") == ""


def test_same_site() -> None:
    assert same_site("https://www.bbc.co.uk/news/1", "https://news.bbc.co.uk/2")
    assert same_site("https://primenews.example/a", "https://www.primenews.example/b")
    assert not same_site("https://bbc.co.uk/", "https://bbc.com/")
    assert not same_site("", "")


@pytest.mark.parametrize(
    ("candidate", "page", "plausible"),
    [
        ("https://example.com/world/story", "https://example.com/world/story?utm_source=x", True),
        ("https://amp.example.com/story", "https://www.example.com/story", True),
        ("https://example.com/", "https://example.com/world/story", False),  # template default
        ("https://other.org/story", "https://example.com/story", False),
        ("https://example.com/{slug}", "https://example.com/story", False),
        ("ftp://example.com/story", "https://example.com/story", False),
        ("https://example.com/story", "", True),
        ("https://example.com/", "https://example.com/", True),
    ],
)
def test_is_plausible_canonical(candidate: str, page: str, plausible: bool) -> None:
    assert is_plausible_canonical(candidate, page) is plausible
