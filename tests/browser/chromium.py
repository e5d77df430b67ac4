"""Debian's Chromium under Playwright, in a thread of its own."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

CHROMIUM = Path("/usr/bin/chromium")  # Debian's package; Playwright's own download is never used
# Chromium's own traffic (updates, sync, field trials, QUIC probes) would try the internet
# at every start; the tests talk to 127.0.0.1 only.
CHROMIUM_ARGS = [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


def chromium_path() -> Path | None:
    """Debian's Chromium, else a ``chromium`` on PATH, else None."""
    if CHROMIUM.exists():
        return CHROMIUM
    found = shutil.which("chromium")
    return Path(found) if found else None


class BrowserThread:
    """One headless Chromium, driven from a thread of its own.

    Playwright's sync API marks its event loop as running in the thread that
    calls it, between calls too (and, as of 1.65, still after it stops), which
    breaks every asyncio test that runs after it in the same thread. So the
    browser lives in a worker thread, and each test hands it a function to run.
    """

    def __init__(self, sync_api: Any, executable: Path) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="playwright")
        self._playwright: Any = None
        self._browser: Any = None
        self._pool.submit(self._start, sync_api, executable).result()

    def _start(self, sync_api: Any, executable: Path) -> None:
        self._playwright = sync_api.sync_playwright().start()
        self._browser = self._playwright.chromium.launch(
            executable_path=str(executable), args=CHROMIUM_ARGS
        )

    def run(self, check: Callable[..., T], *args: Any) -> T:
        """``check(browser, *args)`` in the browser's thread; its exceptions are raised here."""
        return self._pool.submit(check, self._browser, *args).result()

    def close(self) -> None:
        self._pool.submit(self._stop).result()
        self._pool.shutdown()

    def _stop(self) -> None:
        self._browser.close()
        self._playwright.stop()
