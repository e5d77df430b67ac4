"""Engines for both backends: which URLs mean what, and connections nobody closed."""

from __future__ import annotations

import gc
import sys
from typing import Any

import pytest

from primenews.errors import StoreError
from primenews.store import engine as engine_module
from primenews.store import make_engine
from primenews.store.engine import database_url as parse_url
from primenews.store.engine import safe_url


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u@h/db",
        "postgres://u@h/db",
        "postgresql+psycopg://u@h/db",
    ],
)
def test_postgresql_urls_mean_psycopg_3(url: str) -> None:
    assert parse_url(url).drivername == "postgresql+psycopg"


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("mysql://u@h/db", "unsupported database 'mysql'"),
        ("postgresql+psycopg2://u@h/db", "psycopg 3"),
        ("not a url", "not a database URL"),
    ],
)
def test_other_urls_are_refused_with_what_to_use(url: str, says: str) -> None:
    with pytest.raises(StoreError, match=says):
        make_engine(url)


def test_passwords_stay_out_of_messages() -> None:
    assert safe_url("postgresql://news:hunter2@db/news") == "postgresql://news:***@db/news"
    assert safe_url("::") == "<not a URL>"


def test_an_engine_nobody_disposed_closes_its_connections(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    dropped: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", dropped.append)

    def use() -> None:
        engine = make_engine(database_url)
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")

    use()
    gc.collect()
    assert [item.exc_value for item in dropped] == []


def test_a_pooled_connection_the_server_dropped_is_replaced_after_idling(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(database_url)
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL: the idle ping is only set up there")
    with engine.connect() as conn:
        pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    with make_engine(database_url).connect() as other:  # the server drops the pooled one
        other.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid or 0)})")
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE", 0.0)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT pg_backend_pid()").scalar() != pid
    engine.dispose()
