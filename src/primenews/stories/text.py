"""Text features shared by dedup and clustering: terms, shingles, names, numbers.

Everything here is a pure function of its arguments. Terms are casefolded,
accent-stripped, stop-word-filtered words, stemmed with the Snowball stemmer
of the document's language when PyStemmer knows it. Names and numbers are the
*language-independent* evidence: a capitalised name written in Latin script
("Nicolás Maduro" → ``maduro``, ``nicolas maduro``) and a figure ("1,200" →
``1200``) read the same in an English and a Spanish report of one event.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from functools import cache, lru_cache

import Stemmer  # no stubs: mypy override in pyproject.toml
from wordfreq import INFERRED_SPACE_FACTOR, available_languages, cB_to_freq, get_frequency_list
from wordfreq.language_info import get_language_info
from wordfreq.numbers import digit_freq, smash_numbers
from wordfreq.tokens import lossy_tokenize

__all__ = [
    "background_share",
    "content_hash",
    "fold",
    "names",
    "normalise_text",
    "numbers",
    "shingles",
    "slug_words",
    "stems",
    "terms",
    "thread_path",
    "words",
]

_WORD = re.compile(r"\w+", re.UNICODE)
# Latin diacritics after NFKD (other scripts' marks, e.g. Devanagari vowel signs, stay).
_COMBINING = re.compile("[\u0300-\u036f]")
# A capitalised word (Latin script after folding); runs of them are one name.
_NAME_RUN = re.compile(r"(?:\b[A-Z][\w'’-]*\b(?:\s+|$)){1,4}")
# 1,200 · 3.5 · 40% · 2026 — separators inside digits are kept for parsing.
_NUMBER = re.compile(
    r"(?<![\w.,])\d{1,3}(?:[ ,.]\d{3})+(?:[.,]\d+)?(?![\w])|(?<![\w.,])\d+(?:[.,]\d+)?"
)

# Short function words of the languages we stem; the IDF weight takes care of
# the rest, this list only keeps the vectors and the inverted index small.
_STOP_WORDS = frozenset(
    """a an and are as at be been but by for from had has have he her his i in is it its
    of on or our she that the their them there they this to was we were what when which
    who will with would you your not no so if than then also after over into about up
    out more new says said say can could may might just all one two de la el en y los las
    del se por un una con para al le les des et du au der die das und den ein eine mit""".split()
)
# Capitalised words that open sentences and headlines without naming anything.
_NOT_NAMES = frozenset(
    """The A An In On At For To Of And But Or As By From With After Before Over Under Why How
    What When Where Who Which This That These Those It Its Is Are Was Were Be He She They We
    You I His Her Their Our My Watch Live Video Photos Opinion Analysis Update Breaking New
    Mr Mrs Ms Dr Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February
    March April May June July August September October November December El La Los Las Le
    Les Der Die Das Un Una""".split()
)
# ISO 639-1 → Snowball algorithm names that PyStemmer ships.
_STEMMERS = {
    "en": "english", "es": "spanish", "fr": "french", "de": "german", "it": "italian",
    "pt": "portuguese", "nl": "dutch", "sv": "swedish", "no": "norwegian", "da": "danish",
    "fi": "finnish", "ru": "russian", "tr": "turkish", "ro": "romanian", "hu": "hungarian",
    "ar": "arabic", "id": "indonesian", "ga": "irish", "el": "greek", "hi": "hindi",
    "ne": "nepali", "ta": "tamil", "ca": "catalan", "eu": "basque", "lt": "lithuanian",
    "sr": "serbian", "hy": "armenian", "yi": "yiddish",
}  # fmt: skip


def fold(text: str) -> str:
    """Casefold and strip accents: ``"Nicolás"`` → ``"nicolas"``."""
    folded = text.casefold()
    if folded.isascii():
        return folded
    return _COMBINING.sub("", unicodedata.normalize("NFKD", folded))


@lru_cache(maxsize=64)
def _stemmer(language: str) -> Stemmer.Stemmer | None:
    algorithm = _STEMMERS.get(language[:2].lower())
    return Stemmer.Stemmer(algorithm) if algorithm else None


def words(text: str) -> list[str]:
    """Folded words of the text in order, stop words, digits and one-letter words dropped."""
    found = [w for w in _WORD.findall(fold(text)) if len(w) > 1 and not w.isdigit()]
    return [w for w in found if w not in _STOP_WORDS]


def stems(found: list[str], language: str = "en") -> list[str]:
    """Snowball stems of ``found`` in ``language`` (the words unchanged if it has no stemmer)."""
    stemmer = _stemmer(language or "en")
    return stemmer.stemWords(found) if stemmer is not None else list(found)


def terms(text: str, language: str = "en") -> list[str]:
    """The text's index terms in order: :func:`words`, stemmed."""
    return stems(words(text), language)


@lru_cache(maxsize=200_000)
def background_share(word: str, language: str = "en") -> float:
    """The share of news documents expected to contain ``word``, from general word frequencies.

    wordfreq's frequency (per token, across web, news, books, subtitles) turned
    into a document share for a ~250-word document: ``1 − exp(−250 f)``. It
    lets a young index know that "says" is common before it has seen 1,000
    documents. 0.0 for unknown words and languages.
    """
    if language not in _wordfreq_languages() or language in _NO_TOKENIZER:
        return 0.0
    try:
        frequency = _word_frequency(word, language)
    except ImportError:  # Chinese, Japanese, Korean need wordfreq[cjk]'s tokenizers: no prior
        _NO_TOKENIZER.add(language)  # a failed import is not cached: tried once, not per word
        return 0.0
    return 1.0 - math.exp(-250.0 * frequency)


_NO_TOKENIZER: set[str] = set()  # languages whose wordfreq tokenizer is not installed


@lru_cache(maxsize=1)
def _wordfreq_languages() -> frozenset[str]:
    return frozenset(available_languages())


@cache
def _frequencies(language: str) -> dict[str, float]:
    """wordfreq's frequency dict of ``language``, built a bucket at a time.

    Same keys and values as ``wordfreq.get_frequency_dict``, whose per-word
    loop cost ~0.5 s of CPU per language loaded (a polling process meets a
    dozen languages); ``dict.fromkeys`` per bucket takes a fraction of that.
    """
    frequencies: dict[str, float] = {}
    for index, bucket in enumerate(get_frequency_list(language)):
        frequencies.update(dict.fromkeys(bucket, cB_to_freq(-index)))
    return frequencies


def _word_frequency(word: str, language: str) -> float:
    """``wordfreq.word_frequency(word, language)`` over :func:`_frequencies`.

    The same steps as wordfreq 3.1's ``_word_frequency`` (tokens, digit
    smashing, 1/f = Σ 1/fᵢ, the jieba factor, 3 significant digits);
    tests/stories/test_text.py checks the two agree.
    """
    parts = word.split(" ")
    plain = all(p.isascii() and p.isalpha() and p.islower() for p in parts)
    # Plain a-z words are their own tokens: lossy_tokenize would cost ~50 µs to say so.
    tokens = parts if plain and _regex_tokenizer(language) else lossy_tokenize(word, language)
    if not tokens:
        return 0.0
    frequencies = _frequencies(language)
    one_over_result = 0.0
    for token in tokens:
        smashed = smash_numbers(token)
        frequency = frequencies.get(smashed)
        if frequency is None:
            return 0.0
        if smashed != token:
            frequency *= digit_freq(token)
        one_over_result += 1.0 / frequency
    frequency = 1.0 / one_over_result
    if len(tokens) > 1 and get_language_info(language)["tokenizer"] == "jieba":
        frequency *= INFERRED_SPACE_FACTOR ** -(len(tokens) - 1)
    if frequency == 0.0:
        return 0.0
    return round(frequency, math.floor(-math.log(frequency, 10)) + 3)


@cache
def _regex_tokenizer(language: str) -> bool:
    """Whether wordfreq splits ``language`` with its regex (a-z words between single spaces
    are then its tokens).

    Its preprocessing (normal form, casefolding, Turkish dots, Serbian and
    Azeri transliteration, marks, cedillas) leaves lower-case ASCII letters
    as they are; tests/stories/test_text.py checks it for every such language.
    """
    return bool(get_language_info(language)["tokenizer"] == "regex")


def names(text: str) -> list[str]:
    """Capitalised names in the text, folded: each run and its last word.

    ``"Russian strike on Odesa port"`` → ``["russian", "odesa"]``;
    ``"Nicolás Maduro said"`` → ``["nicolas maduro", "maduro"]``. The last word
    alone lets "Maduro" in a later sentence meet "Nicolás Maduro". A crude
    capitalisation rule, not NER: it costs microseconds and works in every
    language written with capitals.
    """
    found: list[str] = []
    for match in _NAME_RUN.finditer(text):
        words = [w for w in match.group(0).split() if w not in _NOT_NAMES]
        if not words:
            continue
        run = fold(" ".join(words)).replace("’", "'")
        last = fold(words[-1])
        found.append(run)
        if last != run and len(last) > 2:
            found.append(last)
    return found


def _number_value(raw: str) -> float | None:
    compact = raw.replace(" ", "")
    if re.fullmatch(r"\d{1,3}(?:[,.]\d{3})+", compact):
        compact = re.sub(r"[,.]", "", compact)  # thousands separators, either convention
    else:
        compact = compact.replace(",", ".")  # decimal comma
    try:
        return float(compact)
    except ValueError:
        return None


def numbers(text: str) -> list[str]:
    """Figures in the text, normalised: ``"1,200"`` and ``"1.200"`` → ``"1200"``.

    Numbers under 10 are dropped (they count everything and tell nothing).
    """
    found: list[str] = []
    for raw in _NUMBER.findall(text):
        value = _number_value(raw)
        if value is not None and value >= 10:
            found.append(str(int(value)) if value == int(value) else f"{value:g}")
    return found


def normalise_text(text: str) -> str:
    """Folded words joined by single spaces: what a content hash is taken of."""
    return " ".join(_WORD.findall(fold(text)))


def content_hash(normalised: str) -> str:
    """A stable hash of :func:`normalise_text` output (same words → same hash)."""
    return hashlib.blake2b(normalised.encode("utf-8"), digest_size=16).hexdigest()


def shingles(normalised: str, size: int = 3) -> set[str]:
    """Word ``size``-grams of :func:`normalise_text` output (the whole text if shorter)."""
    words = normalised.split()
    if len(words) <= size:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + size]) for i in range(len(words) - size + 1)}


# Path segments that say nothing about the event.
_URL_NOISE = frozenset(
    """www com html htm php aspx amp index story stories news article articles video videos
    live world section category tag https http utm source rss""".split()
)


def slug_words(url: str) -> list[str]:
    """Latin-script words of a URL's slug: ``/world/red-fort-attack.html`` → attack, fort, red.

    The slug is the last path segment written with hyphens or underscores;
    section folders ("world", "technology") say where, not what. Numbers and
    ids are dropped.
    """
    path = url.split("://", 1)[-1].split("?", 1)[0].split("#", 1)[0]
    segments = [seg for seg in path.split("/")[1:] if "-" in seg or "_" in seg]
    if not segments:
        return []
    words = re.findall(r"[a-z]+", fold(segments[-1]))
    return sorted({w for w in words if len(w) > 2 and w not in _URL_NOISE and w not in _STOP_WORDS})


def thread_path(url: str) -> str:
    """Host and path of the slugged folder an article sits in, "" if none.

    Live blogs and rolling coverage put every post under one slug:
    ``nytimes.com/live/2026/08/12/world/solar-eclipse-2026-updates/<post>``
    gives ``nytimes.com/live/2026/08/12/world/solar-eclipse-2026-updates``.
    Only a slugged folder under a dated path counts: section folders such as
    ``/fact-check/story/`` are not threads, and ``/news/2026/8/13/`` has no slug.
    """
    host, _, path = url.split("://", 1)[-1].split("?", 1)[0].split("#", 1)[0].partition("/")
    segments = [seg for seg in path.split("/") if seg]
    for i in range(len(segments) - 2, -1, -1):
        dated = any(_YEAR.fullmatch(seg) for seg in segments[:i])
        if dated and "-" in segments[i]:
            return "/".join([host.removeprefix("www."), *segments[: i + 1]])
    return ""


_YEAR = re.compile(r"(?:19|20)\d\d")
