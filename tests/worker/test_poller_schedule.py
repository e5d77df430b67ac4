"""The polling schedule end to end: publisher hints and failures reach the next due time."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from primenews import service
from primenews.config import Settings, load_settings
from primenews.domain import Source
from primenews.store import Store

from publisher import PublisherServer, Route

EMPTY_RSS = b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title></channel></rss>'
TTL_RSS = EMPTY_RSS.replace(b"<title>T</title>", b"<title>T</title><ttl>120</ttl>")


@pytest.fixture
def settings(tmp_path: Path, migrated_database_url: str) -> Settings:
    return load_settings(
        environ={},
        overrides={
            "data_dir": str(tmp_path),
            "database": migrated_database_url,
            "allow_private_networks": True,
            "fetch_per_host_delay_ms": 0,
            "fetch_retries": 0,
            "poll_interval_minutes": 30,
            "poll_min_interval_minutes": 5,
            "poll_max_interval_minutes": 360,
        },
    )


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    opened = service.open_store(settings)
    yield opened
    opened.close()


def _poll_all(settings: Settings, store: Store) -> dict[str, Source]:
    with store.engine.begin() as conn:  # due now, whatever the last poll said
        conn.exec_driver_sql("UPDATE sources SET next_due = NULL")
    asyncio.run(service.poll_once(settings, store, processes=0))
    return {source.url.rsplit("/", 1)[-1]: source for source in store.list_sources()}


def _minutes_ahead(source: Source) -> float:
    assert source.next_due is not None
    return (source.next_due - datetime.now(UTC)) / timedelta(minutes=1)


def test_ttl_cache_control_and_retry_after_are_honoured(settings: Settings, store: Store) -> None:
    with PublisherServer() as site:
        site.add("/ttl.xml", TTL_RSS)
        site.add("/cached.xml", EMPTY_RSS, headers={"Cache-Control": "max-age=10800"})
        site.add("/busy.xml", b"", status=503, headers={"Retry-After": "5400"})
        site.add("/plain.xml", EMPTY_RSS)
        for name in ("ttl.xml", "cached.xml", "busy.xml", "plain.xml"):
            store.add_source(Source(url=site.url(f"/{name}")), datetime.now(UTC))
        sources = _poll_all(settings, store)
    assert _minutes_ahead(sources["ttl.xml"]) >= 120 * 0.9 - 1
    assert _minutes_ahead(sources["cached.xml"]) >= 180 * 0.9 - 1
    busy = sources["busy.xml"]
    assert busy.error_count == 1 and "503" in (busy.last_error or "")
    assert _minutes_ahead(busy) >= 90 * 0.9 - 1  # not the 10-minute back-off
    assert _minutes_ahead(sources["plain.xml"]) <= 30 * 1.25 * 1.1


def test_failing_source_backs_off_then_recovers(settings: Settings, store: Store) -> None:
    with PublisherServer() as site:
        site.add_sequence("/flaky.xml", [Route(status=500)] * 3 + [Route(EMPTY_RSS)])
        store.add_source(Source(url=site.url("/flaky.xml")), datetime.now(UTC))
        delays, streaks = [], []
        for _ in range(4):
            source = _poll_all(settings, store)["flaky.xml"]
            delays.append(_minutes_ahead(source))
            streaks.append(source.error_count)
    assert streaks == [1, 2, 3, 0]
    assert delays[0] < delays[1] < delays[2]  # 10, 20, 40 minutes, ±10 %
    assert delays[2] >= 40 * 0.9 - 1
    assert source.poll_interval_minutes == 30 * 1.25  # the base survived the failures
    assert source.last_error is None and delays[3] <= 30 * 1.25 * 1.1
