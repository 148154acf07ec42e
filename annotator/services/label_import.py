"""Importing existing labels from CSV: work done offline, or another tool's results.

Columns (header names, any order; our own long CSV export has them all):
``document_id``, ``reviewer``, ``label`` and either ``passage_index`` + ``claim_start`` +
``claim_end`` (offsets into the passage text) or ``claim_text`` (optionally with
``passage_index`` to disambiguate); optional ``unsure``, ``note``, ``updated_at``. Rows with
neither reviewer nor label (untagged claims in an export) and skip rows are ignored. Cells our
export neutralised for spreadsheets (a leading ``'``) are read back as they were.

A file is imported entirely or not at all. Unknown reviewers are refused, or created as
inactive accounts when asked (see ``reviewers``).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from annotator.db import begin_write, in_chunks, table_of
from annotator.models import (
    Annotation,
    Claim,
    Document,
    Label,
    Passage,
    Project,
    User,
    utcnow,
)
from annotator.services import queue
from annotator.services.exporting import FORMULA_PREFIXES
from annotator.services.jsonl_reader import RecordError, parse_time
from annotator.services.readers import CSV_FIELD_LIMIT, csv_dialect, decode, lines_of
from annotator.services.records import ImportFileError, is_whole_number
from annotator.services.reviewers import resolve_reviewers
from annotator.services.storing import refresh_statistics
from annotator.wording import counted

TRUE_WORDS = frozenset({"yes", "true", "1", "y"})
FALSE_WORDS = frozenset({"no", "false", "0", "n", ""})
_FLAG_WORDS = TRUE_WORDS | FALSE_WORDS
_LABELS = frozenset(Label)
_FORMULA_FIRST = frozenset("".join(FORMULA_PREFIXES))
# What a label import writes. Planned with the statistics from before 120,000 labels, the
# team's pages took up to twice as long (the outlet report 0.39 s, not 0.15 s) until
# autovacuum came round (docs/benchmarks.md, round 17).
LABEL_TABLES = ("annotations", "reviews", "passages", "documents")


@dataclass(frozen=True)
class LabelRow:
    line: int
    document_id: str
    reviewer: str
    label: str
    passage_index: int | None
    start: int | None
    end: int | None
    claim_text: str | None
    unsure: bool | None
    note: str | None
    updated_at: datetime | None


@dataclass
class LabelReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    new_reviewers: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = (
            f"{counted(self.created, 'label')} added, {self.updated:,} changed, "
            f"{self.unchanged:,} already there"
        )
        if self.new_reviewers:
            text += f"; created inactive reviewers: {', '.join(self.new_reviewers)}"
        return text


def import_labels(
    session: Session,
    filename: str,
    data: bytes,
    project_name: str,
    *,
    create_reviewers: bool = False,
) -> LabelReport:
    """Validate the whole file, then store its labels in one transaction."""
    rows = read_label_rows(filename, data)
    begin_write(session)
    try:
        project = _project(session, filename, project_name)
        report = LabelReport()
        users = _users(session, filename, rows, create_reviewers, report)
        claims = _match_claims(session, filename, project, rows)
        _check_conflicts(filename, rows, claims, users)
        touched = _store(session, project, rows, claims, users, report)
        _complete(session, project, touched)
        session.commit()
    except Exception:
        session.rollback()
        raise
    refresh_statistics(session, report.created + report.updated, LABEL_TABLES)
    return report


def read_label_rows(filename: str, data: bytes) -> list[LabelRow]:
    text = decode(filename, data)
    csv.field_size_limit(CSV_FIELD_LIMIT)
    reader = csv.DictReader(lines_of(text), dialect=csv_dialect(text), strict=True)
    try:
        header = [name.strip().lower() for name in reader.fieldnames or []]
        _check_header(filename, header)
        reader.fieldnames = header
        rows = [row for raw in reader if (row := _row(filename, raw, reader.line_num))]
    except csv.Error as exc:
        raise ImportFileError(filename, f"malformed CSV ({exc})", reader.line_num) from exc
    if not rows:
        raise ImportFileError(filename, "the file holds no labels")
    return rows


def _check_header(filename: str, header: Sequence[str]) -> None:
    missing = [name for name in ("document_id", "reviewer", "label") if name not in header]
    has_offsets = {"passage_index", "claim_start", "claim_end"} <= set(header)
    if not has_offsets and "claim_text" not in header:
        missing.append("claim_text (or passage_index, claim_start and claim_end)")
    if missing:
        raise ImportFileError(filename, f"the header lacks {', '.join(missing)}", 1)


def _cell(raw: dict[str, str | None], name: str) -> str:
    """The cell without surrounding spaces, un-neutralised ('=1 -> =1)."""
    value = (raw.get(name) or "").strip()
    if value.startswith("'") and value[1:2] and value[1] in _FORMULA_FIRST:
        return value[1:]
    return value


def _row(filename: str, raw: dict[str, str | None], line: int) -> LabelRow | None:
    if None in raw:
        raise ImportFileError(filename, "more fields than the header has columns", line)
    reviewer, label = _cell(raw, "reviewer"), _cell(raw, "label")
    if (not reviewer and not label) or _cell(raw, "skipped").lower() in TRUE_WORDS:
        return None
    try:
        return _label_row(raw, line, reviewer, label)
    except RecordError as exc:
        raise ImportFileError(filename, str(exc), line) from exc


def _label_row(raw: dict[str, str | None], line: int, reviewer: str, label: str) -> LabelRow:
    if not reviewer:
        raise RecordError("the reviewer is empty")
    if label not in _LABELS:
        raise RecordError(f"unknown label {label!r}; use reported, quoted or editorial")
    document_id = _cell(raw, "document_id")
    if not document_id:
        raise RecordError("the document_id is empty")
    start, end = _int(raw, "claim_start"), _int(raw, "claim_end")
    claim_text = _cell(raw, "claim_text") or None
    passage_index = _int(raw, "passage_index")
    if (start is None or end is None or passage_index is None) and claim_text is None:
        raise RecordError("give claim_text, or passage_index with claim_start and claim_end")
    note = raw.get("note")
    return LabelRow(
        line, document_id, reviewer, label, passage_index, start, end, claim_text,
        _flag(raw), _cell(raw, "note") if note is not None else None,
        parse_time(_cell(raw, "updated_at"), "updated_at"),
    )  # fmt: skip


def _int(raw: dict[str, str | None], name: str) -> int | None:
    value = _cell(raw, name)
    if not value:
        return None
    if not is_whole_number(value):
        raise RecordError(f"{name} must be a whole number, not {value!r}")
    return int(value)


def _flag(raw: dict[str, str | None]) -> bool | None:
    if "unsure" not in raw:
        return None
    value = _cell(raw, "unsure").lower()
    if value not in _FLAG_WORDS:
        raise RecordError(f"unsure must be yes or no, not {value!r}")
    return value in TRUE_WORDS


def _project(session: Session, filename: str, name: str) -> Project:
    project = session.scalar(select(Project).where(Project.name == name.strip()))
    if project is None:
        raise ImportFileError(filename, f"there is no project named {name!r}")
    return project


def _users(
    session: Session, filename: str, rows: Sequence[LabelRow], create: bool, report: LabelReport
) -> dict[str, int]:
    names = sorted({row.reviewer for row in rows})
    known = set(session.scalars(select(User.username).where(User.username.in_(names))))
    try:
        users = resolve_reviewers(session, names, create=create)
    except ValueError as exc:  # UnknownReviewers included
        raise ImportFileError(filename, str(exc)) from exc
    report.new_reviewers = [name for name in names if name not in known]
    return users


class _ClaimRef(NamedTuple):
    id: int
    passage_id: int
    passage_index: int
    start: int
    end: int
    text: str


class _DocumentClaims:
    """A document's claims, indexed the ways a row can name one: by passage and offsets, or
    by text with spaces normalised (indexed on first use). Searched claim by claim for each
    row, 120,000 rows took seconds (docs/benchmarks.md, round 17)."""

    def __init__(self) -> None:
        self.passage_indexes: set[int] = set()
        self.claims: list[_ClaimRef] = []
        self.by_offsets: dict[tuple[int, int, int], list[_ClaimRef]] = {}
        self._by_text: dict[str, list[_ClaimRef]] | None = None

    def add(self, claim: _ClaimRef) -> None:
        self.claims.append(claim)
        key = (claim.passage_index, claim.start, claim.end)
        self.by_offsets.setdefault(key, []).append(claim)

    def with_text(self, normalised: str) -> list[_ClaimRef]:
        if self._by_text is None:
            self._by_text = {}
            for claim in self.claims:
                self._by_text.setdefault(_normalised(claim.text), []).append(claim)
        return self._by_text.get(normalised, [])


def _normalised(text: str) -> str:
    return " ".join(text.split())


def _match_claims(
    session: Session, filename: str, project: Project, rows: Sequence[LabelRow]
) -> dict[int, _ClaimRef]:
    """The claim each row means, by line number."""
    documents = _claims_of_documents(session, project, {row.document_id for row in rows})
    matched = {}
    for row in rows:
        document = documents.get(row.document_id)
        if document is None:
            raise ImportFileError(
                filename, f"no document {row.document_id!r} in project {project.name}", row.line
            )
        matched[row.line] = _claim_for(filename, document, row)
    return matched


def _claims_of_documents(
    session: Session, project: Project, external_ids: set[str]
) -> dict[str, _DocumentClaims]:
    """The project's documents with these ids, each with its passages' indexes and claims."""
    documents: dict[str, _DocumentClaims] = {}
    for chunk in in_chunks(external_ids):
        rows = session.execute(
            select(Document.external_id, Passage.index, Passage.id)
            .add_columns(Claim.id, Claim.start, Claim.end, Claim.text)
            .join(Passage, Passage.document_id == Document.id)
            .outerjoin(Claim, Claim.passage_id == Passage.id)
            .where(Document.project_id == project.id, Document.external_id.in_(chunk))
        )
        for external_id, index, passage_id, claim_id, start, end, text in rows:
            document = documents.setdefault(external_id, _DocumentClaims())
            document.passage_indexes.add(index)
            if claim_id is not None:
                document.add(_ClaimRef(claim_id, passage_id, index, start, end, text))
    return documents


def _claim_for(filename: str, document: _DocumentClaims, row: LabelRow) -> _ClaimRef:
    if row.passage_index is not None and row.passage_index not in document.passage_indexes:
        raise ImportFileError(
            filename, f"document {row.document_id!r} has no passage {row.passage_index}", row.line
        )
    if row.start is not None and row.end is not None and row.passage_index is not None:
        found = document.by_offsets.get((row.passage_index, row.start, row.end), [])
        what = f"claim at {row.start}:{row.end} in passage {row.passage_index}"
    else:
        wanted = _normalised(row.claim_text or "")
        found = [
            claim
            for claim in document.with_text(wanted)
            if row.passage_index in (None, claim.passage_index)
        ]
        what = f"claim with the text {_short(wanted)!r}"
    if not found:
        raise ImportFileError(filename, f"document {row.document_id!r} has no {what}", row.line)
    if len(found) > 1:
        raise ImportFileError(
            filename, f"{len(found)} claims match ({what}); add passage_index", row.line
        )
    return found[0]


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _check_conflicts(
    filename: str, rows: Sequence[LabelRow], claims: dict[int, _ClaimRef], users: dict[str, int]
) -> None:
    seen: dict[tuple[int, int], LabelRow] = {}
    for row in rows:
        key = (claims[row.line].id, users[row.reviewer])
        earlier = seen.setdefault(key, row)
        if earlier is not row and earlier.label != row.label:
            raise ImportFileError(
                filename,
                f"{row.reviewer} labels this claim twice, differently (line {earlier.line})",
                row.line,
            )


@dataclass
class _NewLabel:
    """A label the file adds. The file's new labels are written in one statement: as ORM
    objects, 120,000 of them took seconds to build and flush (docs/benchmarks.md, round 17)."""

    claim_id: int
    project_id: int
    user_id: int
    label: str
    unsure: bool
    note: str
    version: int
    created_at: datetime
    updated_at: datetime


_INSERT_ANNOTATIONS = insert(table_of(Annotation))


def _store(
    session: Session,
    project: Project,
    rows: Sequence[LabelRow],
    claims: dict[int, _ClaimRef],
    users: dict[str, int],
    report: LabelReport,
) -> set[tuple[int, int]]:
    """Insert or update the annotations; returns the (passage id, user id) pairs touched."""
    stored: dict[tuple[int, int], Annotation | _NewLabel] = {
        (a.claim_id, a.user_id): a
        for a in _annotations_of(session, {claim.id for claim in claims.values()})
    }
    added: list[_NewLabel] = []
    touched: set[tuple[int, int]] = set()
    for row in rows:
        claim, user_id = claims[row.line], users[row.reviewer]
        annotation = stored.get((claim.id, user_id))
        if annotation is None:
            annotation = _new_label(project, claim, user_id, row)
            added.append(annotation)
            stored[(claim.id, user_id)] = annotation
            report.created += 1
        elif _apply(annotation, row):
            report.updated += 1
        else:
            report.unchanged += 1
        touched.add((claim.passage_id, user_id))
    session.flush()
    if added:
        session.connection().execute(_INSERT_ANNOTATIONS, [vars(label) for label in added])
    return touched


def _annotations_of(session: Session, claim_ids: set[int]) -> list[Annotation]:
    return [
        annotation
        for chunk in in_chunks(claim_ids)
        for annotation in session.scalars(select(Annotation).where(Annotation.claim_id.in_(chunk)))
    ]


def _new_label(project: Project, claim: _ClaimRef, user_id: int, row: LabelRow) -> _NewLabel:
    moment = row.updated_at or utcnow()
    return _NewLabel(
        claim_id=claim.id, project_id=project.id, user_id=user_id, label=row.label,
        unsure=bool(row.unsure), note=row.note or "", version=1, created_at=moment,
        updated_at=moment,
    )  # fmt: skip


def _apply(annotation: Annotation | _NewLabel, row: LabelRow) -> bool:
    """Change the stored annotation to the row's values; False when nothing differs."""
    changes = {"label": row.label}
    if row.unsure is not None:
        changes["unsure"] = row.unsure  # type: ignore[assignment]
    if row.note is not None:
        changes["note"] = row.note
    if all(getattr(annotation, k) == v for k, v in changes.items()):
        return False
    for key, value in changes.items():
        setattr(annotation, key, value)
    annotation.version += 1
    annotation.updated_at = row.updated_at or utcnow()
    return True


def _complete(session: Session, project: Project, touched: set[tuple[int, int]]) -> None:
    """A reviewer whose labels now cover a passage has completed it (queue counters). Which
    pairs of passage and reviewer that is is read once for the project: checked pair by pair,
    an import of 120,000 labels took minutes (docs/benchmarks.md, round 16)."""
    queue.record_completions(session, project, touched & _fully_labelled(session, project))


def _fully_labelled(session: Session, project: Project) -> set[tuple[int, int]]:
    """(passage id, reviewer id) wherever the reviewer has labelled every claim."""
    rows = session.execute(
        select(Claim.passage_id, Annotation.user_id)
        .join(Claim, Claim.id == Annotation.claim_id)
        .join(Passage, Passage.id == Claim.passage_id)
        .where(Annotation.project_id == project.id)
        .group_by(Claim.passage_id, Annotation.user_id, Passage.claim_count)
        .having(func.count() == Passage.claim_count)
    )
    return {(passage_id, user_id) for passage_id, user_id in rows}
