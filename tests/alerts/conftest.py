"""Alert fixtures: a real SMTP server (aiosmtpd) and a webhook receiver, both on loopback."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import argon2
import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from primenews.auth import PasswordHasher
from primenews.auth.accounts import create_user
from primenews.config import Settings, load_settings
from primenews.domain import Source
from primenews.store import Store
from primenews.store.users import User
from primenews.web.app import create_app

from factories import MakeArticle, article_maker

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Mailbox:
    """What the SMTP server received; ``refuse`` makes it answer 550 to every recipient."""

    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    refuse: bool = False

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook name)
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        raw = envelope.original_content or b""
        message = message_from_bytes(raw, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        self.envelopes.append((str(envelope.mail_from), list(envelope.rcpt_tos)))
        return "250 Message accepted"


@dataclass
class SmtpServer:
    mailbox: Mailbox
    port: int


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer(mailbox, port)
    finally:
        controller.stop()


@dataclass
class Receiver:
    """A webhook endpoint: answers ``statuses`` in turn (then 200), after ``delay`` seconds."""

    url: str = ""
    statuses: list[int] = field(default_factory=list)
    delay: float = 0.0
    calls: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            state.calls.append(({k.lower(): v for k, v in self.headers.items()}, body))
            if state.delay:
                time.sleep(state.delay)
            status = state.statuses.pop(0) if state.statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def alert_settings(tmp_path: Path, migrated_database_url: str, smtp_server: SmtpServer) -> Settings:
    """Settings over the test store, mailing through the loopback SMTP server, webhooks to
    loopback allowed through ``fetch_allowlist`` (as an operator would allow an internal host)."""
    overrides = {
        "data_dir": str(tmp_path),
        "database": migrated_database_url,
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp_server.port,
        "smtp_from": "alerts@news.example",
        "smtp_timeout_seconds": 5.0,
        "fetch_allowlist": "127.0.0.1/32",
        "alert_webhook_retries": 2,
        "alert_webhook_backoff_seconds": 0.0,
        "alert_webhook_timeout_seconds": 1.0,
        "public_url": "https://news.example",
    }
    config = tmp_path / "primenews.toml"
    config.write_text("")
    return load_settings(config_file=config, environ={}, overrides=overrides)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def quick_hasher() -> PasswordHasher:
    return PasswordHasher(argon2.PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def owner(store: Store, quick_hasher: PasswordHasher) -> User:
    return create_user(store, quick_hasher, "alice", "correct horse battery", NOW)


@pytest.fixture
def source(store: Store) -> Source:
    stored, _ = store.add_source(Source(url="https://news.example/feed", title="Example News"), NOW)
    return stored


@pytest.fixture
def make_article(store: Store, source: Source) -> MakeArticle:
    """Save an article of ``source`` through the store; returns its id."""
    return article_maker(store, source)


@pytest.fixture
async def web(
    alert_settings: Settings, store: Store, quick_hasher: PasswordHasher
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(alert_settings, store)
    app.state.auth.hasher = quick_hasher
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client
