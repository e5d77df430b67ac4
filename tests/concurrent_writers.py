"""Two writers at once on PostgreSQL: the first holds its transaction open while the second runs."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

import pytest
from sqlalchemy import Connection

from primenews.store import Store

A = TypeVar("A")
B = TypeVar("B")


def race(store: Store, first: Callable[[Connection], A], second: Callable[[], B]) -> tuple[A, B]:
    """``first`` in a transaction kept uncommitted for 0.5 s, ``second`` meanwhile.

    ``second`` reads before ``first`` commits and writes the same keys, so
    its INSERT waits for the first's commit: the case of two queue workers
    meeting one new key. Skips on SQLite, which lets one writer in at a time.
    """
    if store.backend != "postgresql":
        pytest.skip("concurrent writers are PostgreSQL's; SQLite lets one write at a time")
    holding, results, errors = threading.Event(), list[A](), list[BaseException]()

    def first_writer() -> None:
        try:
            with store.engine.begin() as conn:
                results.append(first(conn))
                holding.set()
                time.sleep(0.5)  # still uncommitted while the second writer inserts
        except BaseException as err:  # raised again on the test's thread below
            errors.append(err)
            holding.set()

    thread = threading.Thread(target=first_writer)
    thread.start()
    assert holding.wait(10)
    second_result = second()
    thread.join()
    if errors:
        raise errors[0]
    return results[0], second_result
