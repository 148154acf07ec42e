"""Article files -> validated records -> documents, passages and claims.

Each file is imported entirely or not at all. A document already in the project with the same
id and content is skipped as a duplicate, so importing twice never duplicates anything; a
document whose content changed is replaced by its new version, keeping the tags of claims
whose text is unchanged and reporting the others. Documents of our own JSONL export are
restored with their annotations (see ``jsonl_reader`` and ``restore``).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass, field, replace
from functools import partial

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from annotator.db import begin_write, retrying_deadlocks
from annotator.models import Document, DocumentSource, Project
from annotator.services.drafting import Drafts, drafts_by_batch, drafts_for
from annotator.services.outlets import load_registry
from annotator.services.projects import get_or_create_project
from annotator.services.readers import read_records
from annotator.services.records import (
    DocumentRecord,
    ImportFileError,
    check_storable,
    is_whole_number,
)
from annotator.services.reimport import NewVersion, replace_documents, unchanged_documents
from annotator.services.restore import extras_from_record, write_extras
from annotator.services.reviewers import resolve_reviewers
from annotator.services.storing import ensure_outlets, insert_documents, refresh_statistics
from annotator.text.outlets import OutletRegistry
from annotator.wording import counted

__all__ = [
    "DocumentRecord",
    "ImportFileError",
    "ImportOptions",
    "ImportReport",
    "import_files",
    "import_records",
    "read_records",
]

# Records stored per round of inserts. The first batch is analysed before anything can be
# stored, and the last stored after the analysis has ended: smaller batches shorten both
# (PostgreSQL, N=1000: 2.28 s with 500, 2.14 s with 200; N=10,000: no change).
BATCH_SIZE = 200

ProgressCallback = Callable[[int], object]  # what it returns is not used (tqdm.update)


class _ProgressAcrossAttempts:
    """Progress of work that may run again after a deadlock, told once: an attempt tells
    only how far it goes beyond the furthest attempt before it."""

    def __init__(self, tell: ProgressCallback | None) -> None:
        self.tell = tell
        self.told = 0
        self.done = 0

    def start_attempt(self) -> None:
        self.done = 0

    def __call__(self, count: int) -> None:
        self.done += count
        if self.tell and self.done > self.told:
            self.tell(self.done - self.told)
            self.told = self.done


@dataclass
class ImportReport:
    """What an import did: document ids imported, updated (``changed``) or skipped as
    duplicates; one message per failed file or URL; the tags that changed documents lost."""

    imported: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    reanalysed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    lost_tags: list[str] = field(default_factory=list)
    passages: int = 0

    def summary(self) -> str:
        reanalysed = (
            f"{len(self.reanalysed):,} analysed again with a new result, "
            if self.reanalysed
            else ""
        )
        return (
            f"{len(self.imported):,} imported, "
            f"{len(self.changed):,} updated to a new version, {reanalysed}"
            f"{len(self.duplicates):,} skipped as duplicates, {len(self.failed):,} failed; "
            f"{counted(self.passages, 'passage')} stored"
        )

    def merge(self, other: ImportReport) -> None:
        self.imported += other.imported
        self.duplicates += other.duplicates
        self.changed += other.changed
        self.reanalysed += other.reanalysed
        self.failed += other.failed
        self.lost_tags += other.lost_tags
        self.passages += other.passages


@dataclass(frozen=True)
class ImportOptions:
    """``create_reviewers``: reviewers named in restored annotations that have no account
    become inactive accounts instead of failing the file. ``processes``: worker processes
    that analyse the texts while this one stores (see ``drafting``); 1 analyses here.
    ``reanalyse``: a stored document whose content is unchanged is analysed again (after the
    outlets changed, say) and stored as a new version if the result differs."""

    create_reviewers: bool = False
    on_progress: ProgressCallback | None = None
    processes: int = 1
    reanalyse: bool = False


def import_files(
    session: Session,
    files: Iterable[tuple[str, bytes]],
    project_name: str,
    on_progress: ProgressCallback | None = None,
    *,
    create_reviewers: bool = False,
    processes: int = 1,
    reanalyse: bool = False,
) -> ImportReport:
    """Import several files into a project; a failing file is reported and leaves no trace."""
    options = ImportOptions(
        create_reviewers=create_reviewers,
        on_progress=on_progress,
        processes=processes,
        reanalyse=reanalyse,
    )
    project = prepare_project(session, project_name)
    report = ImportReport()
    for filename, data in files:
        try:
            records = read_records(filename, data)
            import_records(session, project, records, report, options)
        except ImportFileError as exc:
            session.rollback()
            report.failed.append(str(exc))
    refresh_statistics(session, report.passages)
    return report


def prepare_project(session: Session, project_name: str) -> Project:
    """The target project, created (and committed) first so that a later file's rollback
    does not take it along."""
    begin_write(session)
    project = get_or_create_project(session, project_name)
    session.commit()
    return project


def import_records(
    session: Session,
    project: Project,
    records: Sequence[DocumentRecord],
    report: ImportReport,
    options: ImportOptions | ProgressCallback | None = None,
) -> None:
    """Analyse and store the records of one file in one transaction (all or nothing)."""
    settings = options if isinstance(options, ImportOptions) else ImportOptions(on_progress=options)
    check_storable(records)
    progress = _ProgressAcrossAttempts(settings.on_progress)
    settings = replace(settings, on_progress=progress)

    def store() -> ImportReport:
        progress.start_attempt()
        begin_write(session)
        outcome = ImportReport()
        try:
            fresh, changed, same = _classify(session, project, records, outcome, settings)
            users = _reviewers(session, records, settings.create_reviewers)
            outlets = load_registry(session)
            _store_new(session, project, fresh, outlets, users, outcome, settings)
            _store_versions(session, project, (changed, same), outlets, outcome, settings)
            session.commit()
        except Exception:
            session.rollback()
            raise
        return outcome

    # A new version locks its old version's work, as reviewers' saves and reservations do
    report.merge(retrying_deadlocks(session, store))


# Documents analysed again per transaction: each is its own new version, and a batch bounds
# the texts held at once.
REANALYSIS_BATCH = 200
# Kept texts read at once for the worker processes to analyse ahead of the transactions:
# bounds the texts held by the analysis of a large project.
REANALYSIS_ROUND = 10 * REANALYSIS_BATCH


@dataclass
class Reanalysis:
    """What analysing a project's documents again did, or in a ``preview`` would do and
    undid (``report``: documents analysed again with a new result, and those unchanged as
    duplicates), and how many documents it could not read again: imported before their title
    and text were kept, or restored with passages."""

    report: ImportReport
    without_source: int
    preview: bool = False

    @property
    def _new_result(self) -> str:
        return "would get a new result" if self.preview else "analysed again with a new result"

    def summary(self) -> str:
        report = self.report
        summary = (
            f"{counted(len(report.reanalysed), 'document')} {self._new_result}, "
            f"{len(report.duplicates):,} unchanged"
        )
        if self.without_source:
            summary += (
                f"; {counted(self.without_source, 'document')} imported before their text was "
                "kept: import their files again with analysing again ticked (--reanalyse)"
            )
        if self.preview:
            summary += "; nothing was changed"
        return summary

    def lost_label_lines(self) -> list[str]:
        """One line per claim whose labels went (or would go), for a command's report."""
        lead = "would lose labels" if self.preview else "lost labels"
        return [f"{lead}: {line}" for line in self.report.lost_tags]

    def new_result_line(self) -> str:
        """The documents with a new result, for a command's report ("" when none)."""
        reanalysed = self.report.reanalysed
        return f"{self._new_result}: {', '.join(reanalysed)}" if reanalysed else ""

    def lost_labels(self, shown: int = 10) -> str:
        """The claims whose labels went (or would go), ``shown`` of them, for a one-line
        message ("" when none did)."""
        lost = self.report.lost_tags
        if not lost:
            return ""
        more = f"; and {len(lost) - shown} more" if len(lost) > shown else ""
        lead = "Labels that would be lost" if self.preview else "Labels lost"
        return f"{lead} where claims changed: {'; '.join(lost[:shown])}{more}."


# A document's id, its kept record and the analysis of that record
Analysed = tuple[int, DocumentRecord, Drafts]


def reanalyse_project(
    session: Session,
    project: Project,
    on_progress: Callable[[int, int], object] | None = None,
    processes: int = 1,
    *,
    preview: bool = False,
) -> Reanalysis:
    """Analyse the project's documents again from the title and text each was imported with,
    against the outlets as they were when it started; those whose result differs are stored as
    new versions (see ``ImportOptions.reanalyse``), REANALYSIS_BATCH documents per transaction.
    ``processes`` worker processes analyse the next documents while a batch is compared and
    stored (see ``drafting``). ``on_progress`` is told (documents done, documents in all)
    at the start and after each batch. A document deleted meanwhile is left out; one imported
    again meanwhile is analysed from its new text. A ``preview`` does all of it, locks
    included, and rolls each batch back: it reports what a run would do, labels lost
    included."""
    ids = session.scalars(
        select(Document.id)
        .join(DocumentSource)
        .where(Document.project_id == project.id)
        .order_by(Document.id)
    ).all()
    documents = session.scalar(
        select(func.count(Document.id)).where(Document.project_id == project.id)
    )
    registry, _ = load_registry(session)
    session.rollback()  # the read transaction; each batch is a write transaction
    if on_progress:
        on_progress(0, len(ids))
    report = ImportReport()
    for start in range(0, len(ids), REANALYSIS_ROUND):
        round_ids = ids[start : start + REANALYSIS_ROUND]
        # closing(): an error while storing stops the workers at once
        with closing(_analysed_ahead(session, round_ids, registry, processes)) as batches:
            done = start
            for batch in batches:
                work = partial(_reanalyse_batch, session, project, batch, registry, preview)
                report.merge(retrying_deadlocks(session, work))
                done += len(batch)
                if on_progress:
                    on_progress(done, len(ids))
    if not preview:
        refresh_statistics(session, report.passages)
    return Reanalysis(report, (documents or 0) - len(ids), preview)


def _analysed_ahead(
    session: Session, document_ids: Sequence[int], registry: OutletRegistry, processes: int
) -> Generator[list[Analysed], None, None]:
    """The documents' kept records, read at once, with their analyses, REANALYSIS_BATCH at a
    time (see ``drafts_by_batch``); closing it stops the workers."""
    kept = [
        (document.id, _kept_record(document, source))
        for document, source in session.execute(_documents_with_sources(document_ids))
    ]
    session.rollback()
    batches = [kept[i : i + REANALYSIS_BATCH] for i in range(0, len(kept), REANALYSIS_BATCH)]
    records = [[record for _, record in batch] for batch in batches]
    with closing(drafts_by_batch(records, registry, processes)) as drafts:
        for batch, analysed in zip(batches, drafts, strict=True):
            yield [
                (document_id, record, passages)
                for (document_id, record), passages in zip(batch, analysed, strict=True)
            ]


def _documents_with_sources(document_ids: Sequence[int]) -> Select[Document, DocumentSource]:
    return (
        select(Document, DocumentSource)
        .join(DocumentSource)
        .where(Document.id.in_(document_ids))
        .order_by(Document.id)
    )


def _reanalyse_batch(
    session: Session,
    project: Project,
    batch: Sequence[Analysed],
    registry: OutletRegistry,
    preview: bool,
) -> ImportReport:
    """The batch's documents as they are now, compared with their analyses and stored as new
    versions where these differ (rolled back in a preview); a document whose kept record
    changed since it was analysed (imported again) is analysed again here."""
    begin_write(session)
    outcome = ImportReport()
    analyses = {document_id: (record, drafts) for document_id, record, drafts in batch}
    try:
        versions = []
        for document, source in session.execute(_documents_with_sources(list(analyses))):
            record = _kept_record(document, source)
            analysed, drafts = analyses[document.id]
            if record != analysed:
                drafts = drafts_for(record, registry)
            versions.append(NewVersion(document, record, drafts))
        _reanalyse(session, project, versions, load_registry(session), outcome)
        if preview:
            session.rollback()
        else:
            session.commit()
    except Exception:
        session.rollback()
        raise
    return outcome


def _kept_record(document: Document, source: DocumentSource) -> DocumentRecord:
    """The record the document was imported from, as far as the analysis and its content
    hash go."""
    return DocumentRecord(
        external_id=document.external_id,
        title=source.title,
        text=source.text,
        url=document.url,
        site=document.site,
        published=document.published,
        metadata=document.meta,
        where=f"document {document.external_id!r}",
    )


def _reviewers(session: Session, records: Sequence[DocumentRecord], create: bool) -> dict[str, int]:
    names = {name for record in records for name in record.reviewers()}
    try:
        return resolve_reviewers(session, names, create=create)
    except ValueError as exc:  # UnknownReviewers included
        filename, _, _ = records[0].where.partition(", line ")
        raise ImportFileError(filename or "import", str(exc)) from exc


Versions = list[tuple[Document, DocumentRecord]]


def _classify(
    session: Session,
    project: Project,
    records: Sequence[DocumentRecord],
    report: ImportReport,
    options: ImportOptions,
) -> tuple[list[DocumentRecord], Versions, Versions]:
    """New records, changed versions of stored documents, and (with ``options.reanalyse``)
    stored documents with the same content; otherwise identical ones are reported as
    duplicates. The same id twice in one file with different content is an error."""
    stored = {
        doc.external_id: doc
        for doc in session.scalars(select(Document).where(Document.project_id == project.id))
    }
    seen: dict[str, DocumentRecord] = {}
    fresh: list[DocumentRecord] = []
    changed: Versions = []
    same: Versions = []
    for record in records:
        earlier = seen.setdefault(record.external_id, record)
        document = stored.get(record.external_id)
        if earlier is not record:
            _check_repeat(earlier, record)
            report.duplicates.append(record.external_id)
        elif document is None:
            fresh.append(record)
        elif document.content_hash != record.content_hash:
            changed.append((document, record))
        elif options.reanalyse:
            same.append((document, record))
        else:
            report.duplicates.append(record.external_id)
    return fresh, changed, same


def _check_repeat(earlier: DocumentRecord, record: DocumentRecord) -> None:
    if earlier.content_hash != record.content_hash:
        filename, _, _ = record.where.partition(", line ")
        raise ImportFileError(
            filename or record.external_id,
            f'id "{record.external_id}" appears twice with different content '
            f"({earlier.where or 'earlier'} and here)",
            _line_of(record),
        )


def _line_of(record: DocumentRecord) -> int | None:
    _, _, tail = record.where.rpartition(", line ")
    return int(tail) if is_whole_number(tail) else None


def _store_new(
    session: Session,
    project: Project,
    records: Sequence[DocumentRecord],
    outlets: tuple[OutletRegistry, dict[str, int]],
    users: dict[str, int],
    report: ImportReport,
    options: ImportOptions,
) -> None:
    registry, outlet_ids = outlets
    batches = [records[start : start + BATCH_SIZE] for start in range(0, len(records), BATCH_SIZE)]
    # closing(): an error while storing stops the workers at once
    with closing(drafts_by_batch(batches, registry, options.processes)) as drafts:
        for batch, analysed in zip(batches, drafts, strict=True):
            ensure_outlets(session, analysed, outlet_ids)
            stored = insert_documents(session, project, batch, analysed, outlet_ids)
            restored = [
                (item, extras_from_record(record, item, users, outlet_ids))
                for record, item in zip(batch, stored, strict=True)
                if record.passages is not None
            ]
            write_extras(session, project, restored)
            report.passages += sum(len(item.passage_ids) for item in stored)
            report.imported += [r.external_id for r in batch]
            if options.on_progress:
                options.on_progress(len(batch))


def _store_versions(
    session: Session,
    project: Project,
    versions: tuple[Versions, Versions],
    outlets: tuple[OutletRegistry, dict[str, int]],
    report: ImportReport,
    options: ImportOptions,
) -> None:
    """New versions of changed documents, then the documents to analyse again, BATCH_SIZE
    at a time (each document counts as progress)."""
    changed, same = versions
    registry, _ = outlets
    with closing(_analysed_batches(changed, registry, options.processes)) as batches:
        for batch in batches:
            _store_new_versions(session, project, batch, outlets, report)
            report.changed += [version.record.external_id for version in batch]
            if options.on_progress:
                options.on_progress(len(batch))
    with closing(_analysed_batches(same, registry, options.processes)) as batches:
        for batch in batches:
            _reanalyse(session, project, batch, outlets, report)
            if options.on_progress:
                options.on_progress(len(batch))


def _analysed_batches(
    versions: Versions, registry: OutletRegistry, processes: int
) -> Generator[list[NewVersion], None, None]:
    """The documents with their records' analyses, BATCH_SIZE at a time (see
    ``drafts_by_batch``); closing it stops the workers."""
    batches = [versions[i : i + BATCH_SIZE] for i in range(0, len(versions), BATCH_SIZE)]
    records = [[record for _, record in batch] for batch in batches]
    with closing(drafts_by_batch(records, registry, processes)) as drafts:
        for batch, analysed in zip(batches, drafts, strict=True):
            yield [
                NewVersion(document, record, passages)
                for (document, record), passages in zip(batch, analysed, strict=True)
            ]


def _reanalyse(
    session: Session,
    project: Project,
    versions: Sequence[NewVersion],
    outlets: tuple[OutletRegistry, dict[str, int]],
    report: ImportReport,
) -> None:
    """Documents whose content is unchanged, analysed again: stored as new versions (as
    changed documents are) where the result differs, otherwise reported as duplicates."""
    ids = [version.document.id for version in versions]  # storing expires the documents
    unchanged = unchanged_documents(
        session, [(id_, version.drafts) for id_, version in zip(ids, versions, strict=True)]
    )
    differing = [
        version for id_, version in zip(ids, versions, strict=True) if id_ not in unchanged
    ]
    _store_new_versions(session, project, differing, outlets, report)
    for id_, version in zip(ids, versions, strict=True):
        if id_ in unchanged:
            report.duplicates.append(version.record.external_id)
        else:
            report.reanalysed.append(version.record.external_id)


def _store_new_versions(
    session: Session,
    project: Project,
    versions: Sequence[NewVersion],
    outlets: tuple[OutletRegistry, dict[str, int]],
    report: ImportReport,
) -> None:
    if not versions:
        return
    _, outlet_ids = outlets
    ensure_outlets(session, [version.drafts for version in versions], outlet_ids)
    report.lost_tags += replace_documents(session, project, versions, outlet_ids)
    report.passages += sum(len(version.drafts) for version in versions)
