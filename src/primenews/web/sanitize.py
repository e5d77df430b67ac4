"""Turn an article's stored HTML or text into markup that is safe to show.

Extracted HTML comes from pages we do not control, so it goes through nh3
(Ammonia) with a short allowlist: text structure, links and, optionally,
images. Relative links are resolved against the article's own URL (on our
site they would point at us), and only http(s) URLs survive.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import nh3

ALLOWED_TAGS = frozenset(
    {
        "p", "br", "h2", "h3", "h4", "ul", "ol", "li", "blockquote",
        "em", "strong", "b", "i", "a", "figure", "figcaption", "img",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href"}, "img": {"src", "alt"}}
# Dropped together with everything inside them, not just unwrapped.
DROPPED_WITH_CONTENT = frozenset(
    {"script", "style", "iframe", "noscript", "template", "object", "embed", "svg", "math"}
)
LINK_REL = "noopener noreferrer nofollow"
URL_SCHEMES = frozenset({"http", "https"})

_BLANK_LINE = re.compile(r"\n\s*\n")
# nh3 serialises every attribute as name="value" with quotes escaped, so this is exact.
_IMG_TAG = re.compile(r'<img((?:\s+[-\w:.]+="[^"]*")*)\s*/?>')
_ATTRIBUTE_NAME = re.compile(r'\s([-\w:.]+)="')


def is_web_url(url: str) -> bool:
    """True for an absolute http(s) URL with a host: the only kind we link to or load."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return parts.scheme.lower() in URL_SCHEMES and bool(parts.hostname)


def sanitize_html(html: str, *, base_url: str = "", images: bool = True) -> str:
    """Clean article HTML down to the allowlist.

    Args:
        html: the article's main content as extracted (untrusted).
        base_url: the article's URL; relative ``href``/``src`` values are resolved against it,
            and dropped when there is none.
        images: keep ``<img>`` (http(s) ``src`` only) when True, drop them when False.

    Returns:
        HTML that holds no script, event handler, style or non-http(s) URL.
    """
    tags = set(ALLOWED_TAGS) if images else set(ALLOWED_TAGS - {"img"})

    def absolute_urls(tag: str, attribute: str, value: str) -> str | None:
        if attribute not in {"href", "src"}:
            return value
        resolved = urljoin(base_url, value.strip()) if base_url else value.strip()
        return resolved if is_web_url(resolved) else None

    attributes = {tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()}
    attributes["*"] = set()  # no generic attributes (nh3 would keep lang and title)
    cleaned = nh3.clean(
        html,
        tags=tags,
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes=attributes,
        attribute_filter=absolute_urls,
        link_rel=LINK_REL,
        url_schemes=set(URL_SCHEMES),
        set_tag_attribute_values={"img": {"loading": "lazy"}},
        strip_comments=True,
    )
    return _IMG_TAG.sub(_tidy_image, cleaned) if images else cleaned


def _tidy_image(match: re.Match[str]) -> str:
    """Drop an image whose source was refused; give one without alt text an empty alt."""
    attributes = match.group(1)
    names = set(_ATTRIBUTE_NAME.findall(attributes))
    if "src" not in names:
        return ""
    return f"<img{attributes}>" if "alt" in names else f'<img{attributes} alt="">'


def text_paragraphs(text: str) -> list[str]:
    """Split plain article text into paragraphs: at blank lines, else at line breaks."""
    blocks = _BLANK_LINE.split(text.strip()) if text.strip() else []
    if len(blocks) == 1:
        blocks = blocks[0].splitlines()
    return [" ".join(block.split()) for block in blocks if block.strip()]


def snippet(text: str, words: int = 40) -> str:
    """The first ``words`` words of a text, with an ellipsis when cut."""
    parts = text.split()
    if len(parts) <= words:
        return " ".join(parts)
    return " ".join(parts[:words]) + "…"
