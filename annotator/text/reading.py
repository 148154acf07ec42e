"""Everything extracted once per paragraph and shared by attribution, claims and suggestions."""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field

from annotator.text.lexicon import Hit, scan
from annotator.text.outlets import OutletMention, OutletRegistry
from annotator.text.quotes import mask_quotes, quote_spans
from annotator.text.segment import Span, sentence_spans


@dataclass(slots=True)
class Reading:
    """A paragraph with its outlet mentions, quotations, sentences and cue-word hits.

    ``masked`` is the text with quotations blanked out (same length, same offsets); cue hits
    are found in it, so words inside quotation marks belong to the speaker, not the writer.
    Treat it as read-only (not frozen only because frozen dataclasses are slow to build).
    """

    text: str
    mentions: list[OutletMention]
    quotes: list[Span]
    sentences: list[Span]
    masked: str
    hits: list[Hit]
    # Start offsets of hits, mentions and quotes, for bisecting: a paragraph can be huge.
    _hit_starts: list[int] = field(init=False, repr=False)
    _mention_starts: list[int] = field(init=False, repr=False)
    _quote_starts: list[int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._hit_starts = [hit.start for hit in self.hits]
        self._mention_starts = [mention.start for mention in self.mentions]
        self._quote_starts = [start for start, _ in self.quotes]

    def hits_in(self, start: int, end: int) -> list[Hit]:
        """Cue hits that start inside ``start:end``."""
        starts = self._hit_starts
        return self.hits[bisect_left(starts, start) : bisect_left(starts, end)]

    def mentions_in(self, start: int, end: int) -> list[OutletMention]:
        """Outlet mentions lying inside ``start:end``."""
        starts = self._mention_starts
        found = self.mentions[bisect_left(starts, start) : bisect_left(starts, end)]
        return [m for m in found if m.end <= end]

    def quotes_in(self, start: int, end: int) -> list[Span]:
        """Quotations overlapping ``start:end``."""
        first = max(0, bisect_left(self._quote_starts, start) - 1)
        last = bisect_left(self._quote_starts, end)
        return [(a, b) for a, b in self.quotes[first:last] if a < end and b > start]


def read(text: str, registry: OutletRegistry | None = None) -> Reading:
    """Analyse one paragraph (or headline, or free-standing sentence)."""
    quotes = quote_spans(text)
    masked = mask_quotes(text, quotes)
    return Reading(
        text=text,
        mentions=registry.find_all(text) if registry is not None else [],
        quotes=quotes,
        sentences=sentence_spans(text, quotes),
        masked=masked,
        hits=scan(masked),
    )
