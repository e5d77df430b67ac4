"""Extraction stage: page bytes in, :class:`~primenews.domain.Article` out (pure, no I/O)."""

from primenews.extract.article import ExtractOptions, decode_html, extract_article
from primenews.extract.urls import (
    canonical_url,
    is_plausible_canonical,
    registrable_domain,
    same_site,
)

__all__ = [
    "ExtractOptions",
    "canonical_url",
    "decode_html",
    "extract_article",
    "is_plausible_canonical",
    "registrable_domain",
    "same_site",
]
