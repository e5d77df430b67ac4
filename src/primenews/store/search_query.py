"""The search query language: what a reader types, read into terms; pure, no SQL.

Users' queries are hostile, so they are never handed to a database as
written. ``parse_query`` reads words, ``"quoted phrases"``, ``-excluded``
words or phrases and ``prefix*`` words out of any text; every backend writes
its own expression from those terms (``fts5_expression`` for SQLite, a
``tsquery`` for PostgreSQL later), quoting each term itself, so no input
(unbalanced quotes, ``NEAR(``, column filters, ``AND``/``OR``, 10 kB of
noise) can be a syntax error. Punctuation inside a run of text joins its
words into a phrase, as the index's tokenizer would: ``e-mail`` is "e mail".

``marked_html`` turns text with match markers into HTML in which only
``<mark>`` appears: the text is escaped, then marked.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

MAX_TERMS = 16  # more words than this narrow nothing a reader meant and slow the index down
MAX_TERM_CHARS = 64
# Markers the index puts around matches: control characters no article text should hold.
MARK_OPEN, MARK_CLOSE = "\x02", "\x03"

# A quoted phrase, or a run of anything but space and quote; an optional "-" excludes,
# a trailing "*" asks for a prefix.
_PIECE = re.compile(r'(-?)"([^"]*)"?|(-?)([^\s"]+)')
_WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class Term:
    """One word, or a phrase of words in order; ``prefix``: words starting with the one word."""

    words: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True, slots=True)
class ParsedQuery:
    wanted: tuple[Term, ...]  # all must match
    unwanted: tuple[Term, ...]  # none may match


def parse_query(user_text: str) -> ParsedQuery:
    """The terms of what a reader typed; repeated terms count once, at most ``MAX_TERMS``."""
    wanted: list[Term] = []
    unwanted: list[Term] = []
    for match in _PIECE.finditer(user_text):
        minus = bool(match.group(1) or match.group(3))
        raw = match.group(2) if match.group(2) is not None else match.group(4)
        # Lower-cased as the index's tokenizer does, so "Storm storm" is one term.
        words = tuple(word[:MAX_TERM_CHARS].lower() for word in _WORD.findall(raw))
        if not words:
            continue
        prefix = match.group(4) is not None and raw.endswith("*") and len(words) == 1
        term = Term(words, prefix)
        bucket = unwanted if minus else wanted
        if term not in bucket:  # "the market the market …" is two terms, not a thousand
            bucket.append(term)
        if len(wanted) + len(unwanted) >= MAX_TERMS:
            break
    return ParsedQuery(tuple(wanted), tuple(unwanted))


def fts5_expression(parsed: ParsedQuery) -> str | None:
    """An SQLite FTS5 MATCH expression, or None when nothing is searchable.

    Every term is a double-quoted string (words hold no quote: ``\\w`` only), so
    FTS5 reads no operator, column filter or bracket from the reader's text.
    """
    if not parsed.wanted:  # FTS5 has no "everything except": an exclusion alone finds nothing
        return None
    expression = " AND ".join(_fts5_term(term) for term in parsed.wanted)
    for term in parsed.unwanted:
        expression = f"({expression}) NOT {_fts5_term(term)}"
    return expression


def match_expression(user_text: str) -> str | None:
    """``fts5_expression(parse_query(user_text))``."""
    return fts5_expression(parse_query(user_text))


def _fts5_term(term: Term) -> str:
    quoted = '"' + " ".join(term.words) + '"'
    return quoted + " *" if term.prefix else quoted


def marked_html(marked: str) -> str:
    """Text with ``MARK_OPEN``/``MARK_CLOSE`` markers as HTML: escaped, matches in ``<mark>``.

    Markers that do not pair up (one already in an article's own text) are balanced.
    """
    out: list[str] = []
    inside = False
    for part in re.split(f"([{MARK_OPEN}{MARK_CLOSE}])", marked):
        if part == MARK_OPEN:
            if not inside:
                out.append("<mark>")
            inside = True
        elif part == MARK_CLOSE:
            if inside:
                out.append("</mark>")
            inside = False
        else:
            out.append(html.escape(part, quote=False))
    if inside:
        out.append("</mark>")
    return "".join(out).replace("<mark></mark>", "")
