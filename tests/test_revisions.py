"""What changed between two versions of an article."""

from __future__ import annotations

from primenews.revisions import diff_revisions, successive_diffs

OLD = """Venezuela freed 103 people on Thursday.
Rights groups said 1,800 remain detained.
The government did not comment."""


def test_a_rewritten_paragraph_a_changed_figure_and_a_correction() -> None:
    new = """Venezuela freed 107 people on Thursday, officials said.
Rights groups said 1,800 remain detained.
Correction: An earlier version of this article said 103 people were freed."""
    diff = diff_revisions("Venezuela frees prisoners", OLD, "Venezuela frees 107", new)
    assert diff.title == ("Venezuela frees prisoners", "Venezuela frees 107")
    assert diff.changed == (
        ("Venezuela freed 103 people on Thursday.",
         "Venezuela freed 107 people on Thursday, officials said."),
    )  # fmt: skip
    assert diff.figures == (("103", "107"),)
    assert diff.removed == ("The government did not comment.",)
    assert diff.added == (
        "Correction: An earlier version of this article said 103 people were freed.",
    )
    assert diff.corrections == diff.added
    assert not diff.empty


def test_paragraphs_added_in_the_middle_and_unrelated_replacements() -> None:
    new = """Venezuela freed 103 people on Thursday.
Families gathered outside El Helicoide prison in Caracas overnight.
Rights groups said 1,800 remain detained.
Officials in Brasília called for calm."""
    diff = diff_revisions("T", OLD, "T", new)
    assert diff.title is None
    assert diff.added == (
        "Families gathered outside El Helicoide prison in Caracas overnight.",
        "Officials in Brasília called for calm.",
    )
    assert diff.removed == ("The government did not comment.",)
    assert diff.changed == () and diff.figures == () and diff.corrections == ()


def test_no_change_and_successive_versions() -> None:
    assert diff_revisions("T", OLD, " T ", OLD + "\n\n").empty
    diffs = successive_diffs([("T", OLD), ("T", OLD + "\nUpdate: more."), ("U", OLD)])
    assert diffs[0] is None
    assert diffs[1] is not None and diffs[1].corrections == ("Update: more.",)
    assert diffs[2] is not None and diffs[2].title == ("T", "U")
    assert diffs[2].removed == ("Update: more.",)
