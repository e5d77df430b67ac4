"""Post-to-visible latency on loopback: WebSub push against adaptive polling.

    .venv/bin/python bench/latency.py [--items 30] [--poll-min-seconds 6] [--mode both]

A publisher (tests/publisher.py) serves an Atom feed and article pages; a real
hub (tests/websub/hub.py) verifies subscriptions and distributes signed
content. The instance is the real thing, wired as ``primenews up`` wires it:
uvicorn, the poller, the story desk and the WebSub manager on one event loop,
a fresh SQLite file, extraction in-process.

For each item the publisher adds an article page and a feed entry, then

* websub: pings the hub (``hub.mode=publish``); the hub fetches the feed and
  POSTs it, signed, to our callback;
* polling: does nothing; the poll loop (``service.poll_forever``) finds it at
  the source's adaptive interval, bounded by ``--poll-min-seconds`` and
  ``--poll-max-seconds`` for the bench.

The clock starts when the item is published and stops when (1) an
``article.stored`` event naming its URL arrives on an open
``GET /api/v1/events`` stream and (2) ``GET /api/v1/articles`` lists it
(asked every 20 ms). Items are published one at a time, after a pause, once
the previous one is visible; in polling mode the counted items' pauses are
evenly spread fractions of the poll interval in a seeded random order, so
they land evenly over the cycle.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from primenews import service  # noqa: E402
from primenews.domain import Source  # noqa: E402
from primenews.store import PushState  # noqa: E402
from websub.hub import LoopbackHub  # noqa: E402
from websub.instance import Instance, running_instance  # noqa: E402
from websub.pages import article_page, atom_feed  # noqa: E402

from publisher import PublisherServer  # noqa: E402

ATOM = {"Content-Type": "application/atom+xml"}
HTML = {"Content-Type": "text/html; charset=utf-8"}


@dataclass
class Sample:
    sse_seconds: float
    api_seconds: float
    interval_seconds: float | None  # the source's adaptive interval when the item was posted
    wait_seconds: float | None = (
        None  # polling: from posting to the start of the poll that found it
    )
    late_seconds: float | None = None  # polling: that poll's start after its due time


def publish(site: PublisherServer, hub_url: str, numbers: list[int]) -> str:
    base = site.url("").rstrip("/")
    site.add(f"/news/{numbers[-1]}.html", article_page(base, numbers[-1]), headers=HTML)
    return site.add("/feed.xml", atom_feed(base, hub_url, numbers[-20:]), headers=ATOM)


class Watcher:
    """Reads the event stream; records when each article URL was announced."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.seen: dict[str, float] = {}
        self.arrived = asyncio.Event()
        self.connected = asyncio.Event()

    async def run(self) -> None:
        async with self.http.stream("GET", "/api/v1/events", timeout=None) as stream:
            self.connected.set()
            kind = ""
            async for line in stream.aiter_lines():
                if line.startswith("event: "):
                    kind = line.removeprefix("event: ")
                elif line.startswith("data: ") and kind == "article.stored":
                    self.seen[json.loads(line.removeprefix("data: "))["url"]] = time.perf_counter()
                    self.arrived.set()


async def visible_in_api(http: httpx.AsyncClient, url: str, timeout: float) -> float:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        articles = (await http.get("/api/v1/articles", params={"limit": 5})).json()["articles"]
        if any(article["url"] == url for article in articles):
            return time.perf_counter()
        await asyncio.sleep(0.02)
    raise TimeoutError(f"{url} not visible in {timeout} s")


def current_interval(instance: Instance, source_id: int) -> float | None:
    """The poll cycle in force: from the source's last poll to its next, jitter included."""
    source = instance.store.get_source(source_id)
    if source is None or source.next_due is None or source.last_fetched is None:
        return None
    return (source.next_due - source.last_fetched).total_seconds()


def poll_wait(instance: Instance, source_id: int, posted: datetime) -> float | None:
    """Seconds from posting to the start of the first poll after it."""
    starts = [f.started_at for f in instance.store.recent_fetches(source_id, 5)]
    after = [start for start in starts if start >= posted]
    return (min(after) - posted).total_seconds() if after else None


async def measure(
    instance: Instance, site: PublisherServer, hub: LoopbackHub | None, args: argparse.Namespace
) -> list[Sample]:
    rng = random.Random(args.seed)
    hub_url = hub.url if hub else ""
    numbers = [0]
    topic = publish(site, hub_url, numbers)
    source, _ = instance.store.add_source(Source(url=topic), datetime.now(UTC))
    stop, wake = asyncio.Event(), asyncio.Event()
    polling = asyncio.create_task(service.poll_forever(instance.poller, stop, wake))
    samples: list[Sample] = []
    async with httpx.AsyncClient(base_url=instance.base_url, timeout=30) as http:
        watcher = Watcher(http)
        reading = asyncio.create_task(watcher.run())
        await watcher.connected.wait()
        if hub is not None:
            while not [
                s for s in instance.store.list_subscriptions() if s.state is PushState.ACTIVE
            ]:
                await asyncio.sleep(0.05)
        warmup = args.warmup if hub is None else 0  # let the adaptive interval settle first
        # Where in the cycle each counted item lands: evenly spread, in a seeded random order,
        # so the waits' median is half a cycle by design, not by the luck of the draws (30
        # uniform draws of seed 7 put the median at 0.62 of a cycle).
        phases = [(n + 0.5) / args.items for n in range(args.items)]
        rng.shuffle(phases)
        for number in range(1, warmup + args.items + 1):
            interval = current_interval(instance, source.id or 0)
            if hub is not None:
                pause = rng.uniform(0.05, 0.3)
            elif number > warmup:
                pause = phases[number - warmup - 1] * (interval or 1)
            else:
                pause = rng.uniform(0, interval or 1)
            await asyncio.sleep(pause)
            numbers.append(number)
            due = instance.store.get_source(source.id or 0)
            due_at = due.next_due if due is not None else None
            posted, posted_wall = time.perf_counter(), datetime.now(UTC)
            publish(site, hub_url, numbers)
            url = site.url(f"/news/{number}.html")
            if hub is not None:
                await asyncio.to_thread(
                    httpx.post, hub.url, data={"hub.mode": "publish", "hub.url": topic}
                )
            api_at = await visible_in_api(http, url, timeout=args.timeout)
            while url not in watcher.seen:
                watcher.arrived.clear()
                await asyncio.wait_for(watcher.arrived.wait(), timeout=args.timeout)
            sample = Sample(watcher.seen[url] - posted, api_at - posted, interval)
            if hub is None:  # the poll's fetch is logged once its articles are enriched too
                for _ in range(500):
                    sample.wait_seconds = poll_wait(instance, source.id or 0, posted_wall)
                    if sample.wait_seconds is not None:
                        break
                    await asyncio.sleep(0.02)
                if sample.wait_seconds is not None and due_at is not None and due_at > posted_wall:
                    started = posted_wall + timedelta(seconds=sample.wait_seconds)
                    sample.late_seconds = (started - due_at).total_seconds()
            if number > warmup:
                samples.append(sample)
            print(
                f"  item {number}{' (warm-up)' if number <= warmup else ''}: "
                f"sse {sample.sse_seconds:.3f} s, api {sample.api_seconds:.3f} s"
                + (f", interval {interval:.1f} s" if hub is None and interval else "")
                + (f", waited {sample.wait_seconds:.2f} s" if sample.wait_seconds else ""),
                flush=True,
            )
        reading.cancel()
    stop.set()
    await polling
    return samples


def summary(name: str, samples: list[Sample]) -> str:
    def cut(values: list[float]) -> str:
        ordered = sorted(values)
        p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
        return (
            f"median {statistics.median(ordered):.2f} s, p99 {p99:.2f} s, max {ordered[-1]:.2f} s"
        )

    lines = [f"{name} ({len(samples)} items)"]
    lines.append("  pushed over SSE:      " + cut([s.sse_seconds for s in samples]))
    lines.append("  visible in the API:   " + cut([s.api_seconds for s in samples]))
    intervals = [s.interval_seconds for s in samples if s.interval_seconds]
    if intervals and name == "polling":
        half = statistics.median(intervals) / 2
        lines.append(f"  poll cycle in force:  median {2 * half:.1f} s (half: {half:.1f} s)")
        ratios = [s.api_seconds / s.interval_seconds for s in samples if s.interval_seconds]
        lines.append(f"  latency / cycle:      median {statistics.median(ratios):.2f}")
        waits = [s.wait_seconds for s in samples if s.wait_seconds is not None]
        processing = [s.api_seconds - s.wait_seconds for s in samples if s.wait_seconds is not None]
        if waits:
            lines.append("  wait for the poll:    " + cut(waits))
            lines.append("  poll to visible:      " + cut(processing))
        late = [s.late_seconds for s in samples if s.late_seconds is not None]
        if late:  # the poll loop's wake-up, the claim and the bench's own requests on the loop
            lines.append("  poll start past due:  " + cut(late))
    return "\n".join(lines)


async def run_mode(mode: str, args: argparse.Namespace) -> list[Sample]:
    overrides = {
        "poll_interval_minutes": 1.0,
        "poll_min_interval_minutes": args.poll_min_seconds / 60,
        "poll_max_interval_minutes": max(1.0, args.poll_max_seconds / 60),
    }
    with tempfile.TemporaryDirectory() as tmp, PublisherServer() as site:
        if mode == "websub":
            with LoopbackHub() as hub:
                async with running_instance(Path(tmp), **overrides) as instance:
                    return await measure(instance, site, hub, args)
        async with running_instance(Path(tmp), **overrides) as instance:
            return await measure(instance, site, None, args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=30)
    parser.add_argument("--mode", choices=["websub", "polling", "both"], default="both")
    parser.add_argument("--poll-min-seconds", type=float, default=6.0)
    parser.add_argument("--poll-max-seconds", type=float, default=60.0)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--warmup", type=int, default=8, help="polling: items not counted")
    parser.add_argument("--seed", type=int, default=7, help="for the pauses between items")
    args = parser.parse_args()
    modes = ["websub", "polling"] if args.mode == "both" else [args.mode]
    results = {}
    for mode in modes:
        print(f"{mode}:", flush=True)
        results[mode] = asyncio.run(run_mode(mode, args))
    for mode, samples in results.items():
        print(summary(mode, samples))


if __name__ == "__main__":
    main()
