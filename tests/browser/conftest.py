"""Browser tests: Debian's headless Chromium driven by Playwright, over one seeded server.

One browser and one server per session; each test opens its own context
(viewport, colour scheme, JavaScript on or off). Without Chromium, Playwright
or axe-core the tests skip and say what to install; the README's test command
installs all three.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from browser.site import Site, seeded_site
from shared_data import SEED_DIR, SHARED_DATA, require_shared

ROOT = Path(__file__).resolve().parents[2]
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
AXE_SCRIPT = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"

_saved: list[Path] = []


def chromium_path() -> Path | None:
    """Debian's Chromium, else a ``chromium`` on PATH, else None."""
    if CHROMIUM.exists():
        return CHROMIUM
    found = shutil.which("chromium")
    return Path(found) if found else None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the session (skips when it or Playwright is missing)."""
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="Playwright is missing: pip install -e '.[test]'"
    )
    executable = chromium_path()
    if executable is None:
        pytest.skip("Chromium is not installed: apt-get install chromium (see docs/testing.md)")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(executable), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core's script, from node_modules (skips when ``npm ci`` has not run)."""
    if not AXE_SCRIPT.exists():
        pytest.skip(f"{AXE_SCRIPT} is missing: run `npm ci` in the repository")
    return AXE_SCRIPT.read_text()


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The app over a store seeded from the real corpus, on 127.0.0.1."""
    require_shared(SHARED_DATA / "fundus_articles" / "index.jsonl")
    require_shared(SHARED_DATA / "trafilatura_eval_news" / "expected.jsonl")
    require_shared(SEED_DIR / "page.html")
    with seeded_site(tmp_path_factory.mktemp("site")) as running:
        yield running


@pytest.fixture
def screenshot() -> Any:
    """Save a full-page screenshot under test-artifacts/screenshots/NAME.png."""

    def save(page: Any, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        _saved.append(path)
        return path

    return save


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say where the screenshots went, so a reader can look at them."""
    if _saved:
        terminalreporter.write_line(f"browser screenshots ({len(_saved)}): {SCREENSHOTS}")
