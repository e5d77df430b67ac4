"""In-process workers: article extraction in a process pool, store writes on one thread.

Extraction is CPU-bound (HTML parsing), so it runs in processes to use every
core; the event loop only fetches and hands bytes over. Writes go through a
single thread so SQLite always has exactly one writer.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from primenews.domain import FeedEntry, ProcessedArticle
from primenews.extract.article import ExtractOptions
from primenews.pipeline import process_page

P = ParamSpec("P")
T = TypeVar("T")


def worker_count(configured: int) -> int:
    """Processes to start: the configured number, or one per core when it is 0."""
    return configured if configured > 0 else (os.cpu_count() or 1)


class ExtractPool:
    """Runs ``pipeline.process_page`` off the event loop.

    Args:
        processes: worker processes; 0 runs extraction on a thread in this
            process (for tests and tiny jobs, where starting processes costs more).
        options: extraction options passed to every call.
    """

    def __init__(self, processes: int, options: ExtractOptions | None = None) -> None:
        self.options = options
        self._executor: Executor
        if processes > 0:
            # "spawn": forking a process that already runs threads and an event loop is unsafe.
            context = multiprocessing.get_context("spawn")
            self._executor = ProcessPoolExecutor(max_workers=processes, mp_context=context)
        else:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="extract")
        self.size = max(processes, 1)

    async def process(
        self, content: bytes, url: str, entry: FeedEntry | None = None, content_type: str = ""
    ) -> ProcessedArticle:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, process_page, content, url, entry, self.options, content_type
        )

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)


class StoreWriter:
    """One thread for every store call of the poller, so writes never overlap."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-writer")

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(*args, **kwargs))

    def close(self) -> None:
        # wait=True: a write already started always finishes (no half-written article).
        self._executor.shutdown(wait=True)
