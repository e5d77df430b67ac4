"""Stories stage: duplicates found, articles grouped into events, stories ranked.

Pure functions plus one explicit piece of state, the :class:`StoryIndex` of
recent stories (and the :class:`DuplicateIndex` of recent texts), each fed by a
single writer. See docs/stories.md.
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
from primenews.stories.documents import StoryDoc, story_doc_from_article
from primenews.stories.features import FeatureOptions

__all__ = [
    "Assignment",
    "ClusterOptions",
    "Evidence",
    "FeatureOptions",
    "Merge",
    "StoryDoc",
    "StoryIndex",
    "merge_converged",
    "rebuild_index",
    "story_doc_from_article",
]
