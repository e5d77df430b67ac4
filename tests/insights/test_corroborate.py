"""Figures compared across outlets: consensus, conflicts, qualifiers respected."""

from __future__ import annotations

from primenews.insights.corroborate import (
    Agreement,
    FigureReport,
    agreement_of,
    corroborate,
    measure_of,
)
from primenews.insights.model import Figure, Qualifier


def _figure(value: float, counts: str, qualifier: Qualifier = Qualifier.EXACT,
            text: str = "", unit: str = "") -> Figure:  # fmt: skip
    return Figure(value=value, text=text or f"{value:g}", sentence=f"… {value:g} {counts} …",
                  start=0, end=1, unit=unit, noun=counts.split()[0], counts=counts,
                  qualifier=qualifier)  # fmt: skip


def test_most_outlets_win_and_the_odd_one_is_shown_with_its_source() -> None:
    reports = [
        FigureReport(1, "Wire", _figure(103, "people freed")),
        FigureReport(2, "Daily", _figure(103, "prisoners released")),
        FigureReport(3, "Times", _figure(103, "detainees freed")),
        FigureReport(4, "Post", _figure(103, "people released")),
        FigureReport(5, "Blog", _figure(107, "people freed")),
        FigureReport(6, "Blog", _figure(107, "people freed")),  # one outlet, one vote
    ]
    [check] = corroborate(reports)
    assert (check.value, check.agreeing) == (103, ("Wire", "Daily", "Times", "Post"))
    assert [(v.value, v.kind, v.outlets) for v in check.variants] == [
        (103, "agrees", ("Wire", "Daily", "Times", "Post")),
        (107, "differs", ("Blog",)),
    ]
    assert [v.value for v in check.conflicts] == [107]


def test_qualifiers_are_respected() -> None:
    at_least = [
        FigureReport(1, "A", _figure(28, "people killed", Qualifier.AT_LEAST, "at least 28")),
        FigureReport(2, "B", _figure(28, "people dead")),
    ]
    [check] = corroborate(at_least)
    assert check.conflicts == () and check.agreeing == ("A", "B")

    nearly = [
        FigureReport(1, "A", _figure(4000, "people arrested", Qualifier.NEARLY, "nearly 4,000")),
        FigureReport(2, "B", _figure(3768, "people detained")),
    ]
    [check] = corroborate(nearly)
    assert check.value == 3768
    variants = [(v.text, v.kind) for v in check.variants]
    assert variants == [("3768", "agrees"), ("nearly 4,000", "approximate")]

    more_than = [
        FigureReport(1, "A", _figure(100, "people injured", Qualifier.MORE_THAN, "more than 100")),
        FigureReport(2, "B", _figure(90, "people wounded")),
        FigureReport(3, "C", _figure(90, "people hurt")),
    ]
    [check] = corroborate(more_than)
    assert check.value == 90 and [v.kind for v in check.variants] == ["agrees", "differs"]


def test_different_measures_units_and_single_outlets_stay_apart() -> None:
    reports = [
        FigureReport(1, "A", _figure(7.86e9, "revenue", unit="USD", text="$7.86bn")),
        FigureReport(2, "B", _figure(7.9e9, "revenue", unit="USD", text="$7.9bn")),  # rounding
        FigureReport(1, "A", _figure(12, "revenue", unit="%")),
        FigureReport(2, "B", _figure(40, "people injured")),
    ]
    [check] = corroborate(reports)  # % and injured are given by one outlet each
    assert (check.unit, check.conflicts) == ("USD", ())
    assert measure_of(_figure(3, "regional leaders detained")) == "arrested"
    assert measure_of(_figure(3, "people")) == ""


def test_an_outlets_agreement_counts_each_measure_once() -> None:
    reports = [
        FigureReport(1, "Wire", _figure(103, "people freed")),
        FigureReport(2, "Daily", _figure(103, "prisoners released")),
        FigureReport(3, "Blog", _figure(107, "people freed")),
        FigureReport(4, "Blog", _figure(103, "people freed")),  # its second article agrees
        FigureReport(1, "Wire", _figure(12, "soldiers killed")),
        FigureReport(3, "Blog", _figure(15, "soldiers killed")),
        FigureReport(2, "Daily", _figure(12, "soldiers killed")),
        FigureReport(3, "Blog", _figure(9, "schools closed")),  # only Blog: no consensus
    ]
    checks = corroborate(reports)
    assert agreement_of(checks, [3, 4]) == Agreement(1, 2, agrees=1, approximate=0, differs=1)
    assert agreement_of(checks, [1]) == Agreement(1, 2, agrees=2)
    assert agreement_of(checks, [99]) == Agreement()
    assert Agreement(1, 2, 1, 0, 1).add(Agreement(1, 2, 2)) == Agreement(2, 4, 3, 0, 1)
