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
from primenews.store.websub import PushState, Subscription

__all__ = [
    "PollState",
    "PushState",
    "Revision",
    "SaveResult",
    "SaveStatus",
    "SearchHit",
    "SearchNotSupportedError",
    "SearchOrder",
    "SearchPage",
    "SearchQuery",
    "Store",
    "Subscription",
    "content_hash",
    "make_engine",
]
