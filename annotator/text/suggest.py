# ruff: noqa: RUF001  (typographic quotes and dashes are what this module parses)
"""Suggest a label for each claim: quoted, editorial or reported, with a short reason.

Precedence (GUIDELINES.md): the author's own voice (first person, a rhetorical question, an
imperative or "Clearly,"-style adverb outside quotes) -> editorial; then any attribution to an
identified non-outlet speaker -> quoted (a quoted opinion is the speaker's, not the writer's);
then hedges and loaded evaluation -> editorial; everything else -> reported, which includes
attribution to an outlet ("according to a report at NPR") or to a document ("according to the
proposal"), and actions such as proposing or agreeing.

Speech is a verb of saying outside quotation marks (said, told, admitted, accused, called on,
referred to, warned, ...), "according to"/"citing" a person or organisation, a direct quotation
that renders words (4+ words, or a noun cue such as "complaints of"), or a headline
``Speaker: words``. Mental-state verbs (believe, hope, fear, expect) and commitments (pledged,
promised, vowed) are deliberately not speech. Title Case quotations ("Operation Trojan Trucks"),
an outlet's name in quotes and 1-3 word scare quotes are not speech on their own.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from annotator.text.lexicon import NOUN, SOURCE, SPEECH, Hit, words
from annotator.text.outlets import OutletMention, OutletRegistry
from annotator.text.reading import Reading, read
from annotator.text.segment import Span
from annotator.text.voice import author_voice, editorial_cue

REPORTED, QUOTED, EDITORIAL = "reported", "quoted", "editorial"
LABELS = (REPORTED, QUOTED, EDITORIAL)


class Suggestion(NamedTuple):
    """A suggested label and the human-readable reason for it."""

    label: str
    reason: str


_SOURCE_PHRASE = re.compile(r"(?:[Aa]ccording\s+to|[Cc]iting|[Qq]uoting)\s+")
_SOURCE_PHRASE_END = re.compile(
    r"\s(?:who|which|that|whose|seen|published|obtained|released|issued|compiled|cited|shared|"
    r"reviewed|provided|collected|gathered|posted|prepared|conducted|produced|by|of|in|at|from|"
    r"on|with|for|and|to)\b|[,;:!?\"“”()—–]|\.\s*$"
)
_DOCUMENT_NOUNS = frozenset(
    words(
        """report reports proposal proposals document documents data figures statistics survey poll
        polls study studies memo memorandum estimate estimates records analysis draft text
        plan agreement deal law bill rules census filing filings map maps images footage
        video videos assessment assessments research findings index forecast forecasts
        projections calculations tally count website database transcript transcripts
        readout minutes decree order indictment ruling verdict letter cable list schedule
        budget model models article articles story stories version resolution treaty
        charter calendar tracker"""
    )
)
_TITLE_CUE = re.compile(
    r"\b(?:headline[ds]?|titled|entitled|title|dubbed|named|nicknamed|known\s+as|hashtag|book|"
    r"film|song|series|column|op-ed|newsletter|podcast|show|programme|program)\s*[:,]?\s*\Z",
    re.IGNORECASE,
)
_HEADLINE_SPEAKER = re.compile(r"(?P<speaker>[A-Z][\w.'’\-]*(?:\s+[\w.'’\-]+){0,4}):\s+\S")
# "Ukraine war: ...", "Live updates: ..." name a topic or a format, not a speaker.
_HEADLINE_LABELS = frozenset(
    words(
        """breaking update updates updated opinion analysis live latest exclusive watch video
        explainer factbox timeline photos editorial comment review interview podcast
        correction war crisis conflict explained news report day"""
    )
)
_SPEAKER_NOUNS = frozenset(
    words(
        """leader leaders minister ministers president premier official officials spokesman
        spokeswoman spokesperson chief head senator governor mayor ambassador envoy
        general commander ceo chairman chairwoman chair secretary adviser advisor expert
        experts analyst analysts lawyer judge prosecutor police army military ministry
        government union unions party kremlin residents workers voters critics activists
        opposition lawmakers lawmaker mp mps diplomat diplomats source sources pope king
        queen"""
    )
)
_HEADLINE_SAYS = re.compile(r",\s+(?:[A-Z][\w.'’-]*\s+){1,4}(?:says|said|warns|claims)\W*$")
_WORD = re.compile(r"[^\W\d_][\w'’-]*")
_OPENING_MARKS = "\"“„«‘'"
_MIN_QUOTATION_WORDS = 4


def suggest_claim(reading: Reading, span: Span, *, headline: bool = False) -> Suggestion:
    """Label the claim ``reading.text[span[0]:span[1]]`` of a paragraph (or headline)."""
    start, end = span
    hits = reading.hits_in(start, end)
    voice = author_voice(reading, start, end, hits)
    if voice:
        return Suggestion(EDITORIAL, voice)
    speech = _speech_reason(reading, start, end, hits, headline=headline)
    if speech:
        return Suggestion(QUOTED, speech)
    judgement = editorial_cue(reading, start, end, hits)
    if judgement:
        return Suggestion(EDITORIAL, judgement)
    return Suggestion(REPORTED, _reported_reason(reading, start, end, hits))


def suggest_sentence(sentence: str, registry: OutletRegistry | None = None) -> Suggestion:
    """Label one free-standing sentence (corpus evaluation, previews)."""
    reading = read(sentence.strip(), registry)
    return suggest_claim(reading, (0, len(reading.text)))


def _speech_reason(
    reading: Reading, start: int, end: int, hits: list[Hit], *, headline: bool
) -> str | None:
    """Why the claim renders an identified speaker's words, or None."""
    if headline:
        reason = _headline_speech(reading.text[start:end])
        if reason:
            return reason
    mentions = reading.mentions_in(start, end)
    for hit in hits:
        if hit.kind == SOURCE:
            cited, is_speaker = _cited_source(reading, hit, end, mentions)
            if is_speaker:
                return f'attributed to a speaker "{cited}"'
    verb = next((hit.words for hit in hits if _is_speech(hit, mentions)), None)
    quotes = reading.quotes_in(start, end)
    speech_quotes = [q for q in quotes if _renders_speech(reading, q)]
    if verb and speech_quotes:
        return f'direct quotation with attribution "{verb}"'
    if verb:
        return f'speech verb "{verb}" with a speaker'
    return _quotation_reason(reading, start, end, quotes, speech_quotes, hits)


def _is_speech(hit: Hit, mentions: list[OutletMention]) -> bool:
    """A verb of saying whose subject is not an outlet ("Reuters said" is reporting)."""
    return hit.kind == SPEECH and not any(0 <= hit.start - m.end <= 2 for m in mentions)


def _quotation_reason(
    reading: Reading,
    start: int,
    end: int,
    quotes: list[Span],
    speech_quotes: list[Span],
    hits: list[Hit],
) -> str | None:
    """Quotation evidence without a verb of saying in the same sentence."""
    text = reading.text
    if quotes and not _WORD.search(reading.masked, start, end):
        return "direct quotation (speaker given in context)"
    opens_unclosed = text[start] in _OPENING_MARKS and not any(a == start for a, _ in quotes)
    if opens_unclosed and len(text[start:end].split()) >= _MIN_QUOTATION_WORDS - 1:
        return "continues a quotation opened earlier"
    if any(len(text[a:b].split()) >= _MIN_QUOTATION_WORDS for a, b in speech_quotes):
        return "direct quotation"
    noun = next((hit.words for hit in hits if hit.kind == NOUN), None)
    if speech_quotes and noun:
        return f'quotation with a speech noun "{noun}"'
    return None


def _headline_speech(claim: str) -> str | None:
    """Headline forms ``Speaker: words`` and ``words, Speaker says``."""
    match = _HEADLINE_SPEAKER.match(claim)
    if match and _names_a_speaker(match.group("speaker").split()):
        return 'headline "Speaker: words"'
    if _HEADLINE_SAYS.search(claim):
        return 'headline "words, Speaker says"'
    return None


def _names_a_speaker(words: list[str]) -> bool:
    """Whether a headline's "X:" prefix is a speaker: a name ("Medvedev", "Joe Biden") or a
    phrase ending in a speaker noun ("Union leader"), not a topic ("Ukraine war")."""
    last = words[-1].lower().removesuffix("'s").removesuffix("’s")
    if last in _HEADLINE_LABELS or words[0].lower() in _HEADLINE_LABELS:
        return False
    return last in _SPEAKER_NOUNS or all(word[:1].isupper() for word in words)


def _cited_source(
    reading: Reading, hit: Hit, end: int, mentions: list[OutletMention]
) -> tuple[str, bool]:
    """("according to X", whether X is a speaker rather than an outlet or a document)."""
    masked = reading.masked
    phrase_start = _SOURCE_PHRASE.match(masked, hit.start)
    begin = phrase_start.end() if phrase_start else hit.end
    stop = _SOURCE_PHRASE_END.search(masked, begin, end)
    phrase = masked[begin : stop.start() if stop else end].strip()
    cited = " ".join(f"{masked[hit.start : begin]} {phrase}".split())
    words = phrase.split()
    if not words or any(begin <= m.start <= begin + 40 for m in mentions):
        return cited, False
    head = words[-1].lower().removesuffix("'s").removesuffix("’s")
    return cited, head not in _DOCUMENT_NOUNS


def _renders_speech(reading: Reading, quote: Span) -> bool:
    """Whether a quotation renders someone's words (not a title, a name or an outlet)."""
    start, end = quote
    words = _WORD.findall(reading.text, start + 1, max(start + 1, end - 1))
    if not words or reading.mentions_in(start, end):
        return False
    if _TITLE_CUE.search(reading.masked, max(0, start - 30), start):
        return False
    return len(words) < 2 or not all(word[0].isupper() for word in words)


def _reported_reason(reading: Reading, start: int, end: int, hits: list[Hit]) -> str:
    mentions = reading.mentions_in(start, end)
    for hit in hits:
        if hit.kind == SOURCE:
            cited, _ = _cited_source(reading, hit, end, mentions)
            return f'attributed to an outlet or document "{cited}"'
    if mentions:
        return f'reporting attributed to the outlet "{mentions[0].outlet}"'
    return "no attribution or evaluative cue: presented as fact"
