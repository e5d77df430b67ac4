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

__all__ = [
    "Agreement",
    "FigureCheck",
    "FigureReport",
    "FigureVariant",
    "agreement_of",
    "corroborate",
    "measure_of",
]

# Rounding a figure may hide: "$7.86bn" and "$7.9bn" are the same report.
ROUNDING = 0.01
# A hedged figure ("nearly", "around") this close to the exact one is an approximation of it.
APPROXIMATE = 0.15
# Two sentences sharing this share of their words (numbers aside) state the same fact.
SAME_FACT = 0.4
SAME_POSITION = 0.2  # bonus when it is the same n-th figure of its kind in both articles

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
    """What a figure measures, in a form equal across outlets' wordings ("" if unknown).

    An event word of what it counts, mapped to its synonym group ("released" →
    freed); else the counted noun, singular ("new jobs added" → job).
    """
    words = _WORD.findall(figure.counts.casefold()) or _WORD.findall(figure.noun.casefold())
    for word in words:
        if word in _SYNONYMS:
            return _SYNONYMS[word]
    noun = figure.noun.casefold()
    if noun and noun not in _GENERIC and _WORD.fullmatch(noun):
        return _PLURAL.sub("", noun)
    nouns = [w for w in words if w not in _GENERIC]
    return _PLURAL.sub("", nouns[0]) if nouns else ""


def corroborate(reports: Iterable[FigureReport], min_outlets: int = 2) -> list[FigureCheck]:
    """Every measure given by at least ``min_outlets`` outlets, most reported first."""
    groups: dict[tuple[str, str], list[FigureReport]] = defaultdict(list)
    for report in reports:
        measure = measure_of(report.figure)
        if measure:
            groups[(report.figure.unit, measure)].append(report)
    checks = []
    for (unit, measure), group in groups.items():
        for fact in _facts(group):
            if len({r.outlet for r in fact}) >= min_outlets:
                checks.append(_check(measure, unit, fact))
    checks.sort(key=lambda c: (-len(_outlets_of(c)), c.what, c.unit))
    return checks


def _facts(group: Sequence[FigureReport]) -> list[list[FigureReport]]:
    """Split a measure's figures into facts: the same statement in each outlet's words.

    When no article gives the measure twice, all its figures are one fact. When
    one does ("3,248 patents … 500 patents"), a figure joins the fact whose
    sentences share most words with its own (numbers aside; the same n-th
    figure of its kind helps), one figure per article and fact; a figure like
    none starts a fact of its own.
    """
    per_article = Counter(r.article_id for r in group)
    if max(per_article.values()) <= 1:
        return [list(group)]
    facts: list[tuple[list[FigureReport], set[str], int]] = []
    seen: Counter[tuple[str, int]] = Counter()  # figures of this measure so far, per article
    for report in group:
        ordinal = seen[(report.outlet, report.article_id)]
        seen[(report.outlet, report.article_id)] += 1
        words = _sentence_words(report.figure.sentence)
        best, best_score = None, SAME_FACT
        for fact in facts:
            members, vocabulary, position = fact
            if any(m.article_id == report.article_id for m in members):
                continue
            union = len(words | vocabulary)
            score = len(words & vocabulary) / union if union else 0.0
            score += SAME_POSITION if position == ordinal else 0.0  # two in one sentence
            if score >= best_score:
                best, best_score = fact, score
        if best is None:
            facts.append(([report], set(words), ordinal))
        else:
            best[0].append(report)
    return [members for members, _, _ in facts]


def _sentence_words(sentence: str) -> set[str]:
    return {w for w in _WORD.findall(sentence.casefold()) if len(w) > 2}


def _check(measure: str, unit: str, group: Sequence[FigureReport]) -> FigureCheck:
    # One vote per outlet: its most precise figure (exact before hedged), its first article.
    per_outlet: dict[str, FigureReport] = {}
    for report in sorted(group, key=lambda r: (r.figure.qualifier is not Qualifier.EXACT,
                                                r.article_id)):  # fmt: skip
        per_outlet.setdefault(report.outlet, report)
    votes = list(per_outlet.values())
    stated = Counter((r.figure.value, r.figure.qualifier) for r in votes)

    # The statement most outlets agree with; then the one most outlets make, exact first.
    def backing(key: tuple[float, Qualifier]) -> tuple[int, int, bool, float]:
        agreeing = sum(_agree(r.figure, *key) for r in votes)
        return agreeing, stated[key], key[1] is Qualifier.EXACT, -key[0]

    # A hedged statement ("at least 104,000") agrees with more and says less: an exact
    # one, when any outlet gives one, is what the others are checked against.
    exact = [key for key in stated if key[1] is Qualifier.EXACT]
    best, best_qualifier = max(exact or stated, key=backing)
    agreeing_outlets = {r.outlet for r in group if _agree(r.figure, best, best_qualifier)}
    by_value: dict[tuple[float, str], list[FigureReport]] = defaultdict(list)
    for report in group:
        if _agree(report.figure, best, best_qualifier):
            kind = "agrees"
        elif report.outlet in agreeing_outlets:
            continue  # another figure of the same kind in an outlet that agrees: not a conflict
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


def _agree(figure: Figure, value: float, qualifier: Qualifier) -> bool:
    """Whether ``figure`` and the statement (``qualifier`` ``value``) can both be true."""
    if (figure.value, figure.qualifier) == (value, qualifier):
        return True
    if qualifier is Qualifier.EXACT:
        return _consistent(figure.qualifier, figure.value, value)
    if figure.qualifier is Qualifier.EXACT:
        return _consistent(qualifier, value, figure.value)
    return False


def _consistent(qualifier: Qualifier, own: float, value: float) -> bool:
    """Whether a figure stated as (``qualifier``, ``own``) can be exactly ``value``."""
    close = abs(own - value) <= ROUNDING * max(abs(own), abs(value), 1e-9)
    match qualifier:
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


@dataclass(frozen=True, slots=True)
class Agreement:
    """How one outlet's figures compare with the consensus of the stories it is in."""

    stories: int = 0  # stories in which it gave at least one compared figure
    figures: int = 0  # compared figures (measures) it gave
    agrees: int = 0
    approximate: int = 0  # hedged and near the consensus ("nearly 4,000" beside 3,768)
    differs: int = 0

    def add(self, other: Agreement) -> Agreement:
        return Agreement(
            self.stories + other.stories,
            self.figures + other.figures,
            self.agrees + other.agrees,
            self.approximate + other.approximate,
            self.differs + other.differs,
        )


def agreement_of(checks: Iterable[FigureCheck], article_ids: Iterable[int]) -> Agreement:
    """How the articles ``article_ids`` (one outlet's, in one story) fare in ``checks``.

    Each measure counts once: as agreeing if any of the articles agrees with
    the consensus, else approximate, else differing. A measure only the
    outlet gives has no consensus and is not counted (``corroborate`` keeps
    measures two outlets give).
    """
    mine = set(article_ids)
    rank = {"agrees": 0, "approximate": 1, "differs": 2}
    kinds = []
    for check in checks:
        found = [v.kind for v in check.variants if mine.intersection(v.article_ids)]
        if found:
            kinds.append(min(found, key=rank.__getitem__))
    return Agreement(
        stories=1 if kinds else 0,
        figures=len(kinds),
        agrees=kinds.count("agrees"),
        approximate=kinds.count("approximate"),
        differs=kinds.count("differs"),
    )
