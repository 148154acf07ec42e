"""What an import file holds once parsed: plain data, no database.

A ``DocumentRecord`` is either an article to analyse (``passages`` None: the text pipeline
splits it) or a document restored from our own JSONL export (``passages`` given: stored as it
is, with its annotations, skips, final labels and suggestions).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, fields, is_dataclass
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeGuard

# About 500 pages; news articles are far shorter, and a passage page must still render.
MAX_DOCUMENT_CHARS = 1_000_000
# NUL: PostgreSQL text cannot hold it; lone surrogates (JSON "\ud800"): not encodable.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


MAX_ID = 2**31 - 1  # ids are 32-bit integers on PostgreSQL; larger ones exist nowhere
# Fits a 64-bit integer; ``int`` refuses text of more than 4,300 digits with an error.
MAX_WHOLE_NUMBER_DIGITS = 18


_ISO_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?![\d])")


def publication_date(published: str | None) -> date | None:
    """The day a ``published`` value names, as the source wrote it, or None when it names no
    day this reads: an ISO 8601 date or date and time ("2026-03-01", "2026-03-01T08:00:00Z")
    or an RFC 2822 date of feeds and mail ("Sun, 01 Mar 2026 08:00:00 +0000"). Other wordings
    ("March 1") are kept as text but name no day, since guessing a day or month order could
    put a document in the wrong period."""
    text = (published or "").strip()
    iso = _ISO_DAY.match(text)
    if iso:
        try:
            return date(*(int(part) for part in iso.groups()))
        except ValueError:
            return None
    try:
        return parsedate_to_datetime(text).date()
    except (TypeError, ValueError, IndexError):
        return None


def is_whole_number(text: str) -> bool:
    """Whether the text is a whole number of at most 18 ASCII digits, which ``int`` reads.
    ``isdigit`` alone also accepts characters such as "²" that ``int`` refuses."""
    return len(text) <= MAX_WHOLE_NUMBER_DIGITS and text.isascii() and text.isdigit()


def is_one_of(value: Any, names: Collection[str]) -> TypeGuard[str]:
    """Whether a value parsed from JSON is one of these names; a list or an object is none
    of them (and cannot be looked up in a set)."""
    return isinstance(value, str) and value in names


def id_from_text(text: str) -> int | None:
    """The row id the text names (ASCII digits, 1 to ``MAX_ID``), or None."""
    if not is_whole_number(text):
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None


def first_unstorable(value: Any) -> str | None:
    """The first character that text in the database cannot hold, anywhere in a string or a
    parsed JSON value (keys included): NUL, which PostgreSQL refuses, or a lone surrogate
    (JSON's "\\ud800"), which UTF-8 cannot encode. None when there is none."""
    if isinstance(value, str):
        bad = _UNSTORABLE.search(value)
        return bad[0] if bad else None
    if isinstance(value, dict):
        value = [part for pair in value.items() for part in pair]
    if isinstance(value, list):
        return next(filter(None, map(first_unstorable, value)), None)
    return None


def unstorable_reason(character: str) -> str:
    return f"U+{ord(character):04X}, which cannot be stored"


_WEB_ADDRESS = re.compile(r"https?://\S+\Z", re.IGNORECASE)
_BRACKETS = re.compile(r"[\[\]]")


def markdown_link(anchor: str, target: str) -> str | None:
    """``[anchor](target)`` for a link to a web address, as readers write a lead-in's links;
    None when the target is no web address or the anchor could not be read back."""
    anchor = " ".join(anchor.split())
    if not anchor or _BRACKETS.search(anchor) or not _WEB_ADDRESS.match(target):
        return None
    for character, escaped in (("(", "%28"), (")", "%29"), ("<", "%3C"), (">", "%3E")):
        target = target.replace(character, escaped)
    return f"[{anchor}]({target})"


class ImportFileError(ValueError):
    """A file that cannot be imported; the message names the file and, where known, the line
    or record."""

    def __init__(self, filename: str, reason: str, line: int | None = None) -> None:
        where = f"{filename}, line {line}" if line is not None else filename
        super().__init__(f"{where}: {reason}")
        self.filename = filename
        self.line = line


@dataclass(frozen=True)
class AnnotationRecord:
    reviewer: str
    label: str
    unsure: bool = False
    note: str = ""
    updated_at: datetime | None = None
    # The reviewer's view of the passage's outlet: an outlet name, None for "author's own
    # words"; ``outlet_given`` False when the record does not say.
    outlet: str | None = None
    outlet_given: bool = False


@dataclass(frozen=True)
class SuggestionRecord:
    source: str
    label: str
    score: float | None = None
    reason: str = ""


@dataclass(frozen=True)
class ClaimRecord:
    start: int
    end: int
    suggested_label: str
    suggestion_reason: str
    final_label: str | None = None
    annotations: tuple[AnnotationRecord, ...] = ()
    suggestions: tuple[SuggestionRecord, ...] = ()


@dataclass(frozen=True)
class SkipRecord:
    reviewer: str
    reason: str = ""
    updated_at: datetime | None = None


@dataclass(frozen=True)
class PassageRecord:
    index: int
    text: str
    role: str
    outlet: str | None
    cue: str | None
    claims: tuple[ClaimRecord, ...] = ()
    skips: tuple[SkipRecord, ...] = ()


@dataclass(frozen=True)
class DocumentRecord:
    external_id: str
    title: str | None
    text: str
    url: str | None = None
    site: str | None = None
    published: str | None = None
    metadata: dict[str, Any] | None = None
    passages: tuple[PassageRecord, ...] | None = None
    where: str = ""  # "file, line 3": where the record came from, for error messages

    @property
    def published_on(self) -> date | None:
        return publication_date(self.published)

    @property
    def content_hash(self) -> str:
        payload = f"{self.title or ''}\x00{self.text}".encode()
        return hashlib.sha256(payload).hexdigest()

    def reviewers(self) -> set[str]:
        """Every reviewer named by the record's annotations and skips."""
        names: set[str] = set()
        for passage in self.passages or ():
            names.update(skip.reviewer for skip in passage.skips)
            for claim in passage.claims:
                names.update(a.reviewer for a in claim.annotations)
        return names


def check_storable(records: Iterable[DocumentRecord]) -> None:
    """Refuse, with the record's place in its file, a document over MAX_DOCUMENT_CHARS
    characters or any string in it (title, text, notes...) holding NUL or a lone surrogate:
    the database would fail on it halfway through the import otherwise."""
    for record in records:
        where = record.where or f"document {record.external_id!r}"
        if len(record.text) > MAX_DOCUMENT_CHARS:
            reason = f"{len(record.text):,} characters; the limit is {MAX_DOCUMENT_CHARS:,}"
            raise ImportFileError(where, f"the document is too long ({reason})")
        for value in _strings(record):
            if (bad := first_unstorable(value)) is not None:
                raise ImportFileError(where, f"contains {unstorable_reason(bad)}")


def _strings(value: Any) -> Iterator[str]:
    """Every string inside a record: its fields, nested records, tuples and dicts."""
    if isinstance(value, str):
        yield value
    elif is_dataclass(value):
        for item in fields(value):
            yield from _strings(getattr(value, item.name))
    elif isinstance(value, tuple | list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
