"""The insights stage: an article in, its entities, figures, quotes, dates and summary out.

    enrich(article, registry) ──► Insights
        entities.analyse_texts   spaCy NER + tags (the only costly step; batched)
        canonical.canonicalise   variants, acronyms, registry names
        places.locate            country and coordinates for places
        figures / quotes / dates rules over the text, its tags and entities
        summary.summarise        2–3 sentences, verbatim

Pure: the registry is read, never written (the shell adds the new entities
to the store afterwards), the clock is the article's publication date, and
the spaCy pipeline is loaded once per process and then only read. Use
:func:`enrich_many` for a batch: NER runs over all texts in one ``nlp.pipe``.

Articles not in a supported language get a summary and nothing else (the
NER model and the patterns are English).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import py3langid

from primenews.domain import Article
from primenews.insights import dates, figures
from primenews.insights.canonical import EntityRegistry, canonicalise
from primenews.insights.dates import extract_dates
from primenews.insights.entities import Analysis, NerOptions, analyse_texts
from primenews.insights.figures import extract_figures
from primenews.insights.model import Insights
from primenews.insights.places import locate
from primenews.insights.quotes import extract_quotes
from primenews.insights.summary import split_sentences, summarise

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class EnrichOptions:
    """What the insights stage does.

    Attributes:
        ner: how spaCy runs (model, tagging, batch size).
        languages: languages the entity, figure, quote and date rules run on.
        summary_sentences: at most this many summary sentences.
        locate_places: put places on the map (the gazetteer costs ~1 s once per process).
    """

    ner: NerOptions = field(default_factory=NerOptions)
    languages: tuple[str, ...] = ("en",)
    summary_sentences: int = 3
    locate_places: bool = True


def enrich(
    article: Article, registry: EntityRegistry | None = None, options: EnrichOptions | None = None
) -> Insights:
    """Extract the insights of one article.

    Args:
        article: an extracted article (``Article.text`` with paragraphs on lines).
        registry: entities the store already knows, to resolve names against;
            None resolves within the article only.
        options: defaults when None.

    Returns:
        The article's :class:`~primenews.insights.model.Insights`.
    """
    return enrich_many([article], registry, options)[0]


def enrich_many(
    articles: Sequence[Article],
    registry: EntityRegistry | None = None,
    options: EnrichOptions | None = None,
) -> list[Insights]:
    """Extract the insights of several articles, NER batched across them."""
    options = options or EnrichOptions()
    languages = [article_language(a) for a in articles]
    supported = [i for i, lang in enumerate(languages) if lang in options.languages]
    texts = [articles[i].text for i in supported]
    # only the words next to a number or a date need tags: the figure and date rules read no others
    near = [figures.candidates(text) + dates.candidates(text) for text in texts]
    analyses = analyse_texts(texts, options.ner, near)
    by_index = dict(zip(supported, analyses, strict=True))
    results: list[Insights] = []
    for index, article in enumerate(articles):
        analysis = by_index.get(index)
        if analysis is None:
            summary = summarise(article.text, article.title, options.summary_sentences)
            results.append(Insights(article.url, languages[index], summary=summary))
        else:
            results.append(_compose(article, languages[index], analysis, registry, options))
    return results


def article_language(article: Article) -> str:
    """The article's language as extracted, else identified from its text."""
    if article.language:
        return article.language.split("-")[0].lower()
    if not article.text.strip():
        return ""
    language, _score = py3langid.classify(article.text[:2000])
    return str(language)


def _compose(
    article: Article,
    language: str,
    analysis: Analysis,
    registry: EntityRegistry | None,
    options: EnrichOptions,
) -> Insights:
    text = article.text
    sentences = split_sentences(text)
    entities = canonicalise(text, analysis.mentions(), registry)
    if options.locate_places:
        demonyms = [s.text for s in analysis.spans if s.label == "NORP"]
        entities = locate(entities, text, demonyms)
    return Insights(
        url=article.url,
        language=language,
        entities=entities,
        figures=extract_figures(text, analysis.tokens, sentences, entities),
        quotes=extract_quotes(text, sentences, entities),
        dates=extract_dates(text, article.published, sentences, analysis.tokens),
        summary=summarise(text, article.title, options.summary_sentences, sentences),
    )
