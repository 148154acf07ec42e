"""Streaming exports: CSV (one row per claim and reviewer) and nested JSONL (one document a line).

Rows come from one ordered query read in chunks, so memory stays flat however large the
export is.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from typing import Any

from sqlalchemy import Select, String, and_, literal, select, union_all
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
    User,
)

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


@dataclass(frozen=True)
class ExportFilter:
    project: str | None = None
    all_claims: bool = False


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
            Project.name.label("project"),
            Passage.id.label("passage_pk"),
            Passage.index.label("passage_index"),
            Passage.text.label("passage_text"),
            Passage.role,
            Passage.cue,
            detected.name.label("detected_outlet"),
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
    return query


def _stream(session: Session, export_filter: ExportFilter) -> Iterator[Any]:
    """Rows a page of documents at a time, each page in its own short read transaction, so an
    export neither holds a connection between pages nor keeps an old snapshot open (and a
    client that goes away mid-download leaves nothing locked)."""
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
        session.rollback()  # ends the read transaction and returns the connection to the pool
        yield from rows
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
    claim_text = row.passage_text[row.start : row.end]
    values = [
        row.external_id,
        row.title,
        row.url or "",
        str(row.passage_index),
        row.role,
        _outlet_for_row(row),
        row.cue or "",
        str(row.claim_index),
        str(row.start),
        str(row.end),
        claim_text,
        row.suggested_label,
        row.label or "",
        row.username or "",
        _iso(row.updated_at),
        row.project,
        _yes_no(row.unsure) if row.username else "",
        row.note or "",
        _yes_no(row.skipped) if row.username else "",
        row.skip_reason or "",
        row.final_label or "",
        row.detected_outlet or "",
    ]
    return [neutralise_cell(v) for v in values]


def iter_csv(session: Session, export_filter: ExportFilter) -> Iterator[str]:
    """CSV text in chunks (RFC 4180, CRLF line ends), header first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for count, row in enumerate(_stream(session, export_filter), start=1):
        writer.writerow(csv_record(row))
        if count % CHUNK_ROWS == 0:
            yield _drain(buffer)
    yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def iter_jsonl(session: Session, export_filter: ExportFilter) -> Iterator[str]:
    """One JSON document per line with its passages, claims and annotations nested."""
    nested_filter = ExportFilter(project=export_filter.project, all_claims=True)
    for _, doc_rows in groupby(_stream(session, nested_filter), key=lambda r: r.doc_pk):
        yield json.dumps(_document_json(list(doc_rows)), ensure_ascii=False) + "\n"


def _document_json(rows: Sequence[Any]) -> dict[str, Any]:
    first = rows[0]
    return {
        "id": first.external_id,
        "title": first.title,
        "url": first.url,
        "project": first.project,
        "passages": [
            _passage_json(list(p_rows)) for _, p_rows in groupby(rows, key=lambda r: r.passage_pk)
        ],
    }


def _passage_json(rows: Sequence[Any]) -> dict[str, Any]:
    first = rows[0]
    return {
        "index": first.passage_index,
        "text": first.passage_text,
        "role": first.role,
        "outlet": first.detected_outlet,
        "cue": first.cue,
        "skips": _skips_json(rows),
        "claims": [
            _claim_json(list(c_rows)) for _, c_rows in groupby(rows, key=lambda r: r.claim_index)
        ],
    }


def _skips_json(rows: Sequence[Any]) -> list[dict[str, Any]]:
    first_claim = rows[0].claim_index
    return [
        {"reviewer": r.username, "reason": r.skip_reason or "", "updated_at": _iso(r.updated_at)}
        for r in rows
        if r.skipped and r.claim_index == first_claim
    ]


def _claim_json(rows: Iterable[Any]) -> dict[str, Any]:
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
    }
