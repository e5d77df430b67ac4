"""A reader's path through the site: clicks without JavaScript, the keyboard, dark mode.

With JavaScript off: front page → story → article → story → sources;
article → entity → article; search form → results → article.
"""

from __future__ import annotations

import re
from typing import Any

from browser.checks import opened, problems
from browser.chromium import BrowserThread
from browser.site import SEARCH_WORD, Site


def test_front_story_article_without_javascript(browser: BrowserThread, site: Site) -> None:
    """Front page → story → article → back to the story, with JavaScript off."""
    browser.run(_click_through, site)


def test_article_entity_article_without_javascript(browser: BrowserThread, site: Site) -> None:
    """Article → an entity it names → another article naming it, with JavaScript off."""
    browser.run(_entity_path, site)


def test_search_form_without_javascript(browser: BrowserThread, site: Site) -> None:
    """The search form: type words, submit, open a result, with JavaScript off."""
    browser.run(_search_path, site)


def _click_through(browser: Any, site: Site) -> None:
    with opened(browser, site.url("/"), javascript=False) as (page, _response, _log):
        # Our one script is the live-update enhancement, loaded from our own origin.
        sources = page.locator("script").evaluate_all("els => els.map(e => e.src)")
        assert all(re.search(r"/static/live\.[0-9a-f]{12}\.js$", src) for src in sources), sources
        page.locator("main a", has_text="Full coverage").first.click()
        page.wait_for_url(re.compile(r"/story/\d+$"))
        story_url = page.url
        assert page.get_by_role("heading", name="Full coverage").is_visible()
        first = page.locator(".coverage a[href^='/article/']").first
        title = first.inner_text()
        first.click()
        page.wait_for_url(re.compile(r"/article/\d+$"))
        assert page.locator("h1").inner_text() == title
        page.get_by_role("link", name="Full coverage of this story").click()
        page.wait_for_url(story_url)
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Sources").click()
        page.wait_for_url(re.compile(r"/sources$"))
        assert page.get_by_role("table").locator("tbody tr").count() == 2


def _entity_path(browser: Any, site: Site) -> None:
    with opened(browser, site.url(site.pages["article"]), javascript=False) as (page, _r, _l):
        entity = page.locator("main a[href^='/entity/']").first
        name = entity.inner_text()
        entity.click()
        page.wait_for_url(re.compile(r"/entity/\d+$"))
        assert page.locator("h1").inner_text() == name
        recent = page.get_by_role("region", name="Recent articles")
        first = recent.locator("a[href^='/article/']").first
        title = first.inner_text()
        first.click()
        page.wait_for_url(re.compile(r"/article/\d+$"))
        assert page.locator("h1").inner_text() == title


def _search_path(browser: Any, site: Site) -> None:
    with opened(browser, site.url("/"), javascript=False) as (page, _response, _log):
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Search").click()
        page.wait_for_url(re.compile(r"/search$"))
        page.get_by_label("Words").fill(SEARCH_WORD)
        page.get_by_role("button", name="Search").click()
        page.wait_for_url(re.compile(rf"/search\?.*q={SEARCH_WORD}"))
        results = page.locator(".search-results a[href^='/article/']")
        assert results.count() >= 1
        results.first.click()
        page.wait_for_url(re.compile(r"/article/\d+$"))
        assert SEARCH_WORD in page.locator("main").inner_text()


def test_keyboard_skip_link_and_visible_focus(browser: BrowserThread, site: Site) -> None:
    """The first Tab shows the skip link with a focus outline; Enter jumps to the content."""
    browser.run(_keyboard, site)


def _keyboard(browser: Any, site: Site) -> None:
    with opened(browser, site.url("/")) as (page, _response, log):
        page.keyboard.press("Tab")
        focused = page.locator(":focus")
        assert focused.inner_text() == "Skip to content"
        box = focused.bounding_box()
        assert box is not None and box["x"] >= 0 and box["y"] >= 0, "skip link shown on focus"
        outline = focused.evaluate("el => getComputedStyle(el).outlineStyle")
        assert outline != "none", "focus is visible"
        page.keyboard.press("Enter")
        assert page.url.endswith("#main")
        page.keyboard.press("Tab")
        in_main = page.locator("main :focus")
        assert in_main.count() == 1, "the next Tab lands in the content"
        assert in_main.evaluate("el => getComputedStyle(el).outlineStyle") != "none"
        assert problems(page, log) == []


def test_dark_mode_follows_the_system(browser: BrowserThread, site: Site) -> None:
    """prefers-color-scheme: dark gives a dark page with light text."""
    colours = {scheme: browser.run(_body_colours, site, scheme) for scheme in ("light", "dark")}
    assert colours["light"] == ["rgb(253, 252, 250)", "rgb(29, 29, 31)"]
    assert colours["dark"] == ["rgb(20, 20, 22)", "rgb(232, 230, 227)"]


def _body_colours(browser: Any, site: Site, scheme: str) -> list[str]:
    with opened(browser, site.url("/"), scheme=scheme) as (page, _response, _log):
        colours: list[str] = page.evaluate(
            "() => [getComputedStyle(document.body).backgroundColor,"
            " getComputedStyle(document.body).color]"
        )
        return colours
