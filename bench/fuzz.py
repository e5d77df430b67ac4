"""Fuzz the parsers: 10,000 mutated feeds, sitemaps, OPML files and article pages.

Seeds are real documents: every file of ../shared/data/feed_edge_cases (RSS,
Atom, JSON Feed and OPML from feedparser, feed-rs and the W3C validator),
sitemaps built from the feeds' own links (plain, index, text, gzip), our
packaged OPML, and the article pages of trafilatura_eval_news. Each input is
a seed with 1-6 random mutations (slices deleted, duplicated, overwritten with
random bytes, truncated, or deep nesting / CDATA / bad entities / DTDs
inserted), or, one time in ten, random bytes. Every parser must return or
raise its own error (ParseError, ExtractError); anything else is counted and
its input saved. Memory: the process's peak RSS, and its growth over the
second half of the run (a leak would show there).

    .venv/bin/python bench/fuzz.py [--count 10000] [--seed 6] [--save /tmp/fuzz-failures]

With --save, inputs that raised something else, or took longer than --slow-ms,
are written there to be replayed.
"""

from __future__ import annotations

import argparse
import gzip
import random
import re
import resource
import time
import traceback
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from primenews.domain import Page
from primenews.errors import ExtractError, ParseError
from primenews.extract import extract_article
from primenews.ingest.feeds import parse_feed
from primenews.ingest.opml import parse_opml
from primenews.ingest.sitemaps import parse_sitemap
from primenews.pipeline import read_listing

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
REPO = Path(__file__).resolve().parents[1]
BASE = "https://news.example/feed"
SHARES = {"feed": 0.55, "listing": 0.05, "sitemap": 0.15, "opml": 0.10, "page": 0.15}
INSERTS = [
    b"<div>" * 500,
    b"<![CDATA[",
    b"&#0;&#xD800;&bogus;",
    b"<?xml version='1.0'?>",
    b"\xff\xfe",
    b"<!DOCTYPE x [<!ENTITY a 'b'>]>",
    b"]]>",
    b"\x00" * 8,
    b"<html><body>" * 50,
    b"&amp;" * 200,
]
LOC = re.compile(rb"https?://[^\s<>\"']{4,200}")


def seeds() -> dict[str, list[bytes]]:
    edge = sorted((DATA / "feed_edge_cases").rglob("*"))
    feeds = [p.read_bytes() for p in edge if p.suffix in {".xml", ".json"}]
    feeds += [p.read_bytes() for p in sorted((REPO / "tests/data/ingest").glob("*.xml"))]
    opml = [p.read_bytes() for p in edge if p.suffix == ".opml"]
    opml.append((REPO / "src/primenews/data/default_sources.opml").read_bytes())
    links = sorted(
        {m.group(0).decode("ascii", "replace") for f in feeds[:400] for m in LOC.finditer(f)}
    )
    sitemaps = [(REPO / "tests/data/ingest/news_sitemap.xml").read_bytes()]
    for start in range(0, min(len(links), 2000), 50):
        chunk = links[start : start + 50]
        urls = "".join(f"<url><loc>{u}</loc><lastmod>2026-08-13</lastmod></url>" for u in chunk)
        urlset = '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">' + urls + "</urlset>"
        index = "".join(f"<sitemap><loc>{u}</loc></sitemap>" for u in chunk[:5])
        sitemaps += [
            urlset.encode(),
            f"<sitemapindex>{index}</sitemapindex>".encode(),
            "\n".join(chunk).encode(),
            gzip.compress(urlset.encode()),
        ]
    pages = [
        gzip.decompress(p.read_bytes())
        for p in sorted((DATA / "trafilatura_eval_news/html").glob("*.html.gz"))
    ]
    return {"feed": feeds, "listing": feeds, "sitemap": sitemaps, "opml": opml, "page": pages}


def mutate(content: bytes, rng: random.Random) -> bytes:
    """The seed with 1-6 random edits (see the module docstring)."""
    data = bytearray(content)
    for _ in range(rng.randint(1, 6)):
        start = rng.randint(0, len(data))
        end = min(len(data), start + rng.randint(0, 400))
        action = rng.choice(("delete", "duplicate", "replace", "truncate", "insert"))
        if action == "delete":
            del data[start:end]
        elif action == "duplicate":
            data[start:start] = data[start:end] * rng.randint(1, 8)
        elif action == "replace":
            data[start:end] = rng.randbytes(rng.randint(0, 64))
        elif action == "truncate":
            del data[start:]
        else:
            data[start:start] = rng.choice(INSERTS)
    return bytes(data)


def _listing(content: bytes) -> object:
    page = Page(url=BASE, final_url=BASE, content=content, status=200, fetched_at=datetime.now(UTC))
    return read_listing(page)


PARSERS: dict[str, tuple[Callable[[bytes], object], type[Exception]]] = {
    "feed": (lambda content: parse_feed(content, BASE), ParseError),
    "listing": (_listing, ParseError),
    "sitemap": (lambda content: parse_sitemap(content, BASE), ParseError),
    "opml": (parse_opml, ParseError),
    "page": (lambda content: extract_article(content, "https://news.example/a"), ExtractError),
}


@dataclass(slots=True)
class Tally:
    inputs: int = 0
    parsed: int = 0
    our_errors: int = 0
    unexpected: Counter[str] = field(default_factory=Counter)
    slowest_ms: float = 0.0
    total_s: float = 0.0


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--save", type=Path, help="folder for inputs that raised something else")
    parser.add_argument(
        "--slow-ms", type=float, default=5000, help="inputs slower than this are saved too"
    )
    args = parser.parse_args()
    rng = random.Random(args.seed)
    corpus = seeds()
    print("seeds:", ", ".join(f"{kind} {len(docs)}" for kind, docs in corpus.items()))
    kinds = [kind for kind, share in SHARES.items() for _ in range(round(share * args.count))]
    rng.shuffle(kinds)
    tallies: dict[str, Tally] = defaultdict(Tally)
    started, half_rss = time.perf_counter(), 0.0
    for number, kind in enumerate(kinds, start=1):
        content = (
            rng.randbytes(rng.randint(0, 4096))
            if rng.random() < 0.1
            else mutate(rng.choice(corpus[kind]), rng)
        )
        parse, allowed = PARSERS[kind]
        tally = tallies[kind]
        tally.inputs += 1
        began = time.perf_counter()
        try:
            parse(content)
            tally.parsed += 1
        except allowed:
            tally.our_errors += 1
        except Exception as err:  # what the fuzzing is looking for: count, keep, go on
            where = traceback.extract_tb(err.__traceback__)[-1]
            tally.unexpected[
                f"{type(err).__name__} at {Path(where.filename).name}:{where.lineno}"
            ] += 1
            if args.save:
                args.save.mkdir(parents=True, exist_ok=True)
                (args.save / f"{kind}-{number}.bin").write_bytes(content)
        elapsed = time.perf_counter() - began
        if args.save and elapsed * 1000 > args.slow_ms:
            args.save.mkdir(parents=True, exist_ok=True)
            (args.save / f"slow-{kind}-{number}-{elapsed:.1f}s.bin").write_bytes(content)
        tally.total_s += elapsed
        tally.slowest_ms = max(tally.slowest_ms, elapsed * 1000)
        if number == len(kinds) // 2:
            half_rss = rss_mb()
        if number % 1000 == 0:
            print(
                f"  {number} inputs, {time.perf_counter() - started:.0f} s, "
                f"peak RSS {rss_mb():.0f} MB",
                flush=True,
            )
    print()
    print("| parser | inputs | parsed | our error | other exception | slowest ms | mean ms |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for kind, tally in tallies.items():
        mean = tally.total_s / tally.inputs * 1000 if tally.inputs else 0.0
        print(
            f"| {kind} | {tally.inputs} | {tally.parsed} | {tally.our_errors} | "
            f"{sum(tally.unexpected.values())} | {tally.slowest_ms:.0f} | {mean:.1f} |"
        )
    for kind, tally in tallies.items():
        for what, count in tally.unexpected.most_common():
            print(f"  ! {kind}: {what} ×{count}")
    total = sum(sum(t.unexpected.values()) for t in tallies.values())
    print(
        f"\n{len(kinds)} inputs in {time.perf_counter() - started:.0f} s; {total} unexpected "
        f"exceptions; peak RSS {half_rss:.0f} MB at half way, {rss_mb():.0f} MB at the end"
    )


if __name__ == "__main__":
    main()
