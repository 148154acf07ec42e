# ruff: noqa: RUF001  (typographic quotes are what this module parses)
"""Document -> passages with role, cited outlet, cue and suggested claims.

One passage per paragraph, passage 0 being the headline. Attribution follows the reading
order of an aggregator blog: a lead-in ("X reports ...:", "From X:") opens an excerpt of X that
runs until the author speaks again (first person, a question, an author's adverb such as
"Clearly,", a new lead-in); a lead-in ending in ":" that names no outlet continues the last
outlet cited. Outlets named inside an excerpt are not its source.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from annotator.text.attribution import (
    Cue,
    headline_cue,
    lead_in_cue,
    mention_cues,
    opening_cue,
    trailing_credit,
    with_bare_exclusion,
)
from annotator.text.claims import claim_spans, headline_claims
from annotator.text.outlets import OutletRegistry
from annotator.text.reading import Reading, read
from annotator.text.segment import Paragraph, Span, split_paragraphs, split_title
from annotator.text.suggest import suggest_claim
from annotator.text.voice import author_voice, editorial_cue

__all__ = ["ClaimDraft", "PassageDraft", "analyse_document", "split_title"]

AUTHOR, EXCERPT = "author", "excerpt"


@dataclass(frozen=True)
class ClaimDraft:
    """A claim as offsets into its passage's text, with the suggested label and why."""

    start: int
    end: int
    label: str
    reason: str


@dataclass(frozen=True)
class PassageDraft:
    """A passage (paragraph) with its role, cited outlet and the cue that names it."""

    index: int
    text: str
    role: str
    outlet: str | None
    cue: str | None
    cue_start: int | None
    cue_end: int | None
    claims: tuple[ClaimDraft, ...]


@dataclass
class _State:
    """Where the reading is: inside an excerpt of some outlet or in the author's commentary."""

    in_excerpt: bool = False
    excerpt_outlet: str | None = None
    last_outlet: str | None = None

    def open_excerpt(self, outlet: str | None) -> None:
        self.in_excerpt, self.excerpt_outlet = True, outlet
        if outlet is not None:
            self.last_outlet = outlet


@dataclass(frozen=True)
class _Attribution:
    """A paragraph's role and outlet, the cue naming it and any region that holds no claim."""

    role: str
    outlet: str | None
    cue: Cue | None = None
    credits_previous: bool = False
    exclude: Span | None = None


_WHITESPACE = re.compile(r"\s+")
_LEAD_IN_END = re.compile(r":[\s\"'”’)]*\Z")
_REPORTERS_CREDIT = re.compile(
    r"\((?:[Aa]dditional\s+)?(?:[Rr]eporting|[Ww]riting|[Ee]diting)\s+by\b[^()]*\)\s*\Z"
)
# Blog furniture that only the page's author writes: "Update, 6 p.m.:", "Editor's note:", "h/t".
_AUTHOR_MARK = re.compile(
    r"(?:UPDATE|Update[ds]?|Editor['’]s\s+note|ED\.?\s+NOTE|P\.?S\.?|h/t|Hat\s+tip)\b[^:]{0,30}:"
)
_WEAK_LEAD_IN = re.compile(r"(?:told|tells|via|citing)\b", re.IGNORECASE)


def analyse_document(title: str | None, text: str, registry: OutletRegistry) -> list[PassageDraft]:
    """Passages of a document: the headline first, then one per paragraph of the body.

    With ``title`` (JSONL import) the title is the headline and ``text`` the body; with
    ``title`` None (or blank, or nothing but furniture) the headline is the first line of
    ``text`` (see split_title).
    Returns [] for a document without any text.
    """
    headline, body = _clean_headline(title or ""), text
    if not headline:
        headline, body = split_title(text)
    if not headline:
        return []
    drafts = [_headline_draft(headline, registry)]
    state = _State(last_outlet=drafts[0].outlet)
    for paragraph in split_paragraphs(body):
        reading = read(paragraph.text, registry)
        attribution = _attribute(paragraph, reading, state)
        drafts.append(_draft(len(drafts), reading, attribution))
        if attribution.credits_previous and attribution.outlet:
            _credit_previous(drafts, attribution.outlet)
    return drafts


def _clean_headline(title: str) -> str:
    headline, _ = split_title(_WHITESPACE.sub(" ", title))
    return headline


def _headline_draft(headline: str, registry: OutletRegistry) -> PassageDraft:
    reading = read(headline, registry)
    cue = headline_cue(headline, reading.mentions)
    claims = tuple(
        _claim(reading, span, headline=True)
        for span in headline_claims(headline, cue.exclude_start if cue else None)
    )
    return _passage(0, headline, AUTHOR, cue, cue.outlet if cue else None, claims)


def _draft(index: int, reading: Reading, attribution: _Attribution) -> PassageDraft:
    cue = attribution.cue
    exclusions = [(cue.exclude_start, cue.exclude_end)] if cue else []
    if attribution.exclude is not None:
        exclusions.append(attribution.exclude)
    claims = tuple(
        _claim(reading, span) for span in claim_spans(reading.text, reading.sentences, exclusions)
    )
    return _passage(index, reading.text, attribution.role, cue, attribution.outlet, claims)


def _claim(reading: Reading, span: Span, *, headline: bool = False) -> ClaimDraft:
    suggestion = suggest_claim(reading, span, headline=headline)
    return ClaimDraft(span[0], span[1], suggestion.label, suggestion.reason)


def _passage(
    index: int,
    text: str,
    role: str,
    cue: Cue | None,
    outlet: str | None,
    claims: tuple[ClaimDraft, ...],
) -> PassageDraft:
    if cue is None:
        return PassageDraft(index, text, role, outlet, None, None, None, claims)
    return PassageDraft(
        index, text, role, outlet, text[cue.start : cue.end], cue.start, cue.end, claims
    )


def _attribute(paragraph: Paragraph, reading: Reading, state: _State) -> _Attribution:
    """Role and outlet of one body paragraph; updates the reading ``state``."""
    text, mentions = reading.text, reading.mentions
    if paragraph.heading:
        state.in_excerpt = False
        cue = headline_cue(text, mentions)
        if cue is not None:
            state.last_outlet = cue.outlet
        return _Attribution(AUTHOR, cue.outlet if cue else None, cue)
    opening = opening_cue(text, mentions)
    if opening is not None:
        state.open_excerpt(opening.outlet)
        return _Attribution(EXCERPT, opening.outlet, opening)
    if paragraph.blockquote:
        outlet = state.excerpt_outlet if state.in_excerpt else state.last_outlet
        state.in_excerpt = False
        return _Attribution(EXCERPT, outlet)
    if _LEAD_IN_END.search(text):
        return _lead_in(reading, state)
    return _credited(reading, state) or _continued(reading, state)


def _lead_in(reading: Reading, state: _State) -> _Attribution:
    """A paragraph ending in ":" introduces what follows."""
    cue = lead_in_cue(reading.text, reading.mentions, reading.sentences)
    if cue is not None and state.in_excerpt:
        cue_text = reading.text[cue.start : cue.end]
        if _WEAK_LEAD_IN.match(cue_text) or (cue.exclude_end == 0 and " " not in cue_text):
            cue = None
    if cue is not None:
        state.open_excerpt(cue.outlet)
        return _Attribution(AUTHOR, cue.outlet, cue)
    if state.in_excerpt and not (author_voice(reading) or editorial_cue(reading)):
        return _Attribution(EXCERPT, state.excerpt_outlet)
    state.open_excerpt(state.last_outlet)
    return _Attribution(AUTHOR, None)


def _credited(reading: Reading, state: _State) -> _Attribution | None:
    """A paragraph carrying a credit: a byline ``... | AP`` opens an excerpt; copy closed by
    ``(Reuters, ...)`` or ``(Reporting by ...)`` ends one; a bare ``X reports.`` line credits
    the paragraphs before it."""
    text = reading.text
    credit = trailing_credit(text, reading.mentions)
    if credit is not None:
        state.last_outlet = credit.outlet
        if text[credit.start] != "(":
            state.open_excerpt(credit.outlet)
            return _Attribution(AUTHOR, credit.outlet, credit)
        state.in_excerpt = False
        return _Attribution(EXCERPT, credit.outlet, credit)
    reporters = _REPORTERS_CREDIT.search(text)
    if reporters is not None:
        outlet = state.excerpt_outlet if state.in_excerpt else state.last_outlet
        state.in_excerpt = False
        return _Attribution(EXCERPT, outlet, exclude=reporters.span())
    cue = _bare_credit(reading)
    if cue is None:
        return None
    state.last_outlet = cue.outlet
    if text.startswith("From"):
        state.open_excerpt(cue.outlet)
        return _Attribution(AUTHOR, cue.outlet, cue)
    state.in_excerpt = False
    return _Attribution(AUTHOR, cue.outlet, cue, credits_previous=True)


def _bare_credit(reading: Reading) -> Cue | None:
    """The cue of a paragraph that is nothing but a credit ("Interfax reports.")."""
    cues = mention_cues(reading.text, reading.mentions)
    if not cues:
        return None
    cue = with_bare_exclusion(reading.text, cues[0], reading.sentences)
    if cue.exclude_start == 0 and cue.exclude_end >= len(reading.text.rstrip()):
        return cue
    return None


def _continued(reading: Reading, state: _State) -> _Attribution:
    """An excerpt goes on until the author speaks; the author may still name a source."""
    if state.in_excerpt and author_voice(reading) is None and not _AUTHOR_MARK.match(reading.text):
        return _Attribution(EXCERPT, state.excerpt_outlet)
    state.in_excerpt = False
    cues = mention_cues(reading.text, reading.mentions)
    if not cues:
        return _Attribution(AUTHOR, None)
    cue = with_bare_exclusion(reading.text, cues[0], reading.sentences)
    state.last_outlet = cue.outlet
    return _Attribution(AUTHOR, cue.outlet, cue)


def _credit_previous(drafts: list[PassageDraft], outlet: str) -> None:
    """A bare "X reports." line credits the unattributed paragraphs just before it."""
    index = len(drafts) - 2
    while index > 0:
        draft = drafts[index]
        if draft.outlet is not None or draft.cue is not None or _LEAD_IN_END.search(draft.text):
            break
        if author_voice(read(draft.text)) is not None:
            break
        drafts[index] = replace(draft, role=EXCERPT, outlet=outlet)
        index -= 1
