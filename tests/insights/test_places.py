"""Places resolved to a country and coordinates, ranked by qualifier, context and population."""

from __future__ import annotations

from collections import Counter

from primenews.insights.canonical import canonicalise
from primenews.insights.entities import analyse_texts
from primenews.insights.model import EntityKind
from primenews.insights.places import context_countries, locate, resolve_place


def test_countries_by_name_and_other_spellings() -> None:
    for name in ("Venezuela", "U.S.", "United States", "UK", "Britain"):
        place = resolve_place(name)
        assert place is not None and place.feature == "country", name
    us = resolve_place("U.S.")
    assert us is not None and us.country_code == "US" and us.latitude is not None


def test_city_with_country_and_coordinates() -> None:
    caracas = resolve_place("Caracas")
    assert caracas is not None
    assert (caracas.feature, caracas.country_code, caracas.country) == ("city", "VE", "Venezuela")
    assert caracas.latitude is not None and 10 < caracas.latitude < 11
    assert caracas.longitude is not None and -68 < caracas.longitude < -66


def test_ambiguous_name_ranked_by_qualifier_then_context_then_population() -> None:
    by_population = resolve_place("Santa Barbara")
    assert by_population is not None and by_population.country_code == "US"
    honduras = resolve_place("Santa Barbara", Counter({"HN": 2}))
    assert honduras is not None and honduras.country_code == "HN"
    california = resolve_place("Santa Barbara", Counter({"HN": 2}), qualifier="California")
    assert california is not None and california.country_code == "US"


def test_country_beats_state_unless_the_article_is_about_the_us() -> None:
    country = resolve_place("Georgia")
    assert country is not None and country.feature == "country" and country.country_code == "GE"
    state = resolve_place("Georgia", Counter({"US": 3}))
    assert state is not None and state.feature == "region" and state.country_code == "US"


def test_unknown_place() -> None:
    assert resolve_place("Middle Earth") is None


def test_locate_merges_spellings_and_reads_demonyms() -> None:
    text = "The U.S. envoy met Venezuelan officials in Caracas. The United States said little."
    [analysis] = analyse_texts([text])
    entities = canonicalise(text, analysis.mentions())
    demonyms = [s.text for s in analysis.spans if s.label == "NORP"]
    assert context_countries(entities, demonyms)["VE"] >= 1
    located = locate(entities, text, demonyms)
    places = {e.name: e for e in located if e.kind is EntityKind.PLACE}
    assert places["United States"].count == 2
    assert places["Caracas"].place is not None and places["Caracas"].key == "place:caracas (ve)"
