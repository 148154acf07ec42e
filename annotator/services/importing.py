"""Article files -> validated records -> documents, passages and claims.

Each file is imported entirely or not at all; documents already present (same id and
content in the project) are skipped, so importing twice never duplicates anything.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from annotator.db import begin_write
from annotator.models import Claim, Document, Passage, Project
from annotator.services.outlets import load_registry
from annotator.services.projects import get_or_create_project
from annotator.text.pipeline import PassageDraft, analyse_document

TEXT_SUFFIXES = frozenset({".txt", ".md", ".markdown", ".text"})
JSONL_SUFFIXES = frozenset({".jsonl", ".ndjson"})
OPTIONAL_FIELDS = ("url", "site", "published")
BATCH_SIZE = 500

ProgressCallback = Callable[[int], None]


class ImportFileError(ValueError):
    """A file that cannot be imported; the message names the file and, where known, the line."""

    def __init__(self, filename: str, reason: str, line: int | None = None) -> None:
        where = f"{filename}, line {line}" if line is not None else filename
        super().__init__(f"{where}: {reason}")
        self.filename = filename
        self.line = line


@dataclass(frozen=True)
class DocumentRecord:
    external_id: str
    title: str | None
    text: str
    url: str | None = None
    site: str | None = None
    published: str | None = None

    @property
    def content_hash(self) -> str:
        payload = f"{self.title or ''}\x00{self.text}".encode()
        return hashlib.sha256(payload).hexdigest()


@dataclass
class ImportReport:
    imported: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    passages: int = 0

    def summary(self) -> str:
        return (
            f"{len(self.imported)} imported ({self.passages} passages), "
            f"{len(self.duplicates)} skipped as duplicates, "
            f"{len(self.changed)} skipped as changed, {len(self.failed)} failed"
        )


def read_records(filename: str, data: bytes) -> list[DocumentRecord]:
    """Parse one uploaded or local file into document records, or raise ImportFileError."""
    suffix = PurePath(filename).suffix.lower()
    text = _decode(filename, data)
    if suffix in JSONL_SUFFIXES:
        return _read_jsonl(filename, text)
    if suffix in TEXT_SUFFIXES:
        return [_read_article(filename, text)]
    supported = ", ".join(sorted(TEXT_SUFFIXES | JSONL_SUFFIXES))
    raise ImportFileError(filename, f"unsupported file type {suffix or '(none)'}; use {supported}")


def _decode(filename: str, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(filename, f"not valid UTF-8 (byte {exc.start})") from exc


def _read_article(filename: str, text: str) -> DocumentRecord:
    if not text.strip():
        raise ImportFileError(filename, "the file is empty")
    return DocumentRecord(external_id=PurePath(filename).stem, title=None, text=text)


def _read_jsonl(filename: str, text: str) -> list[DocumentRecord]:
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            records.append(_parse_jsonl_line(filename, number, line))
    if not records:
        raise ImportFileError(filename, "the file holds no records")
    return records


def _parse_jsonl_line(filename: str, number: int, line: str) -> DocumentRecord:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ImportFileError(filename, f"invalid JSON ({exc.msg})", number) from exc
    if not isinstance(obj, dict):
        raise ImportFileError(filename, "each line must be a JSON object", number)
    for key in ("id", "title", "text"):
        if key not in obj:
            raise ImportFileError(filename, f'missing field "{key}"', number)
    if not isinstance(obj["id"], str | int) or isinstance(obj["id"], bool):
        raise ImportFileError(filename, 'field "id" must be a string or a number', number)
    for key in ("title", "text", *OPTIONAL_FIELDS):
        if obj.get(key) is not None and not isinstance(obj[key], str):
            raise ImportFileError(filename, f'field "{key}" must be a string', number)
    if not str(obj["id"]).strip() or not obj["text"].strip():
        raise ImportFileError(filename, 'fields "id" and "text" must not be empty', number)
    return DocumentRecord(
        external_id=str(obj["id"]).strip(),
        title=obj["title"].strip() or None,
        text=obj["text"],
        **{key: obj.get(key) or None for key in OPTIONAL_FIELDS},
    )


def import_files(
    session: Session,
    files: Iterable[tuple[str, bytes]],
    project_name: str,
    on_progress: ProgressCallback | None = None,
) -> ImportReport:
    """Import several files into a project; a failing file is reported and leaves no trace."""
    begin_write(session)
    project = get_or_create_project(session, project_name)
    session.commit()  # a later file's rollback must not take the project with it
    report = ImportReport()
    for filename, data in files:
        try:
            records = read_records(filename, data)
            import_records(session, project, records, report, on_progress)
        except ImportFileError as exc:
            session.rollback()
            report.failed.append(str(exc))
    return report


def import_records(
    session: Session,
    project: Project,
    records: Sequence[DocumentRecord],
    report: ImportReport,
    on_progress: ProgressCallback | None = None,
) -> None:
    """Analyse and store the new records in one transaction (all or nothing)."""
    begin_write(session)
    registry, outlet_ids = load_registry(session)
    fresh = _new_records(session, project, records, report)
    try:
        for start in range(0, len(fresh), BATCH_SIZE):
            batch = fresh[start : start + BATCH_SIZE]
            analysed = [analyse_document(r.title, r.text, registry) for r in batch]
            report.passages += _insert_batch(session, project, batch, analysed, outlet_ids)
            if on_progress:
                on_progress(len(batch))
        session.commit()
    except Exception:
        session.rollback()
        raise
    report.imported.extend(r.external_id for r in fresh)


def _new_records(
    session: Session, project: Project, records: Sequence[DocumentRecord], report: ImportReport
) -> list[DocumentRecord]:
    """Drop records already stored (same id): identical ones are duplicates, others changed."""
    rows = session.execute(
        select(Document.external_id, Document.content_hash).where(
            Document.project_id == project.id
        )
    )
    known: dict[str, str] = {external_id: content_hash for external_id, content_hash in rows}
    fresh: list[DocumentRecord] = []
    for record in records:
        stored_hash = known.get(record.external_id)
        if stored_hash is None:
            known[record.external_id] = record.content_hash
            fresh.append(record)
        elif stored_hash == record.content_hash:
            report.duplicates.append(record.external_id)
        else:
            report.changed.append(record.external_id)
    return fresh


def _insert_batch(
    session: Session,
    project: Project,
    records: Sequence[DocumentRecord],
    analysed: Sequence[list[PassageDraft]],
    outlet_ids: dict[str, int],
) -> int:
    """Bulk-insert documents, passages and claims; returns the number of passages."""
    document_ids = session.scalars(
        insert(Document).returning(Document.id, sort_by_parameter_order=True),
        [
            {
                "project_id": project.id,
                "external_id": r.external_id,
                "title": _title_of(r, drafts),
                "url": r.url,
                "site": r.site,
                "published": r.published,
                "content_hash": r.content_hash,
                "open_passages": sum(1 for d in drafts if d.claims),
            }
            for r, drafts in zip(records, analysed, strict=True)
        ],
    ).all()
    passage_rows = [
        {
            "project_id": project.id,
            "document_id": document_id,
            "index": draft.index,
            "text": draft.text,
            "role": draft.role,
            "outlet_id": outlet_ids.get(draft.outlet) if draft.outlet else None,
            "cue": draft.cue,
            "cue_start": draft.cue_start,
            "cue_end": draft.cue_end,
            "claim_count": len(draft.claims),
        }
        for document_id, drafts in zip(document_ids, analysed, strict=True)
        for draft in drafts
    ]
    if not passage_rows:
        return 0
    passage_ids = session.scalars(
        insert(Passage).returning(Passage.id, sort_by_parameter_order=True), passage_rows
    ).all()
    drafts_in_order = [draft for drafts in analysed for draft in drafts]
    claim_rows = [
        {
            "passage_id": passage_id,
            "index": index,
            "start": claim.start,
            "end": claim.end,
            "suggested_label": claim.label,
            "suggestion_reason": claim.reason,
        }
        for passage_id, draft in zip(passage_ids, drafts_in_order, strict=True)
        for index, claim in enumerate(draft.claims)
    ]
    if claim_rows:
        session.execute(insert(Claim), claim_rows)
    return len(passage_rows)


def _title_of(record: DocumentRecord, drafts: list[PassageDraft]) -> str:
    if record.title:
        return record.title
    return drafts[0].text if drafts else record.external_id
