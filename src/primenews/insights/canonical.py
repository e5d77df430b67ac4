"""Canonical entities: every way an article names someone, merged under one name.

Within an article:

- a surname or first name alone joins the full name it abbreviates
  ("González" → "Edmundo González"; the nearest full name before it wins
  when two people share a surname), and a surname that NER mislabelled as an
  organisation ("the Maduro government") joins the person;
- an acronym joins the name it abbreviates when the article defines it
  ("Organization of American States (OAS)") or :data:`KNOWN_ACRONYMS` does;
- a name the text calls a party, group or company ("an opposition party
  called Vente Venezuela") is an organisation whatever NER said.

Across articles, through an :class:`EntityRegistry` the caller passes in
(the store backs it with every entity it has seen): an exact name or alias
takes the registry's name and key, and a near-spelling of a known
multi-word name ("Gerardo Werhein" for "Gerardo Werthein": same words but
one, that one within two edits) resolves to it instead of becoming a new
entity.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from primenews.insights.model import Entity, EntityKind, Mention

KIND_OF_LABEL = {
    "PERSON": EntityKind.PERSON,
    "ORG": EntityKind.ORGANIZATION,
    "GPE": EntityKind.PLACE,
    "LOC": EntityKind.PLACE,
    "FAC": EntityKind.PLACE,
}
KNOWN_ACRONYMS = {
    "AU": "African Union", "ASEAN": "Association of Southeast Asian Nations",
    "CIA": "Central Intelligence Agency", "ECB": "European Central Bank",
    "EU": "European Union", "FBI": "Federal Bureau of Investigation",
    "ICC": "International Criminal Court", "ICJ": "International Court of Justice",
    "IMF": "International Monetary Fund", "NATO": "North Atlantic Treaty Organization",
    "OAS": "Organization of American States",
    "OPEC": "Organization of the Petroleum Exporting Countries",
    "UN": "United Nations", "UNHCR": "United Nations High Commissioner for Refugees",
    "UNICEF": "United Nations Children's Fund", "WHO": "World Health Organization",
    "WTO": "World Trade Organization", "SEC": "Securities and Exchange Commission",
    "FDA": "Food and Drug Administration", "NASA": "National Aeronautics and Space Administration",
}  # fmt: skip
_ORG_NOUNS = (
    r"party|group|movement|coalition|alliance|organi[sz]ation|company|firm|startup|union|"
    r"network|foundation|agency|bank|newspaper|broadcaster|platform|charity|NGO|militia|"
    r"front|bloc|association|club|team|institute|university|council"
)
_ORG_BEFORE = re.compile(rf"\b(?:{_ORG_NOUNS})\s+(?:(?:called|named|known\s+as)\s+)?$", re.I)
_ORG_AFTER = re.compile(rf"^,?\s+(?:a|an|the)\s+(?:[\w-]+\s+){{0,3}}(?:{_ORG_NOUNS})\b", re.I)
_LOCATIVE_BEFORE = re.compile(r"\b(?:in|near|outside|around|across)\s+$")
_ACRONYM_AFTER = re.compile(r"\s*\(([A-Z][A-Za-z&]{1,9})\)")  # used with .match(text, pos)
_MINOR_WORDS = frozenset({"of", "the", "and", "for", "de", "la", "del", "des", "du", "on", "in"})
NEAR_SPELLING_EDITS = 2  # "Werhein"/"Werthein" is one; three edits is another name
NEAR_SPELLING_RATIO = 80.0  # per-word similarity floor for the one differing word


def normalise_name(name: str) -> str:
    """The matching key of a name: accents, case, dots and spacing folded.

    >>> normalise_name("Nicolás  Maduro")
    'nicolas maduro'
    >>> normalise_name("U.S.")
    'us'
    """
    decomposed = unicodedata.normalize("NFKD", name)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    bare = bare.replace("’", "'").replace(".", "")
    return " ".join(bare.casefold().split())


def entity_key(kind: EntityKind, name: str) -> str:
    """The stable key of an entity: ``"person:gerardo werthein"``."""
    return f"{kind.value}:{normalise_name(name)}"


@dataclass(frozen=True, slots=True)
class KnownEntity:
    """An entity the registry already holds, with the other names it goes by."""

    key: str
    name: str
    kind: EntityKind
    aliases: tuple[str, ...] = ()


NameKey = tuple[str, EntityKind]  # a normalised name (``normalise_name``) and its kind


class EntityRegistry(Protocol):
    """Known entities, as the store holds them (an in-memory one is :class:`MemoryRegistry`)."""

    def find_many(self, keys: Iterable[NameKey]) -> dict[NameKey, KnownEntity]:
        """The entity whose name or an alias normalises to each key's name, where one does.

        One call for all the names of an article: a store answers it in one query.
        """
        ...

    def candidates(self, name: str, kind: EntityKind, limit: int) -> Sequence[KnownEntity]:
        """Up to ``limit`` entities whose names look like ``name`` (scored by the caller)."""
        ...


@dataclass
class MemoryRegistry:
    """An :class:`EntityRegistry` in a dict, for tests and for a warm cache in front of a store."""

    entities: list[KnownEntity] = field(default_factory=list)
    _by_key: dict[tuple[EntityKind, str], KnownEntity] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for entity in list(self.entities):
            self._index(entity)

    def add(self, entity: KnownEntity) -> None:
        """Register ``entity`` under its name and every alias."""
        self.entities.append(entity)
        self._index(entity)

    def _index(self, entity: KnownEntity) -> None:
        for name in (entity.name, *entity.aliases):
            self._by_key.setdefault((entity.kind, normalise_name(name)), entity)

    def find(self, name_key: str, kind: EntityKind) -> KnownEntity | None:
        """The entity registered under ``name_key`` (a name or an alias)."""
        return self._by_key.get((kind, name_key))

    def find_many(self, keys: Iterable[NameKey]) -> dict[NameKey, KnownEntity]:
        """:meth:`find` for each ``(name_key, kind)`` of ``keys``; those not found left out."""
        found = {key: self.find(*key) for key in keys}
        return {key: entity for key, entity in found.items() if entity is not None}

    def candidates(self, name: str, kind: EntityKind, limit: int) -> Sequence[KnownEntity]:
        """The ``limit`` registered names most like ``name`` (rapidfuzz ratio)."""
        keys = {k: e for (entity_kind, k), e in self._by_key.items() if entity_kind is kind}
        found = process.extract(normalise_name(name), list(keys), scorer=fuzz.ratio, limit=limit)
        return [keys[key] for key, _score, _index in found]


@dataclass
class _Cluster:
    kind: EntityKind
    mentions: list[Mention] = field(default_factory=list)
    name: str = ""

    def forms(self) -> Counter[str]:
        return Counter(m.text for m in self.mentions)


def canonicalise(
    text: str, mentions: Sequence[Mention], registry: EntityRegistry | None = None
) -> tuple[Entity, ...]:
    """Merge the name ``mentions`` of one article into canonical entities.

    Args:
        text: the article text the mention offsets point into.
        mentions: cleaned NER name mentions (see ``entities.clean_mention``).
        registry: known entities from other articles; None to resolve within
            the article only.

    Returns:
        Entities, most mentioned first; a place's name is still as written
        (``places.locate`` puts it on the map).
    """
    typed = [(m, _kind(m, text)) for m in mentions]
    typed = _surnames_are_people(typed)
    clusters = _cluster_people([m for m, k in typed if k is EntityKind.PERSON])
    clusters += _cluster_organisations(text, [m for m, k in typed if k is EntityKind.ORGANIZATION])
    places = _cluster_exact(EntityKind.PLACE, [m for m, k in typed if k is EntityKind.PLACE])
    clusters += places.values()
    names = [cluster.name or _best_form(cluster) for cluster in clusters]
    known: dict[NameKey, KnownEntity] = {}
    if registry is not None:
        known = registry.find_many(
            {
                (normalise_name(form), c.kind)
                for c, name in zip(clusters, names, strict=True)
                for form in (name, *c.forms())
            }
        )
    entities = [_resolve(c, name, known, registry) for c, name in zip(clusters, names, strict=True)]
    return merge_entities(entities)


def _kind(mention: Mention, text: str) -> EntityKind:
    kind = KIND_OF_LABEL[mention.label]
    before = text[max(0, mention.start - 40) : mention.start]
    after = text[mention.end : mention.end + 60]
    if _ORG_BEFORE.search(before) or _ORG_AFTER.match(after):
        return EntityKind.ORGANIZATION
    if kind is EntityKind.PERSON and " " not in mention.text and _LOCATIVE_BEFORE.search(before):
        return EntityKind.PLACE  # "near Ravenna": NER took a town for a surname
    return kind


def _surnames_are_people(
    typed: list[tuple[Mention, EntityKind]],
) -> list[tuple[Mention, EntityKind]]:
    """A one-word "organisation" that is the surname of a person named in full is that person."""
    surnames = {
        normalise_name(m.text).split()[-1]
        for m, k in typed
        if k is EntityKind.PERSON and len(m.text.split()) > 1
    }
    return [
        (m, EntityKind.PERSON)
        if k is EntityKind.ORGANIZATION and normalise_name(m.text) in surnames
        else (m, k)
        for m, k in typed
    ]


def _cluster_people(mentions: Sequence[Mention]) -> list[_Cluster]:
    full: dict[str, _Cluster] = {}
    for mention in mentions:
        if len(mention.text.split()) > 1:
            full.setdefault(
                normalise_name(mention.text), _Cluster(EntityKind.PERSON)
            ).mentions.append(mention)
    _merge_contained_names(full)
    alone: dict[str, _Cluster] = {}
    for mention in mentions:
        if len(mention.text.split()) > 1:
            continue
        owner = _full_name_for(mention, full)
        if owner is None:
            alone.setdefault(normalise_name(mention.text), _Cluster(EntityKind.PERSON))
            owner = alone[normalise_name(mention.text)]
        owner.mentions.append(mention)
    return _unique(full.values()) + list(alone.values())


def _merge_contained_names(full: dict[str, _Cluster]) -> None:
    """ "Edmundo González Urrutia" and "Edmundo González" are one person."""
    for key in sorted(full, key=len):
        words = key.split()
        for other in full:
            if other != key and full[other] is not full[key] and _contains(other.split(), words):
                full[other].mentions.extend(full[key].mentions)
                full[key] = full[other]
                break


def _contains(longer: list[str], shorter: list[str]) -> bool:
    n = len(shorter)
    return any(longer[i : i + n] == shorter for i in range(len(longer) - n + 1))


def _full_name_for(mention: Mention, full: dict[str, _Cluster]) -> _Cluster | None:
    word = normalise_name(mention.text)
    owners = _unique(c for key, c in full.items() if word in key.split())
    if not owners:
        return None
    if len(owners) == 1:
        return owners[0]

    def last_before(cluster: _Cluster) -> int:
        starts = [m.start for m in cluster.mentions if m.start < mention.start]
        return max(starts, default=-1)

    return max(owners, key=last_before)


def _unique(clusters: Iterable[_Cluster]) -> list[_Cluster]:
    seen: dict[int, _Cluster] = {}
    for cluster in clusters:
        seen.setdefault(id(cluster), cluster)
    return list(seen.values())


def _cluster_organisations(text: str, mentions: Sequence[Mention]) -> list[_Cluster]:
    clusters = _cluster_exact(EntityKind.ORGANIZATION, mentions)
    for acronym, long_name in _defined_acronyms(text, mentions).items():
        long_key, short_key = normalise_name(long_name), normalise_name(acronym)
        target = clusters.get(long_key)
        if target is None:
            continue
        target.name = long_name
        short = clusters.pop(short_key, None)
        if short is not None:
            target.mentions.extend(short.mentions)
    for cluster in clusters.values():
        text_form = cluster.mentions[0].text
        if text_form.isupper() and text_form in KNOWN_ACRONYMS:
            cluster.name = KNOWN_ACRONYMS[text_form]
    _merge_short_names(clusters)
    return _unique(clusters.values())


def _merge_short_names(clusters: dict[str, _Cluster]) -> None:
    """ "Acme" joins "Acme Robotics" when that is the only longer name it starts."""
    for key in [k for k in clusters if " " not in k]:
        longer = _unique(c for k, c in clusters.items() if k.startswith(key + " "))
        if len(longer) == 1 and not clusters[key].name:
            longer[0].mentions.extend(clusters.pop(key).mentions)


def _defined_acronyms(text: str, mentions: Sequence[Mention]) -> dict[str, str]:
    """Acronyms the text defines: "Organization of American States (OAS)"."""
    defined: dict[str, str] = {}
    for mention in mentions:
        match = _ACRONYM_AFTER.match(text, mention.end)
        if match and _abbreviates(match.group(1), mention.text):
            defined[match.group(1)] = mention.text
    return defined


def _abbreviates(acronym: str, name: str) -> bool:
    letters = "".join(c for c in acronym if c.isupper())
    words = name.replace("-", " ").split()
    major = "".join(w[0] for w in words if w.lower() not in _MINOR_WORDS).upper()
    every = "".join(w[0] for w in words).upper()
    return len(letters) >= 2 and letters in (major, every)


def _cluster_exact(kind: EntityKind, mentions: Sequence[Mention]) -> dict[str, _Cluster]:
    clusters: dict[str, _Cluster] = {}
    for mention in mentions:
        clusters.setdefault(normalise_name(mention.text), _Cluster(kind)).mentions.append(mention)
    return clusters


def _best_form(cluster: _Cluster) -> str:
    forms = cluster.forms()
    multiword = {f: n for f, n in forms.items() if len(f.split()) > 1}
    pool = multiword or forms
    first = {m.text: -m.start for m in reversed(cluster.mentions)}
    return max(pool, key=lambda f: (pool[f], len(f), first.get(f, 0)))


def _resolve(
    cluster: _Cluster,
    name: str,
    found: dict[NameKey, KnownEntity],
    registry: EntityRegistry | None,
) -> Entity:
    known = _lookup(name, cluster, found, registry) if registry is not None else None
    mentions = tuple(sorted(cluster.mentions, key=lambda m: m.start))
    if known is not None:
        aliases = tuple(sorted({m.text for m in mentions} - {known.name}))
        return Entity(known.key, known.name, cluster.kind, mentions, aliases, known=True)
    aliases = tuple(sorted({m.text for m in mentions} - {name}))
    return Entity(entity_key(cluster.kind, name), name, cluster.kind, mentions, aliases)


def _lookup(
    name: str, cluster: _Cluster, found: dict[NameKey, KnownEntity], registry: EntityRegistry
) -> KnownEntity | None:
    for form in (name, *cluster.forms()):
        known = found.get((normalise_name(form), cluster.kind))
        if known is not None:
            return known
    if cluster.kind is EntityKind.PLACE or len(name.split()) < 2:
        return None  # one word is too little to guess a misspelling from
    near = [k for k in registry.candidates(name, cluster.kind, 5) if near_spelling(name, k.name)]
    return near[0] if len({k.key for k in near}) == 1 else None


def near_spelling(written: str, known: str) -> bool:
    """Whether ``written`` is ``known`` misspelt: same words but one, that one barely off.

    >>> near_spelling("Gerardo Werhein", "Gerardo Werthein")
    True
    >>> near_spelling("John Smith", "Jane Smith")
    False
    """
    a, b = normalise_name(written).split(), normalise_name(known).split()
    if len(a) != len(b) or a == b:
        return False
    differing = [(x, y) for x, y in zip(a, b, strict=True) if x != y]
    if len(differing) != 1:
        return False
    x, y = differing[0]
    return (
        x[0] == y[0]
        and min(len(x), len(y)) >= 4
        and Levenshtein.distance(x, y) <= NEAR_SPELLING_EDITS
        and fuzz.ratio(x, y) >= NEAR_SPELLING_RATIO
    )


def merge_entities(entities: Iterable[Entity]) -> tuple[Entity, ...]:
    """Merge entities that ended up with one key; most mentioned first."""
    merged: dict[str, Entity] = {}
    for entity in entities:
        seen = merged.get(entity.key)
        if seen is None:
            merged[entity.key] = entity
            continue
        mentions = tuple(sorted(seen.mentions + entity.mentions, key=lambda m: m.start))
        aliases = tuple(
            sorted((set(seen.aliases) | set(entity.aliases) | {entity.name}) - {seen.name})
        )
        merged[entity.key] = Entity(
            seen.key,
            seen.name,
            seen.kind,
            mentions,
            aliases,
            seen.known or entity.known,
            seen.place,
        )
    return tuple(sorted(merged.values(), key=lambda e: (-e.count, e.mentions[0].start)))
