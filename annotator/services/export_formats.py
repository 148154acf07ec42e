"""More export formats on the same paged row stream as ``exporting``: the wide CSV (one row
per claim, reviewers side by side), Label Studio JSON tasks and doccano JSONL, plus the
"Excel" flavour of the CSVs (a UTF-8 byte-order mark first).

Label Studio: one task per passage; ``data.text`` is the passage text, reviewers' labels are
``annotations`` and suggestions (the built-in one and each outside source) are
``predictions``, all as span results ``{"from_name": "label", "to_name": "text", "type":
"labels", "value": {"start", "end", "text", "labels"}}``, matching the labeling config
``LABEL_STUDIO_CONFIG``. doccano: one line per passage ``{"text", "label": [[start, end,
label]]}`` holding each claim's settled label: the final label, else the label every reviewer
chose; claims without one are left out (the reviewers' labels travel in ``reviewers``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from itertools import groupby
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from annotator.models import (
    Annotation,
    Claim,
    Document,
    Label,
    Outlet,
    Passage,
    PassageRole,
    Project,
    Suggestion,
    User,
)
from annotator.services import scope
from annotator.services.exporting import (
    NO_OUTLET,
    ExportFilter,
    csv_record,
    csv_writer,
    drain,
    iter_csv,
    iter_jsonl,
    iter_pages,
    neutralise_cell,
)
from annotator.services.scope import SCOPE_KEYS, DocumentScope

BOM = "\ufeff".encode()  # UTF-8's byte-order mark
BUILT_IN_SOURCE = "annotator"
WIDE_COLUMNS = (
    "document_id",
    "document_title",
    "document_url",
    "project",
    "passage_index",
    "passage_role",
    "outlet",
    "outlet_cue",
    "claim_index",
    "claim_start",
    "claim_end",
    "claim_text",
    "suggested_label",
    "final_label",
)
LABEL_STUDIO_CONFIG = """<View>
  <Labels name="label" toName="text">
    <Label value="reported"/>
    <Label value="quoted"/>
    <Label value="editorial"/>
  </Labels>
  <Text name="text" value="$text"/>
</View>"""
CHUNK_ROWS = 2000


def with_bom(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The "Excel" option: a UTF-8 byte-order mark so spreadsheets pick the right encoding."""
    yield BOM
    yield from chunks


def wide_reviewers(session: Session, export_filter: ExportFilter) -> list[str]:
    """Reviewers that get a column: everyone with a label in the exported projects."""
    query = (
        select(User.username)
        .join(Annotation, Annotation.user_id == User.id)
        .join(Claim, Claim.id == Annotation.claim_id)
        .join(Passage, Passage.id == Claim.passage_id)
        .join(Document, Document.id == Passage.document_id)
        .where(*export_filter.documents.conditions())
        .distinct()
        .order_by(User.username)
    )
    if export_filter.project:
        query = query.join(Project, Project.id == Document.project_id).where(
            Project.name == export_filter.project
        )
    if export_filter.reviewer:
        query = query.where(User.username == export_filter.reviewer)
    names = list(session.scalars(query))
    session.rollback()
    return names


def iter_wide_csv(session: Session, export_filter: ExportFilter) -> Iterator[str]:
    """One row per claim: the claim, its final label, and a ``label_<reviewer>`` column per
    reviewer (empty where that reviewer has no label)."""
    reviewers = wide_reviewers(session, export_filter)
    buffer, writer = csv_writer()
    header = [*WIDE_COLUMNS, *(f"label_{name}" for name in reviewers)]
    writer.writerow([neutralise_cell(cell) for cell in header])
    count = 0
    wide_filter = replace(export_filter, all_claims=True)
    for rows, _ in iter_pages(session, wide_filter):
        for _, claim_rows in groupby(rows, key=lambda r: r.claim_pk):
            writer.writerow(_wide_record(list(claim_rows), reviewers))
            count += 1
            if count % CHUNK_ROWS == 0:
                yield drain(buffer)
    yield drain(buffer)


def _wide_record(rows: Sequence[Any], reviewers: Sequence[str]) -> list[str]:
    first = csv_record(rows[0])
    labels = {r.username: r.label or "" for r in rows if r.username and not r.skipped}
    values = [
        *first[:3],  # document id, title, url (already neutralised)
        neutralise_cell(rows[0].project),
        *first[3:4],  # passage index
        *first[4:5],  # role
        neutralise_cell(rows[0].detected_outlet or ""),
        *first[6:12],  # cue, claim index, start, end, text, suggested label
        rows[0].final_label or "",
    ]
    return values + [labels.get(name, "") for name in reviewers]


def _span(row: Any, label: str, ident: str, score: float | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {
        "id": ident,
        "from_name": "label",
        "to_name": "text",
        "type": "labels",
        "value": {
            "start": row.start,
            "end": row.end,
            "text": row.claim_text,
            "labels": [label],
        },
    }
    if score is not None:
        result["score"] = score
    return result


def iter_label_studio(session: Session, export_filter: ExportFilter) -> Iterator[str]:
    """A JSON array of Label Studio tasks, one per passage, written piece by piece."""
    yield "["
    first = True
    nested = replace(export_filter, all_claims=True)
    for rows, suggestions in iter_pages(session, nested, suggestions=True):
        for _, passage_rows in groupby(rows, key=lambda r: r.passage_pk):
            task = _task(list(passage_rows), suggestions)
            yield ("\n" if first else ",\n") + json.dumps(task, ensure_ascii=False)
            first = False
    yield "\n]\n"


def _task(rows: Sequence[Any], suggestions: dict[int, list[Suggestion]]) -> dict[str, Any]:
    first = rows[0]
    by_reviewer: dict[str, list[dict[str, Any]]] = {}
    seen: set[int] = set()
    built_in: list[dict[str, Any]] = []
    outside: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        ident = f"c{row.claim_pk}"
        if row.claim_pk not in seen:
            seen.add(row.claim_pk)
            built_in.append(_span(row, row.suggested_label, ident))
            for s in suggestions.get(row.claim_pk, []):
                outside.setdefault(s.source, []).append(_span(row, s.label, ident, s.score))
        if row.username and not row.skipped and row.label:
            by_reviewer.setdefault(row.username, []).append(_span(row, row.label, ident))
    predictions = [{"model_version": BUILT_IN_SOURCE, "result": built_in}]
    predictions += [
        {"model_version": source, "result": result}
        for source, result in sorted(outside.items())
        if source != BUILT_IN_SOURCE
    ]
    return {
        "data": {
            "text": first.passage_text,
            "document_id": first.external_id,
            "document_title": first.title,
            "passage_index": first.passage_index,
            "passage_role": first.role,
            "outlet": first.detected_outlet,
            "project": first.project,
        },
        "annotations": [{"result": result} for result in by_reviewer.values()],
        "predictions": predictions,
        "meta": {"reviewers": list(by_reviewer)},
    }


def iter_doccano(session: Session, export_filter: ExportFilter) -> Iterator[str]:
    """doccano sequence-labelling JSONL, one passage a line."""
    nested = replace(export_filter, all_claims=True)
    for rows, _ in iter_pages(session, nested):
        for _, passage_rows in groupby(rows, key=lambda r: r.passage_pk):
            yield json.dumps(_doccano_line(list(passage_rows)), ensure_ascii=False) + "\n"


def _doccano_line(rows: Sequence[Any]) -> dict[str, Any]:
    first = rows[0]
    spans: list[list[Any]] = []
    reviewers: dict[str, list[list[Any]]] = {}
    for _, group in groupby(rows, key=lambda r: r.claim_pk):
        claim_rows = list(group)
        row = claim_rows[0]
        labels = {r.username: r.label for r in claim_rows if r.username and r.label}
        for name, label in labels.items():
            reviewers.setdefault(name, []).append([row.start, row.end, label])
        settled = settled_label(row.final_label, list(labels.values()))
        if settled:
            spans.append([row.start, row.end, settled])
    return {
        "text": first.passage_text,
        "label": spans,
        "document_id": first.external_id,
        "passage_index": first.passage_index,
        "passage_role": first.role,
        "outlet": first.detected_outlet,
        "reviewers": reviewers,
    }


def settled_label(final_label: str | None, labels: Sequence[str]) -> str | None:
    """The final label, else the label all reviewers agree on, else None."""
    if final_label:
        return final_label
    distinct = set(labels)
    return labels[0] if len(distinct) == 1 else None


Writer = Callable[[Session, ExportFilter], Iterator[bytes]]


def _utf8(write: Callable[[Session, ExportFilter], Iterator[str]]) -> Writer:
    """A writer of text as one of UTF-8 bytes (the CSV writer makes bytes itself: PostgreSQL's
    COPY hands them over ready)."""

    def write_utf8(session: Session, export_filter: ExportFilter) -> Iterator[bytes]:
        for chunk in write(session, export_filter):
            yield chunk.encode()

    return write_utf8


@dataclass(frozen=True)
class Format:
    """An export format: the writer (UTF-8 chunks), its media type and file extension."""

    write: Writer
    mimetype: str
    extension: str
    excel: bool = False  # whether the "Excel" option (a byte-order mark) applies


FORMATS: dict[str, Format] = {
    "csv": Format(iter_csv, "text/csv; charset=utf-8", "csv", excel=True),
    "csv-wide": Format(_utf8(iter_wide_csv), "text/csv; charset=utf-8", "csv", excel=True),
    "jsonl": Format(_utf8(iter_jsonl), "application/x-ndjson; charset=utf-8", "jsonl"),
    "label-studio": Format(_utf8(iter_label_studio), "application/json; charset=utf-8", "json"),
    "doccano": Format(_utf8(iter_doccano), "application/x-ndjson; charset=utf-8", "jsonl"),
}
FILTER_KEYS = ("project", "outlet", "role", "label", "reviewer", "since", "until", *SCOPE_KEYS)


class FilterError(ValueError):
    """A filter value that cannot be used (unknown role or label, bad date)."""


def export_chunks(
    session: Session, fmt: str, export_filter: ExportFilter, *, excel: bool = False
) -> Iterator[bytes]:
    """The export in UTF-8 chunks; ``excel`` adds the byte-order mark to CSV formats."""
    spec = FORMATS[fmt]
    chunks = spec.write(session, export_filter)
    return with_bom(chunks) if excel and spec.excel else chunks


def filter_from_args(args: Mapping[str, str], session: Session) -> ExportFilter:
    """An ExportFilter from query-string or CLI values (empty values are ignored). A project,
    outlet or reviewer that does not exist is refused: a typo would otherwise give an empty
    export that looks like a result."""
    values = {key: (args.get(key) or "").strip() or None for key in FILTER_KEYS}
    if values["role"] and values["role"] not in set(PassageRole):
        raise FilterError("role must be author or excerpt")
    if values["label"] and values["label"] not in set(Label):
        raise FilterError("label must be reported, quoted or editorial")
    _check_names_exist(session, values)
    return ExportFilter(
        documents=_document_scope(session, values),
        project=values["project"],
        all_claims=_truthy(args.get("all_claims")),
        outlet=values["outlet"],
        role=values["role"],
        label=values["label"],
        reviewer=values["reviewer"],
        since=_date(values["since"], "since"),
        until=_date(values["until"], "until"),
        settled_only=_truthy(args.get("settled")),
    )


@dataclass(frozen=True)
class FilterNames:
    """The names the export page offers for its project, outlet, reviewer and site filters."""

    projects: list[str]
    outlets: list[str]
    reviewers: list[str]
    sites: list[str]


def filter_names(session: Session) -> FilterNames:
    return FilterNames(
        projects=list(session.scalars(select(Project.name).order_by(Project.name))),
        outlets=list(session.scalars(select(Outlet.name).order_by(func.lower(Outlet.name)))),
        reviewers=list(session.scalars(select(User.username).order_by(User.username))),
        sites=list(
            session.scalars(
                select(Document.site)
                .where(Document.site.is_not(None))
                .distinct()
                .order_by(Document.site)
            )
        ),
    )


def _check_names_exist(session: Session, values: Mapping[str, str | None]) -> None:
    project, outlet, reviewer = values["project"], values["outlet"], values["reviewer"]
    if project and session.scalar(select(Project.id).where(Project.name == project)) is None:
        raise FilterError(f"there is no project named {project!r}")
    if outlet and outlet.lower() != NO_OUTLET:
        named = select(Outlet.id).where(func.lower(Outlet.name) == outlet.lower())
        if session.scalar(named) is None:
            raise FilterError(f'there is no outlet named {outlet!r} ("none": passages citing none)')
    if reviewer and session.scalar(select(User.id).where(User.username == reviewer)) is None:
        raise FilterError(f"there is no reviewer named {reviewer!r}")


def _document_scope(session: Session, values: Mapping[str, str | None]) -> DocumentScope:
    """The documents of one citing site and publication period (``scope``)."""
    try:
        documents = scope.read_scope(*(values[key] for key in SCOPE_KEYS))
    except scope.ScopeError as exc:
        raise FilterError(str(exc).rstrip(".")) from exc
    site, project = documents.site, values["project"]
    if site is not None:
        project_id = (
            session.scalar(select(Project.id).where(Project.name == project)) if project else None
        )
        if not scope.names_site(session, site, project_id):
            where = f"of project {project!r} " if project else ""
            raise FilterError(f"no document {where}names its site as {site!r}")
    return documents


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def _date(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise FilterError(f"{name} must be a date like 2024-05-31") from exc
