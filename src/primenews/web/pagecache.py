"""Rendered public pages kept for a few seconds: a busy front page is rendered once per TTL.

Only pages that look the same to every reader go through it (front and
section pages); what changed within the TTL shows on the next render, and
live updates (SSE) tell open pages sooner.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

DEFAULT_TTL_SECONDS = 3.0
MAX_ENTRIES = 256  # distinct URLs (pages of cursors, sources) kept at once


class PageCache:
    """URL -> rendered body, each kept ``ttl`` seconds, least recently used dropped first."""

    def __init__(self, ttl: float = DEFAULT_TTL_SECONDS, max_entries: int = MAX_ENTRIES) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._pages: OrderedDict[str, tuple[float, bytes]] = OrderedDict()

    def get(self, key: str) -> bytes | None:
        now = time.monotonic()
        with self._lock:
            found = self._pages.get(key)
            if found is None or now - found[0] > self.ttl:
                return None
            self._pages.move_to_end(key)
            return found[1]

    def put(self, key: str, body: bytes) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            self._pages[key] = (time.monotonic(), body)
            self._pages.move_to_end(key)
            while len(self._pages) > self.max_entries:
                self._pages.popitem(last=False)
