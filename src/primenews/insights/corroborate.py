"""Figures compared across the articles of a story: where outlets agree, where they differ.

    corroborate([FigureReport(article, outlet, figure), …]) ─► [FigureCheck]
        what        what is counted ("people freed"), the label readers see
        value       the value most outlets give (outlets, not articles, are counted)
        agreeing    outlets whose figure is consistent with that value
        variants    every other value with its outlets: "differs" (a real conflict)
                    or "approximate" (a hedged figure that is near, e.g. "nearly 4,000"
                    beside "3,768": a difference to show, not an error to hide)

Two figures are about the same thing when they have the same unit and the
same *measure*: the event word of what they count ("freed", "released" →
freed; "killed", "dead" → killed …), else the counted noun. Qualifiers are
respected: "at least 28" is consistent with 28 and with 30; "more than 100"
is not consistent with 90.

Pure: the shell hands in the figures the insights stage stored.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from primenews.insights.model import Figure, Qualifier

__all__ = ["FigureCheck", "FigureReport", "FigureVariant", "corroborate", "measure_of"]

# Rounding a figure may hide: "$7.86bn" and "$7.9bn" are the same report.
ROUNDING = 0.01
# A hedged figure ("nearly", "around") this close to the exact one is an approximation of it.
APPROXIMATE = 0.15

# Event words that name the same measure in different outlets' words.
_SYNONYMS = {
    "freed": "freed", "released": "freed", "release": "freed", "freeing": "freed",
    "killed": "killed", "dead": "killed", "died": "killed", "deaths": "killed",
    "death": "killed", "fatalities": "killed", "lives": "killed",
    "injured": "injured", "wounded": "injured", "hurt": "injured", "injuries": "injured",
    "arrested": "arrested", "detained": "arrested", "arrests": "arrested",
    "detentions": "arrested", "jailed": "arrested", "imprisoned": "arrested",
    "held": "arrested", "missing": "missing", "displaced": "displaced",
    "evacuated": "evacuated", "rescued": "rescued", "affected": "affected",
}  # fmt: skip
_PLURAL = re.compile(r"(?<=[a-z]{3})s$")
_WORD = re.compile(r"[a-z]+")
_GENERIC = frozenset({"people", "persons", "person", "individuals", "others", "more"})


@dataclass(frozen=True, slots=True)
class FigureReport:
    """One figure as one article of the story gave it."""

    article_id: int
    outlet: str
    figure: Figure


@dataclass(frozen=True, slots=True)
class FigureVariant:
    value: float
    text: str  # as the first outlet giving it wrote it ("around 2,000")
    outlets: tuple[str, ...]
    article_ids: tuple[int, ...]
    kind: str  # "agrees", "approximate" or "differs"
    sentence: str  # where the first outlet gave it


@dataclass(frozen=True, slots=True)
class FigureCheck:
    """One measure of the story across its outlets."""

    what: str
    unit: str
    value: float  # the value most outlets give
    agreeing: tuple[str, ...]  # outlets consistent with it
    variants: tuple[FigureVariant, ...]  # the agreeing value first, then the others

    @property
    def conflicts(self) -> tuple[FigureVariant, ...]:
        return tuple(v for v in self.variants if v.kind == "differs")


def measure_of(figure: Figure) -> str:
    """What a figure measures, in a form equal across outlets' wordings ("" if unknown)."""
    words = _WORD.findall(figure.counts.casefold()) or _WORD.findall(figure.noun.casefold())
    for word in words:
        if word in _SYNONYMS:
            return _SYNONYMS[word]
    nouns = [w for w in words if w not in _GENERIC]
    if not nouns:
        return ""
    return _PLURAL.sub("", nouns[0])


def corroborate(reports: Iterable[FigureReport], min_outlets: int = 2) -> list[FigureCheck]:
    """Every measure given by at least ``min_outlets`` outlets, most reported first."""
    groups: dict[tuple[str, str], list[FigureReport]] = defaultdict(list)
    for report in reports:
        measure = measure_of(report.figure)
        if measure:
            groups[(report.figure.unit, measure)].append(report)
    checks = []
    for (unit, measure), group in groups.items():
        outlets = {r.outlet for r in group}
        if len(outlets) >= min_outlets:
            checks.append(_check(measure, unit, group))
    checks.sort(key=lambda c: (-len(_outlets_of(c)), c.what, c.unit))
    return checks


def _check(measure: str, unit: str, group: Sequence[FigureReport]) -> FigureCheck:
    # One vote per outlet: its most precise figure (exact before hedged), its first article.
    per_outlet: dict[str, FigureReport] = {}
    for report in sorted(group, key=lambda r: (r.figure.qualifier is not Qualifier.EXACT,
                                                r.article_id)):  # fmt: skip
        per_outlet.setdefault(report.outlet, report)
    votes = list(per_outlet.values())
    support = Counter(
        candidate.figure.value
        for candidate in votes
        if candidate.figure.qualifier is Qualifier.EXACT
    ) or Counter(r.figure.value for r in votes)

    # The value most outlets are consistent with; ties go to the value more outlets state.
    def backing(value: float) -> tuple[int, int, float]:
        return sum(_consistent(r.figure, value) for r in votes), support[value], -value

    best = max(support, key=backing)
    by_value: dict[tuple[float, str], list[FigureReport]] = defaultdict(list)
    for report in group:
        if _consistent(report.figure, best):
            kind = "agrees"
        elif _approximate(report.figure, best):
            kind = "approximate"
        else:
            kind = "differs"
        by_value[(report.figure.value if kind != "agrees" else best, kind)].append(report)
    variants = [
        FigureVariant(
            value=value,
            text=reports[0].figure.text,
            outlets=tuple(dict.fromkeys(r.outlet for r in reports)),
            article_ids=tuple(dict.fromkeys(r.article_id for r in reports)),
            kind=kind,
            sentence=reports[0].figure.sentence,
        )
        for (value, kind), reports in by_value.items()
    ]
    order = {"agrees": 0, "approximate": 1, "differs": 2}
    variants.sort(key=lambda v: (order[v.kind], -len(v.outlets), v.value))
    label = _label(measure, group)
    agreeing = variants[0].outlets if variants and variants[0].kind == "agrees" else ()
    return FigureCheck(label, unit, best, agreeing, tuple(variants))


def _consistent(figure: Figure, value: float) -> bool:
    """Whether ``figure`` as hedged can be ``value``."""
    own = figure.value
    close = abs(own - value) <= ROUNDING * max(abs(own), abs(value), 1e-9)
    match figure.qualifier:
        case Qualifier.AT_LEAST:
            return value >= own or close
        case Qualifier.MORE_THAN:
            return value > own
        case Qualifier.UP_TO:
            return value <= own or close
        case Qualifier.LESS_THAN:
            return value < own
        case _:
            return close


def _approximate(figure: Figure, value: float) -> bool:
    hedged = figure.qualifier in (Qualifier.NEARLY, Qualifier.AROUND)
    scale = max(abs(figure.value), abs(value), 1e-9)
    return hedged and abs(figure.value - value) <= APPROXIMATE * scale


def _label(measure: str, group: Sequence[FigureReport]) -> str:
    """The wording most outlets use for what is counted ("people freed")."""
    wordings = Counter(r.figure.counts or r.figure.noun for r in group if r.figure.counts)
    return wordings.most_common(1)[0][0] if wordings else measure


def _outlets_of(check: FigureCheck) -> set[str]:
    return {outlet for variant in check.variants for outlet in variant.outlets}
