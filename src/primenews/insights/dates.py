"""Dates in the text, resolved against the publication date, with what happened then.

Understood: "2024-11-26", "November 26", "26 November 2024", "Nov. 26",
"September 2024", "in September", "July elections", "this Thursday",
"last Tuesday", "on Monday", "yesterday", "this week", "last month",
"three days ago", "in 2023".

News reports the past, so a date without a year is the one nearest the
publication date looking back (at most two months ahead: "on December 5"
in a late-November article is next week); a sentence that speaks of the
future ("will", "next", "scheduled") looks ahead instead. "This Thursday" is
the Thursday of the publication week (on a Friday: yesterday); a bare
weekday is the latest one on or before the publication day.

Without a publication date only dates that carry their year are kept.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from primenews.insights.entities import Token, tokens_from
from primenews.insights.model import DateMention
from primenews.insights.summary import Sentence, around, sentence_at

MONTHS = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
}  # fmt: skip
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
                 "seven": 7, "eight": 8, "nine": 9, "ten": 10}  # fmt: skip
_MONTH = (
    r"(?P<month>January|February|March|April|May|June|July|August|September|October|November|"
    r"December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?"
)
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)\d\d)"
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("iso", re.compile(r"\b(?P<year>(?:19|20)\d\d)-(?P<m>[01]\d)-(?P<day>[0-3]\d)\b")),
    ("day", re.compile(rf"\b{_MONTH}\s+{_DAY}(?:,?\s+{_YEAR})?\b(?!:)")),
    ("day", re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH}(?:,?\s+{_YEAR})?\b")),
    ("month", re.compile(rf"\b{_MONTH}\s+(?:of\s+)?{_YEAR}\b")),
    ("month", re.compile(
        r"\b(?:(?P<rel>last|next|this|in|since|until|by|from|through|during|early|late|mid-?)\s+)?"
        r"(?P<month>January|February|March|April|May|June|July|August|September|October|November|December)\b")),
    ("weekday", re.compile(
        r"\b(?:(?P<rel>this|last|next|on|from|to|until|by|since|early|late)\s+)?"
        r"(?P<weekday>Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b")),
    ("relative", re.compile(
        r"\b(?:(?:earlier|later)\s+)?(?P<rel>this|last|next|past)\s+(?P<unit>week|month|year)\b",
        re.I)),
    ("ago", re.compile(
        r"\b(?P<n>\d+|an?|one|two|three|four|five|six|seven|eight|nine|ten)\s+"
        r"(?P<unit>day|week|month|year)s?\s+ago\b", re.I)),
    ("deictic", re.compile(r"\b(?P<word>today|yesterday|tomorrow)\b", re.I)),
    ("year", re.compile(
        rf"\b(?P<rel>in|since|by|until|from|during|before|after|of)\s+{_YEAR}\b(?![-/]\d)")),
)  # fmt: skip
_FUTURE = re.compile(r"\b(?:will|would|next|upcoming|scheduled|due|expected|plans?\s+to)\b", re.I)
_CLAUSE_BREAK = re.compile(r"[,;:—–()]|\s(?:that|which|where|when|while|after|before)\s")
_DATE_WORDS = re.compile(
    r"^(?:on|in|this|last|next|since|until|by|from|to|during|earlier|later|the|early|late|mid)$",
    re.I,
)
_DATE_NAMES = re.compile(r"\b(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b")
_NOUN_TAGS = ("NN", "NNS")
AHEAD_DAYS = 60  # a yearless date up to two months after publication is read as upcoming


@dataclass(frozen=True, slots=True)
class _Resolved:
    iso: str
    value: date
    granularity: str


def extract_dates(
    text: str,
    published: datetime | date | None,
    sentences: Sequence[Sentence],
    tokens: Sequence[Token] = (),
) -> tuple[DateMention, ...]:
    """Find and resolve the dates of ``text``.

    Args:
        text: the article text.
        published: the publication date every relative date is read against.
        sentences: its sentences (``summary.split_sentences``).
        tokens: its tagged tokens, to tell "the July 28 election" (the date
            names an event) from "on July 28".
    """
    anchor = published.date() if isinstance(published, datetime) else published
    found: list[DateMention] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(text):
            start, end = _span(match)
            if any(s < end and start < e for s, e in taken) or _is_modal_may(match, text):
                continue
            whole = sentence_at(sentences, start) or Sentence(text, 0, len(text))
            sentence = around(whole, start, end)
            resolved = _resolve(kind, match, anchor, bool(_FUTURE.search(sentence.text)))
            if resolved is None:
                continue
            taken.append((start, end))
            what = _what(text, sentence, start, end, tokens)
            found.append(DateMention(text[start:end], start, end, resolved.iso, resolved.value,
                                     resolved.granularity, what, sentence.text))  # fmt: skip
    return tuple(sorted(found, key=lambda d: d.start))


def candidates(text: str) -> list[tuple[int, int]]:
    """Where ``text`` may hold a date: the spans whose following words' tags the rules read."""
    return [match.span() for _kind, pattern in _PATTERNS for match in pattern.finditer(text)]


def _span(match: re.Match[str]) -> tuple[int, int]:
    """The date itself: "this Thursday" and "last week" keep their word, "on"/"in" do not."""
    groups = match.groupdict()
    rel = groups.get("rel")
    if rel and rel.lower() not in ("this", "last", "next", "past"):
        name = "weekday" if groups.get("weekday") else "month" if groups.get("month") else "year"
        return match.start(name), match.end()
    return match.start(), match.end()


def _is_modal_may(match: re.Match[str], text: str) -> bool:
    """ "May" alone is a month only after a preposition ("in May"), not "officials may"."""
    month = match.groupdict().get("month")
    if month != "May" or match.groupdict().get("day") or match.groupdict().get("year"):
        return False
    return not match.groupdict().get("rel")


def _resolve(
    kind: str, match: re.Match[str], anchor: date | None, future: bool
) -> _Resolved | None:
    groups = match.groupdict()
    year = int(groups["year"]) if groups.get("year") else None
    rel = (groups.get("rel") or "").lower()
    if kind == "iso":
        return _day(date(int(groups["year"]), int(groups["m"]), int(groups["day"])))
    if kind == "year":
        return _Resolved(str(year), date(year or 1, 1, 1), "year")
    if kind in ("day", "month"):
        month = MONTHS[_month_name(groups["month"])]
        if kind == "day":
            return _month_day(month, int(groups["day"]), year, anchor, future)
        return _month(month, year, anchor, future or rel == "next", rel == "last")
    if anchor is None:
        return None
    if kind == "weekday":
        return _weekday(WEEKDAYS.index(groups["weekday"].lower()), rel, anchor, future)
    if kind == "deictic":
        shift = {"today": 0, "yesterday": -1, "tomorrow": 1}[groups["word"].lower()]
        return _day(anchor + timedelta(days=shift))
    if kind == "ago":
        amount = _NUMBER_WORDS.get(groups["n"].lower()) or int(groups["n"])
        return _ago(amount, groups["unit"].lower(), anchor)
    return _relative(groups["rel"].lower(), groups["unit"].lower(), anchor)


def _month_name(text: str) -> str:
    name = text.lower().rstrip(".")
    return next(full for full in MONTHS if full.startswith(name[:3]))


def _day(value: date) -> _Resolved:
    return _Resolved(value.isoformat(), value, "day")


def _month_day(
    month: int, day: int, year: int | None, anchor: date | None, future: bool
) -> _Resolved | None:
    try:
        if year is not None:
            return _day(date(year, month, day))
        if anchor is None:
            return None
        ahead = 300 if future else AHEAD_DAYS
        for candidate_year in (anchor.year - 1, anchor.year, anchor.year + 1):
            value = date(candidate_year, month, day)
            if anchor - timedelta(days=365 - ahead) < value <= anchor + timedelta(days=ahead):
                return _day(value)
    except ValueError:
        return None  # "February 30"
    return None


def _month(
    month: int, year: int | None, anchor: date | None, ahead: bool, before: bool
) -> _Resolved | None:
    if year is None:
        if anchor is None:
            return None
        year = anchor.year
        if ahead and month <= anchor.month:
            year += 1
        elif not ahead and (month > anchor.month or (before and month == anchor.month)):
            year -= 1
    return _Resolved(f"{year:04d}-{month:02d}", date(year, month, 1), "month")


def _weekday(weekday: int, rel: str, anchor: date, future: bool) -> _Resolved:
    if rel == "this":
        return _day(anchor + timedelta(days=weekday - anchor.weekday()))
    back = (anchor.weekday() - weekday) % 7
    if rel == "last":
        return _day(anchor - timedelta(days=back or 7))
    if rel == "next" or future:
        return _day(
            anchor + timedelta(days=((weekday - anchor.weekday()) % 7) or (7 if rel else 0))
        )
    return _day(anchor - timedelta(days=back))


def _relative(rel: str, unit: str, anchor: date) -> _Resolved:
    step = {"last": -1, "next": 1}.get(rel, 0)
    if unit == "week":
        monday = anchor - timedelta(days=anchor.weekday()) + timedelta(weeks=step)
        iso = monday.isocalendar()
        return _Resolved(f"{iso.year}-W{iso.week:02d}", monday, "week")
    if unit == "month":
        index = anchor.year * 12 + anchor.month - 1 + step
        return _Resolved(
            f"{index // 12:04d}-{index % 12 + 1:02d}", date(index // 12, index % 12 + 1, 1), "month"
        )
    return _Resolved(str(anchor.year + step), date(anchor.year + step, 1, 1), "year")


def _ago(amount: int, unit: str, anchor: date) -> _Resolved:
    if unit in ("day", "week"):
        return _day(anchor - timedelta(days=amount * (7 if unit == "week" else 1)))
    if unit == "month":
        index = anchor.year * 12 + anchor.month - 1 - amount
        return _Resolved(
            f"{index // 12:04d}-{index % 12 + 1:02d}", date(index // 12, index % 12 + 1, 1), "month"
        )
    return _Resolved(str(anchor.year - amount), date(anchor.year - amount, 1, 1), "year")


def _what(text: str, sentence: Sentence, start: int, end: int, tokens: Sequence[Token]) -> str:
    """What the date is about: the event it names ("election"), else the words of its clause."""
    nouns: list[str] = []
    for token in tokens_from(tokens, end, 4):
        if token.tag == "POS":
            continue
        if token.tag not in _NOUN_TAGS:
            break
        nouns.append(token.text)
    if nouns:
        return " ".join(nouns)
    before = text[sentence.start : start]
    after = text[end : sentence.end]
    if not _without_date_words(before.split()):  # "Earlier this week, an opposition party …"
        after = after.lstrip(" ,;:")
    cut = list(_CLAUSE_BREAK.finditer(before))
    clause_before = before[cut[-1].end() :] if cut else before
    stop = _CLAUSE_BREAK.search(after)
    clause_after = after[: stop.start()] if stop else after
    words_before = _without_date_words(clause_before.split())
    if (
        len(words_before) + len(re.findall(r"\w+", clause_after)) < 3
    ):  # "from Tuesday to Thursday": look wider
        words_before = _without_date_words(before.split())
    words_after = _DATE_NAMES.split(clause_after)[0].split()
    while words_after and words_after[0].lower() in ("to", "and", "until", "through", "."):
        words_after.pop(0)
    words = words_before[-10:] + words_after[: max(0, 10 - min(len(words_before), 10))]
    return re.sub(r"[“”\"‘]|’(?!\w)", "", " ".join(words)).strip(" .,;:")


def _without_date_words(words: list[str]) -> list[str]:
    words = list(words)
    while words and (_DATE_WORDS.match(words[-1].strip(",")) or _DATE_NAMES.fullmatch(words[-1])):
        words.pop()
    return words
