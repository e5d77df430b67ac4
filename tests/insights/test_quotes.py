"""Quotes: speakers resolved across the article, partial quotes marked, scare quotes left out."""

from __future__ import annotations

from primenews.domain import Article
from primenews.insights.canonical import canonicalise
from primenews.insights.entities import analyse_texts
from primenews.insights.model import Quote
from primenews.insights.quotes import extract_quotes
from primenews.insights.summary import split_sentences


def quotes_of(text: str) -> tuple[Quote, ...]:
    [analysis] = analyse_texts([text])
    entities = canonicalise(text, analysis.mentions())
    return extract_quotes(text, split_sentences(text), entities)


def test_pronoun_speaker_is_the_person_named_before() -> None:
    text = (
        "Opposition leader Edmundo González fled to Spain in September. "
        "“My departure was surrounded by acts of pressure,” he said at the time."
    )
    [quote] = quotes_of(text)
    assert quote.speaker == "Edmundo González" and quote.speaker_key == "person:edmundo gonzalez"
    assert quote.text.startswith("My departure") and not quote.partial
    assert quote.cue == "said"


def test_speaker_after_the_reporting_verb_and_a_following_quote_continues() -> None:
    text = (
        "“The government has denied the safe conduct,” said Foreign Minister Diana Mondino, "
        "in statements before the assembly.\n\n"
        "“Asylum seekers are subjected to water cuts.”\n\n"
        "Officials met later. “Nothing will change,” a spokesman told reporters."
    )
    first, second, third = quotes_of(text)
    assert first.speaker == second.speaker == "Diana Mondino"
    assert third.speaker == "a spokesman" and third.speaker_key == ""


def test_speaker_before_a_colon() -> None:
    [quote] = quotes_of(
        "Prime Minister Giorgia Meloni told parliament: “We will rebuild every road.”"
    )
    assert quote.speaker == "Giorgia Meloni"


def test_british_single_quotes() -> None:
    text = "Fabrizio Curcio visited Faenza. ‘The water rose faster than anyone predicted,’ he said."
    [quote] = quotes_of(text)
    assert quote.speaker == "Fabrizio Curcio"
    assert quote.text == "The water rose faster than anyone predicted,"


def test_partial_quote_is_marked_and_belongs_to_the_reporting_subject() -> None:
    text = (
        "The service is headed by Minister Diosdado Cabello. He explained that Nicolás Maduro had "
        "ordered officials to review “all cases related to acts of violence and crimes.”"
    )
    [quote] = quotes_of(text)
    assert quote.partial
    assert quote.speaker == "Diosdado Cabello"  # "He", not Maduro named after it


def test_title_refers_back_to_the_person_introduced_with_it() -> None:
    text = (
        "Gov. Gavin Newsom welcomed the agreement. The governor said the state expected "
        "“hundreds of new jobs in the valley over the next decade,” without details."
    )
    [quote] = quotes_of(text)
    assert quote.partial and quote.speaker == "Gavin Newsom"


def test_scare_quotes_and_titles_are_not_quotes() -> None:
    text = (
        "The service said the release came on top of “precautionary measures” granted earlier. "
        "These “precautionary measures” required detainees to report to court. "
        "Embassies are considered “inviolable” spaces. Critics call the plan an “efficiency "
        "drive”. She starred in “The Long Night” last year."
    )
    assert quotes_of(text) == ()


def test_seed_quotes(seed_article: Article) -> None:
    quotes = quotes_of(seed_article.text)
    texts = [q.text for q in quotes]
    assert not any(t.strip(".,") in ("precautionary measures", "inviolable") for t in texts)
    [departure] = [q for q in quotes if q.text.startswith("My departure from Caracas")]
    assert departure.speaker == "Edmundo González"
    partial = [q for q in quotes if q.partial]
    assert [q.text[:9] for q in partial] == ["all cases"]
    assert partial[0].speaker != "Nicolás Maduro"


def test_quote_of_two_sentences_attributed_after_it() -> None:
    text = (
        "Police received a call at night. “A suspicious car stopped here. A girl was dropped off "
        "by that car,” said dispatcher Maria Gomez on the scanner."
    )
    [quote] = quotes_of(text)
    assert quote.speaker == "Maria Gomez" and quote.text.startswith("A suspicious car")


def test_name_with_title_before_the_colon() -> None:
    text = (
        "Sacha Deshmukh, Amnesty International UK’s chief executive, said: “The violence we have "
        "witnessed is utterly unacceptable.”"
    )
    [quote] = quotes_of(text)
    assert quote.speaker == "Sacha Deshmukh"


def test_unattributed_quote_after_a_sentence_that_names_the_speaker() -> None:
    text = (
        "Managers came outside to watch the rally, Tanner Fischer said. “Some were standing "
        "a hundred yards away, then moved into the crowd.”\n\n"
        "Bolger’s lawyer, Jeremy Robinson, had a shorter statement. “It is impossible to "
        "overstate the magnitude of this ruling.”"
    )
    first, second = quotes_of(text)
    assert first.speaker == "Tanner Fischer"
    assert second.speaker == "Jeremy Robinson"


def test_titles_of_works_are_not_partial_quotes() -> None:
    text = (
        "Colleagues said he collected the remarks in a booklet titled “The Wit and Wisdom of "
        "the Chairman of the Board.”"
    )
    assert quotes_of(text) == ()
