"""extract_article: the seed page, golden pages, public corpora and hostile input.

Golden files: ``tests/data/extract/<case>.html`` with ``<case>.expected.json``
(every Article field). After a deliberate change, rewrite them with
``UPDATE_GOLDEN=1 .venv/bin/pytest tests/extract`` and review the diff.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import os
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

import primenews.extract
from primenews.domain import Article
from primenews.errors import ExtractError
from primenews.extract import ExtractOptions, decode_html, extract_article

from shared_data import SEED_DIR, SHARED_DATA, require_shared

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "extract"
GOLDEN_URLS = {
    "jsonld_graph": "https://www.rheinbote.example/politik/stadtrat-radweg-fluss-100.html?utm_source=rss",
    "bad_canonical": "https://www.coastalpost.example/local/harbour-bridge-reopens?fbclid=x",
    "latin1_declared_utf8": "https://port.example/actu/cafe",
}
SEED_URL = "https://primenews.example/world/venezuela-frees-103-detained-after-election"
PARAGRAPH = (
    "<p>" + "The council met on Tuesday to discuss the new budget for the city. " * 4 + "</p>"
)
# a shared CI box can be slow; the point is seconds, not minutes
QUICK_SECONDS = 10.0


def test_public_surface() -> None:
    assert sorted(primenews.extract.__all__) == [
        "ExtractOptions",
        "canonical_url",
        "decode_html",
        "extract_article",
        "is_plausible_canonical",
        "registrable_domain",
        "same_site",
    ]
    for name in primenews.extract.__all__:
        assert getattr(primenews.extract, name) is not None


# --- the seed article ----------------------------------------------------------------------


def test_seed_article_acceptance() -> None:
    page = require_shared(SEED_DIR / "page.html").read_bytes()
    expected = json.loads((SEED_DIR / "expected.json").read_text(encoding="utf-8"))
    article = extract_article(page, SEED_URL)
    for snippet in expected["text_must_contain"]:
        assert snippet in article.text
    for snippet in expected["text_must_not_contain"]:
        assert snippet not in article.text
    meta = expected["metadata"]
    assert article.title == meta["title"]
    assert article.url == meta["canonical_url"]
    assert article.published == datetime.fromisoformat(meta["published"])
    assert article.language == meta["language"]
    assert article.site_name == meta["site_name"]
    assert article.image == meta["image"]
    assert article.section == meta["publisher_section"]
    assert article.fetched_url == SEED_URL


@pytest.mark.parametrize(
    "options",
    [
        ExtractOptions(fast=True),
        ExtractOptions(favor_recall=True),
        ExtractOptions(favor_precision=False),
    ],
)
def test_seed_article_with_other_options(options: ExtractOptions) -> None:
    page = require_shared(SEED_DIR / "page.html").read_bytes()
    expected = json.loads((SEED_DIR / "expected.json").read_text(encoding="utf-8"))
    text = extract_article(page, SEED_URL, options).text
    assert all(snippet in text for snippet in expected["text_must_contain"])
    assert not any(snippet in text for snippet in expected["text_must_not_contain"])


def test_seed_article_text_keeps_paragraphs_apart() -> None:
    page = require_shared(SEED_DIR / "page.html").read_bytes()
    article = extract_article(page, SEED_URL)
    paragraphs = article.text.split("\n\n")
    assert len(paragraphs) >= 18
    assert all(p == p.strip() and p for p in paragraphs)
    assert article.html.startswith("<article>")
    assert "class=" not in article.html


# --- golden pages written for these tests ---------------------------------------------------


def _as_json(article: Article) -> dict[str, Any]:
    data = dataclasses.asdict(article)
    for key in ("published", "updated"):
        data[key] = data[key].isoformat() if data[key] else None
    data["tags"] = list(data["tags"])
    return data


@pytest.mark.parametrize("case", sorted(GOLDEN_URLS))
def test_golden_page(case: str) -> None:
    article = extract_article((GOLDEN / f"{case}.html").read_bytes(), GOLDEN_URLS[case])
    expected_path = GOLDEN / f"{case}.expected.json"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        text = json.dumps(_as_json(article), ensure_ascii=False, indent=1) + "\n"
        expected_path.write_text(text, encoding="utf-8")
    assert _as_json(article) == json.loads(expected_path.read_text(encoding="utf-8"))


def test_json_ld_graph_gives_the_metadata() -> None:
    url = GOLDEN_URLS["jsonld_graph"]
    article = extract_article((GOLDEN / "jsonld_graph.html").read_bytes(), url)
    assert article.url == "https://www.rheinbote.example/politik/stadtrat-radweg-fluss-100.html"
    assert article.published == datetime(2025, 3, 4, 17, 45, tzinfo=UTC)
    assert article.updated == datetime(2025, 3, 5, 7, 10, tzinfo=UTC)
    assert article.byline == "Anna Beispiel, Jonas Muster"
    assert article.section == "Politik"  # from the breadcrumb
    assert article.site_name == "Rheinbote"
    assert article.image == "https://www.rheinbote.example/bilder/radweg.jpg"
    assert article.tags == ("Radverkehr", "Stadtrat", "Verkehrswende")
    assert article.language == "de"
    assert "Mehr zum Thema" not in article.text and "Alle Rechte" not in article.text


def test_implausible_canonical_falls_back_to_the_fetched_url() -> None:
    url = GOLDEN_URLS["bad_canonical"]
    article = extract_article((GOLDEN / "bad_canonical.html").read_bytes(), url)
    # <link rel=canonical> names the home page and og:url another site: both ignored
    assert article.url == "https://www.coastalpost.example/local/harbour-bridge-reopens"
    assert article.title == "Harbour bridge reopens after six months of repairs"
    assert article.image == "https://img.coastalpost.example/bridge.jpg"
    assert article.published == datetime(2024, 6, 1, 11, 0, tzinfo=UTC)
    assert "newsletter" not in article.text


def test_latin1_bytes_declared_utf8_are_read_as_latin1() -> None:
    page = (GOLDEN / "latin1_declared_utf8.html").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        page.decode("utf-8")
    article = extract_article(page, GOLDEN_URLS["latin1_declared_utf8"])
    assert "Après deux années de travaux, le célèbre café" in article.text
    assert article.title == "Le café du port rouvre ses portes"
    assert article.language == "fr"


# --- decoding -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("<meta charset='koi8-r'><p>Привет</p>".encode("koi8-r"), "Привет"),
        ('<?xml version="1.0" encoding="windows-1251"?><p>Привет</p>'.encode("cp1251"), "Привет"),
        ("<meta charset=iso-8859-1><p>Grüße – 5 €</p>".encode("cp1252"), "Grüße – 5 €"),
        ("<meta charset=latin1><p>Ärger</p>".encode(), "Ärger"),  # UTF-8 wins
        ("\ufeff<p>Grüße</p>".encode("utf-16"), "Grüße"),
        ("<meta charset=no-such-codec><p>café</p>".encode("cp1252"), "café"),
    ],
)
def test_decode_html(raw: bytes, expected: str) -> None:
    assert expected in decode_html(raw)


# --- options and metadata rules ---------------------------------------------------------------


def _page(head: str = "", body: str = PARAGRAPH * 3, lang: str = "en") -> str:
    return f'<html lang="{lang}"><head>{head}</head><body><article>{body}</article></body></html>'


def test_options_are_frozen_with_sane_defaults() -> None:
    options = ExtractOptions()
    assert options.favor_precision and not options.include_comments and options.include_tables
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.favor_recall = True  # type: ignore[misc]


def test_latest_date_drops_future_dates() -> None:
    head = '<meta property="article:published_time" content="2031-01-01T10:00:00Z">'
    later = extract_article(_page(head), "https://example.com/a")
    assert later.published == datetime(2031, 1, 1, 10, tzinfo=UTC)
    bounded = ExtractOptions(latest_date=date(2025, 1, 1), extensive_date_search=False)
    assert extract_article(_page(head), "https://example.com/a", bounded).published is None


def test_naive_dates_are_taken_as_utc_and_offsets_win() -> None:
    head = (
        '<meta name="date" content="2024-02-03T10:00:00">'
        '<meta property="article:published_time" content="2024-02-03T10:00:00+02:00">'
    )
    article = extract_article(_page(head), "https://example.com/a")
    assert article.published == datetime(2024, 2, 3, 8, tzinfo=UTC)


def test_detected_language_overrules_a_template_lang() -> None:
    german = "<p>" + "Der Stadtrat hat am Dienstag über den neuen Haushalt beraten. " * 6 + "</p>"
    assert extract_article(_page(body=german * 2, lang="en"), "").language == "de"
    assert extract_article(_page(body=german * 2, lang="de-AT"), "").language == "de"


def test_title_loses_the_site_suffix() -> None:
    head = "<title>Budget passes after long night | Daily Example</title>"
    head += '<meta property="og:site_name" content="Daily Example">'
    article = extract_article(_page(head), "https://example.com/a")
    assert article.title == "Budget passes after long night"
    assert article.site_name == "Daily Example"


def test_no_url_gives_an_empty_identity() -> None:
    article = extract_article(_page(), "")
    assert article.url == "" and article.fetched_url == ""


# --- public corpora (by path, never copied) -------------------------------------------------

# a spread of languages and layouts from trafilatura's evaluation set
TRAFILATURA_EVAL_PAGES = [
    "html/theguardian.com.academics.html.gz",
    "html/nytimes.com.blackouts.html.gz",
    "html/taz.de.siemens.html.gz",
    "html/ledevoir.com.trottinettes.html.gz",
    "html/tdg.ch.chlorothalonil.html.gz",
    "html/losandes.com-mendoza.html.gz",
    "html/brasil247.com-militares.html.gz",
    "html/japantimes.co.jp.surgical.html.gz",
]


def _trafilatura_eval_rows() -> dict[str, dict[str, Any]]:
    index = require_shared(SHARED_DATA / "trafilatura_eval_news" / "expected.jsonl")
    rows = [json.loads(line) for line in index.read_text(encoding="utf-8").splitlines() if line]
    return {row["html"]: row for row in rows}


@pytest.mark.parametrize("html_path", TRAFILATURA_EVAL_PAGES)
def test_trafilatura_eval_page(html_path: str) -> None:
    row = _trafilatura_eval_rows()[html_path]
    page = gzip.decompress((SHARED_DATA / "trafilatura_eval_news" / html_path).read_bytes())
    article = extract_article(page, row["url"])
    assert [s for s in row["with"] if s not in article.text] == []
    assert [s for s in row["without"] if s in article.text] == []
    assert " ".join(article.title.split()) == " ".join(row["title"].split())
    assert article.published is not None
    assert article.published.date().isoformat() == row["date"]


# --- hostile input: an Article or an ExtractError, quickly -----------------------------------


def _deep(depth: int) -> bytes:
    return f"<html><body>{'<div>' * depth}{PARAGRAPH}{'</div>' * depth}</body></html>".encode()


HOSTILE = {
    "empty": b"",
    "whitespace": b" \n\t ",
    "binary garbage": bytes(range(256)) * 400,
    "gzip bytes": gzip.compress(_page().encode()),
    "no article": b"<html><head><title>Home</title></head><body><nav><a href=/>Home</a></nav>",
    "wrong charset": _page(PARAGRAPH.replace("city", "cité")).encode("latin-1"),
    "5 MB of paragraphs": ("<html><body>" + PARAGRAPH * 18_000 + "</body></html>").encode(),
    "5 MB of script": _page(head="<script>" + "var x = 1;" * 500_000 + "</script>").encode(),
    "100k deep": _deep(100_000),
    "100k unclosed": ("<html><body>" + "<div>" * 100_000 + PARAGRAPH).encode(),
    "200k table rows": ("<table>" + "<tr><td>x</td></tr>" * 200_000 + "</table>").encode(),
    "NUL bytes": _page().replace("council", "coun\x00cil").encode(),
    "not html": b'{"json": "instead of html", "items": [1, 2, 3]}',
    "xml feed": b"<?xml version='1.0'?><rss><channel><item><title>x</title></item></channel></rss>",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_input_gives_article_or_extract_error(name: str) -> None:
    started = time.perf_counter()
    try:
        article = extract_article(HOSTILE[name], "https://example.com/page")
    except ExtractError:
        pass
    else:
        assert isinstance(article, Article) and article.text
    assert time.perf_counter() - started < QUICK_SECONDS


def test_empty_and_articleless_pages_raise() -> None:
    with pytest.raises(ExtractError):
        extract_article(b"")
    with pytest.raises(ExtractError):
        extract_article(HOSTILE["no article"])
    with pytest.raises(ExtractError, match="too big"):
        extract_article(HOSTILE["5 MB of paragraphs"])


def test_script_heavy_page_still_gives_its_article() -> None:
    article = extract_article(HOSTILE["5 MB of script"], "https://example.com/a")
    assert "new budget for the city" in article.text
    assert "var x" not in article.text
