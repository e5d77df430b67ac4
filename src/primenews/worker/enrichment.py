"""After a save: insights of a new or revised article, computed in the pool, saved by the writer.

Shared by the poller and ``service.ingest_pages``. The article is committed
before this runs, so a failing enrichment can lose the insights but never
the article: the failure is logged with its traceback and recorded on the
article (``article_insights.error``), where the API shows it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from primenews.domain import Article
from primenews.store import SaveResult, SaveStatus, Store
from primenews.worker.local import ExtractPool, StoreWriter

logger = logging.getLogger(__name__)


async def enrich_saved(
    store: Store,
    writer: StoreWriter,
    pool: ExtractPool,
    article: Article,
    saved: SaveResult,
    clock: Callable[[], datetime],
) -> bool:
    """Enrich a just-saved article when it is new or revised and insights are on.

    Returns:
        Whether insights were saved.
    """
    if not pool.insights or saved.status is SaveStatus.UNCHANGED:
        return False
    try:
        insights = await pool.enrich(article)
        return await writer.run(
            store.save_insights, saved.article_id, saved.revision, insights, clock()
        )
    except Exception as err:  # the stage has no error family of its own: record any failure
        logger.exception(
            "insights of %s failed",
            article.url,
            extra={"url": article.url, "article_id": saved.article_id},
        )
        error = f"{type(err).__name__}: {err}"
        try:
            await writer.run(
                store.record_insights_error, saved.article_id, saved.revision, error, clock()
            )
        except Exception:
            logger.exception("could not record the insights failure of %s", article.url)
        return False
