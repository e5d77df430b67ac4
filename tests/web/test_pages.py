"""Server-rendered pages: content, landmarks, security headers and XSS resistance."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from primenews.domain import FetchOutcome, Source
from primenews.store import PollState, Store
from primenews.store.dead_letters import DeadLetter
from primenews.web.assets import asset_url
from primenews.web.headers import CONTENT_SECURITY_POLICY

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)  # the fixtures' clock (conftest.py)
MakeSource = Callable[..., Source]
MakeArticle = Callable[..., int]


class PageScan(HTMLParser):
    """Every tag, attribute, heading level and text run of a page."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str, str]] = []
        self.headings: list[int] = []
        self.texts: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes.extend((tag, name, value or "") for name, value in attrs)
        if len(tag) == 2 and tag[0] == "h" and tag[1].isdigit():
            self.headings.append(int(tag[1]))

    def handle_data(self, data: str) -> None:
        self.texts.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.texts).split())

    def values(self, tag: str, attribute: str) -> list[str]:
        return [value for t, name, value in self.attributes if t == tag and name == attribute]


LIVE_SCRIPT = f'<script src="{asset_url("live.js")}" defer></script>'


def assert_no_executable_content(html: str) -> PageScan:
    # Our one script (live pages only), from 'self' and empty; nothing else executable.
    assert html.count(LIVE_SCRIPT) <= 1
    html = html.replace(LIVE_SCRIPT, "")
    page = PageScan(html)
    assert "<script" not in html.lower()
    dangerous_tags = {"script", "iframe", "object", "embed", "svg", "math", "frame", "base", "form"}
    assert not dangerous_tags & set(page.tags)
    for tag, name, value in page.attributes:
        assert not name.startswith("on"), (tag, name, value)
        assert name not in {"style", "srcdoc", "formaction", "xlink:href"}, (tag, name)
        if name in {"href", "src", "action", "poster", "background"}:
            squashed = "".join(value.split()).lower()
            assert squashed.startswith(("/", "#", "http://", "https://")), (tag, name, value)
    return page


def assert_page_structure(html: str) -> PageScan:
    page = PageScan(html)
    assert html.startswith('<!doctype html>\n<html lang="en">')
    assert ("meta", "name", "viewport") in page.attributes
    assert {"header", "nav", "main", "footer"} <= set(page.tags)
    assert page.tags.count("main") == 1
    assert page.headings[0] == 1 and page.headings.count(1) == 1
    for before, after in zip(page.headings, page.headings[1:], strict=False):
        assert after <= before + 1, f"heading level jumps from h{before} to h{after}"
    return page


def article_ids(page: PageScan) -> list[int]:
    return [int(href.rsplit("/", 1)[1]) for href in page.values("a", "href")
            if href.startswith("/article/")]  # fmt: skip


async def test_front_page_lists_latest_articles(
    client: httpx.AsyncClient, make_source: MakeSource, make_article: MakeArticle
) -> None:
    source = make_source()
    first = make_article(source, title="Summit ends", description="Leaders agree on a plan.")
    second = make_article(text=" ".join(f"w{n}" for n in range(60)))
    response = await client.get("/")
    assert response.status_code == 200
    page = assert_page_structure(response.text)
    assert article_ids(page) == [first, second]
    assert "Summit ends" in page.text and "Example News" in page.text
    assert "Leaders agree on a plan." in page.text
    assert "w39…" in page.text and "w40" not in page.text
    assert page.values("time", "datetime")[0] == "2026-11-28T11:59:00Z"
    assert "2026-11-28 11:59 UTC" in page.text
    assert not page.values("a", "rel"), "one page of results: no older link"


async def test_front_page_pages_through_everything_once(
    client: httpx.AsyncClient, make_article: MakeArticle
) -> None:
    ids = [make_article(published=NOW - timedelta(minutes=n // 4)) for n in range(70)]
    seen: list[int] = []
    url = "/"
    for _ in range(5):
        page = PageScan((await client.get(url)).text)
        seen.extend(article_ids(page))
        older = [href for tag, name, href in page.attributes if tag == "a" and name == "href"
                 and ("a", "rel", "next") in page.attributes and "cursor=" in href]  # fmt: skip
        if not older:
            break
        url = older[0]
    assert sorted(seen) == sorted(ids) and len(seen) == len(set(seen))


async def test_front_page_of_one_source(
    client: httpx.AsyncClient, make_source: MakeSource, make_article: MakeArticle
) -> None:
    one, two = make_source(), make_source(url="https://other.example/rss", title="Other Daily")
    make_article(one)
    wanted = make_article(two)
    page = assert_page_structure((await client.get(f"/?source={two.id}")).text)
    assert article_ids(page) == [wanted]
    assert "Latest from Other Daily" in page.text


async def test_empty_front_page_says_how_to_start(client: httpx.AsyncClient) -> None:
    page = assert_page_structure((await client.get("/")).text)
    assert "No sources yet" in page.text and "primenews sources add" in page.text


async def test_empty_front_page_says_which_sources_wait_or_fail(
    client: httpx.AsyncClient, store: Store, make_source: MakeSource
) -> None:
    make_source(url="https://other.example/rss")
    make_source(url="https://third.example/")
    broken = make_source()
    assert broken.id is not None
    later = PollState(next_due=NOW + timedelta(minutes=30), poll_interval_minutes=30)
    failure = FetchOutcome(broken.id, broken.url, NOW, error="cannot resolve news.example")
    store.record_fetch(failure, later)
    text = " ".join((await client.get("/")).text.split())
    assert "No articles yet" in text
    assert "2 of 3 sources are waiting for a first poll" in text
    assert "1 of 3 sources could not be read last time" in text
    source_page = " ".join((await client.get(f"/?source={broken.id}")).text.split())
    assert "Its last fetch failed: cannot resolve news.example" in source_page


async def test_article_page_shows_metadata_body_and_original(
    client: httpx.AsyncClient, store: Store, make_source: MakeSource, make_article: MakeArticle
) -> None:
    source = make_source()
    fields = {
        "url": "https://news.example/world/summit",
        "title": "Summit ends",
        "byline": "Ana Ruiz",
        "updated": NOW - timedelta(minutes=1),
        "site_name": "Example Times",
        "section": "World",
        "language": "es",
        "image": "https://news.example/img/summit.jpg",
        "html": "<p>First.</p><h2>Reaction</h2><p>See <a href='/more'>more</a>.</p>",
    }
    article_id = make_article(source, text="First version.", **fields)
    make_article(source, text="Second version.", fetched_at=NOW + timedelta(hours=1), **fields)
    response = await client.get(f"/article/{article_id}")
    page = assert_page_structure(response.text)
    assert page.text.startswith("Summit ends · Prime News Skip to content")  # <title> first
    for shown in ("Summit ends", "By Ana Ruiz", "Example News", "Example Times", "World", "es",
                  "Revisions 2", "2026-11-28 11:59 UTC", "Reaction"):  # fmt: skip
        assert shown in page.text, shown
    assert ("h1", "lang", "es") in page.attributes and ("div", "lang", "es") in page.attributes
    assert page.values("img", "src") == ["https://news.example/img/summit.jpg"]
    assert page.values("img", "alt") == ["Lead image: Summit ends"]
    assert '<a href="https://news.example/more" rel="noopener noreferrer nofollow">more</a>' in (
        response.text
    )
    original = '<a href="https://news.example/world/summit" rel="noopener noreferrer">'
    assert original + "Read the original at Example Times</a>" in response.text
    assert f'<a href="/?source={source.id}">Example News</a>' in response.text


async def test_article_page_falls_back_to_text_paragraphs(
    client: httpx.AsyncClient, make_article: MakeArticle
) -> None:
    article_id = make_article(html="", text="Para one\ncontinues.\n\nPara two.", image="")
    response = await client.get(f"/article/{article_id}")
    assert "<p>Para one continues.</p>" in response.text
    assert "<p>Para two.</p>" in response.text
    assert "<img" not in response.text


async def test_sources_page_is_a_health_table(
    client: httpx.AsyncClient, store: Store, make_source: MakeSource, make_article: MakeArticle
) -> None:
    healthy = make_source(url="https://ok.example/feed", title="Fine Feed")
    failing = make_source(url="https://down.example/feed", title="Down Feed")
    make_article(healthy)
    assert healthy.id is not None and failing.id is not None
    later = PollState(next_due=NOW + timedelta(minutes=30), poll_interval_minutes=30)
    store.record_fetch(FetchOutcome(healthy.id, healthy.url, NOW, status=200), later)
    for _ in range(3):
        failure = FetchOutcome(failing.id, failing.url, NOW, status=None, error="connect timeout")
        store.record_fetch(failure, later)
    response = await client.get("/sources")
    page = assert_page_structure(response.text)
    headers = ["Source", "Kind", "Last fetch", "Status", "Last error", "Errors in a row",
               "Interval", "Next poll", "Push (WebSub)", "Articles"]  # fmt: skip
    assert " ".join(headers) in page.text
    assert (
        "Fine Feed https://ok.example/feed feed 2026-11-28 12:00 UTC 200 – 0 "
        "every 30 min 2026-11-28 12:30 UTC off: public_url is not set 1" in page.text
    )
    assert (
        "Down Feed https://down.example/feed feed 2026-11-28 12:00 UTC no answer "
        "connect timeout 3 every 30 min 2026-11-28 12:30 UTC (backing off) "
        "off: public_url is not set 0" in page.text
    )
    assert f'<a href="/?source={healthy.id}">1</a>' in response.text
    assert ("tr", "class", "failing") in page.attributes


XSS_TEXT = '<script>alert("t")</script> Breaking "><img src=x onerror=alert(1)>'
XSS_HTML = """
<p>Safe start.</p>
<script>alert(1)</script>
<img src=x onerror="alert(2)">
<a href="javascript:alert(3)">js link</a>
<a href=" jAvAsCrIpT:alert(3)">spaced js link</a>
<iframe src="https://evil.example/"></iframe>
<svg onload="alert(4)"><use href="data:image/svg+xml,x"></use></svg>
<p style="background:url('javascript:alert(5)'); width: expression(alert(5))">styled</p>
<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoNik+">
<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCg3KTwvc2NyaXB0Pg==">data link</a>
<p title='"><script>alert(8)</script>'>attr breakout</p>
<p>Safe end.</p>
<math><mtext><table><mglyph><style><img src=x onerror=alert(9)>
"""


async def test_untrusted_article_fields_never_execute(
    client: httpx.AsyncClient, make_source: MakeSource, make_article: MakeArticle
) -> None:
    source = make_source(title='<script>alert("source")</script>')
    hostile = make_article(
        source,
        url='https://news.example/x?"><script>alert(10)</script>',
        title=XSS_TEXT,
        byline='"><script>alert(11)</script>',
        description="<svg onload=alert(12)> a description",
        section="<iframe src=javascript:alert(13)>",
        site_name="Site' onmouseover='alert(14)",
        language='" onfocus="f(15)',  # 16 characters: the store keeps no more
        image="javascript:alert(16)",
        html=XSS_HTML,
    )
    fallback = make_article(url="javascript:alert(17)", title="t", html="", text=XSS_TEXT,
                            image="data:image/png;base64,AAAA")  # fmt: skip
    for path in ("/", f"/article/{hostile}", f"/article/{fallback}"):
        response = await client.get(path)
        assert response.status_code == 200
        page = assert_no_executable_content(response.text)
        assert XSS_TEXT in page.text, "the hostile text is shown, as text"
    article = PageScan((await client.get(f"/article/{hostile}")).text)
    shown = ['"><script>alert(11)</script>', "<iframe src=javascript:alert(13)>"]
    shown += ["Site' onmouseover='alert(14)", "Safe start.", "styled", "Safe end."]
    for text in shown:
        assert text in article.text
    assert ("div", "lang", '" onfocus="f(15)') in article.attributes  # escaped value
    assert not article.values("img", "src") or all(
        src.startswith("https://") for src in article.values("img", "src")
    )
    fallback_page = PageScan((await client.get(f"/article/{fallback}")).text)
    assert "Read the original" not in fallback_page.text, "no link to a javascript: URL"


async def test_untrusted_source_fields_never_execute(
    client: httpx.AsyncClient, make_source: MakeSource
) -> None:
    make_source(url="javascript:alert(1)//feed", title='<img src=x onerror="alert(2)">')
    response = await client.get("/sources")
    page = assert_no_executable_content(response.text)
    assert '<img src=x onerror="alert(2)">' in page.text
    assert "javascript:alert(1)//feed" in page.text


@pytest.mark.parametrize(
    "path",
    ["/", "/article/{id}", "/sources", "/nothing-here", "/static/style.css",
     "/api/v1/articles", "/api/v1/articles/{id}", "/api/v1/articles/999", "/api/openapi.json",
     "/api/v1/health"],
)  # fmt: skip
async def test_security_headers_on_every_response(
    client: httpx.AsyncClient, make_article: MakeArticle, path: str
) -> None:
    response = await client.get(path.format(id=make_article()))
    headers = response.headers
    assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "default-src 'self'" in CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert "unsafe-eval" not in CONTENT_SECURITY_POLICY
    assert "style-src 'self'" in CONTENT_SECURITY_POLICY
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-frame-options"] == "DENY"


async def test_docs_page_keeps_the_other_security_headers(client: httpx.AsyncClient) -> None:
    headers = (await client.get("/api/docs")).headers
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]


async def test_stylesheet_is_served(client: httpx.AsyncClient) -> None:
    response = await client.get("/static/style.css")
    assert response.headers["content-type"].startswith("text/css")
    assert "prefers-color-scheme: dark" in response.text
    assert response.headers["cache-control"] == "no-cache"  # plain name: revalidated (ETag)


async def test_pages_link_fingerprinted_assets_kept_for_a_year(client: httpx.AsyncClient) -> None:
    html = (await client.get("/")).text
    links = re.findall(r'(?:href|src)="(/static/[^"]+)"', html)
    assert {Path(link).suffix for link in links} >= {".css", ".js", ".svg"}
    for link in links:
        assert re.fullmatch(r"/static/[a-z-]+\.[0-9a-f]{12}\.[a-z]+", link), link
        response = await client.get(link)
        assert response.status_code == 200
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        plain = await client.get(re.sub(r"\.[0-9a-f]{12}\.", ".", link))
        assert plain.content == response.content


async def test_an_outdated_fingerprint_gets_todays_file_not_kept(client: httpx.AsyncClient) -> None:
    response = await client.get("/static/style.000000000000.css")
    assert response.status_code == 200 and "prefers-color-scheme" in response.text
    assert response.headers["cache-control"] == "no-cache"
    assert (await client.get("/static/nothing.000000000000.css")).status_code == 404


async def test_sources_page_lists_queue_dead_letters(
    client: httpx.AsyncClient, store: Store, make_source: MakeSource
) -> None:
    source = make_source(url="https://dying.example/feed", title="Dying Feed")
    assert source.id is not None
    assert "Queue tasks that gave up" not in (await client.get("/sources")).text
    letter = DeadLetter(
        task_id="t-1",
        task="primenews.poll_source",
        source_id=source.id,
        error="delivered 11 times: the worker <b>kept dying</b>",
        attempts=11,
        failed_at=NOW,
    )
    store.record_dead_letter(letter)
    response = await client.get("/sources")
    page = assert_page_structure(response.text)
    assert "Queue tasks that gave up" in page.text
    assert (
        "2026-11-28 12:00 UTC Dying Feed primenews.poll_source 11 "
        "delivered 11 times: the worker <b>kept dying</b>" in page.text
    )
    assert "<b>kept" not in response.text  # the error is text, escaped
    assert store.dead_letter_counts() == {source.id: 1}
    store.remove_source(source.id)  # its dead letters go with it
    assert store.list_dead_letters() == []


async def test_sources_page_says_push_is_off_without_public_url(
    client: httpx.AsyncClient, make_source: Callable[..., Source]
) -> None:
    make_source()
    page = assert_page_structure((await client.get("/sources")).text)
    assert "off: public_url is not set" in page.text


async def test_live_pages_load_the_script_and_others_do_not(
    client: httpx.AsyncClient, make_article: MakeArticle
) -> None:
    make_article(sections={"world": 0.9})
    for path, live in (("/", ""), ("/world", "section=world")):
        html = (await client.get(path)).text
        assert LIVE_SCRIPT in html and f'<main id="main" data-live="{live}">' in html
        assert 'id="live-notice" class="live-notice" role="status" hidden' in html
    sources = (await client.get("/sources")).text
    assert LIVE_SCRIPT not in sources and "live-notice" not in sources
    script = await client.get("/static/live.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert "eval(" not in script.text and "innerHTML" not in script.text
