"""The CLI on real temp files and a loopback publisher (CliRunner), and `up` as a process."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import httpx
import pytest
from click.testing import CliRunner
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from primenews.cli import main
from primenews.domain import LiveEvent
from primenews.store import Store, make_engine
from primenews.store.desklock import desk_lock
from primenews.worker.live import KeptEvents

from publisher import PublisherServer
from shared_data import SEED_DIR, require_shared

SEED_URL = "https://primenews.example/world/venezuela-frees-103-detained-after-election"
FEED = (
    '<?xml version="1.0"?><rss version="2.0"><channel><title>Loopback News</title>'
    "<link>{base}/</link><item><title>Seed</title><link>{base}/seed.html?utm_source=x</link>"
    "</item></channel></rss>"
)


@pytest.fixture
def run(tmp_path: Path, database_url: str):  # type: ignore[no-untyped-def]
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> click.testing.Result:
        base = [
            "--data-dir",
            str(tmp_path),
            "--database",
            database_url,
            "--allow-private-networks",
            "--set",
            "fetch_per_host_delay_ms=0",
            "--set",
            "extract_workers=1",
        ]
        return runner.invoke(main, [*base, *args], input=input, catch_exceptions=False)

    return invoke


def _site(site: PublisherServer) -> None:
    base = site.url("").rstrip("/")
    seed = require_shared(SEED_DIR / "page.html").read_bytes()
    site.add(
        "/seed.html",
        seed.replace(SEED_URL.encode(), f"{base}/seed.html".encode()),
        headers={"Content-Type": "text/html; charset=utf-8"},
    )
    site.add(
        "/feed.xml",
        FEED.format(base=base).encode(),
        headers={"Content-Type": "application/rss+xml"},
    )
    site.add(
        "/",
        f'<html><head><link rel="alternate" type="application/rss+xml" '
        f'title="Loopback News" href="{base}/feed.xml"><link rel="alternate" '
        f'type="application/rss+xml" title="Comments Feed" href="{base}/comments/feed">'
        f"</head><body>home</body></html>".encode(),
        headers={"Content-Type": "text/html"},
    )


def test_every_command_has_help() -> None:
    runner = CliRunner()
    commands: list[list[str]] = [[]]
    for name, command in main.commands.items():
        commands.append([name])
        if isinstance(command, click.Group):
            commands += [[name, sub] for sub in command.commands]
    for path in commands:
        result = runner.invoke(main, [*path, "--help"])
        assert result.exit_code == 0, path
        assert "Usage:" in result.output


def test_add_discovers_feed_then_poll_stores_article(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with PublisherServer() as site:
        _site(site)
        added = run("sources", "add", site.url("/"))
        assert added.exit_code == 0, added.output
        assert site.url("/feed.xml") in added.output and "comments" not in added.output
        polled = run("poll", "--once")
        assert polled.exit_code == 0, polled.output
        assert "1 new articles" in polled.output
    listed = run("sources", "list", "--json")
    [row] = [json.loads(line) for line in listed.output.splitlines()]
    assert row["title"] == "Loopback News" and row["last_status"] == 200
    assert row["articles"] == 1 and row["last_error"] is None and row["next_due"]


def test_a_second_poller_on_one_store_is_refused_but_adding_sources_is_not(  # type: ignore[no-untyped-def]
    run, database_url: str
) -> None:
    with PublisherServer() as site:
        _site(site)
        engine = make_engine(database_url)
        try:
            with desk_lock(engine):  # another process's desk, as `primenews up` holds it
                added = run("sources", "add", site.url("/"))
                assert added.exit_code == 0, added.output
                refused = run("poll", "--once")
                assert refused.exit_code == 1
                assert "already runs the story desk" in refused.output
                assert "primenews up --no-poll" in refused.output
            polled = run("poll", "--once")
        finally:
            engine.dispose()
        assert polled.exit_code == 0, polled.output
        assert "1 new articles" in polled.output


def test_failing_source_is_listed_with_its_error(run) -> None:  # type: ignore[no-untyped-def]
    with PublisherServer() as site:
        site.add("/feed.xml", b"", status=503)
        assert run("sources", "add", "--kind", "feed", site.url("/feed.xml")).exit_code == 0
        polled = run("poll", "--once", "--help")  # help never polls
        assert polled.exit_code == 0
        polled = run("poll", "--once")
    assert polled.exit_code == 0
    assert "1 sources failing" in polled.output and "503" in polled.output
    [row] = [json.loads(line) for line in run("sources", "list", "--json").output.splitlines()]
    assert "503" in row["last_error"] and row["error_count"] == 1
    assert row["poll_interval_minutes"] == 30 and row["next_due"]  # the back-off keeps the base
    [line] = run("sources", "list").output.splitlines()
    assert "\terrors=1\tevery=30m\tnext=" in line and "503" in line
    assert line.endswith("\tpush=off: public_url is not set")  # no WebSub without it
    assert row["push"] == "off: public_url is not set"


def test_add_rejects_non_http_urls(run) -> None:  # type: ignore[no-untyped-def]
    result = run("sources", "add", "ftp://example.com/feed")
    assert result.exit_code != 0 and "not an http(s) URL" in result.output


def test_poll_without_sources_says_what_to_do(run) -> None:  # type: ignore[no-untyped-def]
    result = run("poll", "--once")
    assert result.exit_code != 0 and "primenews sources add" in result.output


def test_opml_import_export_round_trip(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    opml = tmp_path / "in.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><head/><body><outline text="World">'
        '<outline type="rss" text="A" xmlUrl="https://a.example/feed.xml" htmlUrl="https://a.example/"/>'
        '<outline type="rss" text="B" xmlUrl="https://b.example/rss"/></outline>'
        '<outline type="rss" text="bad" xmlUrl="javascript:alert(1)"/></body></opml>'
    )
    result = run("sources", "import", str(opml))
    assert result.exit_code == 0 and "Imported 2 feeds" in result.output
    assert "Imported 2 feeds" in run("sources", "import", str(opml)).output  # idempotent
    out = tmp_path / "out.opml"
    assert run("sources", "export", "-o", str(out)).exit_code == 0
    exported = out.read_text()
    assert "https://a.example/feed.xml" in exported and "https://b.example/rss" in exported
    assert "javascript" not in exported


def test_import_of_a_non_opml_file_explains(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    junk = tmp_path / "junk.opml"
    junk.write_bytes(b"\x00\x01 not xml")
    result = run("sources", "import", str(junk))
    assert result.exit_code != 0 and "OPML" in result.output


def test_extract_seed_page_as_json(run) -> None:  # type: ignore[no-untyped-def]
    page = require_shared(SEED_DIR / "page.html")
    result = run("extract", str(page), "--json", "--url", SEED_URL)
    assert result.exit_code == 0, result.output
    article = json.loads(result.output)
    expected = json.loads((SEED_DIR / "expected.json").read_text())["metadata"]
    assert article["url"] == expected["canonical_url"]
    assert article["title"] == expected["title"]
    assert article["section"] == expected["publisher_section"]
    assert article["published"].startswith("2024-11-29T09:30:00")


def test_extract_several_inputs_gives_json_lines_and_reports_failures(
    run,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    page = require_shared(SEED_DIR / "page.html")
    empty = tmp_path / "empty.html"
    empty.write_bytes(b"")
    result = run("extract", str(page), str(page), str(empty), "--json")
    assert result.exit_code == 1
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == 2
    assert json.loads(lines[0])["url"] == SEED_URL  # a saved page's own canonical link
    assert "empty.html" in result.stderr


def test_extract_url_over_http_is_checked_like_any_fetch(tmp_path: Path) -> None:
    runner = CliRunner()
    with PublisherServer() as site:
        _site(site)
        refused = runner.invoke(
            main, ["--data-dir", str(tmp_path), "extract", site.url("/seed.html")]
        )
        assert refused.exit_code == 1 and "PRIMENEWS_ALLOW_PRIVATE_NETWORKS" in refused.stderr
        allowed = runner.invoke(
            main,
            [
                "--data-dir",
                str(tmp_path),
                "--allow-private-networks",
                "extract",
                "--json",
                site.url("/seed.html"),
            ],
        )
    assert allowed.exit_code == 0
    assert json.loads(allowed.stdout)["title"].startswith("Venezuela frees 103")


def _warc(path: Path, pages: dict[str, bytes]) -> None:
    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=True)
        for url, body in pages.items():
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], "HTTP/1.1")
            writer.write_record(
                writer.create_warc_record(
                    url, "response", payload=io.BytesIO(body), length=len(body), http_headers=http
                )
            )


def test_ingest_warc_and_folder_is_idempotent(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    seed = require_shared(SEED_DIR / "page.html").read_bytes()
    folder = tmp_path / "saved"
    folder.mkdir()
    (folder / "seed.html").write_bytes(seed)
    (folder / "nothing.html").write_bytes(b"<html><body></body></html>")
    other = seed.replace(SEED_URL.encode(), b"https://other.example/a").replace(b"103", b"104")
    _warc(tmp_path / "crawl.warc.gz", {"https://other.example/a": other})
    first = run("ingest", str(folder), str(tmp_path / "crawl.warc.gz"))
    assert first.exit_code == 0, first.output
    assert "2 new" in first.output and "1 without an article" in first.output
    again = run("ingest", str(folder), str(tmp_path / "crawl.warc.gz"))
    assert "0 new" in again.output and "2 unchanged" in again.output


def test_config_show_masks_secrets_and_bad_values_fail(tmp_path: Path) -> None:
    runner = CliRunner()
    shown = runner.invoke(main, ["--database", "postgresql://u:secret@db/news", "config", "--show"])
    assert shown.exit_code == 0 and "secret" not in shown.output and "db/news" in shown.output
    bad = runner.invoke(main, ["--set", "port=http", "config", "--show"])
    assert bad.exit_code != 0 and "'port'" in bad.output and "'http'" in bad.output


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_up_serves_polls_and_stops_cleanly_on_sigint(tmp_path: Path, database_url: str) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "PRIMENEWS_DATA_DIR": str(tmp_path),
        "PRIMENEWS_DATABASE": database_url,
        "PRIMENEWS_PORT": str(port),
        "PRIMENEWS_ALLOW_PRIVATE_NETWORKS": "true",
        "PRIMENEWS_FETCH_PER_HOST_DELAY_MS": "0",
        "PRIMENEWS_EXTRACT_WORKERS": "1",
    }
    with PublisherServer() as site:
        _site(site)
        # A source of our own, so `up` neither seeds the default (internet) feeds nor reaches out.
        subprocess.run(
            [
                sys.executable,
                "-m",
                "primenews",
                "sources",
                "add",
                "--kind",
                "feed",
                site.url("/feed.xml"),
            ],
            env=env,
            check=True,
            capture_output=True,
        )
        token = _api_token(env)
        before = LiveEvent("story.new", {"headline": "Before the restart"}, story_id=99)
        _keep_event(database_url, before)  # what an earlier run told live pages
        process = subprocess.Popen(
            [sys.executable, "-m", "primenews", "up"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            articles = _wait_for_articles(f"http://127.0.0.1:{port}", process)
            home = _post_home_page(f"http://127.0.0.1:{port}", site.url("/"), token)
            replayed = _first_event_after(f"http://127.0.0.1:{port}", "0")
        finally:
            process.send_signal(signal.SIGINT)
            output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert "No sources yet" not in output and "Traceback" not in output
    assert articles[0]["title"].startswith("Venezuela frees 103")
    assert home == [site.url("/feed.xml")]  # the home page was swapped for the feed it announces
    # A live page that reconnects after a restart gets what the last run told it too.
    assert "event: story.new" in replayed and '"headline":"Before the restart"' in replayed


def _keep_event(database_url: str, event: LiveEvent) -> None:
    store = Store.open(database_url)
    try:
        KeptEvents(store).publish(event)
    finally:
        store.close()


def _first_event_after(base: str, last_event_id: str) -> str:
    """The text of the first event an EventSource resuming from ``last_event_id`` gets."""
    headers = {"Last-Event-ID": last_event_id}
    with httpx.stream("GET", f"{base}/api/v1/events", headers=headers, timeout=10) as stream:
        return _to_first_event(stream.iter_lines())


def _api_token(env: dict[str, str]) -> str:
    """An API token of a new admin, made the way an operator would: users add, tokens add."""
    primenews = [sys.executable, "-m", "primenews"]
    add_user = [*primenews, "users", "add", "ops", "--password-file", "-"]
    password = "long enough password\n"
    subprocess.run(add_user, env=env, input=password, text=True, check=True, capture_output=True)
    add_token = [*primenews, "tokens", "add", "--user", "ops"]
    made = subprocess.run(add_token, env=env, text=True, check=True, capture_output=True)
    return made.stdout.strip()


def _post_home_page(base: str, home_url: str, token: str) -> list[str]:
    """POST a home page to the API; return the source URLs once discovery has replaced it."""
    answer = httpx.post(
        f"{base}/api/v1/sources",
        json={"url": home_url},
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert answer.status_code == 201, answer.text
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        listed = httpx.get(f"{base}/api/v1/sources", timeout=2).json()
        urls = [s["url"] for s in (listed["sources"] if isinstance(listed, dict) else listed)]
        if home_url not in urls:
            return urls
        time.sleep(0.2)
    raise AssertionError(f"{home_url} was not resolved to its feeds")


def _wait_for_articles(base: str, process: subprocess.Popen[str]) -> list[dict[str, object]]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        try:
            found = httpx.get(f"{base}/api/v1/articles", timeout=2).json()["articles"]
            if found:
                page = httpx.get(f"{base}/", timeout=2)
                assert page.status_code == 200 and "Venezuela frees 103" in page.text
                return list(found)
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise AssertionError("no article served within 60 s")


def test_up_seeds_default_sources_when_there_are_none(tmp_path: Path, database_url: str) -> None:
    """`up --no-poll` seeds the default feeds without fetching anything (no internet in tests).

    It serves while another process holds the story desk (a web process beside
    the poller) and streams the live events that process keeps in the store.
    """
    engine = make_engine(database_url)
    try:
        with desk_lock(engine):
            sources, streamed, output, returncode = _serve_no_poll(tmp_path, database_url)
    finally:
        engine.dispose()
    assert returncode == 0, output
    assert "added 20 default news feeds" in output
    assert "No admin account yet: `primenews users add NAME`" in output
    listed = sources["sources"] if isinstance(sources, dict) else sources
    assert len(listed) == 20
    assert "event: story.new" in streamed and '"headline":"Kept elsewhere"' in streamed


def _serve_no_poll(tmp_path: Path, database_url: str) -> tuple[Any, str, str, int]:
    """Run `up --no-poll`; what /api/v1/sources and /api/v1/events answer, output, exit code.

    The event is kept in the store by this test, as the poller's process would.
    """
    port = _free_port()
    env = {
        **os.environ,
        "PRIMENEWS_DATA_DIR": str(tmp_path),
        "PRIMENEWS_DATABASE": database_url,
        "PRIMENEWS_PORT": str(port),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "primenews", "up", "--no-poll"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base, sources, streamed = f"http://127.0.0.1:{port}", None, ""
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and process.poll() is None:
            try:
                sources = httpx.get(f"{base}/api/v1/sources", timeout=2).json()
                break
            except httpx.TransportError:
                time.sleep(0.3)
        if sources is not None:
            streamed = _read_one_event(base, database_url)
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    return sources, streamed, output, process.returncode


def _read_one_event(base: str, database_url: str) -> str:
    """Open the event stream, keep one event in the store, return the stream's text to it."""
    with httpx.stream("GET", f"{base}/api/v1/events", timeout=10) as stream:
        lines = stream.iter_lines()
        assert next(lines) == "retry: 5000"
        _keep_event(database_url, LiveEvent("story.new", {"headline": "Kept elsewhere"}))
        return _to_first_event(lines)


def _to_first_event(lines: Iterator[str]) -> str:
    """The stream's text up to and with the first event's data line."""
    seen = []
    for line in lines:
        seen.append(line)
        if line.startswith("data: "):
            break
    return "\n".join(seen)


def test_classify_reads_json_lines_and_reports_bad_ones() -> None:
    seed = json.loads(require_shared(SEED_DIR / "expected.json").read_text())
    text = require_shared(SEED_DIR / "seed.txt").read_text()
    lines = [json.dumps({"title": seed["metadata"]["title"], "text": text}), "not json", "[1]"]
    result = CliRunner().invoke(main, ["classify"], input="\n".join(lines) + "\n")
    assert result.exit_code == 0
    first, bad, not_object = (json.loads(line) for line in result.stdout.splitlines())
    main_four = {"world", "politics", "business", "technology"}
    assert main_four & set(first["sections"]) == {"world", "politics"}
    assert set(first["scores"]) >= main_four
    assert "error" in bad and "error" in not_object
    assert "line 2" in result.stderr


def test_classify_reads_null_fields_as_empty_and_one_category_as_one() -> None:
    lines = [
        json.dumps({"title": None, "text": "Bayern Munich beat Dortmund 3-1 in the Bundesliga."}),
        json.dumps({"title": "None", "text": None}),
        json.dumps({"title": "", "text": "", "url": "https://x.test/a", "categories": "Business"}),
    ]
    result = CliRunner().invoke(main, ["classify"], input="\n".join(lines) + "\n")
    assert result.exit_code == 0
    football, _, category = (json.loads(line) for line in result.stdout.splitlines())
    assert "sport" in football["sections"]
    assert "business" in category["sections"]  # the publisher's category, not letters B, u, s …
