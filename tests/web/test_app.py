"""The app factory, and the real HTTP path: uvicorn on a loopback port in a thread."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import uvicorn
from fastapi import FastAPI

from primenews.domain import Source
from primenews.web.templating import minutes

MakeSource = Callable[..., Source]
MakeArticle = Callable[..., int]


@contextmanager
def serve_in_thread(app: FastAPI) -> Iterator[str]:
    """Run the app under uvicorn on 127.0.0.1, on a port the OS picks; yields its base URL."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", lifespan="off", ws="none"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_real_http_round_trip(
    app: FastAPI, make_source: MakeSource, make_article: MakeArticle
) -> None:
    article_id = make_article(make_source(), title="Over the wire")
    with serve_in_thread(app) as base_url, httpx.Client(base_url=base_url) as http:
        page = http.get("/")
        assert page.status_code == 200
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        assert page.headers["x-frame-options"] == "DENY"
        assert f'<a href="/article/{article_id}">Over the wire</a>' in page.text
        api = http.get("/api/v1/articles")
        assert api.status_code == 200
        [item] = api.json()["articles"]
        assert item["title"] == "Over the wire"
        assert item["links"]["html"] == f"{base_url}/article/{article_id}"
        assert http.get(item["links"]["html"]).status_code == 200


def test_public_surface() -> None:
    import primenews.web

    assert primenews.web.__all__ == ["create_app"]
    assert all(hasattr(primenews.web, name) for name in primenews.web.__all__)


def test_importing_the_app_reads_no_settings_and_opens_nothing() -> None:
    # A fresh interpreter with an impossible setting in its environment: import must not care.
    code = "import primenews.web.app, primenews.web; print('ok')"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PRIMENEWS_PORT": "not-a-port", "PRIMENEWS_DATABASE": "/nonexistent/x.db"},
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_intervals_read_as_minutes_and_hours() -> None:
    assert [minutes(v) for v in (None, 0.2, 4.6, 60, 125, 360)] == [
        "", "1 min", "5 min", "1 h", "2 h 5 min", "6 h",
    ]  # fmt: skip
