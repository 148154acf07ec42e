"""Split a passage into pieces for display: claims as blocks, the outlet cue (or the words
searched for) and the project's loaded terms marked inside; and the web address a cue links
to."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from annotator.models import Claim, Passage
from annotator.text.loaded_terms import TermHit


@dataclass
class Piece:
    text: str
    marked: bool  # the outlet cue, or words searched for
    term: str | None = None  # the loaded term this piece is (part of)


@dataclass
class Block:
    """A run of text belonging to one claim (or to none, e.g. a dropped lead-in cue)."""

    claim: Claim | None
    pieces: list[Piece] = field(default_factory=list)


def _spans(text: str, marks: Iterable[tuple[int, int]], hits: Sequence[TermHit]) -> set[int]:
    """Where pieces start and end: the text's ends, the marks' and the hits' bounds."""
    bounds = {0, len(text)}
    for start, end in marks:
        bounds.update((start, end))
    for hit in hits:
        bounds.update((hit.start, hit.end))
    return {b for b in bounds if 0 <= b <= len(text)}


def _piece(
    text: str, start: int, end: int, marks: Sequence[tuple[int, int]], hits: Sequence[TermHit]
) -> Piece:
    marked = any(m_start <= start and end <= m_end for m_start, m_end in marks)
    term = next((h.term for h in hits if h.start <= start and end <= h.end), None)
    return Piece(text[start:end], marked, term)


def _pieces(
    text: str, marks: Sequence[tuple[int, int]], hits: Sequence[TermHit] = ()
) -> list[Piece]:
    cuts = sorted(_spans(text, marks, hits))
    return [_piece(text, start, end, marks, hits) for start, end in itertools.pairwise(cuts)]


def _cue(start: int | None, end: int | None, text: str) -> list[tuple[int, int]]:
    """The outlet cue as a mark, when it lies inside the text."""
    if start is None or end is None or not 0 <= start < end <= len(text):
        return []
    return [(start, end)]


def claim_blocks(passage: Passage, hits: Sequence[TermHit] = ()) -> list[Block]:
    text = passage.text
    marks = _cue(passage.cue_start, passage.cue_end, text)
    bounds = _spans(text, marks, hits)
    for claim in passage.claims:
        bounds.update(b for b in (claim.start, claim.end) if 0 <= b <= len(text))
    blocks: list[Block] = []
    for start, end in itertools.pairwise(sorted(bounds)):
        claim = next((c for c in passage.claims if c.start <= start and end <= c.end), None)
        if not blocks or blocks[-1].claim is not claim:
            blocks.append(Block(claim))
        blocks[-1].pieces.append(_piece(text, start, end, marks, hits))
    return blocks


def cue_pieces(
    text: str, cue_start: int | None, cue_end: int | None, hits: Sequence[TermHit] = ()
) -> list[Piece]:
    """The text cut around its outlet cue, when it has one inside the text, and its terms."""
    return _pieces(text, _cue(cue_start, cue_end, text), hits)


_ADDRESS = re.compile(r"https?://[^\s<>\"\[\]()]+", re.IGNORECASE)


def cited_address(cue: str | None) -> str | None:
    """The web address in an outlet cue ("As [reported here](https://www.npr.org/…)"), for a
    link to the cited page; None when the cue names the outlet in words only."""
    found = _ADDRESS.search(cue or "")
    return found.group().rstrip(".,;:!?'") if found else None


def found_pieces(text: str, words: str) -> list[Piece]:
    """The text cut around every occurrence of ``words`` (any case), those marked."""
    found = re.finditer(re.escape(words), text, re.IGNORECASE) if words else ()
    return _pieces(text, [(f.start(), f.end()) for f in found])
