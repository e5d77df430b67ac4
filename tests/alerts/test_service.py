"""Alerts in the service: an immediate alert goes out after the round that found its article."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

from primenews import service
from primenews.alerts.model import AlertRule, Frequency
from primenews.config import Settings, load_settings
from primenews.domain import Source
from primenews.store import Store
from primenews.store.alerts import AlertFields
from primenews.store.users import User

from .conftest import Receiver
from publisher import PublisherServer
from shared_data import SEED_DIR, require_shared

SEED_PATH = "/world/venezuela-frees-103-detained-after-election"


def test_poll_loop_delivers_immediate_alerts_after_its_round(
    tmp_path: Path, migrated_database_url: str, store: Store, owner: User, receiver: Receiver
) -> None:
    settings: Settings = load_settings(
        environ={},
        overrides={
            "data_dir": str(tmp_path), "database": migrated_database_url,
            "allow_private_networks": True,  # the publisher and the receiver are on loopback
            "fetch_per_host_delay_ms": 0, "fetch_retries": 0, "insights_enabled": False,
            "alert_webhook_backoff_seconds": 0.0, "public_url": "https://news.example",
        },
    )  # fmt: skip
    page = require_shared(SEED_DIR / "page.html").read_bytes()
    fields = AlertFields("Venezuela", AlertRule("venezuela detained"), Frequency.IMMEDIATE,
                         webhook_url=receiver.url)  # fmt: skip
    alert = store.alerts.create(owner.id, fields, datetime.now(UTC))
    with PublisherServer() as site:
        site.add(SEED_PATH, page, headers={"Content-Type": "text/html; charset=utf-8"})
        feed = (
            '<?xml version="1.0"?><rss version="2.0"><channel><title>Prime World</title>'
            f"<link>{site.url('/')}</link><item><title>Venezuela</title>"
            f"<link>{site.url(SEED_PATH)}</link></item></channel></rss>"
        ).encode()
        site.add("/feed.xml", feed)
        store.add_source(Source(url=site.url("/feed.xml")), datetime.now(UTC))
        asyncio.run(_poll_until_called(settings, store, receiver))
    [(_, body)] = receiver.calls
    document = json.loads(body)
    assert document["alert"]["id"] == alert.id
    [article] = document["articles"]
    assert article["original_url"] == site.url(SEED_PATH)
    [log] = store.alerts.deliveries(alert.id)
    assert log.status == "sent" and log.articles == 1


async def _poll_until_called(settings: Settings, store: Store, receiver: Receiver) -> None:
    async with service.running_poller(settings, store, processes=0) as poller:
        stop, wake = asyncio.Event(), asyncio.Event()
        loop = asyncio.create_task(service.poll_forever(poller, stop, wake, settings))
        for _ in range(300):
            if receiver.calls:
                break
            await asyncio.sleep(0.1)
        stop.set()
        await loop
