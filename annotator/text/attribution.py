# ruff: noqa: RUF001  (typographic quotes and dashes are what this module parses)
"""Which outlet a passage presents as its source, and the words (cue) that say so.

Cues are found around outlet mentions (see :mod:`annotator.text.outlets`) with small anchored
patterns, so the cost is proportional to the number of mentions, not to the text length:

- headline suffix: ``<headline> (Tass)``, ``<headline> | AP``;
- lead-ins: ``X reports ...:``, ``according to a report at X``, ``From X:``, ``From X, June 3:``,
  ``<Name> writes for X:``, ``X's <Name> reports``, ``reported by X``, ``told X``;
- an inline lead-in opening the excerpt itself: ``Reuters reports: <excerpt>``;
- wire datelines: ``MOSCOW (Reuters) -``, ``MOSCOW, May 28. /TASS/.``;
- credits: ``<headline>, by <names> | AP``, ``<headline>. From X.``, a trailing ``(X, ...)``.

A cue that makes up a whole sentence ("From The Kyiv Independent:") carries no claim: its
sentence is excluded from claims (``exclude_start:exclude_end``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from annotator.text.outlets import OutletMention
from annotator.text.segment import Span


@dataclass(frozen=True)
class Cue:
    """An attribution to an outlet inside a passage, and the region it removes from claims."""

    outlet: str
    start: int
    end: int
    exclude_start: int = 0
    exclude_end: int = 0


_VERBS = (
    r"(?:reports|reported|reporting|writes|wrote|says|said|notes|noted|adds|added|explains|"
    r"explained|publishe[sd]|quotes|quoted|cites|cited|carries|carried|details|detailed|"
    r"describes|described|continues|continued|summari[sz]es|summari[sz]ed|observes|observed|"
    r"recounts|relays|offers|broke\s+the\s+story"
    r"|has\s+(?:more|(?:the\s+)?(?:story|details|latest|basics|background|rest|scoop)))"
)
_POSSESSIVE_NAME = r"(?:['’]s(?:\s+[A-Z][\w.'’-]*){1,3})?"
_AFTER_OUTLET = re.compile(
    _POSSESSIVE_NAME + r",?\s+(?:(?:has|have|had|is|was)\s+)?(?:also\s+|first\s+)?" + _VERBS + r"\b"
)
_REPORT_NOUN = (
    r"(?:report|article|story|piece|dispatch|analysis|investigation|account|update|interview|"
    r"post|feature|broadcast|segment)s?"
)
_BEFORE_OUTLET = re.compile(
    r"(?:according\s+to(?:\s+(?:a|an|the)(?:\s+[\w-]+)?\s+"
    + _REPORT_NOUN
    + r"\s+(?:at|in|by|from|on|for|with))?"
    r"|(?:reported|written|published|cited|quoted|carried|first\s+reported)\s+by"
    r"|(?-i:[A-Z][\w'’-]*\s+){0,3}(?:writes|wrote|writing|reports|reported|reporting)\s+"
    r"(?:for|in|at)"
    r"|told|tells|via|citing|(?:(?:read\s+)?more\s+)?at|(?:(?:more|excerpts?)\s+)?from"
    r"|(?:a|an|the)(?:\s+[\w-]+)?\s+" + _REPORT_NOUN + r"\s+(?:by|in|at|from|on|with|for))\s+\Z",
    re.IGNORECASE,
)
_BEFORE_LAST_WORDS = frozenset(
    ["to", "by", "for", "in", "at", "told", "tells", "via", "citing", "from", "with", "on"]
)
_FROM_BEFORE = re.compile(r"(?:^|(?<=[\s(\"“]))From\s+\Z")
_FROM_AFTER = re.compile(r"(?:,[^:\n]{0,40}?)?(?::|\.(?=\s*\Z))")
_INLINE_AFTER = re.compile(
    _POSSESSIVE_NAME
    + r"(?:\s+(?:reports|reported|writes|wrote|says|said|notes|noted|adds|added|explains))?"
    r"(?:\s+that)?(?:,[^:\n]{0,40})?:(?=\s+\S)"
)
_DATELINE_BEFORE = re.compile(
    r"[A-Z][A-Z'’.\-]+(?:\s[A-Z][A-Z'’.\-]+)*(?:,[^()/\n]{0,40})?\s*[(/]?\Z"
)
_DATELINE_AFTER = re.compile(r"\)?\s*(?:[-–—]+|:|\.)?\s*")
_SUFFIX_BEFORE = re.compile(r"(?:\(\s*(?:(?:via|from|source:)\s+)?|\s[|\-–—]\s*)\Z", re.IGNORECASE)
_SUFFIX_AFTER = re.compile(r"\s*\)?[\s|]*\Z")
_CREDIT_BEFORE = re.compile(r"\s(?=[|–—]\s*\Z)")
_TRAILING_CREDIT_AFTER = re.compile(r"(?:[,;][^()]{0,120})?\)\s*\Z")
_FILLER = re.compile(
    r"(?:here(?:'s|’s|\s+is)?|as|more|from|the|latest|story|details|this|via|and|so|now|has|"
    r"basics|background|rest|scoop|excerpts?|is|take|a|an|"
    r"source|sources|read|it|report|reports|reported|writes|wrote|at|on|with|[^\w]|\d)*",
    re.IGNORECASE,
)


def headline_cue(text: str, mentions: Sequence[OutletMention]) -> Cue | None:
    """A trailing ``(Outlet)`` / ``| Outlet`` / ``- Outlet`` suffix of a headline."""
    if not mentions:
        return None
    last = mentions[-1]
    if not _SUFFIX_AFTER.match(text, last.end):
        return None
    before = _SUFFIX_BEFORE.search(text, max(0, last.start - 12), last.start)
    if before is None:
        return None
    start = before.start() + len(before.group()) - len(before.group().lstrip())
    closes = text[start] == "(" and text[last.end : last.end + 1] == ")"
    return Cue(last.outlet, start, last.end + 1 if closes else last.end, before.start(), len(text))


def opening_cue(text: str, mentions: Sequence[OutletMention]) -> Cue | None:
    """An inline lead-in (``Reuters reports: ...``) or a wire dateline opening a paragraph."""
    for mention in mentions:
        if mention.start > 80:
            break
        prefix = text[: mention.start]
        if prefix.rstrip() in ("", "From"):
            inline = _INLINE_AFTER.match(text, mention.end)
            if inline:
                return Cue(mention.outlet, 0, inline.end(), 0, inline.end())
        if prefix and _DATELINE_BEFORE.fullmatch(prefix):
            cue = _dateline(text, mention)
            if cue is not None:
                return cue
    return None


def _dateline(text: str, mention: OutletMention) -> Cue | None:
    """A wire dateline: ``MOSCOW (Reuters) -`` (cue ``(Reuters)``), ``MOSCOW, May 28. /TASS/.``"""
    in_parentheses = text[mention.start - 1] == "(" and text[mention.end : mention.end + 1] == ")"
    if not (in_parentheses or text[mention.start] == "/"):
        return None
    after = _DATELINE_AFTER.match(text, mention.end)
    if after is None or after.end() == mention.end:
        return None
    if in_parentheses:
        return Cue(mention.outlet, mention.start - 1, mention.end + 1, 0, after.end())
    return Cue(mention.outlet, mention.start, mention.end, 0, after.end())


def trailing_credit(text: str, mentions: Sequence[OutletMention]) -> Cue | None:
    """A credit closing a paragraph: ``(Reuters, based on reporting by ...)`` or ``| AP``."""
    if not mentions:
        return None
    last = mentions[-1]
    if last.start and text[last.start - 1] == "(" and _TRAILING_CREDIT_AFTER.match(text, last.end):
        return Cue(last.outlet, last.start - 1, len(text), last.start - 1, len(text))
    bar = _CREDIT_BEFORE.search(text, max(0, last.start - 4), last.start)
    if bar is None or not _SUFFIX_AFTER.match(text, last.end):
        return None
    return Cue(last.outlet, bar.start() + 1, last.end, bar.start(), len(text))


def mention_cues(text: str, mentions: Sequence[OutletMention]) -> list[Cue]:
    """Attribution cues built around outlet mentions ("X reports", "according to X", ...)."""
    cues: list[Cue] = []
    for mention in mentions:
        cue = _cue_around(text, mention)
        if cue is not None:
            cues.append(cue)
    return cues


def _cue_around(text: str, mention: OutletMention) -> Cue | None:
    window = max(0, mention.start - 64)
    previous = text[max(0, mention.start - 12) : mention.start].split()[-1:]
    if previous == ["From"]:
        from_word = _FROM_BEFORE.search(text, window, mention.start)
        after = _FROM_AFTER.match(text, mention.end)
        if from_word and after:
            return Cue(mention.outlet, from_word.start(), after.end())
    # Every pattern before an outlet ends in one of a few words: test that first, it is cheap.
    if previous and previous[0].lower().lstrip('(["“') in _BEFORE_LAST_WORDS:
        before = _BEFORE_OUTLET.search(text, window, mention.start)
        if before:
            return Cue(mention.outlet, before.start(), mention.end)
    after_verb = _AFTER_OUTLET.match(text, mention.end)
    if after_verb:
        return Cue(mention.outlet, mention.start, after_verb.end())
    return None


def lead_in_cue(
    text: str, mentions: Sequence[OutletMention], sentences: Sequence[Span]
) -> Cue | None:
    """The cue of a lead-in paragraph (one ending in ":"), preferring its last sentence.

    Failing any cue pattern, an outlet named in the last sentence is taken as the source
    ("Here is the Guardian's take:").
    """
    if not mentions or not sentences:
        return None
    last_start, last_end = sentences[-1]
    cues = mention_cues(text, mentions)
    in_last = [cue for cue in cues if cue.start >= last_start]
    if in_last:
        chosen = in_last[0]
    elif cues:
        chosen = cues[-1]
    else:
        named = [m for m in mentions if m.start >= last_start]
        if not named:
            return None
        chosen = Cue(named[-1].outlet, named[-1].start, named[-1].end)
    return _with_bare_exclusion(text, chosen, (last_start, last_end))


def with_bare_exclusion(text: str, cue: Cue, sentences: Sequence[Span]) -> Cue:
    """``cue``, excluding its sentence from claims when the sentence is nothing but the cue."""
    for sentence in sentences:
        if sentence[0] <= cue.start < sentence[1]:
            return _with_bare_exclusion(text, cue, sentence)
    return cue


def _with_bare_exclusion(text: str, cue: Cue, sentence: Span) -> Cue:
    start, end = sentence
    if not start <= cue.start < end:
        return cue
    rest = text[start : cue.start] + " " + text[cue.end : end]
    if _FILLER.fullmatch(rest):
        return Cue(cue.outlet, cue.start, cue.end, start, end)
    return cue
