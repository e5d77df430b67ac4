"""Sentences and extractive summaries: every summary sentence is copied verbatim.

Sentence splitting is nupunkt's pre-trained Punkt model (it knows "U.S.",
"Gov.", "p.m." are not sentence ends), run paragraph by paragraph so a
paragraph break always ends a sentence. The other insight stages use the
same :func:`split_sentences`, so a figure's or a date's sentence is the
sentence a summary would show.

Article summary: sentences scored by position (news puts the point first),
overlap with the title, and how many names and numbers they carry; the best
2–3 are returned in text order. Story summary: the same over all of a
story's articles, with a sentence's weight raised when its words recur
across outlets and near-duplicates (one wire copy rewritten) dropped.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import nupunkt
from rapidfuzz import fuzz

from primenews.domain import Article
from primenews.insights.model import StorySentence

_PARAGRAPH = re.compile(r"[^\n]+")
_WORD = re.compile(r"[^\W\d_]{3,}")
_NUMBER = re.compile(r"\d")
_CAPITALISED = re.compile(r"(?<=\s)[A-Z][a-z]+")
_STOPWORDS = frozenset(
    "the and for that with from this have has had was were are its their his her but not "
    "been which who will would said says also after before over into than then them they "
    "more most some such when where what while about against between during other".split()
)
MIN_WORDS = 6  # shorter "sentences" are datelines, captions or fragments
MAX_WORDS = 60  # longer ones are usually lists or run-on extraction errors
CONTEXT_CHARS = 400  # how far around a figure, quote or date its sentence is read
DUPLICATE_RATIO = 80.0  # token-set similarity above which two sentences say the same


@dataclass(frozen=True, slots=True)
class Sentence:
    """A sentence of a text and where it sits in it."""

    text: str
    start: int
    end: int


def split_sentences(text: str) -> tuple[Sentence, ...]:
    """Split ``text`` into sentences with character offsets (whitespace trimmed)."""
    sentences: list[Sentence] = []
    for paragraph in _PARAGRAPH.finditer(text):
        base = paragraph.start()
        for start, end in nupunkt.sent_spans(paragraph.group()):
            chunk = paragraph.group()[start:end]
            stripped = chunk.strip()
            if not stripped:
                continue
            offset = base + start + (len(chunk) - len(chunk.lstrip()))
            sentences.append(Sentence(stripped, offset, offset + len(stripped)))
    return tuple(sentences)


def sentence_at(sentences: Sequence[Sentence], offset: int) -> Sentence | None:
    """The sentence holding character ``offset``, if any (``sentences`` in text order)."""
    index = bisect.bisect_right(sentences, offset, key=lambda s: s.start) - 1
    if index >= 0 and offset < sentences[index].end:
        return sentences[index]
    return None


def around(sentence: Sentence, start: int, end: int | None = None) -> Sentence:
    """``sentence``, or for a run-on of many hundred characters its part around ``[start, end)``.

    Rules that look for a cue in "the sentence" look in this window, so a
    page that is one endless "sentence" costs linear time, not quadratic.
    """
    end = start if end is None else end
    if sentence.end - sentence.start <= 2 * CONTEXT_CHARS:
        return sentence
    low = max(sentence.start, start - CONTEXT_CHARS)
    high = min(sentence.end, end + CONTEXT_CHARS)
    offset = low - sentence.start
    return Sentence(sentence.text[offset : offset + high - low], low, high)


def _content_words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)} - _STOPWORDS


def _usable(sentence: Sentence) -> bool:
    words = len(sentence.text.split())
    # a sentence that is only a quotation has no context of its own
    quoted = sentence.text.lstrip().startswith(("“", '"')) and sentence.text.rstrip().endswith(
        ("”", '"')
    )
    return MIN_WORDS <= words <= MAX_WORDS and not quoted


def _score(sentence: Sentence, index: int, title_words: set[str]) -> float:
    words = _content_words(sentence.text)
    position = 1.0 / (1.0 + 0.35 * index)  # the lead carries the story
    title = len(words & title_words) / (len(title_words) or 1)
    names = min(len(_CAPITALISED.findall(" " + sentence.text)), 4) / 4
    numbers = 0.5 if _NUMBER.search(sentence.text) else 0.0
    return 2.0 * position + 1.5 * title + 0.5 * names + numbers


def summarise(
    text: str,
    title: str = "",
    max_sentences: int = 3,
    sentences: Sequence[Sentence] | None = None,
) -> tuple[str, ...]:
    """Pick the 2–3 sentences of ``text`` that best say what it is about.

    Args:
        text: the article text, paragraphs separated by newlines.
        title: the headline; sentences sharing its words score higher.
        max_sentences: 3 by default; 2 for articles of fewer than 8 sentences.
        sentences: ``split_sentences(text)`` when the caller has it already.

    Returns:
        Sentences exactly as written, in the order they appear.
    """
    usable = [s for s in (sentences or split_sentences(text)) if _usable(s)]
    if not usable:
        return ()
    wanted = min(max_sentences, 2 if len(usable) < 8 else max_sentences)
    title_words = _content_words(title)
    ranked = sorted(range(len(usable)), key=lambda i: -_score(usable[i], i, title_words))
    chosen: list[int] = []
    for i in ranked:
        if all(_distinct(usable[i].text, usable[j].text) for j in chosen):
            chosen.append(i)
        if len(chosen) == wanted:
            break
    return tuple(usable[i].text for i in sorted(chosen))


def _distinct(a: str, b: str) -> bool:
    return fuzz.token_set_ratio(a, b) < DUPLICATE_RATIO


def summarise_story(
    articles: Sequence[Article], max_sentences: int = 3
) -> tuple[StorySentence, ...]:
    """A 2–3 sentence summary of a story, taken verbatim from its articles.

    Each article's own lead sentences are candidates; a candidate's score
    adds how many of its words the *other* articles use too, so the summary
    says what the outlets agree on. Near-identical sentences (a syndicated
    copy) are kept once. Sentences come out earliest-published article first.
    """
    candidates: list[tuple[float, int, Sentence, Article]] = []
    vocabularies = [_content_words(a.text) for a in articles]
    document_frequency: Counter[str] = Counter()
    for vocabulary in vocabularies:
        document_frequency.update(vocabulary)
    for number, article in enumerate(articles):
        title_words = _content_words(article.title)
        usable = [s for s in split_sentences(article.text) if _usable(s)][:8]
        for index, sentence in enumerate(usable):
            words = _content_words(sentence.text)
            shared = sum(document_frequency[w] - 1 for w in words) / (len(words) or 1)
            score = _score(sentence, index, title_words) + shared
            candidates.append((score, number, sentence, article))
    candidates.sort(key=lambda c: -c[0])
    chosen: list[tuple[float, int, Sentence, Article]] = []
    for candidate in candidates:
        if all(_distinct(candidate[2].text, c[2].text) for c in chosen):
            chosen.append(candidate)
        if len(chosen) == max_sentences:
            break
    chosen.sort(key=lambda c: (_published_order(c[3]), c[1], c[2].start))
    return tuple(StorySentence(c[2].text, c[3].url) for c in chosen)


def _published_order(article: Article) -> float:
    return article.published.timestamp() if article.published else float("inf")
