"""URL canonicalisation: one spelling per article, whatever link led to it.

The same article is reached through many links: with ``utm_*`` tags from a
newsletter, ``fbclid`` from Facebook, an upper-case host, a ``:443`` port or
a ``#comments`` fragment. :func:`canonical_url` folds those into one string
so that the store can use it as the article's identity.

courlan does the low-level work (scrubbing markup rests, lower-casing,
default ports, punycode, path escaping, registrable domains); the query
string is filtered here with an explicit list, because courlan's own
tracker pattern also drops parameters that identify content on some sites
(``cid``, ``game``, ``gallery``, ``uid``).

Everything here is pure: no network, no DNS.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from courlan import normalize_url, scrub_url
from courlan.urlutils import get_tldinfo

__all__ = ["canonical_url", "is_plausible_canonical", "registrable_domain", "same_site"]

# Query parameters that say how a reader arrived, never which page they see.
_TRACKING_EXACT = frozenset(
    {
        "fbclid",
        "gclid",
        "gclsrc",
        "dclid",
        "msclkid",
        "yclid",
        "twclid",
        "ttclid",
        "igshid",
        "igsh",
        "wbraid",
        "gbraid",
        "mc_cid",
        "mc_eid",
        "ocid",
        "cmpid",
        "cmp",
        "intcmp",
        "icid",
        "ncid",
        "s_cid",
        "smid",
        "smtyp",
        "_ga",
        "_gl",
        "spm",
        "xtor",
        "ref",
        "ref_src",
        "ref_url",
        "referer",
        "referrer",
        "mkt_tok",
        "sr_share",
        "guccounter",
        "guce_referrer",
        "guce_referrer_sig",
        "__twitter_impression",
        "_hsenc",
        "_hsmi",
        "__hstc",
        "__hssc",
        "__hsfp",
        "hsctatracking",
        "wt.mc_id",
        "trk",
        "trkid",
        "share",
        "utm",
    }
)
_TRACKING_PREFIXES = re.compile(
    r"^(?:utm_|ns_|at_|pk_|mtm_|hsa_|itm_|vero_|oly_|wt_|sc_|stm_|piwik_|matomo_|ga_)"
)
_SCHEMES = ("http", "https")
_TEMPLATE_MARKERS = ("{", "}", "%7b", "%7d", "${", "[[", "<")


def _is_tracking(name: str) -> bool:
    key = name.strip().lower()
    return key in _TRACKING_EXACT or bool(_TRACKING_PREFIXES.match(key))


def _clean_query(query: str) -> str:
    """Drop tracking parameters and sort the rest by name (stable for repeated names)."""
    pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if not _is_tracking(k)]
    pairs.sort(key=lambda pair: pair[0])
    return urlencode(pairs)


def canonical_url(url: str, base: str = "") -> str:
    """Return the one spelling of ``url`` we use as an identity.

    Resolves ``url`` against ``base`` when it is relative, lower-cases scheme
    and host, drops default ports, resolves ``.``/``..`` path segments, drops
    the fragment and tracking parameters (``utm_*``, ``fbclid``, ``gclid``,
    ``mc_cid``, ``ns_*``, ``at_*``, …) and sorts the remaining query.

    Args:
        url: an absolute or relative URL, possibly with markup rests or spaces.
        base: the URL of the page the link was found on.

    Returns:
        The canonical URL; a URL that is not http(s) comes back scrubbed but
        otherwise unchanged, an empty input gives ``""``.

    >>> canonical_url("HTTPS://Example.com:443/a/../b?utm_source=x&b=2&a=1#top")
    'https://example.com/b?a=1&b=2'
    """
    url = scrub_url(url or "")
    if base:
        url = urljoin(scrub_url(base), url)
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unbalanced "[" in the host
        return url
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES or not parts.netloc:
        return url
    # urljoin on the path alone applies RFC 3986 remove_dot_segments.
    path = urlsplit(urljoin("http://h/", parts.path or "/")).path
    head = normalize_url(urlunsplit((scheme, parts.netloc, path, "", "")), strict=True)
    query = _clean_query(parts.query)
    return f"{head}?{query}" if query else head


def registrable_domain(url: str) -> str:
    """Return the registrable domain of ``url`` ("bbc.co.uk" for news.bbc.co.uk).

    Falls back to the host without a leading ``www.`` for hosts outside the
    public suffix list (``localhost``, IP addresses, ``.example``).
    """
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""
    if not host:
        return ""
    _, domain = get_tldinfo(f"http://{host}/")
    return domain or host.removeprefix("www.")


def same_site(a: str, b: str) -> bool:
    """Tell whether two absolute URLs belong to the same registrable domain."""
    site_a, site_b = registrable_domain(a), registrable_domain(b)
    return bool(site_a) and site_a == site_b


def is_plausible_canonical(candidate: str, page_url: str) -> bool:
    """Tell whether a page's declared canonical URL can be trusted.

    Publishers get ``<link rel=canonical>`` wrong in a few recurring ways:
    pointing at the home page, at another site, or leaving a template
    placeholder in it. ``candidate`` must already be absolute.

    Args:
        candidate: the declared canonical URL, resolved against the page URL.
        page_url: the URL the page was fetched from ("" when unknown).
    """
    try:
        parts = urlsplit(candidate)
    except ValueError:
        return False
    if parts.scheme.lower() not in _SCHEMES or not parts.hostname:
        return False
    if any(marker in candidate.lower() for marker in _TEMPLATE_MARKERS):
        return False
    if not page_url:
        return True
    if not same_site(candidate, page_url):
        return False
    page_path = urlsplit(page_url).path
    # a canonical to the site root is a template default, unless the page is the root
    return parts.path.strip("/") != "" or page_path.strip("/") == ""
