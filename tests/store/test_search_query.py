"""The search query language: any text becomes terms, and a valid FTS5 expression."""

from __future__ import annotations

import sqlite3

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from primenews.store.search_query import (
    ParsedQuery,
    Term,
    marked_html,
    match_expression,
    parse_query,
)


def test_query_language() -> None:
    assert match_expression("fire smoke") == '"fire" AND "smoke"'
    assert match_expression('"forest fire" -drill') == '("forest fire") NOT "drill"'
    assert match_expression("elect*") == '"elect" *'
    # Punctuation inside a run of text joins its words into a phrase, as in "e-mail".
    assert match_expression("NEAR(a, b)") == '"near a" AND "b"'
    assert match_expression("e-mail title:x") == '"e mail" AND "title x"'
    assert match_expression("-only") is None
    assert match_expression("the market " * 1000) == '"the" AND "market"'
    assert match_expression(" ".join(f"w{n}" for n in range(100))).count('"') == 2 * 16
    assert match_expression("") is None


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=200))
def test_any_text_is_a_valid_fts5_query(user_text: str) -> None:
    expression = match_expression(user_text)
    if expression is None:
        return
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(a, tokenize='porter unicode61')")
    conn.execute("INSERT INTO t VALUES ('some words here')")
    conn.execute("SELECT * FROM t WHERE t MATCH ?", (expression,)).fetchall()


def test_marked_html_balances_stray_markers() -> None:
    assert marked_html("a \x02b\x03 <c>") == "a <mark>b</mark> &lt;c&gt;"
    assert marked_html("\x03x\x02y") == "x<mark>y</mark>"


def test_terms_are_read_once_with_their_kind() -> None:
    assert parse_query('Storm -"flash flood" warn* storm') == ParsedQuery(
        wanted=(Term(("storm",)), Term(("warn",), prefix=True)),
        unwanted=(Term(("flash", "flood")),),
    )
