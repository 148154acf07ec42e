"""Work attached to stored claims and passages: annotations, final labels, suggestions,
outlet corrections and skips, written in bulk, with the review progress that follows
(completed reviews, passage and document counters).

Used when a JSONL export is imported back (the work travels with the document) and when a
changed document is re-imported (the work of unchanged claims is carried over).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from annotator.models import (
    Annotation,
    Document,
    FinalLabel,
    OutletCorrection,
    Passage,
    Project,
    Review,
    ReviewStatus,
    Suggestion,
    utcnow,
)
from annotator.services.records import DocumentRecord
from annotator.services.storing import StoredDocument, insert_rows


@dataclass
class Extras:
    """Rows to insert (column dicts) for one document."""

    annotations: list[dict[str, Any]] = field(default_factory=list)
    finals: list[dict[str, Any]] = field(default_factory=list)
    suggestions: list[dict[str, Any]] = field(default_factory=list)
    corrections: list[dict[str, Any]] = field(default_factory=list)
    skips: list[dict[str, Any]] = field(default_factory=list)


def extras_from_record(
    record: DocumentRecord,
    stored: StoredDocument,
    users: Mapping[str, int],
    outlet_ids: Mapping[str, int],
) -> Extras:
    """The work a restored record carries, keyed to the ids it was stored under."""
    extras = Extras()
    for passage, passage_id, claim_ids in zip(
        record.passages or (), stored.passage_ids, stored.claim_ids, strict=True
    ):
        corrected: dict[int, int | None] = {}
        for claim, claim_id in zip(passage.claims, claim_ids, strict=True):
            for a in claim.annotations:
                user_id = users[a.reviewer]
                extras.annotations.append(
                    annotation_row(claim_id, user_id, a.label, a.unsure, a.note, a.updated_at)
                )
                if a.outlet_given and a.outlet != passage.outlet:
                    corrected[user_id] = outlet_ids.get(a.outlet) if a.outlet else None
            if claim.final_label:
                extras.finals.append({"claim_id": claim_id, "label": claim.final_label})
            extras.suggestions += [
                {"claim_id": claim_id, "source": s.source, "label": s.label, "score": s.score,
                 "reason": s.reason}
                for s in claim.suggestions
            ]  # fmt: skip
        extras.corrections += [
            {"passage_id": passage_id, "user_id": user_id, "outlet_id": outlet_id}
            for user_id, outlet_id in corrected.items()
        ]
        extras.skips += [
            skip_row(passage_id, users[s.reviewer], s.reason, s.updated_at) for s in passage.skips
        ]
    return extras


def annotation_row(
    claim_id: int,
    user_id: int,
    label: str,
    unsure: bool = False,
    note: str = "",
    updated_at: datetime | None = None,
    version: int = 1,
) -> dict[str, Any]:
    moment = updated_at or utcnow()
    return {
        "claim_id": claim_id, "user_id": user_id, "label": label, "unsure": unsure,
        "note": note, "version": version, "created_at": moment, "updated_at": moment,
    }  # fmt: skip


def skip_row(
    passage_id: int, user_id: int, reason: str, updated_at: datetime | None
) -> dict[str, Any]:
    return {
        "passage_id": passage_id, "user_id": user_id, "reason": reason,
        "updated_at": updated_at or utcnow(),
    }  # fmt: skip


def write_extras(
    session: Session, project: Project, works: Sequence[tuple[StoredDocument, Extras]]
) -> None:
    """Insert the documents' work and set their review progress from it (one statement per
    table for them all)."""
    in_project = {"project_id": project.id}
    for model, rows in (
        (Annotation, [{**row, **in_project} for _, extras in works for row in extras.annotations]),
        (FinalLabel, [{**row, **in_project} for _, extras in works for row in extras.finals]),
        (Suggestion, [row for _, extras in works for row in extras.suggestions]),
        (OutletCorrection, [row for _, extras in works for row in extras.corrections]),
    ):
        insert_rows(session, model, rows)
    progress = [_progress_of(project, stored, extras) for stored, extras in works]
    insert_rows(session, Review, [row for item in progress for row in item.reviews])
    completed = [row for item in progress for row in item.completed]
    if completed:
        session.execute(update(Passage), completed)
    if progress:
        session.execute(update(Document), [item.document for item in progress])


@dataclass
class _Progress:
    """Rows that one document's work gives: its reviews, its passages' completed counts and
    its own counters (for bulk UPDATEs by primary key)."""

    reviews: list[dict[str, Any]]
    completed: list[dict[str, Any]]
    document: dict[str, Any]


def _progress_of(project: Project, stored: StoredDocument, extras: Extras) -> _Progress:
    """Reviews: skipped where a skip was recorded, completed where a reviewer labelled every
    claim of a passage; then the passage and document counters that the queue reads."""
    claim_passage = {
        claim_id: passage_id
        for passage_id, claim_ids in zip(stored.passage_ids, stored.claim_ids, strict=True)
        for claim_id in claim_ids
    }
    claim_counts = {
        pid: len(cids) for pid, cids in zip(stored.passage_ids, stored.claim_ids, strict=True)
    }
    labelled: dict[tuple[int, int], int] = {}
    latest: dict[tuple[int, int], datetime] = {}
    for row in extras.annotations:
        key = (claim_passage[row["claim_id"]], row["user_id"])
        labelled[key] = labelled.get(key, 0) + 1
        latest[key] = max(latest.get(key, row["updated_at"]), row["updated_at"])
    reviews = {
        (row["passage_id"], row["user_id"]): {**row, "status": ReviewStatus.SKIPPED}
        for row in extras.skips
    }
    for key, count in labelled.items():
        if key not in reviews and count >= claim_counts[key[0]] > 0:
            reviews[key] = {
                "passage_id": key[0], "user_id": key[1], "reason": "",
                "updated_at": latest[key], "status": ReviewStatus.COMPLETED,
            }  # fmt: skip
    where = {"document_id": stored.document_id, "project_id": project.id}
    return _Progress(
        [{**row, **where} for row in reviews.values()],
        *_counters(project, stored, reviews, claim_counts),
    )


def _counters(
    project: Project,
    stored: StoredDocument,
    reviews: Mapping[tuple[int, int], Mapping[str, Any]],
    claim_counts: Mapping[int, int],
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    completed: dict[int, int] = {}
    for (passage_id, _), row in reviews.items():
        if row["status"] == ReviewStatus.COMPLETED:
            completed[passage_id] = completed.get(passage_id, 0) + 1
    open_passages = sum(
        1
        for pid in stored.passage_ids
        if claim_counts[pid] and completed.get(pid, 0) < project.overlap
    )
    started_by = len({user_id for _, user_id in reviews})
    return (
        [{"id": pid, "completed_count": n} for pid, n in completed.items()],
        {"id": stored.document_id, "open_passages": open_passages, "started_by": started_by},
    )
