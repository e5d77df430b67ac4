"""Stories stage: duplicates found, articles grouped into events, stories ranked.

Pure functions plus two explicit pieces of state, each fed by a single
writer: the :class:`DuplicateIndex` of recent texts and the :class:`StoryIndex`
of recent stories. See docs/stories.md for how they decide.

    StoryDoc ─► DuplicateIndex.add ─► DedupResult (new / seen / revision / exact / near)
             └► StoryIndex.assign ─► Assignment (story key, new?, score, evidence)
    every few minutes: merge_converged(index) ─► [Merge]
    front page: rank_stories(members by story, now) ─► [RankedStory]

``StoryTracker`` holds both indexes and runs them in that order for each
article (``worker.desk`` records its decisions in the store).
"""

from primenews.stories.cluster import (
    Assignment,
    ClusterOptions,
    Evidence,
    Merge,
    StoryIndex,
    merge_converged,
    rebuild_index,
)
from primenews.stories.dedup import DedupKind, DedupOptions, DedupResult, DuplicateIndex
from primenews.stories.documents import StoryDoc, story_doc_from_article
from primenews.stories.evaluate import ClusterScores, mixed_clusters, score_clustering
from primenews.stories.features import FeatureOptions
from primenews.stories.rank import (
    RankedStory,
    RankOptions,
    StoryMember,
    choose_headline,
    rank_stories,
)
from primenews.stories.tracker import Observation, StoryTracker, TrackerOptions

__all__ = [
    "Assignment",
    "ClusterOptions",
    "ClusterScores",
    "DedupKind",
    "DedupOptions",
    "DedupResult",
    "DuplicateIndex",
    "Evidence",
    "FeatureOptions",
    "Merge",
    "Observation",
    "RankOptions",
    "RankedStory",
    "StoryDoc",
    "StoryIndex",
    "StoryMember",
    "StoryTracker",
    "TrackerOptions",
    "choose_headline",
    "merge_converged",
    "mixed_clusters",
    "rank_stories",
    "rebuild_index",
    "score_clustering",
    "story_doc_from_article",
]
