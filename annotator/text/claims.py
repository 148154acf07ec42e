# ruff: noqa: RUF001  (typographic quotes and dashes are what this module parses)
"""Claim boundaries inside a passage: sentences, minus cue words and cut teaser fragments.

A claim is a sentence (a multi-sentence quotation with its attribution stays one sentence, see
:func:`annotator.text.segment.sentence_spans`). Regions that carry no claim are cut out: a bare
lead-in sentence ("From The Kyiv Independent:"), an inline lead-in or a wire dateline opening an
excerpt ("Reuters reports:", "MOSCOW (Reuters) -"), a trailing credit, and a sentence cut short
by a site teaser ("... READ MORE").
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from annotator.text.segment import Span, strip_span

_TEASER = re.compile(
    r"(?:\.{3}|…)?\s*(?:\[(?:…|\.{3})\]|READ MORE|Read [Mm]ore|Continue [Rr]eading)\W*\Z"
)
_TEASER_WINDOW = 40
_HAS_WORD = re.compile(r"[^\W_]")
_TERMINAL = frozenset('.!?"”’)')


def claim_spans(text: str, sentences: Sequence[Span], exclusions: Sequence[Span]) -> list[Span]:
    """Claims of a passage: ``sentences`` with the ``exclusions`` removed.

    Result spans are sorted, non-overlapping, stripped and contain at least one letter or digit.
    """
    cut = [*exclusions, *_teaser_exclusion(text, sentences)]
    cut = sorted((start, end) for start, end in cut if end > start)
    if not cut:
        return [span for span in sentences if _HAS_WORD.search(text, *span)]
    claims: list[Span] = []
    for start, end in sentences:
        for piece_start, piece_end in _subtract(start, end, cut):
            piece = strip_span(text, piece_start, piece_end)
            if piece[1] > piece[0] and _HAS_WORD.search(text, piece[0], piece[1]):
                claims.append(piece)
    return claims


def headline_claims(text: str, cue_start: int | None) -> list[Span]:
    """A headline is one claim, without its ``(Outlet)`` suffix."""
    end = len(text) if cue_start is None else cue_start
    claim = strip_span(text, 0, end)
    if claim[1] > claim[0] and _HAS_WORD.search(text, claim[0], claim[1]):
        return [claim]
    return []


def _teaser_exclusion(text: str, sentences: Sequence[Span]) -> list[Span]:
    """The teaser marker and, if cut short, the sentence before it."""
    tail = text[-_TEASER_WINDOW:].lower()
    if not ("more" in tail or "reading" in tail or "]" in tail):
        return []
    teaser = _TEASER.search(text, max(0, len(text) - _TEASER_WINDOW))
    if teaser is None:
        return []
    cut = teaser.start()
    before = text[:cut].rstrip()
    if before and before[-1] not in _TERMINAL:
        last_char = len(before) - 1
        for start, end in sentences:
            if start <= last_char < end:
                cut = min(cut, start)
    return [(cut, len(text))]


def _subtract(start: int, end: int, cuts: Sequence[Span]) -> list[Span]:
    """``start:end`` minus the sorted ``cuts`` intervals, as a list of remaining pieces."""
    pieces: list[Span] = []
    cursor = start
    for cut_start, cut_end in cuts:
        if cut_end <= cursor or cut_start >= end:
            continue
        if cut_start > cursor:
            pieces.append((cursor, cut_start))
        cursor = max(cursor, cut_end)
    if cursor < end:
        pieces.append((cursor, end))
    return pieces
