"""End-to-end polling throughput: `primenews poll --once` over feeds served on loopback.

A publisher process serves FEEDS feeds of ENTRIES items each; every item links
to a real article page (from ../shared/data/article-extraction-benchmark and
fundus_articles) made unique by its URL, its canonical link and a marker
paragraph. The benchmark runs the real CLI in a fresh SQLite database and
reports new articles per second, wall time and peak memory.

    .venv/bin/python bench/poll.py [--feeds 100] [--entries 30]
"""

from __future__ import annotations

import argparse
import gzip
import json
import multiprocessing
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CANONICAL = re.compile(rb"<(link|meta)[^>]+(rel=.?canonical|og:url)[^>]*>", re.I)


def load_pages() -> list[bytes]:
    pages = [
        p.read_bytes() for p in sorted((DATA / "article-extraction-benchmark/html").glob("*.gz"))
    ]
    pages += [p.read_bytes() for p in sorted((DATA / "fundus_articles/html").glob("*/*.gz"))]
    return [gzip.decompress(page) for page in pages]


def rss(base: str, feed: int, entries: int) -> bytes:
    items = "".join(
        f"<item><title>Story {feed}-{n}</title><link>{base}/a/{feed}/{n}.html?utm_source=rss</link>"
        f"<guid>{base}/a/{feed}/{n}.html</guid>"
        f"<pubDate>Sat, 28 Nov 2026 {n % 24:02d}:00:00 GMT</pubDate></item>"
        for n in range(entries)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed {feed}</title>'
        f"<link>{base}/</link>{items}</channel></rss>"
    ).encode()


def article_page(page: bytes, base: str, path: str, feed: int, item: int) -> bytes:
    """A corpus page made unique for one benchmark item: its own canonical URL and a marker."""
    url = f"{base}{path}".encode()
    marker = f"<p>Item {feed}-{item} of the benchmark.</p>".encode()
    body = CANONICAL.sub(b"", page).replace(
        b"</head>", b'<link rel="canonical" href="' + url + b'"></head>', 1
    )
    return body.replace(b"</body>", marker + b"</body>", 1)


def answer(handler: BaseHTTPRequestHandler, body: bytes | None, kind: str) -> None:
    """A 200 with ``body``, or a 404 when there is none."""
    handler.send_response(404 if body is None else 200)
    if body is not None:
        handler.send_header("Content-Type", kind)
    handler.send_header("Content-Length", str(len(body or b"")))
    handler.end_headers()
    if body:
        handler.wfile.write(body)


def serve(port_queue: multiprocessing.Queue, entries: int) -> None:  # type: ignore[type-arg]
    pages = load_pages()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802
            path = self.path.split("?")[0]
            base = f"http://{self.headers['Host']}"
            if path.startswith("/feed/"):
                answer(self, rss(base, int(path[6:].split(".")[0]), entries), "application/rss+xml")
            elif path.startswith("/a/"):
                feed, item = (int(part) for part in path[3:].removesuffix(".html").split("/"))
                page = pages[(feed * entries + item) % len(pages)]
                answer(self, article_page(page, base, path, feed, item), "text/html; charset=utf-8")
            else:
                answer(self, None, "")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port_queue.put(server.server_address[1])
    server.serve_forever()


def _children_cpu() -> float:
    """CPU seconds of finished child processes (the CLI with its extract workers)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(feeds: int, entries: int) -> dict[str, float]:
    ports: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    publisher = multiprocessing.Process(target=serve, args=(ports, entries), daemon=True)
    publisher.start()
    base = f"http://127.0.0.1:{ports.get(timeout=60)}"
    with tempfile.TemporaryDirectory() as tmp:
        opml = Path(tmp) / "feeds.opml"
        outlines = "".join(
            f'<outline type="rss" text="Feed {i}" xmlUrl="{base}/feed/{i}.xml"/>'
            for i in range(feeds)
        )
        opml.write_text(
            f'<?xml version="1.0"?><opml version="2.0"><head/><body>{outlines}</body></opml>'
        )
        env = dict(
            os.environ,
            PRIMENEWS_DATA_DIR=tmp,
            PRIMENEWS_ALLOW_PRIVATE_NETWORKS="true",
            PRIMENEWS_FETCH_PER_HOST_DELAY_MS="0",
            PRIMENEWS_FETCH_PER_HOST_CONCURRENCY="32",
            PRIMENEWS_FETCH_CONCURRENCY="64",
        )
        cli = [sys.executable, "-m", "primenews"]
        subprocess.run(
            [*cli, "sources", "import", str(opml)], env=env, check=True, capture_output=True
        )
        cpu_before = _children_cpu()
        started = time.perf_counter()
        done = subprocess.run(
            [*cli, "poll", "--once"], env=env, check=True, capture_output=True, text=True
        )
        seconds = time.perf_counter() - started
        cpu = _children_cpu() - cpu_before
        new = int(re.search(r"(\d+) new articles", done.stdout).group(1))  # type: ignore[union-attr]
    publisher.terminate()
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {
        "cpu_ms_per_article": cpu * 1000 / max(new, 1),
        "feeds": feeds,
        "entries": feeds * entries,
        "new_articles": new,
        "seconds": seconds,
        "articles_per_second": new / seconds,
        "peak_child_rss_mb": peak_mb,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--feeds", type=int, default=100)
    parser.add_argument("--entries", type=int, default=30)
    args = parser.parse_args()
    result = run(args.feeds, args.entries)
    print(f"cores: {os.cpu_count()}")
    print(
        "| feeds | entries | new articles | seconds | articles/s "
        "| CPU ms per article (poller + workers) | peak RSS of a child (MB) |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    print(
        f"| {result['feeds']} | {result['entries']} | {result['new_articles']} "
        f"| {result['seconds']:.1f} | {result['articles_per_second']:.1f} "
        f"| {result['cpu_ms_per_article']:.0f} "
        f"| {result['peak_child_rss_mb']:.0f} |"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
