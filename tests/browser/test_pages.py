"""Every page type in Chromium: loads, no errors or CSP violations, fits a phone, passes axe.

Each page type is loaded once and then looked at in four ways: phone
(360×740) and desktop (1280×900) widths, light and dark colour schemes. In
each, a full-page screenshot is saved under test-artifacts/screenshots/ (the
path is printed at the end of the run), the page must not scroll sideways and
axe-core must find no serious or critical violation. The page must not
shift while it loads (cumulative layout shift at most 0.1).
"""

from __future__ import annotations

from typing import Any

import pytest

from browser.checks import (
    MAX_LAYOUT_SHIFT,
    VIEWPORTS,
    describe,
    horizontal_overflow,
    layout_shift,
    opened,
    problems,
    save_screenshot,
    serious_violations,
)
from browser.chromium import BrowserThread
from browser.site import Site

PAGE_TYPES = (
    "front",
    "section",
    "story",
    "article",
    "article-de",
    "source",
    "source-page",
    "sources",
    "entity",
    "search",
    "search-results",
    "login",
    "not-found",
)
ADMIN_PAGES = ("/sources", "/tokens", "/alerts", "/alerts/new")  # as an admin sees them: forms
VARIANTS = (
    ("phone", "light"),
    ("desktop", "light"),
    ("phone", "dark"),
    ("desktop", "dark"),
)


@pytest.mark.parametrize("page_type", PAGE_TYPES)
def test_page_type(axe_source: str, browser: BrowserThread, site: Site, page_type: str) -> None:
    failures = browser.run(_check_page_type, site, axe_source, page_type)
    assert not failures, f"{site.pages[page_type]}\n" + "\n".join(failures)


def _check_page_type(browser: Any, site: Site, axe_source: str, page_type: str) -> list[str]:
    url = site.url(site.pages[page_type])
    with opened(browser, url) as (page, response, log):
        assert response.status == (404 if page_type == "not-found" else 200), url
        failures = _check_views(page, page_type, axe_source)
        expected = 1 if page_type == "not-found" else 0  # the 404 answer itself is logged
        found = problems(page, log)
        if len(found) != expected:
            failures.extend(found)
    return failures


def test_admin_pages(axe_source: str, browser: BrowserThread, site: Site) -> None:
    """The pages an admin sees after logging in (through the form, JavaScript on)."""
    failures = browser.run(_check_admin_pages, site, axe_source)
    assert not failures, "\n".join(failures)


def _check_admin_pages(browser: Any, site: Site, axe_source: str) -> list[str]:
    failures: list[str] = []
    with opened(browser, site.url("/login")) as (page, _response, log):
        log_in(page, *site.admin)
        for path in ADMIN_PAGES:
            response = page.goto(site.url(path))
            assert response.status == 200, path
            assert page.get_by_role("button", name="Log out").count() == 1, "logged in"
            name = "admin-" + path.strip("/").replace("/", "-")
            failures.extend(f"{path}: {f}" for f in _check_views(page, name, axe_source))
        failures.extend(problems(page, log))
    return failures


def log_in(page: Any, name: str, password: str) -> None:
    """Fill and send the login form on the open /login page."""
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login" not in url)


def _check_views(page: Any, name: str, axe_source: str) -> list[str]:
    """The open page in the four views: screenshot, sideways scrolling, axe."""
    assert page.locator("h1").count() == 1, "one top-level heading per page"
    assert layout_shift(page) <= MAX_LAYOUT_SHIFT, "the page jumps while it loads"
    failures: list[str] = []
    for viewport, scheme in VARIANTS:
        page.set_viewport_size(VIEWPORTS[viewport])
        page.emulate_media(color_scheme=scheme)
        save_screenshot(page, f"{name}-{viewport}-{scheme}")
        if (overflow := horizontal_overflow(page)) > 0:
            failures.append(f"{viewport}: scrolls sideways by {overflow} px")
        if violations := serious_violations(page, axe_source):
            failures.append(f"{viewport}, {scheme}:\n{describe(violations)}")
    page.set_viewport_size(VIEWPORTS["desktop"])
    page.emulate_media(color_scheme="light")
    return failures


def test_axe_reports_what_it_should(axe_source: str, browser: BrowserThread, site: Site) -> None:
    """The accessibility check can fail: a planted low-contrast text and bare image are caught."""
    found = browser.run(_planted_violations, site, axe_source)
    assert {"color-contrast", "image-alt"} <= found


def _planted_violations(browser: Any, site: Site, axe_source: str) -> set[str]:
    with opened(browser, site.url("/")) as (page, _response, _log):
        page.evaluate(
            """() => {
              const main = document.querySelector("main");
              const faint = document.createElement("p");
              faint.textContent = "Faint text";
              faint.style.color = "#c8c8c8";
              main.append(faint, document.createElement("img"));
            }"""
        )
        return {v["id"] for v in serious_violations(page, axe_source)}
