"""What every page is checked for in the browser: errors, CSP violations, overflow, axe.

Our pages carry no script and a CSP of ``script-src 'none'``; the listeners
and axe-core go in through the DevTools protocol (Playwright's init scripts
and ``evaluate``), which the page's CSP does not govern, so the policy stays
on and enforced while we look. A CSP violation is seen twice over: the
``securitypolicyviolation`` event and Chromium's console error.

Publishers' images are allowed by the CSP but sit on the internet: requests
off 127.0.0.1 are refused in the browser, recorded, and their load errors
are not counted as page errors.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
SAVED: list[Path] = []  # what this run saved, for the summary line
VIEWPORTS = {
    "phone": {"width": 360, "height": 740},
    "desktop": {"width": 1280, "height": 900},
}
BLOCKING_IMPACTS = ("serious", "critical")
LOCAL_HOST = "127.0.0.1"  # the seeded server; tests never reach the internet

LISTENERS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI || "inline"}`);
});
window.__layoutShift = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (!entry.hadRecentInput) window.__layoutShift += entry.value;
  }
}).observe({ type: "layout-shift", buffered: true });
"""
MAX_LAYOUT_SHIFT = 0.1  # web.dev's "good" cumulative layout shift

AXE_RUN = """
async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => `${n.target.join(" ")}: ${n.failureSummary}`),
  }));
}
"""


@dataclass
class PageLog:
    """Console errors, uncaught page errors and the off-machine requests that were refused."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)

    def on_console(self, message: Any) -> None:
        where = message.location.get("url", "")
        if message.type == "error" and where not in self.blocked:
            self.console_errors.append(f"{message.text} ({where})")

    def keep_on_machine(self, route: Any) -> None:
        """Let requests to our server through; refuse the rest (publishers' images)."""
        url = route.request.url
        if urlsplit(url).hostname == LOCAL_HOST:
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort("blockedbyclient")

    def on_page_error(self, error: Any) -> None:
        self.page_errors.append(str(error))


@contextmanager
def opened(
    browser: Any,
    url: str,
    *,
    viewport: str = "desktop",
    scheme: str = "light",
    javascript: bool = True,
) -> Iterator[tuple[Any, Any, PageLog]]:
    """A fresh context and page at ``url``; yields (page, response, log)."""
    context = browser.new_context(
        viewport=VIEWPORTS[viewport], color_scheme=scheme, java_script_enabled=javascript
    )
    try:
        if javascript:
            context.add_init_script(LISTENERS)
        log = PageLog()
        context.route("**/*", log.keep_on_machine)
        page = context.new_page()
        page.on("console", log.on_console)
        page.on("pageerror", log.on_page_error)
        response = page.goto(url, wait_until="load")
        yield page, response, log
    finally:
        context.close()


def problems(page: Any, log: PageLog) -> list[str]:
    """Console errors, page errors and CSP violations of an open page (JavaScript on)."""
    violations = page.evaluate("window.__cspViolations")
    return [
        *(f"console: {text}" for text in log.console_errors),
        *(f"page error: {text}" for text in log.page_errors),
        *(f"CSP: {text}" for text in violations),
    ]


def layout_shift(page: Any) -> float:
    """The page's cumulative layout shift since it started loading."""
    return float(page.evaluate("window.__layoutShift"))


def horizontal_overflow(page: Any) -> int:
    """How many CSS pixels the page is wider than the viewport (0 when it fits)."""
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def serious_violations(page: Any, axe_source: str) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now."""
    page.evaluate(axe_source)
    found: list[dict[str, Any]] = page.evaluate(AXE_RUN)
    return [v for v in found if v["impact"] in BLOCKING_IMPACTS]


def describe(violations: list[dict[str, Any]]) -> str:
    """One readable block per violation, for assertion messages."""
    return "\n".join(
        f"{v['impact']} {v['id']}: {v['help']}\n  " + "\n  ".join(v["nodes"]) for v in violations
    )


def save_screenshot(page: Any, name: str) -> Path:
    """A full-page screenshot under test-artifacts/screenshots/NAME.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    SAVED.append(path)
    return path
