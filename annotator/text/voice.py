# ruff: noqa: RUF001  (typographic quotes and dashes are what this module parses)
"""The writer's own voice: cues that a sentence is judgement rather than news.

Both functions look at a span of a :class:`~annotator.text.reading.Reading` (``hits``: its cue
hits inside the span, when the caller already has them), found with quotations blanked out:
"I" or a question mark inside a quotation belongs to the speaker, not to the writer.

Two strengths:
- *author voice* (first person singular, a question, an imperative or a sentence adverb such as
  "Clearly,"): the page's author is talking; this also ends an excerpt;
- *editorial cues* (hedged assessments such as "seemed to be", "suggest ... never intended",
  and evaluative vocabulary): judgement, but news copy uses them too, so they decide a claim's
  label and never end an excerpt on their own. Evaluative words are scored: a strongly loaded
  word counts 2, a mildly loaded one (or "!") 1, and a sentence needs 2 ("brutal invasion"
  alone is still news; "notoriety for theatrical and incendiary remarks" is a verdict).
"""

from __future__ import annotations

import re

from annotator.text.lexicon import FIRST_PERSON, HEDGE, MILD, OPENER, STRONG, Hit
from annotator.text.reading import Reading

_QUESTION = re.compile(r"\?(?=[\s\"'”’)\]]*(?:\s|\Z))")
_EDITORIAL_THRESHOLD = 2


def author_voice(
    reading: Reading, start: int = 0, end: int | None = None, hits: list[Hit] | None = None
) -> str | None:
    """Why ``start:end`` of the paragraph is in the author's own voice, or None."""
    end = len(reading.text) if end is None else end
    if hits is None:
        hits = reading.hits_in(start, end)
    opener = None
    for hit in hits:
        if hit.kind == FIRST_PERSON:
            return f'first person "{hit.words}" outside quotes'
        if hit.kind == OPENER and opener is None:
            opener = hit
    if reading.masked.find("?", start, end) >= 0 and _QUESTION.search(reading.masked, start, end):
        return "question outside quotes: rhetorical"
    if opener is not None:
        return f'author\'s sentence adverb or imperative "{opener.words}"'
    return None


def editorial_cue(
    reading: Reading, start: int = 0, end: int | None = None, hits: list[Hit] | None = None
) -> str | None:
    """Why ``start:end`` reads as judgement (a hedge or enough loaded words), or None."""
    end = len(reading.text) if end is None else end
    if hits is None:
        hits = reading.hits_in(start, end)
    for hit in hits:
        if hit.kind == HEDGE:
            return f'hedged assessment "{hit.words}"'
    loaded = [hit for hit in hits if hit.kind in (STRONG, MILD)]
    score = sum(2 if hit.kind == STRONG else 1 for hit in loaded)
    score += reading.masked.count("!", start, end)
    if score < _EDITORIAL_THRESHOLD:
        return None
    loaded.sort(key=lambda hit: hit.kind != STRONG)
    shown = ", ".join(dict.fromkeys(hit.words.lower() for hit in loaded[:3])) or "!"
    return f"evaluative language ({shown})"
