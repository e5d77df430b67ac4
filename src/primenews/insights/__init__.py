"""Insights stage: what an article is about, read from its text (pure, no I/O)."""

from primenews.insights.sections import (
    SectionHints,
    SectionModel,
    SectionResult,
    classify_sections,
    load_model,
)

__all__ = [
    "SectionHints",
    "SectionModel",
    "SectionResult",
    "classify_sections",
    "load_model",
]
