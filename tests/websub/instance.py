"""A running Prime News instance for push tests: poller, WebSub manager and uvicorn on one loop.

Like ``service.run_up``, the web server and the poller share the event loop, so
a pushed body goes through the same poller (and store writer) a poll uses.
The server's socket is bound first, so ``public_url`` names its real port.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from primenews import service
from primenews.config import Settings, load_settings
from primenews.store import Store
from primenews.web.app import create_app
from primenews.web.events import Broadcaster
from primenews.worker.poller import Poller
from primenews.worker.websub import WebSubManager, WebSubOptions


@dataclass
class Instance:
    settings: Settings
    store: Store
    poller: Poller
    manager: WebSubManager
    live: Broadcaster
    base_url: str


class Clock:
    """A clock the test moves: real time plus ``offset``."""

    def __init__(self) -> None:
        self.offset_seconds = 0.0

    def __call__(self) -> datetime:
        from datetime import timedelta

        return datetime.now(UTC) + timedelta(seconds=self.offset_seconds)


def instance_settings(tmp_path: Path, port: int, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": str(tmp_path),
        "allow_private_networks": True,
        "fetch_per_host_delay_ms": 0,
        "fetch_per_host_concurrency": 8,
        "fetch_retries": 0,
        "public_url": f"http://127.0.0.1:{port}",
    }
    values.update(overrides)
    return load_settings(environ={}, overrides=values)


@contextlib.asynccontextmanager
async def running_instance(
    tmp_path: Path,
    *,
    options: Callable[[str], WebSubOptions] | None = None,
    clock: Callable[[], datetime] | None = None,
    heartbeat_seconds: float = 15.0,
    **overrides: Any,
) -> AsyncIterator[Instance]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    settings = instance_settings(tmp_path, port, **overrides)
    store = service.open_store(settings)
    live = Broadcaster(heartbeat_seconds=heartbeat_seconds)
    try:
        async with (
            service.running_poller(settings, store, processes=0, events=live) as poller,
            httpx.AsyncClient(trust_env=False) as client,
        ):
            websub = options(settings.public_url) if options else WebSubOptions(settings.public_url)
            manager = WebSubManager(poller, client, websub, **({"clock": clock} if clock else {}))
            poller.push = manager
            app = create_app(settings, store, live_events=live, websub_manager=manager)
            config = uvicorn.Config(app, log_config=None, lifespan="off")
            server = uvicorn.Server(config)
            serving = asyncio.create_task(server.serve(sockets=[sock]))
            while not server.started:
                assert not serving.done(), "uvicorn did not start"
                await asyncio.sleep(0.01)
            try:
                yield Instance(settings, store, poller, manager, live, settings.public_url)
            finally:
                live.close()
                server.should_exit = True
                await serving
                await manager.aclose()
    finally:
        sock.close()
        store.close()


async def eventually(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Wait (without blocking the loop) until ``check()`` is truthy; return it."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = check()
        if value:
            return value
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)
