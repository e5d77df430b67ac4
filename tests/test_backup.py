"""Backups and restores of a real SQLite store, also while it is being written."""

from __future__ import annotations

import sqlite3
import threading
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from primenews.backup import backup_store, check_store_file, restore_store, store_in_use
from primenews.cli import main
from primenews.domain import Article, Source
from primenews.errors import StoreError
from primenews.store import Store
from primenews.store import schema as tables
from primenews.store.migrations import MIGRATIONS

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
pytestmark = pytest.mark.sqlite_only("backup and restore copy the SQLite file (pg_dump's job)")


def url_of(path: Path) -> str:
    return f"sqlite:///{path}"


def save(store: Store, number: int) -> None:
    article = Article(
        url=f"https://news.example/{number}", title=f"Title {number}", text=f"Text {number}."
    )
    store.save_article(article, source_id=None, raw_html=b"<p>x</p>", fetched_at=NOW)


@pytest.fixture
def filled(tmp_path: Path) -> Path:
    path = tmp_path / "live.sqlite3"
    store = Store.open(url_of(path))
    store.migrate()
    store.add_source(Source(url="https://news.example/feed"), NOW)
    for number in range(20):
        save(store, number)
    store.close()
    return path


def test_backup_is_a_checked_store_of_the_same_content(filled: Path, tmp_path: Path) -> None:
    target = tmp_path / "backups" / "b.sqlite3"
    facts = backup_store(url_of(filled), target)
    assert (facts.articles, facts.sources) == (20, 1)
    assert "0005_users" in facts.migrations
    assert not target.with_name("b.sqlite3.partial").exists()
    with closing(sqlite3.connect(target)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert check_store_file(target).articles == 20


def test_backup_while_the_store_is_written_is_consistent(filled: Path, tmp_path: Path) -> None:
    store = Store.open(url_of(filled))
    stop = threading.Event()
    written = [20]

    def writer() -> None:
        while not stop.is_set():
            save(store, written[0])
            written[0] += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        counts = []
        for number in range(5):
            facts = backup_store(url_of(filled), tmp_path / f"b{number}.sqlite3")
            counts.append(facts.articles)
    finally:
        stop.set()
        thread.join()
        store.close()
    assert counts == sorted(counts) and counts[-1] > 20, "each copy a later snapshot"
    for number, count in enumerate(counts):
        with closing(sqlite3.connect(tmp_path / f"b{number}.sqlite3")) as conn:
            urls = {url for (url,) in conn.execute("SELECT url FROM articles")}
        # A snapshot: articles 0..count-1 exactly, none half-written.
        assert urls == {f"https://news.example/{n}" for n in range(count)}


def test_backup_refuses_what_it_cannot_copy(filled: Path, tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="pg_dump"):
        backup_store("postgresql+psycopg://u@db/news", tmp_path / "x")
    with pytest.raises(StoreError, match="overwrite the store itself"):
        backup_store(url_of(filled), filled)
    with pytest.raises(StoreError, match="Cannot read"):
        backup_store(url_of(tmp_path / "missing.sqlite3"), tmp_path / "x")


def test_restore_checks_the_file_is_an_intact_store(filled: Path, tmp_path: Path) -> None:
    target = url_of(tmp_path / "new.sqlite3")
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    other = tmp_path / "other.sqlite3"
    with closing(sqlite3.connect(other)) as conn:
        conn.execute("CREATE TABLE things (x)")
    damaged = tmp_path / "damaged.sqlite3"
    damaged.write_bytes(filled.read_bytes()[:8192] + b"\x00garbage" * 2000)
    empty = tmp_path / "empty.sqlite3"
    empty.write_bytes(b"")
    for bad, message in [
        (text, "not a SQLite database"),
        (other, "not a Prime News store"),
        (damaged, "damaged|cannot be read|malformed"),
        (empty, "not a SQLite database"),
    ]:
        with pytest.raises(StoreError, match=message):
            restore_store(bad, target)
    assert not (tmp_path / "new.sqlite3").exists()


def test_restore_into_an_empty_place_then_the_store_works(filled: Path, tmp_path: Path) -> None:
    backup = tmp_path / "b.sqlite3"
    backup_store(url_of(filled), backup)
    target = tmp_path / "restored" / "news.sqlite3"
    assert restore_store(backup, url_of(target)) == []
    store = Store.open(url_of(target))
    assert store.count_articles() == 20
    save(store, 99)  # writable, and in WAL mode again
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    store.close()


def test_restore_refuses_a_running_store_without_force(filled: Path, tmp_path: Path) -> None:
    backup = tmp_path / "b.sqlite3"
    backup_store(url_of(filled), backup)
    running = Store.open(url_of(filled))
    running.count_articles()  # an open pooled connection, as `primenews up` holds
    try:
        assert store_in_use(filled)
        with pytest.raises(StoreError, match="in use"):
            restore_store(backup, url_of(filled))
    finally:
        running.close()
    assert not store_in_use(filled)
    with pytest.raises(StoreError, match="already holds"):
        restore_store(backup, url_of(filled))
    save_more = Store.open(url_of(filled))
    save(save_more, 500)
    save_more.close()
    restore_store(backup, url_of(filled), force=True)
    assert check_store_file(filled).articles == 20
    assert check_store_file(filled.with_name(filled.name + ".before-restore")).articles == 21


def test_restore_migrates_an_older_store(tmp_path: Path) -> None:
    old = tmp_path / "old.sqlite3"
    store = Store.open(url_of(old))
    tables.migrations.create(store.engine)
    with store.engine.begin() as conn:
        for name, migrate in MIGRATIONS[:2]:  # as the store was before accounts existed
            migrate(conn)
            conn.execute(tables.migrations.insert().values(name=name, applied_at=NOW))
    store.close()
    target = tmp_path / "news.sqlite3"
    assert restore_store(old, url_of(target)) == [name for name, _ in MIGRATIONS[2:]]
    restored = Store.open(url_of(target))
    with restored.engine.connect() as conn:
        names = conn.execute(select(tables.migrations.c.name)).scalars().all()
    restored.close()
    assert "0005_users" in names


def test_backup_and_restore_commands(filled: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    backup = tmp_path / "b.sqlite3"
    done = runner.invoke(main, ["--database", str(filled), "backup", str(backup)])
    assert done.exit_code == 0, done.output
    assert "Backed up 20 articles and 1 sources" in done.output
    refused = runner.invoke(main, ["--database", str(filled), "restore", str(backup)])
    assert refused.exit_code == 1 and "--force" in refused.output
    forced = runner.invoke(main, ["--database", str(filled), "restore", "--force", str(backup)])
    assert forced.exit_code == 0 and "Restored 20 articles" in forced.output
    fresh = tmp_path / "fresh.sqlite3"
    into_new = runner.invoke(main, ["--database", str(fresh), "restore", str(backup)])
    assert into_new.exit_code == 0, into_new.output
    junk = runner.invoke(main, ["--database", str(fresh), "restore", str(tmp_path)])
    assert junk.exit_code == 2  # a folder: click refuses before we look
