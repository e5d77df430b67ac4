"""One story desk per store: the lock on the test's backend (SQLite file or PostgreSQL schema)."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from primenews.errors import StoreError
from primenews.store import Store
from primenews.store.desklock import desk_lock

HOLDER = """
import sys, time
from primenews.store import make_engine
from primenews.store.desklock import desk_lock
with desk_lock(make_engine(sys.argv[1])):
    print("held", flush=True)
    time.sleep(60)
"""


def test_a_second_desk_on_the_store_is_refused_until_the_first_ends(store: Store) -> None:
    with desk_lock(store.engine):
        with pytest.raises(StoreError, match="already runs the story desk"):
            with desk_lock(store.engine):
                pass
    with desk_lock(store.engine):  # released: the next poller starts
        pass


def test_a_killed_poller_leaves_the_desk_free(store: Store) -> None:
    url = store.engine.url.render_as_string(hide_password=False)
    with subprocess.Popen(
        [sys.executable, "-c", HOLDER, url], stdout=subprocess.PIPE, text=True
    ) as holder:
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
            with pytest.raises(StoreError):
                with desk_lock(store.engine):
                    pass
        finally:
            holder.kill()
    # the kernel frees a SQLite file lock with the process; PostgreSQL frees the advisory
    # lock once its backend has seen the connection close, a moment later
    deadline = time.monotonic() + 10
    while True:
        try:
            with desk_lock(store.engine):
                return
        except StoreError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
