"""JSONL -> document records, one JSON object a line.

Two shapes: an article ``{"id", "title", "text", "url"?, "site"?, "published"?,
"metadata"?}`` that the pipeline analyses, and a document of our own JSONL export
(``{"id", "title", "passages": [...]}``) that is restored as it is: passages, claims,
annotations, skips, final labels and suggestions.
"""

from __future__ import annotations

import itertools
import json
import math
from datetime import UTC, datetime
from typing import Any, TypeGuard

from annotator.models import Label, PassageRole
from annotator.services.records import (
    AnnotationRecord,
    ClaimRecord,
    DocumentRecord,
    ImportFileError,
    PassageRecord,
    SkipRecord,
    SuggestionRecord,
    first_unstorable,
    is_one_of,
    unstorable_reason,
)

OPTIONAL_FIELDS = ("url", "site", "published")
MAX_ID_LENGTH = 255
LABELS = frozenset(Label)
ROLES = frozenset(PassageRole)


class RecordError(ValueError):
    """A problem inside one line; the reader adds the file name and line number."""


def read_jsonl(filename: str, text: str) -> list[DocumentRecord]:
    records = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            records.append(_parse_line(line, f"{filename}, line {number}"))
        except RecordError as exc:
            raise ImportFileError(filename, str(exc), number) from exc
    if not records:
        raise ImportFileError(filename, "the file holds no records")
    return records


def _parse_line(line: str, where: str) -> DocumentRecord:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise RecordError(f"invalid JSON ({exc.msg})") from exc
    except RecursionError as exc:
        raise RecordError("invalid JSON (nested too deeply)") from exc
    return record_from_object(obj, where)


def record_from_object(obj: Any, where: str) -> DocumentRecord:
    """One document from a parsed JSON value (a JSONL line, an API request item)."""
    if not isinstance(obj, dict):
        raise RecordError("each line must be a JSON object")
    if (bad := first_unstorable(obj)) is not None:
        raise RecordError(f"the record contains {unstorable_reason(bad)}")
    if "passages" in obj:
        return _full_record(obj, where)
    return _article_record(obj, where)


def _external_id(obj: dict[str, Any]) -> str:
    value = obj.get("id")
    if value is None:
        raise RecordError('missing field "id"')
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise RecordError('field "id" must be a string or a number')
    external_id = str(value).strip()
    if not external_id:
        raise RecordError('field "id" must not be empty')
    if len(external_id) > MAX_ID_LENGTH:
        raise RecordError(f'field "id" is longer than {MAX_ID_LENGTH} characters')
    return external_id


def _article_record(obj: dict[str, Any], where: str) -> DocumentRecord:
    external_id = _external_id(obj)
    for key in ("title", "text"):
        if key not in obj:
            raise RecordError(f'missing field "{key}"')
    for key in ("title", "text", *OPTIONAL_FIELDS):
        _optional_str(obj, key)
    if not (obj["text"] or "").strip():
        raise RecordError('fields "id" and "text" must not be empty')
    return DocumentRecord(
        external_id=external_id,
        title=(obj["title"] or "").strip() or None,
        text=obj["text"],
        metadata=_metadata(obj),
        where=where,
        **{key: obj.get(key) or None for key in OPTIONAL_FIELDS},
    )


def _optional_str(obj: dict[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if value is not None and not isinstance(value, str):
        raise RecordError(f'field "{key}" must be a string')
    return value


def _metadata(obj: dict[str, Any]) -> dict[str, Any] | None:
    value = obj.get("metadata")
    if value is not None and not isinstance(value, dict):
        raise RecordError('field "metadata" must be an object')
    return value or None


def _full_record(obj: dict[str, Any], where: str) -> DocumentRecord:
    external_id = _external_id(obj)
    for key in ("title", *OPTIONAL_FIELDS):
        _optional_str(obj, key)
    raw = obj["passages"]
    if not isinstance(raw, list) or not raw:
        raise RecordError('"passages" must be a non-empty list')
    passages = tuple(_passage(p, n) for n, p in enumerate(raw))
    title = (obj.get("title") or "").strip() or passages[0].text
    return DocumentRecord(
        external_id=external_id,
        title=title,
        text="\n\n".join(p.text for p in passages[1:]),
        metadata=_metadata(obj),
        passages=passages,
        where=where,
        **{key: obj.get(key) or None for key in OPTIONAL_FIELDS},
    )


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise RecordError(f"{what} must be an object")
    return value


def _list(obj: dict[str, Any], key: str, what: str) -> list[Any]:
    value = obj.get(key, [])
    if not isinstance(value, list):
        raise RecordError(f'{what}: "{key}" must be a list')
    return value


def _passage(raw: Any, position: int) -> PassageRecord:
    what = f"passage {position}"
    obj = _object(raw, what)
    if obj.get("index", position) != position:
        raise RecordError(f"{what}: passages must be listed in order with indexes 0, 1, 2...")
    text = obj.get("text")
    if not isinstance(text, str) or not text.strip():
        raise RecordError(f'{what}: "text" must be a non-empty string')
    role = obj.get("role", PassageRole.AUTHOR)
    if not is_one_of(role, ROLES):
        raise RecordError(f'{what}: "role" must be author or excerpt')
    outlet, cue = _opt_text(obj, "outlet", what), _opt_text(obj, "cue", what)
    claims = tuple(
        _claim(c, text, f"{what}, claim {n}") for n, c in enumerate(_list(obj, "claims", what))
    )
    _check_claim_order(claims, what)
    skips = tuple(_skip(s, f"{what}, skip {n}") for n, s in enumerate(_list(obj, "skips", what)))
    return PassageRecord(position, text, role, outlet, cue, claims, skips)


def _opt_text(obj: dict[str, Any], key: str, what: str) -> str | None:
    value = obj.get(key)
    if value is not None and not isinstance(value, str):
        raise RecordError(f'{what}: "{key}" must be a string or null')
    return value or None


def _check_claim_order(claims: tuple[ClaimRecord, ...], what: str) -> None:
    for before, after in itertools.pairwise(claims):
        if after.start < before.end:
            raise RecordError(f"{what}: claims must be in order and must not overlap")


def _claim(raw: Any, passage_text: str, what: str) -> ClaimRecord:
    obj = _object(raw, what)
    start, end = obj.get("start"), obj.get("end")
    if not _is_int(start) or not _is_int(end) or not 0 <= start < end <= len(passage_text):
        raise RecordError(f'{what}: "start" and "end" must be offsets into the passage text')
    text = obj.get("text")
    if text is not None and passage_text[start:end] != text:
        raise RecordError(f'{what}: "text" differs from the passage text at start:end')
    label = obj.get("suggested_label")
    if not is_one_of(label, LABELS):
        raise RecordError(f'{what}: "suggested_label" must be reported, quoted or editorial')
    final = obj.get("final_label")
    if final is not None and not is_one_of(final, LABELS):
        raise RecordError(f'{what}: "final_label" must be a label or null')
    reason = _opt_text(obj, "suggestion_reason", what) or ""
    annotations = tuple(
        _annotation(a, f"{what}, annotation {n}")
        for n, a in enumerate(_list(obj, "annotations", what))
    )
    suggestions = tuple(
        _suggestion(s, f"{what}, suggestion {n}")
        for n, s in enumerate(_list(obj, "suggestions", what))
    )
    return ClaimRecord(start, end, label, reason, final, annotations, suggestions)


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _reviewer(obj: dict[str, Any], what: str) -> str:
    name = obj.get("reviewer")
    if not isinstance(name, str) or not name.strip():
        raise RecordError(f'{what}: "reviewer" must be a non-empty string')
    return name.strip()


def _annotation(raw: Any, what: str) -> AnnotationRecord:
    obj = _object(raw, what)
    reviewer = _reviewer(obj, what)
    if not is_one_of(obj.get("label"), LABELS):
        raise RecordError(f'{what}: "label" must be reported, quoted or editorial')
    if not isinstance(obj.get("unsure", False), bool):
        raise RecordError(f'{what}: "unsure" must be true or false')
    return AnnotationRecord(
        reviewer=reviewer,
        label=obj["label"],
        unsure=obj.get("unsure", False),
        note=_opt_text(obj, "note", what) or "",
        updated_at=parse_time(obj.get("updated_at"), what),
        outlet=_opt_text(obj, "outlet", what),
        outlet_given="outlet" in obj,
    )


def _skip(raw: Any, what: str) -> SkipRecord:
    obj = _object(raw, what)
    return SkipRecord(
        reviewer=_reviewer(obj, what),
        reason=_opt_text(obj, "reason", what) or "",
        updated_at=parse_time(obj.get("updated_at"), what),
    )


def _suggestion(raw: Any, what: str) -> SuggestionRecord:
    obj = _object(raw, what)
    source = obj.get("source")
    if not isinstance(source, str) or not source.strip():
        raise RecordError(f'{what}: "source" must be a non-empty string')
    if not is_one_of(obj.get("label"), LABELS):
        raise RecordError(f'{what}: "label" must be reported, quoted or editorial')
    score = obj.get("score")
    if score is not None and (
        not isinstance(score, int | float) or isinstance(score, bool) or not math.isfinite(score)
    ):
        raise RecordError(f'{what}: "score" must be a number or null')
    reason = _opt_text(obj, "reason", what) or ""
    return SuggestionRecord(source.strip(), obj["label"], score, reason)


def parse_time(value: Any, what: str) -> datetime | None:
    """An ISO 8601 time (naive times are taken as UTC), or None for null/empty."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise RecordError(f"{what}: times must be ISO 8601 strings")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise RecordError(f"{what}: {value!r} is not an ISO 8601 time") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
