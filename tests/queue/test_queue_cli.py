"""The queue's settings and commands when the queue is missing or wrong (no Redis needed)."""

from __future__ import annotations

import socket
from pathlib import Path

from click.testing import CliRunner

from primenews.cli import main


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_worker_without_a_queue_says_what_to_set(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--data-dir", str(tmp_path), "worker"])
    assert result.exit_code == 1
    assert "set PRIMENEWS_QUEUE_URL=redis://" in result.output


def test_a_queue_url_that_is_not_redis_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["--data-dir", str(tmp_path), "--set", "queue_url=amqp://u:secret@mq/", "worker"]
    )
    assert result.exit_code == 1
    assert "queue_url" in result.output and "redis://" in result.output
    assert "secret" not in result.output  # the URL may hold a password


def test_poll_with_an_unreachable_queue_says_so_and_stores_nothing(tmp_path: Path) -> None:
    base = ["--data-dir", str(tmp_path)]
    runner = CliRunner()
    added = runner.invoke(main, [*base, "sources", "add", "--kind", "feed", "https://a.example/f"])
    assert added.exit_code == 0, added.output
    queue = f"queue_url=redis://user:pw@127.0.0.1:{_closed_port()}/0"
    result = runner.invoke(main, [*base, "--set", queue, "poll", "--once"])
    assert result.exit_code == 1
    assert "queue: cannot reach redis://user:**@127.0.0.1" in result.output
    assert "unset PRIMENEWS_QUEUE_URL" in result.output and ":pw@" not in result.output
    listed = runner.invoke(main, [*base, "sources", "list"])
    assert "last=-" in listed.output  # the source was not polled, so it stays due
