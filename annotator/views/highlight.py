"""Split a passage into pieces for display: claims as blocks, the outlet cue (or the words
searched for) marked inside."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from annotator.models import Claim, Passage


@dataclass
class Piece:
    text: str
    marked: bool  # the outlet cue, or words searched for


@dataclass
class Block:
    """A run of text belonging to one claim (or to none, e.g. a dropped lead-in cue)."""

    claim: Claim | None
    pieces: list[Piece] = field(default_factory=list)


def claim_blocks(passage: Passage) -> list[Block]:
    text = passage.text
    cue = (passage.cue_start, passage.cue_end) if passage.cue_start is not None else None
    bounds = {0, len(text)}
    for claim in passage.claims:
        bounds.update((claim.start, claim.end))
    if cue and cue[1] is not None:
        bounds.update((cue[0], cue[1]))
    cuts = sorted(b for b in bounds if 0 <= b <= len(text))
    blocks: list[Block] = []
    for start, end in itertools.pairwise(cuts):
        claim = next((c for c in passage.claims if c.start <= start and end <= c.end), None)
        marked = bool(cue and cue[1] is not None and cue[0] <= start and end <= cue[1])
        if not blocks or blocks[-1].claim is not claim:
            blocks.append(Block(claim))
        blocks[-1].pieces.append(Piece(text[start:end], marked))
    return blocks


def cue_pieces(text: str, cue_start: int | None, cue_end: int | None) -> list[Piece]:
    """The text cut around its outlet cue, when it has one inside the text."""
    if cue_start is None or cue_end is None or not 0 <= cue_start < cue_end <= len(text):
        return [Piece(text, False)]
    pieces = [
        Piece(text[:cue_start], False),
        Piece(text[cue_start:cue_end], True),
        Piece(text[cue_end:], False),
    ]
    return [piece for piece in pieces if piece.text]


def found_pieces(text: str, words: str) -> list[Piece]:
    """The text cut around every occurrence of ``words`` (any case), those marked."""
    pieces: list[Piece] = []
    position = 0
    for found in re.finditer(re.escape(words), text, re.IGNORECASE) if words else ():
        pieces += [Piece(text[position : found.start()], False), Piece(found.group(), True)]
        position = found.end()
    pieces.append(Piece(text[position:], False))
    return [piece for piece in pieces if piece.text]
