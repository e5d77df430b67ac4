"""Article HTML is cut down to a small allowlist; only http(s) URLs survive."""

from __future__ import annotations

import pytest

from primenews.web.sanitize import is_web_url, sanitize_html, snippet, text_paragraphs

BASE = "https://news.example/world/2026/story"


def test_allowlisted_structure_is_kept() -> None:
    html = (
        "<h2>Sub</h2><h3>Subsub</h3><h4>Deeper</h4><p>One <em>e</em> <strong>s</strong> "
        "<b>b</b> <i>i</i><br>two</p><ul><li>a</li></ul><ol><li>b</li></ol>"
        "<blockquote>quoted</blockquote><figure><figcaption>cap</figcaption></figure>"
    )
    assert sanitize_html(html, base_url=BASE) == html


def test_links_get_rel_and_relative_urls_resolve_against_the_article() -> None:
    html = '<a href="/politics/other" target="_blank" class="x">other</a>'
    assert sanitize_html(html, base_url=BASE) == (
        '<a href="https://news.example/politics/other" rel="noopener noreferrer nofollow">other</a>'
    )


def test_relative_urls_without_a_base_are_dropped() -> None:
    assert sanitize_html('<a href="/x">x</a>') == '<a rel="noopener noreferrer nofollow">x</a>'


@pytest.mark.parametrize(
    "href",
    [
        "javascript:alert(1)",
        "  JaVaScRiPt:alert(1)",
        "java\tscript:alert(1)",
        "vbscript:msgbox(1)",
        "data:text/html,<script>alert(1)</script>",
        "ftp://news.example/file",
    ],
)
def test_non_web_hrefs_are_dropped(href: str) -> None:
    cleaned = sanitize_html(f'<a href="{href}">x</a>', base_url=BASE)
    assert "href" not in cleaned
    assert "script" not in cleaned.lower()


@pytest.mark.parametrize(
    "dangerous",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "<svg onload=alert(1)><circle r=1></circle></svg>",
        '<iframe src="https://evil.example"></iframe>',
        '<div style="background:url(javascript:alert(1))">x</div>',
        '<p style="width: expression(alert(1))">x</p>',
        "<style>body{background:red}</style>",
        '<object data="x.swf"></object><embed src="x.swf">',
        '<p title=""><script>alert(1)</script>">x</p>',
        '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
        "<!-- <script>alert(1)</script> -->",
        '<form action="https://evil.example"><input name=q></form>',
    ],
)
def test_executable_content_is_removed(dangerous: str) -> None:
    cleaned = sanitize_html(f"<p>before</p>{dangerous}<p>after</p>", base_url=BASE).lower()
    for marker in (
        "<script",
        "onerror",
        "onload",
        "javascript:",
        "<iframe",
        "<svg",
        "style=",
        "<style",
        "<object",
        "<embed",
        "<form",
        "<input",
        "expression(",
    ):
        assert marker not in cleaned
    assert "<p>before</p>" in cleaned and "<p>after</p>" in cleaned


def test_images_keep_http_sources_and_alt() -> None:
    cleaned = sanitize_html('<img src="pic.jpg" alt="A &quot;pic&quot;" width=5>', base_url=BASE)
    assert cleaned == (
        '<img src="https://news.example/world/2026/pic.jpg" alt="A &quot;pic&quot;" loading="lazy">'
    )


def test_images_without_a_usable_source_are_dropped_and_alt_is_never_missing() -> None:
    html = '<img src="data:image/png;base64,AAAA"><img alt="no src"><img src="https://i.example/a.png">'
    assert sanitize_html(html, base_url=BASE) == (
        '<img src="https://i.example/a.png" loading="lazy" alt="">'
    )


def test_images_can_be_left_out() -> None:
    assert sanitize_html('<p>x<img src="https://i.example/a.png" alt="a"></p>', images=False) == (
        "<p>x</p>"
    )


def test_text_inside_unknown_tags_survives() -> None:
    assert sanitize_html("<div><span>kept</span></div><h1>Head</h1>") == "keptHead"


def test_text_paragraphs() -> None:
    assert text_paragraphs("One\nline.\n\n  Two   words. \n\n\n") == ["One line.", "Two words."]
    assert text_paragraphs("First\nSecond") == ["First", "Second"]
    assert text_paragraphs("  \n ") == []


def test_snippet() -> None:
    assert snippet("a b  c", words=3) == "a b c"
    assert snippet("a b c d", words=3) == "a b c…"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://news.example/a", True),
        ("HTTP://news.example", True),
        ("https://", False),
        ("/relative", False),
        ("javascript:alert(1)", False),
        ("data:image/png;base64,AA", False),
        ("http://[::1", False),
    ],
)
def test_is_web_url(url: str, expected: bool) -> None:
    assert is_web_url(url) is expected
