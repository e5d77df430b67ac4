"""`primenews migrate-store`: a real ingested SQLite installation copied to the test's database.

The target is the test's own database: a PostgreSQL schema when the suite runs
on PostgreSQL (the move the command is for), else another SQLite file.
"""

from __future__ import annotations

import gzip
import io
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, inspect, select
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from primenews.cli import main
from primenews.domain import Article, Source
from primenews.store import Store
from primenews.store.migrate import count_rows
from primenews.store.schema import articles, sources, stories
from primenews.stories.cluster import Merge

from shared_data import SEED_DIR, SHARED_DATA, require_shared

FUNDUS = SHARED_DATA / "fundus_articles"
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def _warc(path: Path, pages: dict[str, bytes]) -> None:
    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=True)
        for url, body in pages.items():
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], "HTTP/1.1")
            record = writer.create_warc_record(
                url, "response", payload=io.BytesIO(body), length=len(body), http_headers=http
            )
            writer.write_record(record)


def _real_pages(count: int) -> dict[str, bytes]:
    """Real publishers' pages (fundus corpus), plus the seed article and a copy of it."""
    index = require_shared(FUNDUS / "index.jsonl").read_text("utf-8").splitlines()
    pages: dict[str, bytes] = {}
    for line in index[:count]:
        item = json.loads(line)
        pages[item["url"]] = gzip.decompress((FUNDUS / item["html"]).read_bytes())
    seed = require_shared(SEED_DIR / "page.html").read_bytes()
    pages["https://primenews.example/seed"] = seed
    copy = seed.replace(b"https://primenews.example", b"https://paper.example")
    pages["https://paper.example/seed"] = copy
    return pages


@pytest.fixture(scope="module")
def installation(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite store filled by `primenews ingest` (extraction, sections, stories), then a merge."""
    folder = tmp_path_factory.mktemp("installation")
    _warc(folder / "crawl.warc.gz", _real_pages(14))
    database = folder / "news.sqlite3"
    result = CliRunner().invoke(
        main, ["--database", str(database), "ingest", str(folder / "crawl.warc.gz")]
    )
    assert result.exit_code == 0, result.output
    store = Store.open(f"sqlite:///{database}")
    listed, _ = store.list_stories(limit=100)
    assert len(listed) >= 2
    # A merge, so that a story points at another (stories.merged_into, a self-reference).
    store.record_observations([], NOW, {}, [Merge(listed[-1].key, listed[0].key, 0.9)])
    store.add_source(Source(url="https://primenews.example/feed.xml", title="Prime"), NOW)
    store.close()
    return database


def _migrate(source: Path, target: str, *extra: str) -> Result:
    return CliRunner().invoke(
        main, ["migrate-store", "--from", f"sqlite:///{source}", "--to", target, *extra]
    )


def _snapshot(store: Store) -> dict[str, object]:
    """What readers see: articles, stories (merged ones too), members, revisions, sources."""
    listed, _ = store.list_articles(limit=1000)
    with store.engine.connect() as conn:
        story_ids = list(conn.execute(select(stories.c.id).order_by(stories.c.id)).scalars())
    return {
        "articles": listed,
        "stories": store.get_stories(story_ids),
        "live": store.list_stories(limit=1000),
        "members": {story_id: store.story_articles(story_id) for story_id in story_ids},
        "revisions": {a.id: store.list_revisions(a.id) for a in listed},
        "raw": {a.id: store.raw_html(a.id) for a in listed},
        "sources": store.list_sources(),
    }


def test_copy_is_identical_and_the_target_keeps_going(
    installation: Path, database_url: str
) -> None:
    result = _migrate(installation, database_url)
    assert result.exit_code == 0, result.output
    assert "row counts match" in result.output
    source = Store.open(f"sqlite:///{installation}")
    copied = Store.open(database_url)
    counts = count_rows(source.engine)
    assert counts == count_rows(copied.engine)
    assert counts["articles"] >= 10 and counts["story_members"] == counts["articles"]
    assert counts["duplicates"] >= 1 and counts["article_sections"] > 0
    with copied.engine.connect() as conn:
        assert conn.execute(select(func.count()).where(stories.c.merged_into.is_not(None))).scalar()
        top_article = conn.execute(select(func.max(articles.c.id))).scalar_one()
        top_source = conn.execute(select(func.max(sources.c.id))).scalar_one()
    assert _snapshot(copied) == _snapshot(source)
    # New rows get fresh ids: the sequences moved past the copied ones.
    added, created = copied.add_source(Source(url="https://new.example/feed.xml"), NOW)
    assert created and added.id is not None and added.id > top_source
    saved = copied.save_article(
        Article(url="https://new.example/a", title="New", text="A new article."),
        source_id=added.id,
        raw_html=b"",
        fetched_at=NOW,
    )
    assert saved.article_id > top_article
    assert copied.migrate() == []  # the copy is at the current schema
    source.close()
    copied.close()


def test_a_filled_target_is_refused_unless_forced(installation: Path, database_url: str) -> None:
    assert _migrate(installation, database_url).exit_code == 0
    again = _migrate(installation, database_url)
    assert again.exit_code == 1
    assert "already holds rows" in again.output and "--force" in again.output
    forced = _migrate(installation, database_url, "--force", "--batch-rows", "3")
    assert forced.exit_code == 0, forced.output
    source, copied = Store.open(f"sqlite:///{installation}"), Store.open(database_url)
    assert count_rows(source.engine) == count_rows(copied.engine)
    source.close()
    copied.close()


def test_bad_sources_and_targets_say_what_to_do(
    installation: Path, database_url: str, tmp_path: Path
) -> None:
    not_a_store = tmp_path / "empty.sqlite3"
    with sqlite3.connect(not_a_store) as other:
        other.execute("CREATE TABLE notes (body TEXT)")
    other.close()
    cases = {
        ("--from", f"sqlite:///{not_a_store}", "--to", database_url): "not a Prime News store",
        ("--from", str(installation), "--to", "mysql://u@h/db"): "unsupported database",
        ("--from", str(installation), "--to", "postgresql+psycopg2://u@h/db"): "psycopg 3",
        ("--from", str(installation), "--to", str(installation)): "same database",
        ("--from", str(tmp_path / "typo.sqlite3"), "--to", database_url): "no SQLite file",
    }
    for args, expected in cases.items():
        result = CliRunner().invoke(main, ["migrate-store", *args])
        assert result.exit_code == 1, (args, result.output)
        assert expected in result.output, (args, result.output)
    assert not (tmp_path / "typo.sqlite3").exists()  # a mistyped source is not created
    untouched = Store.open(database_url)
    assert inspect(untouched.engine).get_table_names() == []  # refused before writing anything
    untouched.close()
