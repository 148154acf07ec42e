"""Streaming exports: CSV (one row per claim and reviewer) and nested JSONL (one document a line).

Rows come from one ordered query read in chunks, so memory stays flat however large the
export is.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from itertools import groupby
from typing import Any

from sqlalchemy import Select, String, and_, func, literal, select, union_all
from sqlalchemy.orm import Session, aliased

from annotator.models import (
    Annotation,
    Claim,
    Document,
    FinalLabel,
    Outlet,
    OutletCorrection,
    Passage,
    Project,
    Review,
    ReviewStatus,
    Suggestion,
    User,
)
from annotator.services.suggestions import for_claims

CSV_COLUMNS = (
    "document_id",
    "document_title",
    "document_url",
    "passage_index",
    "passage_role",
    "outlet",
    "outlet_cue",
    "claim_index",
    "claim_start",
    "claim_end",
    "claim_text",
    "suggested_label",
    "label",
    "reviewer",
    "updated_at",
    "project",
    "unsure",
    "note",
    "skipped",
    "skip_reason",
    "final_label",
    "detected_outlet",
)
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CHUNK_ROWS = 2000
DOCUMENTS_PER_PAGE = 100


def neutralise_cell(value: str) -> str:
    """Stop spreadsheets from running a cell as a formula (OWASP CSV injection advice)."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


NO_OUTLET = "none"


@dataclass(frozen=True)
class ExportFilter:
    """Which rows (claim x reviewer entry) an export holds. ``outlet`` is the detected outlet's
    name (``"none"``: passages citing none), ``role`` the passage role, ``label`` and
    ``reviewer`` select reviewers' entries, ``since``/``until`` (inclusive dates, UTC) the day
    the entry was last saved, ``settled_only`` claims with a final label. A filter on entries
    leaves out claims without a matching entry, also from the per-claim formats."""

    project: str | None = None
    all_claims: bool = False
    outlet: str | None = None
    role: str | None = None
    label: str | None = None
    reviewer: str | None = None
    since: date | None = None
    until: date | None = None
    settled_only: bool = False


def _entries() -> Any:
    """Each reviewer's entry on a claim: an annotation, or a skip of the claim's passage."""
    tagged = select(
        Annotation.claim_id,
        Annotation.user_id,
        Annotation.label,
        Annotation.unsure,
        Annotation.note,
        Annotation.updated_at,
        literal(False).label("skipped"),
        literal("").label("skip_reason"),
    )
    skipped = (
        select(
            Claim.id,
            Review.user_id,
            literal(None, String).label("label"),
            literal(False).label("unsure"),
            literal("").label("note"),
            Review.updated_at,
            literal(True).label("skipped"),
            Review.reason,
        )
        .join(Review, Review.passage_id == Claim.passage_id)
        .where(Review.status == ReviewStatus.SKIPPED)
    )
    return union_all(tagged, skipped).subquery("entries")


def _claim_rows_query(export_filter: ExportFilter) -> Select[Any]:
    detected = aliased(Outlet)
    corrected = aliased(Outlet)
    entries = _entries()
    query = (
        select(
            Document.id.label("doc_pk"),
            Document.external_id,
            Document.title,
            Document.url,
            Document.site,
            Document.published,
            Document.meta.label("meta"),
            Project.name.label("project"),
            Passage.id.label("passage_pk"),
            Passage.index.label("passage_index"),
            Passage.text.label("passage_text"),
            Passage.role,
            Passage.cue,
            detected.name.label("detected_outlet"),
            Claim.id.label("claim_pk"),
            Claim.index.label("claim_index"),
            Claim.start,
            Claim.end,
            Claim.suggested_label,
            Claim.suggestion_reason,
            entries.c.label,
            entries.c.unsure,
            entries.c.note,
            entries.c.skipped,
            entries.c.skip_reason,
            entries.c.updated_at,
            User.username,
            OutletCorrection.id.label("correction_pk"),
            corrected.name.label("corrected_outlet"),
            FinalLabel.label.label("final_label"),
        )
        .select_from(Claim)
        .join(Passage, Passage.id == Claim.passage_id)
        .join(Document, Document.id == Passage.document_id)
        .join(Project, Project.id == Document.project_id)
        .outerjoin(detected, detected.id == Passage.outlet_id)
        .join(entries, entries.c.claim_id == Claim.id, isouter=export_filter.all_claims)
        .outerjoin(User, User.id == entries.c.user_id)
        .outerjoin(
            OutletCorrection,
            and_(
                OutletCorrection.passage_id == Passage.id,
                OutletCorrection.user_id == entries.c.user_id,
            ),
        )
        .outerjoin(corrected, corrected.id == OutletCorrection.outlet_id)
        .outerjoin(FinalLabel, FinalLabel.claim_id == Claim.id)
        .order_by(Document.id, Passage.index, Claim.index, User.username)
    )
    if export_filter.project:
        query = query.where(Project.name == export_filter.project)
    return _filtered(query, export_filter, detected, entries)


def _filtered(query: Select[Any], f: ExportFilter, detected: Any, entries: Any) -> Select[Any]:
    """The optional filters, each a WHERE on the claim rows."""
    if f.outlet is not None:
        outlet = f.outlet.strip().lower()
        by_name = func.lower(detected.name) == outlet
        query = query.where(Passage.outlet_id.is_(None) if outlet == NO_OUTLET else by_name)
    if f.role:
        query = query.where(Passage.role == f.role)
    if f.label:
        query = query.where(entries.c.label == f.label)
    if f.reviewer:
        query = query.where(User.username == f.reviewer)
    if f.since:
        query = query.where(entries.c.updated_at >= datetime.combine(f.since, time(), UTC))
    if f.until and f.until < date.max:
        end = datetime.combine(f.until + timedelta(days=1), time(), UTC)
        query = query.where(entries.c.updated_at < end)
    if f.settled_only:
        query = query.where(FinalLabel.label.is_not(None))
    return query


def _stream(session: Session, export_filter: ExportFilter) -> Iterator[Any]:
    """Rows a page of documents at a time (see ``iter_pages``)."""
    for rows, _ in iter_pages(session, export_filter):
        yield from rows


def iter_pages(
    session: Session, export_filter: ExportFilter, *, suggestions: bool = False
) -> Iterator[tuple[Sequence[Any], dict[int, list[Suggestion]]]]:
    """Rows a page of documents at a time, each page in its own short read transaction, so an
    export neither holds a connection between pages nor keeps an old snapshot open (and a
    client that goes away mid-download leaves nothing locked). With ``suggestions`` each page
    comes with the outside suggestions of its claims, by claim id."""
    query = _claim_rows_query(export_filter)
    last_id = 0
    while True:
        page = session.scalars(
            _document_ids_query(export_filter)
            .where(Document.id > last_id)
            .order_by(Document.id)
            .limit(DOCUMENTS_PER_PAGE)
        ).all()
        if not page:
            session.rollback()
            return
        rows = session.execute(query.where(Document.id.in_(page))).all()
        extra = for_claims(session, sorted({r.claim_pk for r in rows})) if suggestions else {}
        session.rollback()  # ends the read transaction and returns the connection to the pool
        yield rows, extra
        last_id = page[-1]


def _document_ids_query(export_filter: ExportFilter) -> Select[Any]:
    query = select(Document.id)
    if export_filter.project:
        query = query.join(Project, Project.id == Document.project_id).where(
            Project.name == export_filter.project
        )
    return query


def _outlet_for_row(row: Any) -> str:
    """The reviewer's corrected outlet when they made a correction, else the detected one."""
    if row.correction_pk is not None:
        return row.corrected_outlet or ""
    return row.detected_outlet or ""


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value else ""


def _yes_no(value: Any) -> str:
    return "yes" if value else "no"


def csv_record(row: Any) -> list[str]:
    """One CSV row. Only cells that can hold user text are neutralised: the numbers, dates,
    labels and yes/no flags never start with a formula character."""
    text = row.passage_text
    reviewed = row.username is not None
    correction = row.correction_pk is not None
    outlet = (row.corrected_outlet if correction else row.detected_outlet) or ""
    updated = row.updated_at
    return [
        _safe(row.external_id),
        _safe(row.title),
        _safe(row.url or ""),
        str(row.passage_index),
        row.role,
        _safe(outlet),
        _safe(row.cue or ""),
        str(row.claim_index),
        str(row.start),
        str(row.end),
        _safe(text[row.start : row.end]),
        row.suggested_label,
        row.label or "",
        _safe(row.username or ""),
        updated.isoformat() if updated else "",
        _safe(row.project),
        ("yes" if row.unsure else "no") if reviewed else "",
        _safe(row.note or ""),
        ("yes" if row.skipped else "no") if reviewed else "",
        _safe(row.skip_reason or ""),
        row.final_label or "",
        _safe(row.detected_outlet or ""),
    ]


_FORMULA_FIRST = frozenset(FORMULA_PREFIXES)


def _safe(value: str) -> str:
    """``neutralise_cell`` with a set lookup: the export calls it ten times a row."""
    return "'" + value if value and value[0] in _FORMULA_FIRST else value


def iter_csv(session: Session, export_filter: ExportFilter) -> Iterator[str]:
    """CSV text in chunks (RFC 4180, CRLF line ends), header first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for rows, _ in iter_pages(session, export_filter):
        for start in range(0, len(rows), CHUNK_ROWS):
            writer.writerows(map(csv_record, rows[start : start + CHUNK_ROWS]))
            yield _drain(buffer)
    yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def iter_jsonl(session: Session, export_filter: ExportFilter) -> Iterator[str]:
    """One JSON document per line with its passages, claims, annotations and outside
    suggestions nested (the shape ``annotator import`` restores)."""
    nested_filter = replace(export_filter, all_claims=True)
    for rows, suggestions in iter_pages(session, nested_filter, suggestions=True):
        for _, doc_rows in groupby(rows, key=lambda r: r.doc_pk):
            document = _document_json(list(doc_rows), suggestions)
            yield json.dumps(document, ensure_ascii=False) + "\n"


def _document_json(
    rows: Sequence[Any], suggestions: dict[int, list[Suggestion]] | None = None
) -> dict[str, Any]:
    first = rows[0]
    return {
        "id": first.external_id,
        "title": first.title,
        "url": first.url,
        "site": first.site,
        "published": first.published,
        "metadata": first.meta,
        "project": first.project,
        "passages": [
            _passage_json(list(p_rows), suggestions or {})
            for _, p_rows in groupby(rows, key=lambda r: r.passage_pk)
        ],
    }


def suggestion_json(suggestion: Suggestion) -> dict[str, Any]:
    return {
        "source": suggestion.source,
        "label": suggestion.label,
        "score": suggestion.score,
        "reason": suggestion.reason,
    }


def _passage_json(rows: Sequence[Any], suggestions: dict[int, list[Suggestion]]) -> dict[str, Any]:
    first = rows[0]
    return {
        "index": first.passage_index,
        "text": first.passage_text,
        "role": first.role,
        "outlet": first.detected_outlet,
        "cue": first.cue,
        "skips": _skips_json(rows),
        "claims": [
            _claim_json(list(c_rows), suggestions)
            for _, c_rows in groupby(rows, key=lambda r: r.claim_index)
        ],
    }


def _skips_json(rows: Sequence[Any]) -> list[dict[str, Any]]:
    first_claim = rows[0].claim_index
    return [
        {"reviewer": r.username, "reason": r.skip_reason or "", "updated_at": _iso(r.updated_at)}
        for r in rows
        if r.skipped and r.claim_index == first_claim
    ]


def _claim_json(rows: Iterable[Any], suggestions: dict[int, list[Suggestion]]) -> dict[str, Any]:
    rows = list(rows)
    first = rows[0]
    return {
        "index": first.claim_index,
        "start": first.start,
        "end": first.end,
        "text": first.passage_text[first.start : first.end],
        "suggested_label": first.suggested_label,
        "suggestion_reason": first.suggestion_reason,
        "final_label": first.final_label,
        "annotations": [
            {
                "reviewer": r.username,
                "label": r.label,
                "unsure": bool(r.unsure),
                "note": r.note or "",
                "updated_at": _iso(r.updated_at),
                "outlet": _outlet_for_row(r) or None,
            }
            for r in rows
            if r.username is not None and not r.skipped
        ],
        "suggestions": [suggestion_json(s) for s in suggestions.get(first.claim_pk, [])],
    }
