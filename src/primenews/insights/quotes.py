"""Direct quotes and who said them; also who a figure comes from.

A span between quotation marks (“…”, "…", or ‘…’ as British outlets write)
is one of three things:

- a **quote**: it opens the sentence or follows a reporting cue ("said:",
  "told reporters,") — the speaker is found after it (", he said", ", said
  Foreign Minister X") or before it ("X said:");
- a **partial quote**: five words or more woven into the writer's own
  sentence after a reporting verb ("He explained that … review “all cases
  related to …”") — kept, marked ``partial``;
- a **scare quote** or a title: short, inside the writer's sentence, with no
  reporting cue attached ("“precautionary measures” granted", "“inviolable”
  spaces") — not a quote.

Speakers are resolved across the article: a name inside the attribution is
that entity; "he"/"she" is the last person named before; "the minister" is
the last person introduced with that title ("Minister Diosdado Cabello");
a quote with no attribution that follows straight on from another quote
continues it and has its speaker.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from primenews.insights.model import Entity, EntityKind, Quote
from primenews.insights.summary import Sentence, around, sentence_at

SPEECH_VERBS = (
    "said|says|say|told|tells|added|adds|explained|explains|stated|declared|wrote|writes|"
    "noted|insisted|argued|warned|warns|announced|claimed|asked|replied|"
    "concluded|acknowledged|admitted|stressed|emphasi[sz]ed|tweeted|commented|remarked|"
    "recalled|urged|vowed|promised|pledged|responded|answered|snapped|shouted|chanted|"
    "estimated|reported|indicated|confirmed|denied|according\\s+to"
)
_CUE_AFTER = re.compile(
    rf"\s*,?\s*(?P<pre>[^.!?“”\"]{{0,80}}?)\s*\b(?P<verb>{SPEECH_VERBS})\b(?P<post>[^.!?“”\"]{{0,160}})",
    re.IGNORECASE,
)
_CUE_BEFORE = re.compile(
    rf"(?P<pre>[^.!?“”\",;]{{0,80}}?)\s*\b(?P<verb>{SPEECH_VERBS})\b[^.!?“”\"]{{0,60}}?[:,]\s*$",
    re.IGNORECASE,
)
_VERB = re.compile(rf"\b(?P<verb>{SPEECH_VERBS})\b", re.IGNORECASE)
_DATA_SOURCE = re.compile(
    r"(?P<who>(?:[\w'’-]+\s+){0,3}(?:figures|data|estimates|statistics|numbers|tallies|count|polls?))"
    r"\s+(?:indicate|indicated|show|shows|showed|suggest|suggests|suggested|put)\b",
    re.IGNORECASE,
)
_ACCORDING = re.compile(r"\baccording\s+to\s+(?P<who>[^,.;:]{2,80})", re.IGNORECASE)
_QUOTE_SPANS = re.compile(
    r"“(?P<curly>[^“”\n]+)(?:”|$)|\"(?P<straight>[^\"\n]+)\"|(?<![\w’'])‘(?P<single>[^‘\n]+?)’(?![\w])",
    re.MULTILINE,
)
_CLAUSE_BETWEEN = re.compile(r"[;:]|,\s+(?:which|who|while|but|whereas)\b")
_TRAILING = re.compile(
    r"(?:\s+(?:have|has|had|will|would|also|previously|later|then|been|already))+$", re.I
)
_TITLED = re.compile(r"\b(?:titled|entitled|called|named|dubbed|headlined|captioned)\s*$", re.I)
_PRONOUN_PERSON = frozenset({"he", "she", "him", "her"})
_PRONOUN_GROUP = frozenset({"it"})
_PRONOUN_SELF = frozenset(
    {"i", "we", "you", "me", "us", "they", "them"}
)  # an interview's voices: nobody named
_LEADING = re.compile(r"^(?:(?:and|but|while|as|that|who|which|so)\s+)+", re.IGNORECASE)
TITLE_ABBREVIATIONS = {
    "gov": "governor", "sen": "senator", "rep": "representative", "gen": "general",
    "pres": "president", "sec": "secretary", "dr": "doctor", "prof": "professor",
}  # fmt: skip
SUBJECT_CHARS = 150  # how far before "said:" a speaker's name (and title) may start
MIN_QUOTE_WORDS = 5  # fewer, woven into the writer's sentence, is a scare quote or a title


@dataclass(frozen=True, slots=True)
class Speaker:
    """Who an attribution names: a canonical entity (with key) or the phrase as written."""

    name: str
    key: str = ""


class SpeakerResolver:
    """Turns an attribution phrase at a place in the text into a speaker."""

    def __init__(self, text: str, entities: Sequence[Entity]) -> None:
        self.text = text
        mentions = [(m.start, m.end, e) for e in entities for m in e.mentions]
        mentions.sort(key=lambda item: item[0])
        self._mentions = mentions
        self._starts = [m[0] for m in mentions]

    def resolve(self, start: int, end: int) -> Speaker:
        """The speaker named by ``text[start:end]`` ("he", "Gerardo Werhein", "the ministry")."""
        phrase = _LEADING.sub("", self.text[start:end].strip(' ,;:—–-"“”‘’[]()'))
        phrase = _TRAILING.sub("", phrase)
        if not phrase:
            return Speaker("")
        inside = [e for s, t, e in self._within(start, end) if e.kind is not EntityKind.PLACE]
        if inside:
            people = [e for e in inside if e.kind is EntityKind.PERSON]
            chosen = (people or inside)[0]
            return Speaker(chosen.name, chosen.key)
        word = phrase.lower()
        if word in _PRONOUN_SELF:
            return Speaker("")
        if word in _PRONOUN_PERSON:
            return self._last_before(start, EntityKind.PERSON) or Speaker("")
        if word in _PRONOUN_GROUP:
            return self._last_before(start, EntityKind.ORGANIZATION) or Speaker("")
        titled = self._titled(phrase, start)
        if titled is not None:
            return titled
        if len(phrase.split()) > 8:
            return Speaker("")
        return Speaker(phrase[0].lower() + phrase[1:] if _is_common(phrase) else phrase)

    def entities_within(self, start: int, end: int, kind: EntityKind) -> list[Entity]:
        """The entities of ``kind`` named inside ``[start, end)``, in text order."""
        return [e for _s, _e, e in self._within(start, end) if e.kind is kind]

    def _within(self, start: int, end: int) -> list[tuple[int, int, Entity]]:
        low = bisect.bisect_left(self._starts, start)
        high = bisect.bisect_left(self._starts, end)
        return [m for m in self._mentions[low:high] if m[1] <= end]

    def _last_before(self, offset: int, kind: EntityKind) -> Speaker | None:
        """The last entity of ``kind`` named before ``offset``.

        A one-word "person" that never appears with a full name is more often
        a place NER misread than a person, so a full name further back wins.
        """
        high = bisect.bisect_left(self._starts, offset)
        fallback: Speaker | None = None
        for _start, _end, entity in reversed(self._mentions[:high]):
            if entity.kind is not kind:
                continue
            if kind is not EntityKind.PERSON or " " in entity.name:
                return Speaker(entity.name, entity.key)
            fallback = fallback or Speaker(entity.name, entity.key)
        return fallback

    def _titled(self, phrase: str, offset: int) -> Speaker | None:
        """ "the minister" → the last person introduced as "Minister …"."""
        words = phrase.lower().split()
        if len(words) < 2 or words[0] not in ("the", "this"):
            return None
        title = words[-1]
        abbreviations = {t for t, full in TITLE_ABBREVIATIONS.items() if full == title}
        high = bisect.bisect_left(self._starts, offset)
        for start, _end, entity in reversed(self._mentions[:high]):
            before = self.text[max(0, start - 40) : start].lower().split()
            introduced = before[-1].strip(",.") if before else ""
            if entity.kind is EntityKind.PERSON and (
                introduced == title or introduced in abbreviations
            ):
                return Speaker(entity.name, entity.key)
        return None


def _is_common(phrase: str) -> bool:
    """A sentence-initial "The ministry" is written "the ministry" in a speaker field."""
    first = phrase.split()[0]
    return first in ("The", "A", "An") and not any(w[:1].isupper() for w in phrase.split()[1:])


def extract_quotes(
    text: str, sentences: Sequence[Sentence], entities: Sequence[Entity] = ()
) -> tuple[Quote, ...]:
    """Find the quotes of ``text`` with their speakers; scare quotes are left out."""
    resolver = SpeakerResolver(text, entities)
    quotes: list[Quote] = []
    previous_end = -1  # where the sentence holding the last quote ends
    for match in _QUOTE_SPANS.finditer(text):
        inner = match.group(match.lastgroup or "curly").strip()
        first = sentence_at(sentences, match.start())
        if first is None or not inner:
            continue
        last = sentence_at(sentences, max(match.end() - 1, match.start())) or first
        lead = text[around(first, match.start()).start : match.start()]
        after = text[match.end() : max(match.end(), around(last, match.end()).end)]
        quote = _classify(match, inner, lead, after, resolver)
        if quote is None:
            continue
        if not quote.speaker and not quote.partial:
            quote = _continued(quote, quotes, previous_end, first, sentences, resolver)
        quotes.append(quote)
        previous_end = last.end
    return tuple(quotes)


def _continued(
    quote: Quote,
    quotes: list[Quote],
    previous_end: int,
    sentence: Sentence,
    sentences: Sequence[Sentence],
    resolver: SpeakerResolver,
) -> Quote:
    """The speaker of an unattributed quote, from what comes straight before it.

    Another quote ("…” he said. “…”) passes its speaker on; so does a
    sentence that names its speaker ("…, Fischer said. “…”") or names one
    person only ("X had a more succinct statement. “…”").
    """
    text = resolver.text
    if (
        quotes
        and previous_end >= 0
        and not any(c.isalpha() for c in text[previous_end : quote.start])
    ):
        last = quotes[-1]
        return replace(quote, speaker=last.speaker, speaker_key=last.speaker_key, cue=last.cue)
    index = bisect.bisect_left(sentences, sentence.start, key=lambda s: s.start)
    if index == 0 or any(c.isalpha() for c in text[sentences[index - 1].end : quote.start]):
        return quote
    before = around(sentences[index - 1], sentences[index - 1].end)
    verbs = list(_VERB.finditer(before.text))
    if verbs:
        verb = verbs[-1]
        start = before.start + _clause_start(before.text, verb.start())
        speaker = resolver.resolve(start, before.start + verb.start())
        if speaker.name:
            return replace(
                quote, speaker=speaker.name, speaker_key=speaker.key, cue=verb.group("verb")
            )
    people = {
        e.key: e for e in resolver.entities_within(before.start, before.end, EntityKind.PERSON)
    }
    if len(people) == 1:
        [person] = people.values()
        return replace(quote, speaker=person.name, speaker_key=person.key)
    return quote


def _classify(
    match: re.Match[str], inner: str, lead: str, after: str, resolver: SpeakerResolver
) -> Quote | None:
    """A quote, a partial quote, or None (a scare quote); ``lead``, ``after``: its sentence."""
    words = len(inner.split())
    spoken = inner[-1:] in ",.!?…"
    cue_after = _CUE_AFTER.match(after) if spoken or re.match(r"\s*,", after) else None
    cue_before = _CUE_BEFORE.search(lead) if lead.rstrip().endswith((":", ",")) else None
    opens_sentence = not lead.strip() or lead.rstrip().endswith((":", "—", "–"))
    if (opens_sentence and (spoken or words >= MIN_QUOTE_WORDS)) or cue_before or cue_after:
        speaker, verb = _attributed(match, lead, cue_before, cue_after, resolver)
        return Quote(inner, match.start(), match.end(), speaker.name, speaker.key, False, verb)
    verb_before = list(_VERB.finditer(lead))
    if words < MIN_QUOTE_WORDS or not verb_before or _TITLED.search(lead):
        return None  # a scare quote, a term or a title
    cue = verb_before[0]
    base = match.start() - len(lead)
    speaker = resolver.resolve(base + _clause_start(lead, cue.start()), base + cue.start())
    return Quote(
        inner, match.start(), match.end(), speaker.name, speaker.key, True, cue.group("verb")
    )


def _attributed(
    match: re.Match[str],
    lead: str,
    cue_before: re.Match[str] | None,
    cue_after: re.Match[str] | None,
    resolver: SpeakerResolver,
) -> tuple[Speaker, str]:
    base_after = match.end()
    if cue_after is not None:
        if cue_after.group("pre").strip():  # "…,” the minister said"
            start, end = cue_after.start("pre"), cue_after.end("pre")
        else:  # "…,” said Foreign Minister X, in statements …"
            post = cue_after.group("post")
            stop = re.search(r"[,;(]", post)
            start = cue_after.start("post")
            end = start + (stop.start() if stop else len(post))
        return resolver.resolve(base_after + start, base_after + end), cue_after.group(
            "verb"
        ).lower()
    if cue_before is not None:  # "X, the group's chief executive, said: “…”"
        base = match.start() - len(lead)
        verb_at = base + cue_before.start("verb")
        speaker = resolver.resolve(max(base, verb_at - SUBJECT_CHARS), verb_at)
        return speaker, cue_before.group("verb").lower()
    return Speaker(""), ""


def _clause_start(lead: str, verb_at: int) -> int:
    """Where the subject of the verb at ``verb_at`` begins: after the last comma, <= 8 words."""
    head = lead[:verb_at]
    cut = max(head.rfind(","), head.rfind(";"), head.rfind(" that "))
    start = cut + 1 if cut >= 0 else 0
    words = list(re.finditer(r"\S+", head[start:]))
    if len(words) > 8:
        start += words[-8].start()
    return start


def source_of(sentence: Sentence, offset: int, resolver: SpeakerResolver) -> str:
    """Who a figure at ``offset`` in ``sentence`` comes from, or "" when the text does not say.

    "according to the attorney general's office", "Government figures
    indicate …" → "government figures", "an opposition party called Vente
    Venezuela said three …" → "Vente Venezuela".
    """
    text = sentence.text
    according = _ACCORDING.search(text)
    if according:
        start = sentence.start + according.start("who")
        return resolver.resolve(start, start + len(according.group("who"))).name
    data = _DATA_SOURCE.search(text)
    if data and sentence.start + data.start() < offset:
        who = data.group("who")
        return who[0].lower() + who[1:] if data.start() == 0 and who.split()[0].istitle() else who
    for verb in _VERB.finditer(text):
        verb_at = sentence.start + verb.start()
        if verb_at < offset and not _CLAUSE_BETWEEN.search(
            text, verb.end(), offset - sentence.start
        ):
            start = sentence.start + _clause_start(text, verb.start())
            return resolver.resolve(start, verb_at).name
        tail = text[verb.end() :].strip(" .")
        if not tail:  # "…, the ministry said."
            start = sentence.start + _clause_start(text, verb.start())
            return resolver.resolve(start, verb_at).name
    return ""
