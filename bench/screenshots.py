"""Screenshots of every page type at 390 px and 1280 px, for docs/screenshots/ and the README.

    .venv/bin/python bench/screenshots.py [--out docs/screenshots]

Builds the same seeded site as the browser tests (tests/browser/site.py: a
WARC of real pages ingested, a loopback feed polled), then opens each page
type in Debian's Chromium (Playwright, no browser download) and saves the
visible first screen (light scheme) at each width as PNG, and prints what
each page transfers (HTML + CSS + JS, images excluded; the server does not
compress, so the bodies' bytes are what is sent).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from playwright.sync_api import sync_playwright  # noqa: E402

from browser.site import seeded_site  # noqa: E402

WIDTHS = {"phone": (390, 844), "desktop": (1280, 900)}
PAGES = (
    "front",
    "section",
    "story",
    "article",
    "entity",
    "search-results",
    "sources",
    "source-page",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder, seeded_site(Path(folder)) as site:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")
            for label, (width, height) in WIDTHS.items():
                context = browser.new_context(viewport={"width": width, "height": height})
                context.route("**/*", lambda route: route.continue_()
                              if "127.0.0.1" in route.request.url else route.abort())  # fmt: skip
                for name in PAGES:
                    page = context.new_page()
                    sizes: dict[str, int] = {}
                    page.on("response", lambda response, sizes=sizes: _count(response, sizes))
                    page.goto(site.url(site.pages[name]), wait_until="load")
                    path = args.out / f"{name}-{label}.png"
                    page.screenshot(path=str(path))
                    kb = sum(sizes.values()) / 1024
                    print(f"{path.relative_to(ROOT)}  {width}x{height}  {kb:.1f} KB (HTML+CSS+JS)")
                    page.close()
                context.close()
            browser.close()


def _count(response: object, sizes: dict[str, int]) -> None:
    """Bytes of a document, stylesheet or script response (images are not counted)."""
    kind = response.request.resource_type  # type: ignore[attr-defined]
    if kind in ("document", "stylesheet", "script"):
        try:
            sizes[response.url] = len(response.body())  # type: ignore[attr-defined]
        except Exception:  # a response without a body (a redirect)
            sizes[response.url] = 0


if __name__ == "__main__":
    main()
