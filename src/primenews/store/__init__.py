"""The store: the only package that holds SQL."""

from primenews.store.articles import Revision, SaveResult, SaveStatus
from primenews.store.engine import make_engine
from primenews.store.repository import Store, content_hash
from primenews.store.search import (
    SearchHit,
    SearchNotSupportedError,
    SearchOrder,
    SearchPage,
    SearchQuery,
)
from primenews.store.sources import PollState

__all__ = [
    "PollState",
    "Revision",
    "SaveResult",
    "SaveStatus",
    "SearchHit",
    "SearchNotSupportedError",
    "SearchOrder",
    "SearchPage",
    "SearchQuery",
    "Store",
    "content_hash",
    "make_engine",
]
