"""Browser tests: Debian's headless Chromium driven by Playwright, over one seeded server.

One browser and one server for the package (torn down after its last test);
each test opens its own context (viewport, colour scheme, JavaScript on or
off). Without Chromium, Playwright or axe-core the tests skip and say what to
install; the README's test command installs all three.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from browser.checks import SAVED, SCREENSHOTS
from browser.chromium import BrowserThread, chromium_path
from browser.site import Site, seeded_site
from shared_data import SEED_DIR, SHARED_DATA, require_shared

ROOT = Path(__file__).resolve().parents[2]
AXE_SCRIPT = ROOT / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="package")
def browser() -> Iterator[BrowserThread]:
    """The package's Chromium (skips when it or Playwright is missing)."""
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="Playwright is missing: pip install -e '.[test]'"
    )
    executable = chromium_path()
    if executable is None:
        pytest.skip("Chromium is not installed: apt-get install chromium (see docs/testing.md)")
    thread = BrowserThread(sync_api, executable)
    yield thread
    thread.close()


@pytest.fixture(scope="package")
def axe_source() -> str:
    """axe-core's script, from node_modules (skips when ``npm ci`` has not run)."""
    if not AXE_SCRIPT.exists():
        pytest.skip(f"{AXE_SCRIPT} is missing: run `npm ci` in the repository")
    return AXE_SCRIPT.read_text()


@pytest.fixture(scope="package")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The app over a store seeded from the real corpus, on 127.0.0.1."""
    require_shared(SHARED_DATA / "fundus_articles" / "index.jsonl")
    require_shared(SHARED_DATA / "trafilatura_eval_news" / "expected.jsonl")
    require_shared(SEED_DIR / "page.html")
    with seeded_site(tmp_path_factory.mktemp("site")) as running:
        yield running


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say where the screenshots went, so a reader can look at them."""
    if SAVED:
        terminalreporter.write_line(f"browser screenshots ({len(SAVED)}): {SCREENSHOTS}")
