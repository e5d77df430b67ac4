"""A small real WebSub hub on 127.0.0.1 for tests and the latency benchmark.

    with LoopbackHub() as hub:
        ... a subscriber POSTs hub.mode=subscribe to hub.url ...
        hub.wait_for_subscribers(topic, 1)
        hub.distribute(topic, feed_bytes, "application/atom+xml")  # signed POSTs
        hub.notify(topic)  # like a publisher's ping: fetch the topic, then distribute it

A subscription request gets 202 (or ``subscribe_status``), then the hub verifies
intent on a thread: GET the callback with a random challenge, and only a
callback that echoes it is subscribed. Content goes out signed with each
subscriber's secret (``X-Hub-Signature: sha256=...``). ``verify=False`` makes a
hub that accepts requests and never verifies them.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import httpx

from primenews.ingest.websub import sign


@dataclass(frozen=True)
class Subscriber:
    callback: str
    secret: str
    lease_seconds: int


@dataclass(frozen=True)
class Verification:
    callback: str
    topic: str
    status: int
    echoed: bool


class LoopbackHub:
    def __init__(
        self,
        *,
        lease_seconds: int = 3600,
        subscribe_status: int = 202,
        verify: bool = True,
        method: str = "sha256",
    ) -> None:
        self.lease_seconds = lease_seconds
        self.subscribe_status = subscribe_status
        self.verify = verify
        self.method = method
        self.requests: list[dict[str, str]] = []  # subscription requests as received
        self.verifications: list[Verification] = []
        self.subscribers: dict[str, dict[str, Subscriber]] = {}  # topic -> callback -> subscriber
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.hub = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._http = httpx.Client(trust_env=False, timeout=10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/"

    def __enter__(self) -> LoopbackHub:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._http.close()

    def received(self, form: dict[str, str]) -> int:
        """A POST to the hub: a subscription request or a publisher's ping."""
        mode = form.get("hub.mode", "")
        if mode == "publish":
            topic = form.get("hub.url") or form.get("hub.topic", "")
            threading.Thread(target=self.notify, args=(topic,), daemon=True).start()
            return 204
        with self._lock:
            self.requests.append(form)
        if mode != "subscribe" or self.subscribe_status != 202:
            return self.subscribe_status if mode == "subscribe" else 400
        if self.verify:
            threading.Thread(target=self._verify, args=(form,), daemon=True).start()
        return 202

    def _verify(self, form: dict[str, str]) -> None:
        challenge = secrets.token_urlsafe(16)
        topic, callback = form["hub.topic"], form["hub.callback"]
        params = {
            "hub.mode": "subscribe",
            "hub.topic": topic,
            "hub.challenge": challenge,
            "hub.lease_seconds": str(self.lease_seconds),
        }
        response = self._http.get(callback, params=params)
        echoed = response.status_code == 200 and response.text == challenge
        with self._lock:
            self.verifications.append(Verification(callback, topic, response.status_code, echoed))
            if echoed:
                subscriber = Subscriber(callback, form.get("hub.secret", ""), self.lease_seconds)
                self.subscribers.setdefault(topic, {})[callback] = subscriber

    def wait_for_subscribers(self, topic: str, count: int = 1, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.subscribers.get(topic, {})) < count:
            assert time.monotonic() < deadline, f"no verified subscriber for {topic}"
            time.sleep(0.02)

    def distribute(
        self, topic: str, body: bytes, content_type: str, *, signature: str | None = None
    ) -> list[int]:
        """POST ``body`` to every subscriber of ``topic``; returns their status codes."""
        with self._lock:
            subscribers = list(self.subscribers.get(topic, {}).values())
        statuses = []
        for subscriber in subscribers:
            headers = {
                "Content-Type": content_type,
                "Link": f'<{self.url}>; rel="hub", <{topic}>; rel="self"',
                "X-Hub-Signature": signature or sign(subscriber.secret, body, self.method),
            }
            statuses.append(
                self._http.post(subscriber.callback, content=body, headers=headers).status_code
            )
        return statuses

    def notify(self, topic: str) -> list[int]:
        """What a hub does on a publisher's ping: fetch the topic and distribute it."""
        response = self._http.get(topic)
        content_type = response.headers.get("content-type", "application/xml")
        return self.distribute(topic, response.content, content_type)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        length = int(self.headers.get("Content-Length") or 0)
        form = dict(parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))
        status = self.server.hub.received(form)  # type: ignore[attr-defined]
        body = b"" if status < 300 else b"hub refuses"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass
