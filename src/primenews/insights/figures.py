"""Key figures: numbers with what they count, how they are hedged and who says so.

Numbers are found with patterns (digits, "2,000", "$7.86bn", "12%", "72-hour",
number words like "three" or "twenty-five"); what they count is read from
the part-of-speech tags after them: adjectives and nouns ("three of its
regional leaders" → "regional leaders"), then a participle that says what
happened to them ("… had been detained" → "regional leaders detained"). A
number followed only by a participle ("nearly 200 injured") borrows the noun
of the figure before it in the same sentence ("28 people were killed").

Proper names may sit between the number and what it counts ("68 unreleased
Nirvana tracks"); a past-tense tag right after a number is read as the
participle it almost always is ("55 unreleased tracks": the tagger's guess
flips with the number).

Dates ("July 28"), years ("in 2024"), decades ("1980s"), times ("3.30pm"), ordinals ("28th"),
ranks ("a top 10 hit", "No 10")
and numbers inside names ("G20", "Covid-19", "Windows 10", a scorer's minute
"Dunne 75") are not figures.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass

from primenews.insights.entities import Token, tokens_from
from primenews.insights.model import Entity, Figure, Qualifier
from primenews.insights.quotes import SpeakerResolver, source_of
from primenews.insights.summary import Sentence, around, sentence_at

_SMALL = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
WORD_VALUES = {w: float(i) for i, w in enumerate(_SMALL)} | {
    w: float(10 * (i + 2)) for i, w in enumerate(_TENS)
}
SCALES = {
    "k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "million": 1e6,
    "bn": 1e9, "b": 1e9, "billion": 1e9, "tn": 1e12, "trillion": 1e12,
}  # fmt: skip
CURRENCIES = {
    "$": "USD", "us$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "usd": "USD", "eur": "EUR",
    "gbp": "GBP", "dollars": "USD", "euros": "EUR", "pounds": "GBP",
}  # fmt: skip
UNITS = {
    "second": "seconds", "minute": "minutes", "hour": "hours", "day": "days", "week": "weeks",
    "month": "months", "year": "years", "km": "km", "kilometre": "km", "kilometer": "km",
    "mile": "miles", "millimetre": "mm", "mm": "mm", "centimetre": "cm", "cm": "cm",
    "inch": "inches", "metre": "m", "meter": "m", "kg": "kg", "kilogram": "kg", "tonne": "tonnes",
    "ton": "tonnes", "barrel": "barrels", "hectare": "hectares", "acre": "acres",
    "degree": "degrees", "mph": "mph", "gw": "GW", "mw": "MW", "point": "points",
    "percentage point": "percentage points",
}  # fmt: skip
QUALIFIERS = {
    "at least": Qualifier.AT_LEAST, "no fewer than": Qualifier.AT_LEAST,
    "more than": Qualifier.MORE_THAN, "over": Qualifier.MORE_THAN,
    "upwards of": Qualifier.MORE_THAN,
    "in excess of": Qualifier.MORE_THAN, "nearly": Qualifier.NEARLY, "almost": Qualifier.NEARLY,
    "close to": Qualifier.NEARLY, "just under": Qualifier.NEARLY, "around": Qualifier.AROUND,
    "about": Qualifier.AROUND, "approximately": Qualifier.AROUND, "roughly": Qualifier.AROUND,
    "some": Qualifier.AROUND, "an estimated": Qualifier.AROUND, "less than": Qualifier.LESS_THAN,
    "fewer than": Qualifier.LESS_THAN, "under": Qualifier.LESS_THAN, "up to": Qualifier.UP_TO,
    "as many as": Qualifier.UP_TO, "at most": Qualifier.UP_TO, "no more than": Qualifier.UP_TO,
    "not more than": Qualifier.UP_TO, "no less than": Qualifier.AT_LEAST,
}  # fmt: skip
_MONTHS = (
    r"Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?"
)
_WORD_NUMBER = (
    rf"(?:{'|'.join(_TENS)})(?:-(?:{'|'.join(_SMALL[1:10])}))?|{'|'.join(reversed(_SMALL[1:]))}"
)
_FIGURE = re.compile(
    r"(?<![\w.,:/–-])(?P<cur>US\$|[$€£¥]|(?:USD|EUR|GBP)\s?)?"
    rf"(?:(?P<num>\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?)|(?P<word>\b(?:{_WORD_NUMBER})\b))"
    r"(?:(?P<attached>bn|mn|m|k|tn|b)\b|\s(?P<scale>thousand|million|billion|trillion)\b)?"
    r"(?P<pct>\s?%|\s(?:per\s?cent|percent)\b)?"
    rf"(?:-(?P<compound>{'|'.join(k for k in UNITS if ' ' not in k)})(?:-old)?\b)?",
    re.IGNORECASE,
)
_QUALIFIER_BEFORE = re.compile(
    rf"\b(?P<q>{'|'.join(sorted(QUALIFIERS, key=len, reverse=True))})\s+$", re.IGNORECASE
)
_DATE_BEFORE = re.compile(rf"\b(?:{_MONTHS})\.?\s+$")
# Words that open a sentence before a figure: qualifiers' first words and determiners.
_OPENERS = frozenset(q.split()[0] for q in QUALIFIERS) | frozenset(
    "only just all another the a an these those its their his her our and but nearly".split()
)
_RANK_BEFORE = re.compile(r"\b(?:top|no\.?|number)\s+$", re.I)  # "a top 10 hit", "No 10"
_DATE_AFTER = re.compile(
    rf"^(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{_MONTHS})\b|^(?:st|nd|rd|th)\b|^:\d|^\s?[ap]\.?m\b"
    r"|^'?s\b",  # a decade: "1980s pioneers", "the 90's"
    re.I,
)
_SERIES_AFTER = re.compile(r"\s?[-–/]\s?\d")  # phone numbers, ranges, "1/5": not one figure
# what a figure counts is a common noun ("people") or a plural name ("Americans"); a singular
# name after a number is a product or a title ("3 Tier Heated Clothes Airer")
_NOUN_TAGS = frozenset({"NN", "NNS", "NNPS"})
_MODIFIER_TAGS = frozenset({"JJ", "JJR", "JJS", "HYPH", "VBN"}) | _NOUN_TAGS
_AUXILIARIES = frozenset({"were", "was", "had", "have", "has", "been", "are", "is", "being", "be"})
_RELATIVE = frozenset({"last", "next", "this", "previous", "past", "coming"})
_TIME_NOUNS = frozenset({"year", "week", "month", "day", "decade", "quarter", "season", "time"})
# Participles spelt like the verb's present or a noun: the tagger calls them either.
_BARE_PARTICIPLES = frozenset(
    {"cut", "hit", "hurt", "set", "put", "shut", "spread", "cost", "quit", "split", "shed"}
)
_COMPARATIVES = frozenset({"more", "fewer", "less", "further", "extra"})
_OF_DETERMINERS = frozenset({"its", "the", "their", "his", "her", "our", "these", "those", "them"})


@dataclass(frozen=True, slots=True)
class _Counted:
    noun: str
    counts: str


def extract_figures(
    text: str,
    tokens: Sequence[Token],
    sentences: Sequence[Sentence],
    entities: Sequence[Entity] = (),
) -> tuple[Figure, ...]:
    """Find the figures of ``text``.

    Args:
        text: the article text.
        tokens: its tagged tokens (``entities.analyse_texts``); untagged
            tokens still give figures, with less of what they count.
        sentences: its sentences (``summary.split_sentences``).
        entities: its canonical entities, to name the source of a figure.
    """
    figures: list[Figure] = []
    resolver = SpeakerResolver(text, entities)
    for match in _FIGURE.finditer(text):
        if not _is_figure(match, text, tokens):
            continue
        whole = sentence_at(sentences, match.start())
        sentence = around(whole, match.start(), match.end()) if whole else None
        previous = figures[-1] if figures and whole and figures[-1].start >= whole.start else None
        figure = _figure(match, tokens, sentence, previous, resolver)
        if figure.unit or figure.counts:  # a number that counts nothing we can name is noise
            figures.append(figure)
    return tuple(figures)


def candidates(text: str) -> list[tuple[int, int]]:
    """Where ``text`` may hold a figure: the spans whose neighbouring words' tags the rules read."""
    return [match.span() for match in _FIGURE.finditer(text)]


def _is_figure(match: re.Match[str], text: str, tokens: Sequence[Token]) -> bool:
    before, after = (
        text[max(0, match.start() - 12) : match.start()],
        text[match.end() : match.end() + 12],
    )
    if _DATE_BEFORE.search(before) or _DATE_AFTER.match(after) or _SERIES_AFTER.match(after):
        return False
    if _RANK_BEFORE.search(before):
        return False  # a rank or an address, not a count
    glued = re.match(r"[A-Za-z]+", text[match.end() : match.end() + 20])
    if glued and glued.group().lower() not in UNITS and glued.group().lower() not in CURRENCIES:
        return False  # a code: a "12A rating", the M25, 4G, 20p
    if _after_name(match, text, tokens):
        return False
    number = match.group("num")
    if (
        number
        and re.fullmatch(r"1[5-9]\d\d|20\d\d", number)
        and not (match.group("cur") or match.group("pct"))
    ):
        following = tokens_from(tokens, match.end())
        return bool(following) and following[0].tag in (
            "NNS",
            "NNPS",
        )  # "2000 people", not "in 2000"
    word = (match.group("word") or "").lower()
    if word == "one":
        following = tokens_from(tokens, match.end())
        return bool(following) and following[0].tag in ("NN", "NNS") and following[0].text != "of"
    return True


def _after_name(match: re.Match[str], text: str, tokens: Sequence[Token]) -> bool:
    """A bare number right after a name is part of it ("Windows 10", "Section 404", "Rooney 68")."""
    if match.group("cur") or match.group("pct") or not match.group("num"):
        return False  # "Labour 35%" is a poll figure
    index = bisect.bisect_left(tokens, match.start(), key=lambda t: t.start)
    if index == 0 or index > len(tokens):
        return False
    before = tokens[index - 1]
    capitalised = before.text[:1].isupper() and before.tag in ("NNP", "NN")  # "Section 404"
    if not capitalised or before.start + len(before.text) + 1 != match.start():
        return False  # only a name directly before, one space apart
    if text[match.start() - 1] != " ":
        return False
    # The first word of a sentence may be tagged a name for its capital alone ("Nearly 200
    # people"); any other capitalised word there is a name ("Gerrard 79 og" in a scoreline).
    sentence_start = before.start == 0 or text[: before.start].rstrip()[-1:] in (".", "!", "?")
    return not (sentence_start and before.text.lower() in _OPENERS)


def _value(match: re.Match[str]) -> float:
    if match.group("num"):
        value = float(match.group("num").replace(",", ""))
    else:
        word = match.group("word").lower()
        value = sum(WORD_VALUES[part] for part in word.split("-"))
    scale = (match.group("attached") or match.group("scale") or "").lower()
    if scale in ("m", "b") and not match.group("cur"):
        return value if scale == "b" else value * 1e6  # "5m people" is a million scale too
    return value * SCALES.get(scale, 1.0)


def _unit(match: re.Match[str], text: str) -> tuple[str, int]:
    """The unit and where the counted thing may start."""
    end = match.end()
    if match.group("cur"):
        return CURRENCIES[match.group("cur").strip().lower()], end
    if match.group("pct"):
        return "%", end
    compound = (match.group("compound") or "").lower()
    if compound:
        return UNITS[compound], end
    word = re.match(r"\s*([A-Za-z]+(?:\s+point)?)\b", text[end : end + 30])  # "3.54kg" too
    if word:
        name = word.group(1).lower()
        singular = name[:-1] if name.endswith("s") and name[:-1] in UNITS else name
        if singular in UNITS:
            return UNITS[singular], end + word.end()
        if name in CURRENCIES:
            return CURRENCIES[name], end + word.end()
    return "", end


def _figure(
    match: re.Match[str],
    tokens: Sequence[Token],
    sentence: Sentence | None,
    previous: Figure | None,
    resolver: SpeakerResolver,
) -> Figure:
    text = resolver.text
    unit, after = _unit(match, text)
    counted = _counted(tokens_from(tokens, after), previous)
    qualifier_match = _QUALIFIER_BEFORE.search(text[max(0, match.start() - 20) : match.start()])
    qualifier = (
        QUALIFIERS[qualifier_match.group("q").lower()] if qualifier_match else Qualifier.EXACT
    )
    start = match.start() - (len(qualifier_match.group(0)) if qualifier_match else 0)
    if unit and unit == counted.noun:
        counted = _Counted("", "")
    return Figure(
        value=_value(match),
        text=text[start : match.end()],
        sentence=sentence.text if sentence else "",
        start=start,
        end=match.end(),
        unit=unit,
        noun=counted.noun,
        counts=counted.counts,
        qualifier=qualifier,
        attributed_to=source_of(sentence, match.start(), resolver) if sentence else "",
    )


def _counted(following: list[Token], previous: Figure | None) -> _Counted:
    """What the number counts, from the tagged words after it."""
    i = 0
    if (
        len(following) > 1
        and following[0].text.lower() in ("of", "in")
        and (following[1].text.lower() in _OF_DETERMINERS or following[1].tag in _NOUN_TAGS)
    ):
        i = 2 if following[1].text.lower() in _OF_DETERMINERS else 1
    following = _comparative_after_number(_participle_after_number(following, i), i)
    run: list[Token] = []
    while i < len(following) and (
        following[i].tag in _MODIFIER_TAGS
        or _name_before_noun(following, i)
        or _participle_before_noun(following, i, run)
    ):
        if _is_participle(following, i) and any(t.tag in _NOUN_TAGS for t in run):
            break  # "people imprisoned": the participle says what happened to them
        run.append(following[i])
        i += 1
    if len(run) > 1 and run[0].text.lower() in _RELATIVE and run[1].text.lower() in _TIME_NOUNS:
        run = []  # "rose 12% last year": a date, not what is counted
    nouns = [t for t in run if t.tag in _NOUN_TAGS]
    if not nouns:
        if run and previous is not None and previous.noun:  # "nearly 200 injured"
            return _Counted(previous.noun, f"{previous.noun} {run[0].text}")
        return _Counted("", " ".join(t.text for t in run[:1]))
    head = len(run) - 1 - [t.tag in _NOUN_TAGS for t in reversed(run)].index(True)
    phrase = " ".join(t.text for t in run[: head + 1] if t.tag != "HYPH")
    noun = run[head].text if run[head].tag.startswith("NNP") else run[head].text.lower()
    what = _participle(following[i:])
    return _Counted(noun, f"{phrase} {what}".strip() if what else phrase)


def _is_participle(following: list[Token], i: int) -> bool:
    """A past participle, also one spelt like its noun or present ("majority cut to 14")."""
    token = following[i]
    if token.tag == "VBN":
        return True
    after = following[i + 1].tag if i + 1 < len(following) else ""
    return token.text.lower() in _BARE_PARTICIPLES and after not in _NOUN_TAGS  # "tax cut plans"


def _participle_after_number(following: list[Token], i: int) -> list[Token]:
    """ "55 unreleased tracks": a past tense right after the number is a participle."""
    if i < len(following) and following[i].tag == "VBD" and following[i].text.endswith("ed"):
        return _retagged(following, i, "VBN")
    return following


def _participle_before_noun(following: list[Token], i: int, run: list[Token]) -> bool:
    """ "the 45 worst hit schools": a verb form between the number and its noun modifies it.

    The tagger calls "hit" there VBN after one number and VBD after another; before
    the first noun, a past form followed by a noun can only be describing that noun.
    """
    token = following[i]
    past = token.tag in ("VBD", "VBN") or token.text.lower() in _BARE_PARTICIPLES
    return (
        past
        and i + 1 < len(following)
        and following[i + 1].tag in _NOUN_TAGS
        and not any(t.tag in _NOUN_TAGS for t in run)
    )


def _comparative_after_number(following: list[Token], i: int) -> list[Token]:
    """ "108,273 more places": right after a number "more" is an adjective, whatever the tag."""
    if (
        i < len(following)
        and following[i].text.lower() in _COMPARATIVES
        and following[i].tag in ("RBR", "RB")
        and i + 1 < len(following)
        and following[i + 1].tag in _MODIFIER_TAGS  # not "5% more than expected"
    ):
        return _retagged(following, i, "JJR")
    return following


def _retagged(following: list[Token], i: int, tag: str) -> list[Token]:
    """The tokens with the ``i``-th given ``tag``: where the tagger's guess is known wrong."""
    return [*following[:i], Token(following[i].text, following[i].start, tag), *following[i + 1 :]]


def _name_before_noun(following: list[Token], i: int) -> bool:
    """A proper name that only modifies the counted noun after it ("Nirvana tracks")."""
    j = i
    # spaCy may tag a full stop NNP: a name is made of words, and never runs past a sentence.
    while j < len(following) and following[j].tag == "NNP" and following[j].text[:1].isalnum():
        j += 1
    return j > i and j < len(following) and following[j].tag in ("NN", "NNS")


def _participle(rest: list[Token]) -> str:
    """ "were killed" → "killed"; "had been detained" → "detained"; else ""."""
    for token in rest[:4]:
        if token.text.lower() in _AUXILIARIES or token.tag == "RB":
            continue
        return token.text if token.tag == "VBN" or token.text.lower() in _BARE_PARTICIPLES else ""
    return ""
