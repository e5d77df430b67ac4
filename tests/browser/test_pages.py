"""Every page type in Chromium: loads, no errors or CSP violations, fits a phone, passes axe.

Each page type is opened at phone (360×740) and desktop (1280×900) widths in
light and dark colour schemes; a full-page screenshot of each is saved under
test-artifacts/screenshots/ (the path is printed at the end of the run).
"""

from __future__ import annotations

from typing import Any

import pytest

from browser.checks import describe, horizontal_overflow, opened, problems, serious_violations
from browser.site import Site

PAGE_TYPES = (
    "front",
    "section",
    "story",
    "article",
    "article-de",
    "source",
    "sources",
    "not-found",
)
VARIANTS = (
    ("phone", "light"),
    ("desktop", "light"),
    ("phone", "dark"),
    ("desktop", "dark"),
)


@pytest.mark.parametrize(("viewport", "scheme"), VARIANTS, ids=["-".join(v) for v in VARIANTS])
@pytest.mark.parametrize("page_type", PAGE_TYPES)
def test_page_type(
    browser: Any,
    site: Site,
    axe_source: str,
    screenshot: Any,
    page_type: str,
    viewport: str,
    scheme: str,
) -> None:
    url = site.url(site.pages[page_type])
    with opened(browser, url, viewport=viewport, scheme=scheme) as (page, response, log):
        assert response.status == (404 if page_type == "not-found" else 200), url
        assert page.locator("h1").count() == 1, "one top-level heading per page"
        screenshot(page, f"{page_type}-{viewport}-{scheme}")
        expected_errors = 1 if page_type == "not-found" else 0  # the 404 answer itself
        found = problems(page, log)
        assert len(found) == expected_errors, "\n".join(found)
        assert horizontal_overflow(page) <= 0, f"{url} scrolls sideways at {viewport} width"
        violations = serious_violations(page, axe_source)
        assert not violations, f"{url} ({viewport}, {scheme}):\n{describe(violations)}"
