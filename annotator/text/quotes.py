# ruff: noqa: RUF001, RUF002  (typographic quotes and dashes are what this module parses)
"""Quotation spans in a paragraph: which marks open and close a quotation.

Double marks (``" “ ” „ « »``) and single curly marks (``‘ ’``) are quotes; a straight or curly
single mark between letters is an apostrophe. Straight marks get their direction from context
(space before = opening, space or punctuation after = closing). Marks are paired per paragraph
and imbalance is tolerated: an opening mark never closed (multi-paragraph quotes reopen the mark
in each paragraph) simply yields no span, instead of spoiling the rest of the paragraph.
"""

from __future__ import annotations

import re

from annotator.text.segment import Span

_MARK = re.compile(r"[\"“”„«»‘’']")
_OPEN_CONTEXT = frozenset(" \n([{—–-/:;,")
_DOUBLE_OPENERS = frozenset("“„«")
_DOUBLE_CLOSERS = frozenset("”»")
_DOUBLE = frozenset('"“”„«»')
_CLOSE_FOLLOWERS = frozenset(" \n.,;:!?)]}—–-…'’\"”")


def quote_spans(text: str) -> list[Span]:
    """Sorted, non-overlapping spans of quotations, marks included.

    Quotations nested in a longer one (single marks inside double marks) are not reported
    separately. Unopened marks are ignored, and so are unclosed ones, except a quotation opened
    at the start of the paragraph or after a colon and never closed: that is the convention for
    a quote running over several paragraphs, and it runs to the end of this one.
    """
    double_open: int | None = None
    single_open: int | None = None
    spans: list[Span] = []
    for match in _MARK.finditer(text):
        index = match.start()
        mark = match.group()
        before = text[index - 1] if index else " "
        after = text[index + 1] if index + 1 < len(text) else " "
        if mark in _DOUBLE:
            direction = _double_direction(mark, before, after, double_open is not None)
            if direction == "open":
                double_open = index
            elif direction == "close" and double_open is not None:
                spans.append((double_open, index + 1))
                double_open = None
                single_open = None
        elif _opens_single(mark, before, after):
            single_open = index
        elif single_open is not None and _closes_single(mark, before, after):
            spans.append((single_open, index + 1))
            single_open = None
    if double_open is not None and _introduces_quote(text[:double_open]):
        spans.append((double_open, len(text)))
    return _outermost(spans)


def _introduces_quote(before: str) -> bool:
    stripped = before.rstrip()
    return not stripped or stripped.endswith(":")


def _double_direction(mark: str, before: str, after: str, is_open: bool) -> str:
    """'open', 'close' or '' (ambiguous) for a double quotation mark in its context."""
    if mark in _DOUBLE_OPENERS:
        return "open"
    if mark in _DOUBLE_CLOSERS:
        return "close"
    opens = (before.isspace() or before in _OPEN_CONTEXT) and not after.isspace()
    closes = not before.isspace() and (after.isspace() or after in _CLOSE_FOLLOWERS)
    if opens and closes:
        return "close" if is_open else "open"
    return "open" if opens else "close" if closes else ""


def _opens_single(mark: str, before: str, after: str) -> bool:
    return (
        mark in "‘'"
        and (before.isspace() or before in _OPEN_CONTEXT or before in _DOUBLE)
        and (after.isalnum() or after in '"“')
    )


def _closes_single(mark: str, before: str, after: str) -> bool:
    return mark in "’'" and not before.isspace() and (after.isspace() or after in _CLOSE_FOLLOWERS)


def _outermost(spans: list[Span]) -> list[Span]:
    """Drop spans contained in (or overlapping) an earlier-starting span; sort by start."""
    result: list[Span] = []
    for start, end in sorted(spans):
        if result and start < result[-1][1]:
            if end > result[-1][1]:
                result[-1] = (result[-1][0], end)
            continue
        result.append((start, end))
    return result


def mask_quotes(text: str, spans: list[Span], offset: int = 0) -> str:
    """``text`` with quoted material (spans shifted by ``offset``) blanked out with spaces."""
    if not spans:
        return text
    pieces: list[str] = []
    cursor = 0
    for start, end in spans:
        start, end = max(start - offset, cursor), min(end - offset, len(text))
        if end <= start:
            continue
        pieces.append(text[cursor:start])
        pieces.append(" " * (end - start))
        cursor = end
    pieces.append(text[cursor:])
    return "".join(pieces)
