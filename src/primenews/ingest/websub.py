"""WebSub (W3C Recommendation, 2018) for subscribers: the pure parts.

Hub discovery from a feed and its response headers, the subscription request
form, the answer to a hub's intent verification, the ``X-Hub-Signature``
check of pushed content, and when a lease needs renewing. No network, no
clock, no randomness: the shell (``worker.websub``) passes them in.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urljoin, urlsplit

from primenews.domain import Feed

# Hash names a hub may use in X-Hub-Signature (the spec allows these four).
SIGNATURE_ALGORITHMS = {
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "sha384": hashlib.sha384,
    "sha512": hashlib.sha512,
}
DEFAULT_LEASE_SECONDS = 10 * 24 * 3600  # asked for; the hub decides
MIN_LEASE_SECONDS = 300  # below this, renewing costs more than polling
_LINK_VALUE = re.compile(r"<([^>]*)>((?:\s*;\s*[^;,]+)*)")
_PARAM = re.compile(r";\s*([A-Za-z*]+)\s*=\s*(\"[^\"]*\"|[^;,\s]+)")


@dataclass(frozen=True, slots=True)
class HubLink:
    """Where to subscribe (``hub``) and to what (``topic``, the feed's self URL)."""

    hub: str
    topic: str


def link_header_urls(value: str, rel: str, base: str) -> list[str]:
    """The URLs an HTTP ``Link`` header gives for ``rel`` (RFC 8288), made absolute."""
    found = []
    for match in _LINK_VALUE.finditer(value):
        params = {name.lower(): raw.strip('"') for name, raw in _PARAM.findall(match.group(2))}
        if rel in params.get("rel", "").lower().split():
            found.append(urljoin(base, match.group(1).strip()))
    return found


def discover_hub(feed: Feed, headers: Mapping[str, str], feed_url: str) -> HubLink | None:
    """The hub and topic a fetched feed advertises, or None when it has no usable hub.

    The ``Link`` header wins over the document, as the spec says; the topic is the
    ``rel="self"`` URL (the hub knows the feed by it), else the URL we fetched.
    """
    header = headers.get("link", "")
    hubs = link_header_urls(header, "hub", feed_url) if header else []
    selves = link_header_urls(header, "self", feed_url) if header else []
    hub = next(iter(hubs), "") or feed.hub_url
    topic = next(iter(selves), "") or feed.self_url or feed_url
    if not (_is_http_url(hub) and _is_http_url(topic)):
        return None
    return HubLink(hub=hub, topic=topic)


def _is_http_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in {"http", "https"} and bool(parts.hostname)


def subscription_form(
    link: HubLink, callback: str, secret: str, lease_seconds: int, *, mode: str = "subscribe"
) -> dict[str, str]:
    """The form body of a (un)subscription request to ``link.hub``."""
    form = {"hub.mode": mode, "hub.topic": link.topic, "hub.callback": callback}
    if mode == "subscribe":
        form["hub.secret"] = secret
        form["hub.lease_seconds"] = str(lease_seconds)
    return form


def signature_matches(secret: str, body: bytes, header: str | None) -> bool:
    """Whether ``X-Hub-Signature: method=hexdigest`` is the HMAC of ``body`` with ``secret``.

    Unknown methods and malformed headers do not match; the digests are compared
    in constant time.
    """
    if not header or "=" not in header or not secret:
        return False
    method, _, given = header.strip().partition("=")
    digest = SIGNATURE_ALGORITHMS.get(method.strip().lower())
    if digest is None:
        return False
    expected = hmac.new(secret.encode(), body, digest).hexdigest().encode()
    # As bytes: compare_digest refuses non-ASCII str, and a header may carry any byte.
    return hmac.compare_digest(expected, given.strip().lower().encode("utf-8", "replace"))


def sign(secret: str, body: bytes, method: str = "sha256") -> str:
    """An ``X-Hub-Signature`` value (what a hub sends; used by tests and the benchmark)."""
    return f"{method}={hmac.new(secret.encode(), body, SIGNATURE_ALGORITHMS[method]).hexdigest()}"


def granted_lease(value: str | None, asked: int) -> int:
    """The lease a hub's verification grants (``hub.lease_seconds``), or what we asked."""
    try:
        seconds = int(value or "")
    except ValueError:
        return asked
    return seconds if seconds > 0 else asked


def renew_at(verified_at: datetime, lease_seconds: int) -> datetime:
    """When to renew: with a tenth of the lease left (at least a minute), never before verifying."""
    margin = max(60.0, lease_seconds / 10)
    return verified_at + timedelta(seconds=max(0.0, lease_seconds - margin))
