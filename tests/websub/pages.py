"""Feeds and article pages the WebSub tests and the latency benchmark publish on loopback."""

from __future__ import annotations

import random

WORDS = (
    "council budget river school hospital festival election court museum airport farmers "
    "workers teachers doctors police weather storm harvest tourism exports factory bakery "
    "stadium theatre ferry tunnel pension housing rent energy solar wind water forest "
    "mayor minister union strike vote survey report plan contract repairs opening closure"
).split()

SUBJECTS = (
    ("harbour", "The harbour authority reopened the northern quay after storm repairs"),
    ("orchestra", "The city orchestra announced a winter season of new commissions"),
    ("railway", "Engineers finished testing the signalling on the coastal railway"),
    ("library", "The central library extended its opening hours for the exam period"),
    ("market", "Farmers at the Saturday market reported a record apple harvest"),
    ("bridge", "Council members approved the repainting of the old iron bridge"),
)


def article_page(base: str, number: int) -> bytes:
    """A plain article page, different in text for every number."""
    topic, lede = SUBJECTS[number % len(SUBJECTS)]
    rng = random.Random(number)  # the same page for the same number, different across numbers
    paragraphs = f"<p>{lede}, report number {number}.</p>" + "".join(
        "<p>" + " ".join(rng.choice(WORDS) for _ in range(40)).capitalize() + ".</p>"
        for _ in range(6)
    )
    url = f"{base}/news/{number}.html"
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{topic.title()} news {number}</title><link rel='canonical' href='{url}'>"
        "<meta property='article:published_time' content='2026-11-28T10:00:00Z'>"
        f"</head><body><article><h1>{topic.title()} news {number}</h1>{paragraphs}"
        "</article></body></html>"
    ).encode()


def atom_feed(base: str, hub: str, numbers: list[int]) -> bytes:
    """An Atom feed linking to the article pages, advertising ``hub``."""
    entries = "".join(
        f"<entry><title>News {n}</title><id>{base}/news/{n}.html</id>"
        f"<link href='{base}/news/{n}.html'/><updated>2026-11-28T10:{n % 60:02d}:00Z</updated>"
        "</entry>"
        for n in reversed(numbers)
    )
    hub_link = f"<link rel='hub' href='{hub}'/>" if hub else ""
    return (
        "<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom'>"
        f"<title>Loopback Gazette</title><id>{base}/feed.xml</id>"
        f"<updated>2026-11-28T12:00:00Z</updated>{hub_link}"
        f"<link rel='self' href='{base}/feed.xml'/><link href='{base}/'/>{entries}</feed>"
    ).encode()
