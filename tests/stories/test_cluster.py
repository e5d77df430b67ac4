"""Story clustering: determinism, time windows, merges, cross-language joins, state."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import primenews.stories
from primenews.stories import (
    ClusterOptions,
    StoryDoc,
    StoryIndex,
    merge_converged,
    rebuild_index,
)
from primenews.stories.features import DocumentFrequency
from primenews.stories.text import names, numbers, slug_words

MakeDoc = Callable[..., StoryDoc]


def _stream(doc: MakeDoc) -> list[StoryDoc]:
    """Three events reported by several outlets, interleaved, plus a stray."""
    return [
        doc("q1", "Israeli settlers besiege Palestinian families in West Bank's Qusra",
            "Settlers surrounded three homes in the village of Qusra overnight.", outlet="aj"),
        doc("l1", "Karoline Leavitt to step down as White House press secretary",
            "Trump said Leavitt would become an outside adviser.", hours=0.5, outlet="aj"),
        doc("q2", "Settler siege of Palestinian homes in Qusra highlights West Bank chaos",
            "Israeli settlers besieged Palestinian families in the West Bank village of Qusra.",
            hours=1, outlet="nyt"),
        doc("e1", "Total solar eclipse plunges Iceland and Spain into darkness",
            "The first total solar eclipse in Europe in decades turned day to night.",
            hours=1.5, outlet="bbc"),
        doc("l2", "Trump says press secretary Karoline Leavitt to leave White House post",
            "Leavitt is leaving the press secretary role, the president said.", hours=2,
            outlet="bbc"),
        doc("q3", "More troops sent to West Bank village of Qusra besieged by settlers",
            "The army said it sent more troops to Qusra after settlers besieged families.",
            hours=3, outlet="bbc"),
        doc("e2", "Photos: solar eclipse turns day to night over Spain and Iceland",
            "Crowds watched the total solar eclipse darken Spain and Iceland.", hours=3.5,
            outlet="aj"),
        doc("x1", "Messi plays in Inter Miami defeat hours after retirement hint",
            "Lionel Messi played the full match.", hours=4, outlet="aj"),
    ]  # fmt: skip


def _stories(docs: list[StoryDoc], options: ClusterOptions | None = None) -> list[list[str]]:
    index, assignments, merges = rebuild_index(docs, options, merge_every=3)
    into = {m.absorbed: m.into for m in merges}
    groups: dict[str, list[str]] = {}
    for a in assignments:
        key = a.story_key
        while key in into:
            key = into[key]
        groups.setdefault(key, []).append(a.doc_id)
    return sorted(groups.values())


def test_events_are_grouped(doc: MakeDoc) -> None:
    assert _stories(_stream(doc)) == [["e1", "e2"], ["l1", "l2"], ["q1", "q2", "q3"], ["x1"]]


def test_same_order_gives_same_stories_and_state(doc: MakeDoc) -> None:
    docs = _stream(doc)
    first, a1, m1 = rebuild_index(docs)
    second, a2, m2 = rebuild_index(docs)
    assert a1 == a2 and m1 == m2
    assert json.dumps(first.to_state(), sort_keys=True) == json.dumps(
        second.to_state(), sort_keys=True
    )


_HASH_SEED_SCRIPT = """
import json, sys
from datetime import UTC, datetime, timedelta
from primenews.stories import StoryDoc, rebuild_index
rows = json.load(sys.stdin)
docs = [StoryDoc(id=r[0], title=r[1], text=r[2], url=r[3], outlet=r[4],
                 published=datetime(2026, 8, 13, tzinfo=UTC) + timedelta(hours=r[5])) for r in rows]
_, assignments, merges = rebuild_index(docs, merge_every=3)
out = [[a.story_key, a.score] for a in assignments] + [[m.absorbed, m.into] for m in merges]
print(json.dumps(out))
"""


def test_assignments_do_not_depend_on_the_hash_seed(doc: MakeDoc) -> None:
    rows = [
        [d.id, d.title, d.text, d.url, d.outlet, (d.timestamp - _stream(doc)[0].timestamp) / 3600]
        for d in _stream(doc)
    ]
    outputs = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        run = subprocess.run(
            [sys.executable, "-c", _HASH_SEED_SCRIPT], input=json.dumps(rows), env=env,
            capture_output=True, text=True, check=True, timeout=120,
        )  # fmt: skip
        outputs.add(run.stdout)
    assert len(outputs) == 1


WEEK_ONE = [
    (
        "Venezuela opposition rallies in Caracas against Maduro's disputed election win",
        "Tens of thousands marched through Caracas rejecting the official result; Nicolás "
        "Maduro's rivals say the tally sheets show they won the vote.",
    ),
    (
        "Thousands march in Caracas as opposition rejects Maduro victory",
        "Protesters filled avenues in Caracas, Venezuela, demanding a recount of the election.",
    ),
    (
        "Venezuela election protests spread beyond Caracas",
        "Marches against the disputed election result reached Maracaibo and Valencia, with "
        "police firing tear gas at protesters opposing Maduro.",
    ),
]
WEEK_TWO = [
    (
        "Venezuela signs oil export deal with Chinese refiners, Maduro says",
        "Nicolás Maduro said in Caracas that state oil company PDVSA will ship crude to China "
        "under a five-year supply contract.",
    ),
    (
        "China's refiners to buy more Venezuelan crude under new supply contract",
        "Chinese refiners agreed to take more Venezuelan heavy crude, PDVSA said in Caracas.",
    ),
    (
        "PDVSA crude shipments to China to rise under Maduro deal",
        "The supply contract raises Venezuela's oil exports to Chinese refiners next year.",
    ),
]


def _venezuela(
    doc: MakeDoc, hours: float, prefix: str, items: list[tuple[str, str]]
) -> list[StoryDoc]:
    return [
        doc(f"{prefix}{i}", title, text, hours=hours + i, outlet=outlet)
        for i, ((title, text), outlet) in enumerate(zip(items, ("aj", "bbc", "nyt"), strict=True))
    ]


def test_two_venezuela_stories_a_week_apart_stay_two(doc: MakeDoc) -> None:
    week_one = _venezuela(doc, 0, "a", WEEK_ONE)
    week_two = _venezuela(doc, 7 * 24, "b", WEEK_TWO)
    index = StoryIndex()
    keys = {index.assign(d).story_key for d in week_one}
    assert len(keys) == 1
    later = [index.assign(d) for d in week_two]
    assert later[0].is_new and {a.story_key for a in later}.isdisjoint(keys)
    assert merge_converged(index) == []
    # Even an index that still holds both (a long window) does not merge them.
    long_index, assignments, merges = rebuild_index(
        week_one + week_two, ClusterOptions(window=timedelta(days=30)), merge_every=1
    )
    assert len({a.story_key for a in assignments}) == 2 and merges == []
    assert len(long_index) == 2


def test_concurrent_fragments_of_one_event_are_merged(doc: MakeDoc) -> None:
    # Two outlets' wording starts two stories; later reports bridge them.
    docs = [
        doc("a", "Ferry capsizes on Lake Kariba, dozens feared dead", outlet="bbc"),
        doc("b", "Zimbabwe boat disaster: 44 die as vessel sinks", outlet="nyt", hours=0.2),
        doc("c", "Lake Kariba ferry sinks; Zimbabwe boat disaster toll 44", outlet="aj", hours=1),
        doc("d", "Zimbabwe ferry disaster on Lake Kariba: 44 dead as boat capsizes",
            outlet="ap", hours=2),
    ]  # fmt: skip
    options = ClusterOptions.for_titles()
    assert len(_stories(docs, options)) == 1


def test_other_language_joins_through_names_numbers_and_links(doc: MakeDoc) -> None:
    index = StoryIndex()
    english = [
        doc("en1", "Magnitude 7.1 earthquake strikes Valparaíso, Chile; 42 dead",
            "Gabriel Boric said 42 people died in Valparaíso after the 7.1 quake.",
            url="https://news.test/world/chile-valparaiso-earthquake-boric", outlet="ap"),
        doc("en2", "Chile quake: Valparaíso death toll rises to 42",
            "Rescuers in Valparaíso searched collapsed homes; Gabriel Boric visited.",
            url="https://paper.test/chile-quake-valparaiso-toll", hours=1, outlet="nyt"),
    ]  # fmt: skip
    story = {index.assign(d).story_key for d in english}
    assert len(story) == 1
    spanish = doc(
        "es1", "Terremoto de 7,1 sacude Valparaíso: 42 muertos",
        "El presidente Gabriel Boric visitó Valparaíso tras el sismo de magnitud 7,1.",
        language="es", hours=2, outlet="elpais",
        url="https://diario.test/internacional/terremoto-valparaiso-chile",
    )  # fmt: skip
    joined = index.assign(spanish)
    assert joined.story_key in story and not joined.is_new
    assert joined.evidence.cross_language and "valparaiso" in joined.evidence.names
    assert "42" in joined.evidence.numbers
    unrelated = doc(
        "es2", "La inflación baja al 3 % en España", "El Banco de España publicó el dato.",
        language="es", hours=2.5, outlet="elpais",
    )  # fmt: skip
    assert index.assign(unrelated).is_new


def test_state_round_trip_and_rebuild_agree(doc: MakeDoc) -> None:
    docs = _stream(doc)
    index, _, _ = rebuild_index(docs[:5])
    restored = StoryIndex.from_state(json.loads(json.dumps(index.to_state())))
    assert restored.to_state() == index.to_state()
    rebuilt, _, _ = rebuild_index(docs[:5])
    for d in docs[5:]:
        assert restored.assign(d) == index.assign(d) == rebuilt.assign(d)
    assert restored.merge_converged() == index.merge_converged() == rebuilt.merge_converged()


def test_stories_leave_the_index_with_the_window(doc: MakeDoc) -> None:
    index = StoryIndex(ClusterOptions(window=timedelta(hours=6)))
    for d in _stream(doc):
        index.assign(d)
    assert len(index) == 4
    index.assign(doc("late", "Unrelated thing happens", hours=20))
    assert index.expire() and len(index) == 1


def test_evidence_says_why(doc: MakeDoc) -> None:
    index = StoryIndex()
    docs = _stream(doc)
    index.assign(docs[0])
    joined = index.assign(docs[2])
    assert not joined.is_new and joined.story_key == "q1"
    assert joined.evidence.text > 0.3 and "qusra" in joined.evidence.names


def test_text_features() -> None:
    assert names("Nicolás Maduro said on Monday that Venezuela") == [
        "nicolas maduro", "maduro", "venezuela",
    ]  # fmt: skip
    assert numbers("1,200 people; 35.5% and 1.200 euros; 7 hurt") == ["1200", "35.5", "1200"]
    assert slug_words("https://x.test/world/2026/08/13/red-fort-attack-un-report.html?a=b") == [
        "attack", "fort", "red", "report",
    ]  # fmt: skip


def test_public_surface_is_listed() -> None:
    exported = {n for n in dir(primenews.stories) if not n.startswith("_")}
    modules = {"aggregate", "cluster", "dedup", "documents", "evaluate", "features", "rank",
               "rewrites", "storyset", "text", "tracker"}  # fmt: skip
    assert set(primenews.stories.__all__) == exported - modules


def test_numbers_alone_do_not_join_stories_across_languages(doc: MakeDoc) -> None:
    """Seen live: an Italian weather story and a Spanish Antarctica story sharing numbers."""
    index = StoryIndex()
    italian = doc(
        "it1", "Maltempo, allerta arancione: fino a 120 millimetri di pioggia e raffiche a 85",
        "La protezione civile prevede 120 millimetri di pioggia in 24 ore e venti a 85 km/h "
        "su Liguria e Toscana; scuole chiuse a Genova.",
        language="it", outlet="ansa",
    )  # fmt: skip
    assert index.assign(italian).is_new
    spanish = doc(
        "es1", "La base antártica registra 120 días de hielo y vientos de 85 km/h",
        "Los científicos de la base en la Antártida midieron 120 días seguidos de hielo y "
        "rachas de 85 km/h durante 24 horas, según el instituto polar.",
        language="es", hours=1, outlet="elpais",
    )  # fmt: skip
    joined = index.assign(spanish)
    assert joined.is_new, joined.evidence


def test_document_weights_are_tf_times_idf() -> None:
    """``DocumentFrequency.weights`` (one call per document) is the per-term arithmetic."""
    df = DocumentFrequency(background_docs=500)
    df.add({"says": 0.8, "qusra": 0.0, "settlers": 0.01})
    df.add({"says": 0.0, "leavitt": 0.0})
    counts = Counter({"says": 3, "qusra": 1, "settlers": 2, "never": 1})
    expected = {t: (1.0 + math.log(c)) * df.idf(t) for t, c in counts.items()}
    assert df.weights(counts) == expected
