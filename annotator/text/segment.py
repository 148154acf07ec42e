# ruff: noqa: RUF001  (typographic quotes and dashes are what this module parses)
"""Article text -> paragraphs (passages) and sentences, with character offsets.

Two paragraph conventions occur in imported articles: one paragraph per line (scraped blog
text, like the seed article), and blank-line separated blocks whose inner newlines are hard
wraps (Markdown, the benchmark corpus). Site furniture (empty image markup, comment and share
widgets) is dropped; leading Markdown heading and blockquote markers are stripped and kept as
flags, because a blockquote hints at an excerpt and a heading at the author speaking.
"""

from __future__ import annotations

import itertools
import re
from bisect import bisect_right
from collections.abc import Sequence
from typing import NamedTuple

from annotator.text.lexicon import words

Span = tuple[int, int]


class Paragraph(NamedTuple):
    """One paragraph of an article, with its Markdown markers removed."""

    text: str
    blockquote: bool = False
    heading: bool = False


_RARE_NEWLINES = re.compile(r"[\r\u2028\u2029\x85\x0b\x0c]")
_BLANK_LINE = re.compile(r"\n[^\S\n]*\n\s*")
_TRAILING_PIPES = re.compile(r"(?:\s*\|)+\s*$")
_MARKERS = re.compile(r"(?P<quote>(?:>[ \t]*)+)?(?:(?P<heading>#{1,6})(?=\s|$))?\s*")
_LIST_ITEM = re.compile(r"(?:[-*+•]|\d{1,3}[.)])\s")
_FURNITURE = re.compile(
    r"""(?:!\[[^\]]*\]\([^)]*\)[\s|]*)+
    | \|+
    | (?:no|\d+)\s+comments?\s*:?
    | post\s+a\s+comment | leave\s+a\s+(?:comment|reply)
    | share\s+this(?:\s+(?:post|article|story|page))?\s*:?
    | (?:share|post)\s+(?:on|to)\s+(?:twitter|facebook|pinterest|linkedin|whatsapp|x)
    | (?:newer|older)\s+posts?(?:[\s|]+(?:newer|older)\s+posts?)?(?:[\s|]+home)?
    | home | advertisement | tweet | share | email | print | read\s+more | continue\s+reading
    | (?:photo|image|picture|video)s?(?:\s+credit)?\s*:.{0,80}
    | labels?\s*:.* | posted\s+by\b.{0,100} | subscribe\s+to\s*:.{0,80}
    | (?:(?:mon|tues|wednes|thurs|fri|satur|sun)day,?\s+)?(?:\d{1,2}\s+)?(?:january|february|march
      |april|may|june|july|august|september|october|november|december)(?:\s+\d{1,2})?,?\s+\d{4}
    | \d{4}-\d{2}-\d{2}
    | (?:(?:email\s+this|blogthis!|share\s+to\s+\w+)[\s|]*)+
    """,
    re.IGNORECASE | re.VERBOSE,
)
_LINE_END = frozenset('.!?:;"”’)…|')
# A block with a line this long is not hard-wrapped: its lines are paragraphs of their own.
_HARD_WRAP_LIMIT = 200


def normalise(text: str) -> str:
    """Unify newlines (\\r\\n, \\r, Unicode separators), drop BOMs and turn tabs into spaces."""
    if _RARE_NEWLINES.search(text):
        text = _RARE_NEWLINES.sub("\n", text.replace("\r\n", "\n"))
    return text.replace("\ufeff", "").replace("\t", " ")


def is_furniture(line: str) -> bool:
    """Whether a line is site furniture (image markup, comment/share widgets, labels...)."""
    return _FURNITURE.fullmatch(line.strip()) is not None


def _strip_markers(line: str) -> tuple[str, bool, bool]:
    """A stripped line without leading ``>``/``#`` markers, and whether each was present."""
    if line[:1] not in ("#", ">"):
        return line, False, False
    match = _MARKERS.match(line)
    if match is None or match.end() == 0:
        return line, False, False
    return line[match.end() :], match.group("quote") is not None, bool(match.group("heading"))


def split_paragraphs(text: str) -> list[Paragraph]:
    """Paragraphs of ``text`` (already without its headline), furniture dropped.

    Blank lines always separate paragraphs. Inside a block, single newlines are hard wraps
    (joined with a space) when the block looks wrapped: its lines are short and most of them
    do not end a sentence; otherwise (scraped text with one paragraph per line) each line is a
    paragraph of its own.
    """
    paragraphs: list[Paragraph] = []
    for block in _BLANK_LINE.split(normalise(text)):
        if "\n" not in block:
            paragraph = _single_line_paragraph(block.strip())
            if paragraph is not None:
                paragraphs.append(paragraph)
            continue
        lines = block.split("\n")
        paragraphs.extend(_paragraphs_from_lines(lines, join_wraps=_is_hard_wrapped(lines)))
    return paragraphs


def _single_line_paragraph(line: str) -> Paragraph | None:
    """A one-line block as a paragraph (the common case, kept off the general path)."""
    if not line or is_furniture(line):
        return None
    content, quote, heading = _strip_markers(line)
    content = content.strip()
    return Paragraph(content, blockquote=quote, heading=heading) if content else None


def _is_hard_wrapped(lines: Sequence[str]) -> bool:
    """Whether a block's newlines are hard wraps inside one paragraph.

    A newline looks like a paragraph break when the line before ends a sentence and the line
    after does not start in lower case; a block is wrapped when fewer than half of its
    newlines look like breaks and no line is too long to be a wrapped one.
    """
    content = [line.strip() for line in lines if line.strip()]
    if len(content) < 2 or any(len(line) > _HARD_WRAP_LIMIT for line in content[:-1]):
        return False
    breaks = sum(
        before[-1] in _LINE_END and not after[0].islower()
        for before, after in itertools.pairwise(content)
    )
    return 2 * breaks < len(content) - 1


def _paragraphs_from_lines(lines: Sequence[str], *, join_wraps: bool) -> list[Paragraph]:
    """Turn lines into paragraphs; with ``join_wraps`` consecutive plain lines are joined."""
    paragraphs: list[Paragraph] = []
    group: list[str] = []
    group_quote = False

    def flush() -> None:
        if group:
            paragraphs.append(Paragraph(" ".join(group), blockquote=group_quote))
            group.clear()

    for raw in lines:
        line = raw.strip()
        if not line or is_furniture(line):
            flush()
            continue
        content, quote, heading = _strip_markers(line)
        content = content.strip()
        if not content:
            continue
        if heading or _LIST_ITEM.match(content):
            flush()
            paragraphs.append(Paragraph(content, blockquote=quote, heading=heading))
            continue
        if not join_wraps or quote != group_quote:
            flush()
        group.append(content)
        group_quote = quote
    flush()
    return paragraphs


def split_title(text: str) -> tuple[str, str]:
    """Split a plain-text/Markdown article into (headline, rest).

    The headline is the first line that is not blank or furniture (``![]() |``), without a
    Markdown ``#`` marker or trailing `` |``. ``rest`` is everything after that line.
    """
    lines = normalise(text).split("\n")
    for number, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or is_furniture(stripped):
            continue
        headline = _TRAILING_PIPES.sub("", _strip_markers(stripped)[0]).strip()
        if headline:
            return headline, "\n".join(lines[number + 1 :])
    return "", ""


_SENTENCE_END = re.compile(r"(?P<term>[.!?…]+)[\"'”’»)\]]*(?=\s+[\"'“‘«(\[]*[A-Z0-9À-ÖØ-ÞА-ЯЁ])")
_ABBREVIATIONS = frozenset(
    words(
        """Mr Mrs Ms Mx Dr Prof Gen Lt Col Maj Capt Cpt Sgt Cpl Adm Cmdr Brig Sen Rep Gov Pres Rev
        Hon Amb Atty Supt Det Insp Messrs Mme Mlle St Mt Ft Jr Sr Inc Ltd Corp Co Bros Dept Univ
        Ave Blvd Rd vs cf al approx est Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec"""
    )
)
_NUMBER_ABBREVIATIONS = frozenset(words("No Nos Art Vol p pp Fig Sec Ch Nr"))
_DIGIT_NEXT = re.compile(r"\s+\d")
_LEADING_PUNCTUATION = "([{\"'“‘«"


def sentence_spans(text: str, protected: Sequence[Span] = ()) -> list[Span]:
    """Sentence spans of ``text`` (stripped, non-empty, in order).

    Abbreviations ("U.S.", "Mr.", "Jan.", initials, "No. 5") do not end a sentence, nor does a
    full stop inside a ``protected`` span (a quotation): a multi-sentence quote stays whole.
    ``protected`` must be sorted and non-overlapping.
    """
    starts = [start for start, _ in protected]
    spans: list[Span] = []
    begin = 0
    for match in _SENTENCE_END.finditer(text):
        end = match.end()
        if _ends_with_abbreviation(text, match) or _inside(protected, starts, end):
            continue
        _append_stripped(text, begin, end, spans)
        begin = end
    _append_stripped(text, begin, len(text), spans)
    return spans


def _ends_with_abbreviation(text: str, match: re.Match[str]) -> bool:
    """Whether the full stop of a candidate sentence end belongs to an abbreviation.

    Abbreviations: titles and months ("Mr.", "Jan."), initials ("J."), dotted acronyms ("U.S.",
    "a.m."), and "No."/"p." before a number.
    """
    if match.group("term") != ".":
        return False
    dot = match.start("term")
    word = text[text.rfind(" ", 0, dot) + 1 : dot].lstrip(_LEADING_PUNCTUATION)
    if word in _ABBREVIATIONS or (len(word) == 1 and word.isupper()):
        return True
    if "." in word and all(len(part) == 1 and part.isalpha() for part in word.split(".")):
        return True
    return word in _NUMBER_ABBREVIATIONS and _DIGIT_NEXT.match(text, match.end()) is not None


def _inside(protected: Sequence[Span], starts: Sequence[int], position: int) -> bool:
    """Whether ``position`` lies strictly inside one of the sorted ``protected`` spans."""
    index = bisect_right(starts, position - 1) - 1
    return index >= 0 and protected[index][0] < position < protected[index][1]


def strip_span(text: str, start: int, end: int) -> Span:
    """Shrink ``start:end`` so that it has no surrounding whitespace (may become empty)."""
    piece = text[start:end]
    left = len(piece) - len(piece.lstrip())
    right = len(piece.rstrip())
    return (start + left, start + right) if right > left else (start, start)


def _append_stripped(text: str, start: int, end: int, spans: list[Span]) -> None:
    stripped = strip_span(text, start, end)
    if stripped[1] > stripped[0]:
        spans.append(stripped)
