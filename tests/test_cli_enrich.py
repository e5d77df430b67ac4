"""``primenews enrich``: the extracted article with its insights, from a file or a URL."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from primenews.cli import main

from publisher import PublisherServer
from shared_data import SEED_DIR, require_shared

SEED_URL = "https://primenews.example/world/venezuela-frees-103-detained-after-election"


def _run(tmp_path: Path, *args: str, database: str = "") -> tuple[int, str, str]:
    base = ["--data-dir", str(tmp_path)] + (["--database", database] if database else [])
    result = CliRunner().invoke(main, [*base, *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_enrich_seed_article_as_json(tmp_path: Path) -> None:
    page = require_shared(SEED_DIR / "page.html")
    code, out, _ = _run(tmp_path, "enrich", str(page), "--json")
    assert code == 0, out
    row = json.loads(out)
    expected = json.loads((SEED_DIR / "expected.json").read_text())
    assert row["url"] == SEED_URL and row["title"] == expected["metadata"]["title"]
    insights = row["insights"]
    assert insights["language"] == "en"
    people = {e["name"] for e in insights["entities"] if e["kind"] == "person"}
    assert {"Edmundo González", "Nicolás Maduro", "Diosdado Cabello"} <= people
    values = {f["value"] for f in insights["figures"]}
    assert {103.0, 2000.0} <= values
    assert {q["speaker"] for q in insights["quotes"]} >= {"Edmundo González"}
    resolved = {d["resolved"] for d in insights["dates"]}
    assert {d["resolved"] for d in expected["dates"]} <= resolved
    assert 2 <= len(insights["summary"]) <= 3
    assert not (tmp_path / "primenews.sqlite3").exists()  # no store unless asked


def test_enrich_uses_the_store_names_when_asked(tmp_path: Path, database_url: str) -> None:
    page = require_shared(SEED_DIR / "page.html")
    plain = json.loads(_run(tmp_path, "enrich", str(page), "--json")[1])
    people = {e["name"] for e in plain["insights"]["entities"] if e["kind"] == "person"}
    assert "Gerardo Werhein" in people  # only one spelling in sight
    earlier = tmp_path / "earlier.html"
    earlier.write_text(
        "<html lang='en'><head><title>Argentina</title></head><body><article><h1>Argentina "
        "protests</h1><p>Argentina's foreign minister Gerardo Werthein said on Wednesday that "
        "the embassy would stay open, and Gerardo Werthein repeated it later in Buenos Aires to "
        "reporters who had gathered outside the ministry for most of the afternoon.</p>"
        "</article></body></html>"
    )
    code, out, err = _run(tmp_path, "ingest", str(earlier), database=database_url)
    assert code == 0, err
    used = _run(tmp_path, "enrich", str(page), "--json", "--use-store", database=database_url)
    known = json.loads(used[1])
    people = {e["name"] for e in known["insights"]["entities"] if e["kind"] == "person"}
    assert "Gerardo Werthein" in people and "Gerardo Werhein" not in people


def test_enrich_text_output_and_bad_inputs(tmp_path: Path) -> None:
    page = require_shared(SEED_DIR / "page.html")
    empty = tmp_path / "empty.html"
    empty.write_bytes(b"")
    code, out, err = _run(tmp_path, "enrich", str(page), str(empty), str(tmp_path / "missing"))
    assert code == 1
    assert out.startswith("Venezuela frees 103 people")
    assert "person: Edmundo González" in out and "quote: Edmundo González: “My departure" in out
    assert "empty.html" in err and "missing" in err


def test_enrich_url_goes_through_the_safe_fetcher(tmp_path: Path) -> None:
    with PublisherServer() as site:
        site.add(
            "/seed.html",
            require_shared(SEED_DIR / "page.html").read_bytes(),
            headers={"Content-Type": "text/html; charset=utf-8"},
        )
        code, _, err = _run(tmp_path, "enrich", site.url("/seed.html"), "--json")
        assert code == 1 and "PRIMENEWS_ALLOW_PRIVATE_NETWORKS" in err
        code, out, _ = _run(
            tmp_path, "--allow-private-networks", "enrich", site.url("/seed.html"), "--json"
        )
        assert code == 0 and json.loads(out)["insights"]["entities"]
