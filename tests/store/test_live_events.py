"""The store's live event log: what web processes beside the poller stream."""

from __future__ import annotations

from datetime import UTC, datetime

from primenews.domain import LiveEvent
from primenews.store import Store

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def _event(n: int) -> LiveEvent:
    data = {"n": n, "headline": "Café talks — día 2", "sections": ["world"]}
    return LiveEvent("story.grew", data, story_id=n, sections=("world",), entity_ids=(n, 7))


def test_events_come_back_in_order_after_an_id(store: Store) -> None:
    ids = [store.append_live_event(_event(n), NOW) for n in range(1, 6)]
    assert ids == sorted(ids) and len(set(ids)) == 5
    newest = store.live_events_after(None, 3)
    assert [event_id for event_id, _ in newest] == ids[2:]
    assert newest[-1][1] == _event(5)  # every field back as it went in, unicode included
    assert [e.data["n"] for _, e in store.live_events_after(ids[1], 2)] == [3, 4]
    assert store.live_events_after(ids[-1], 10) == []


def test_pruning_keeps_the_newest_and_never_reuses_an_id(store: Store) -> None:
    ids = [store.append_live_event(_event(n), NOW) for n in range(1, 6)]
    assert store.prune_live_events(keep=2) == 3
    assert [event_id for event_id, _ in store.live_events_after(0, 10)] == ids[3:]
    assert store.prune_live_events(keep=5) == 0
    later = store.append_live_event(_event(6), NOW)
    assert later > ids[-1]
    store.prune_live_events(keep=0)
    assert store.live_events_after(None, 10) == []
    assert store.append_live_event(_event(7), NOW) > later  # a reader's Last-Event-ID stays valid
