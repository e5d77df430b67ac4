"""NER stage (the packaged English pipeline, lean and batched) and canonical entities."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from primenews.domain import Article
from primenews.insights import dates, enrich, figures
from primenews.insights.canonical import (
    KnownEntity,
    MemoryRegistry,
    NameKey,
    _abbreviates,
    canonicalise,
    entity_key,
    near_spelling,
    normalise_name,
)
from primenews.insights.enrich import enrich_many
from primenews.insights.entities import (
    TAGS_READ_AFTER,
    TAGS_READ_BEFORE,
    NerOptions,
    Span,
    analyse_texts,
    clean_mention,
    load_pipeline,
    tokens_from,
)
from primenews.insights.model import Entity, EntityKind


def test_pipeline_loads_only_the_pipes_we_use() -> None:
    nlp = load_pipeline()
    assert "ner" in nlp.pipe_names
    assert "parser" not in nlp.pipe_names and "lemmatizer" not in nlp.pipe_names
    assert load_pipeline() is nlp  # loaded once per process


def test_untagged_pipeline_runs_ner_alone() -> None:
    assert load_pipeline(tag_words=False).pipe_names == ["ner"]
    [analysis] = analyse_texts(["Ana Silva flew to Lima."], NerOptions(tag_words=False))
    assert {s.text for s in analysis.spans} >= {"Ana Silva", "Lima"}
    assert all(t.tag == "" for t in analysis.tokens)


def test_batch_gives_one_analysis_per_text_in_order(takeover: Article, floods: Article) -> None:
    analyses = analyse_texts([takeover.text, floods.text, ""])
    assert len(analyses) == 3
    assert "Maria Lindqvist" in {m.text for m in analyses[0].mentions()}
    assert "Giorgia Meloni" in {m.text for m in analyses[1].mentions()}
    assert analyses[2].spans == ()


def test_tagging_near_spans_tags_those_words_exactly_as_the_whole_text(
    takeover: Article, floods: Article, seed_article: Article
) -> None:
    exceptions = "Revenue rose 5% in the quarter ended Sept. 29, and we’ve seen five o’clock deals."
    texts = [takeover.text, floods.text, seed_article.text, exceptions]
    near = [figures.candidates(text) + dates.candidates(text) for text in texts]
    assert all(near)
    whole = analyse_texts(texts)
    partial = analyse_texts(texts, tag_near=near)
    for text, spans, full, part in zip(texts, near, whole, partial, strict=True):
        assert part.spans == full.spans  # NER is the same either way
        assert [t.text for t in part.tokens] == [t.text for t in full.tokens]
        untagged = [t for t in part.tokens if not t.tag]
        assert untagged, "words far from every number and date are left untagged"
        for spaced, tagged in zip(full.tokens, part.tokens, strict=True):
            assert tagged.tag in ("", spaced.tag)
        tags = {t.start: t.tag for t in part.tokens}
        for start, end in spans:  # the words the figure and date rules read: all tagged, the same
            before = [t for t in full.tokens if t.start < start][-TAGS_READ_BEFORE:]
            within = [t for t in full.tokens if start <= t.start < end]
            read = [*before, *within, *tokens_from(full.tokens, end, TAGS_READ_AFTER)]
            assert [tags[t.start] for t in read] == [t.tag for t in read], text[start:end]


def test_enrich_gives_the_same_insights_as_with_every_word_tagged(
    takeover: Article, floods: Article, seed_article: Article, monkeypatch: pytest.MonkeyPatch
) -> None:
    articles = [takeover, floods, seed_article]
    partial = enrich_many(articles)
    monkeypatch.setattr(enrich, "analyse_texts", lambda texts, options, near: analyse_texts(texts))
    assert enrich_many(articles) == partial
    assert any(insights.figures for insights in partial)
    assert any(insights.dates for insights in partial)


def test_offsets_point_into_the_text(takeover: Article) -> None:
    [analysis] = analyse_texts([takeover.text])
    for mention in analysis.mentions():
        assert takeover.text[mention.start : mention.end] == mention.text
    for token in analysis.tokens:
        assert takeover.text[token.start :].startswith(token.text)


def test_tokens_carry_penn_tags() -> None:
    [analysis] = analyse_texts(["Three of its regional leaders had been detained."])
    tags = {t.text: t.tag for t in analysis.tokens}
    assert tags["leaders"] == "NNS" and tags["detained"] == "VBN"
    assert [t.text for t in tokens_from(analysis.tokens, 5, 2)] == ["of", "its"]


def test_clean_mention_trims_articles_titles_and_possessives() -> None:
    def clean(text: str, label: str = "PERSON") -> str | None:
        mention = clean_mention(Span(text, 10, 10 + len(text), label))
        return mention.text if mention else None

    assert clean("the Organization of American States", "ORG") == "Organization of American States"
    assert clean("Foreign Minister Gerardo Werhein") == "Gerardo Werhein"
    assert clean("Maduro’s", "ORG") == "Maduro"
    assert clean("supreme court", "ORG") is None  # no capital: not a name
    assert clean("BREAKING") is None
    mention = clean_mention(Span("Gov. Gavin Newsom", 4, 21, "PERSON"))
    assert mention is not None and (mention.start, mention.end) == (9, 21)


# canonical entities ---------------------------------------------------------------------


def entities_of(text: str, registry: MemoryRegistry | None = None) -> dict[str, Entity]:
    [analysis] = analyse_texts([text])
    return {e.name: e for e in canonicalise(text, analysis.mentions(), registry)}


def test_surname_joins_the_full_name_and_keeps_the_person_type() -> None:
    text = (
        "Opposition leader Edmundo González left. González later spoke. "
        "The Maduro government, led by Nicolás Maduro, denied it."
    )
    found = entities_of(text)
    gonzalez = found["Edmundo González"]
    assert gonzalez.kind is EntityKind.PERSON and gonzalez.count == 2
    assert gonzalez.aliases == ("González",)
    assert found["Nicolás Maduro"].kind is EntityKind.PERSON
    assert "Maduro" not in found


def test_shared_surname_goes_to_the_nearest_full_name_before() -> None:
    text = (
        "Anna Kowalski met Piotr Kowalski. Later, Piotr Kowalski left. "
        "Anna Kowalski stayed, and Kowalski spoke."
    )
    found = entities_of(text)
    assert found["Anna Kowalski"].count == 3
    assert found["Piotr Kowalski"].count == 2


def test_acronym_defined_in_the_text() -> None:
    text = (
        "The minister spoke before the Organization of American States (OAS). "
        "The OAS did not reply."
    )
    oas = entities_of(text)["Organization of American States"]
    assert oas.kind is EntityKind.ORGANIZATION and oas.count >= 2 and "OAS" in oas.aliases
    assert _abbreviates("FTC", "Federal Trade Commission")
    assert not _abbreviates("FTC", "Federal Reserve")


def test_acronym_from_the_known_list() -> None:
    found = entities_of("Talks at the IMF stalled on Monday, officials in Lima said.")
    assert found["International Monetary Fund"].aliases == ("IMF",)


def test_a_party_called_x_is_an_organisation() -> None:
    found = entities_of("An opposition party called Vente Venezuela said its leaders were held.")
    assert found["Vente Venezuela"].kind is EntityKind.ORGANIZATION


def test_near_spelling_resolves_through_the_registry(werthein_registry: MemoryRegistry) -> None:
    text = "“We object,” said Argentine Foreign Minister Gerardo Werhein on Monday."
    without = entities_of(text)
    assert "Gerardo Werhein" in without and not without["Gerardo Werhein"].known
    resolved = entities_of(text, werthein_registry)
    werthein = resolved["Gerardo Werthein"]
    assert werthein.known and werthein.key == "person:gerardo werthein"
    assert werthein.aliases == ("Gerardo Werhein",)


def test_an_article_looks_its_names_up_in_one_registry_call(
    takeover: Article, werthein_registry: MemoryRegistry
) -> None:
    asked: list[set[tuple[str, EntityKind]]] = []

    class Counting(MemoryRegistry):
        def find_many(self, keys: Iterable[NameKey]) -> dict[NameKey, KnownEntity]:
            asked.append(set(keys))
            return super().find_many(asked[-1])

    registry = Counting(werthein_registry.entities)
    [analysis] = analyse_texts([takeover.text])
    found = canonicalise(takeover.text, analysis.mentions(), registry)
    assert len(asked) == 1 and len(asked[0]) >= len(found) > 3
    assert ("maria lindqvist", EntityKind.PERSON) in asked[0]


def test_registry_alias_and_exact_names() -> None:
    registry = MemoryRegistry()
    registry.add(
        KnownEntity(
            "org:42", "European Union", EntityKind.ORGANIZATION, aliases=("EU", "the Union")
        )
    )
    assert registry.find(normalise_name("the union"), EntityKind.ORGANIZATION) is not None
    found = entities_of("Ministers of the European Union met in Brussels.", registry)
    assert found["European Union"].key == "org:42"


def test_near_spelling_rules() -> None:
    assert near_spelling("Gerardo Werhein", "Gerardo Werthein")
    assert near_spelling("Nicolas Madruo", "Nicolás Maduro")
    assert not near_spelling("John Smith", "Joan Smith")  # a different person, not a typo
    assert not near_spelling("Ana Lima", "Ana Lina")  # short words: too little to go on
    assert not near_spelling("Gerardo Werthein", "Gerardo Werthein")
    assert not near_spelling("Mark Rutte", "Mark Rutte Jr")


def test_normalised_keys() -> None:
    assert normalise_name("Nicolás  MADURO") == "nicolas maduro"
    assert entity_key(EntityKind.PLACE, "U.S.") == "place:us"
