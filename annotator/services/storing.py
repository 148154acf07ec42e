"""Bulk inserts of analysed documents: passages and claims, returning the new ids.

On PostgreSQL passages and claims are written with COPY, with ids drawn from the tables'
sequences beforehand; elsewhere with one executemany per table and the ids read back."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Table, func, insert, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql.schema import CallableColumnDefault, ScalarElementColumnDefault

from annotator.models import Claim, Document, DocumentSource, Outlet, Passage, Project
from annotator.services.exporting import csv_form_of
from annotator.services.records import DocumentRecord, PassageRecord
from annotator.text.pipeline import ClaimDraft, PassageDraft


@dataclass(frozen=True)
class StoredDocument:
    """Ids of what was inserted: ``claim_ids[n]`` are the claims of passage ``n``."""

    document_id: int
    passage_ids: list[int]
    claim_ids: list[list[int]]


def drafts_from_record(passages: Sequence[PassageRecord]) -> list[PassageDraft]:
    """Passages of a restored record as the pipeline's drafts (the cue found in the text)."""
    drafts = []
    for passage in passages:
        cue_start = passage.text.find(passage.cue) if passage.cue else -1
        cue_span = (cue_start, cue_start + len(passage.cue or "")) if cue_start >= 0 else None
        claims = tuple(
            ClaimDraft(c.start, c.end, c.suggested_label, c.suggestion_reason)
            for c in passage.claims
        )
        drafts.append(
            PassageDraft(
                passage.index,
                passage.text,
                passage.role,
                passage.outlet,
                passage.cue if cue_span else None,
                cue_span[0] if cue_span else None,
                cue_span[1] if cue_span else None,
                claims,
            )
        )
    return drafts


def ensure_outlets(
    session: Session, analysed: Sequence[Sequence[PassageDraft]], outlet_ids: dict[str, int]
) -> None:
    """Add outlets that restored passages name but the registry lacks (updates ``outlet_ids``)."""
    missing = {
        draft.outlet
        for drafts in analysed
        for draft in drafts
        if draft.outlet and draft.outlet not in outlet_ids
    }
    for name in sorted(missing):
        outlet = Outlet(name=name[:200], notes="Added by an import.")
        session.add(outlet)
        session.flush()
        outlet_ids[name] = outlet.id


def document_values(record: DocumentRecord, drafts: Sequence[PassageDraft]) -> dict[str, Any]:
    """Column values of a document row for this record."""
    return {
        "external_id": record.external_id,
        "title": title_of(record, drafts),
        "url": record.url,
        "site": record.site,
        "published": record.published,
        "published_on": record.published_on,
        "meta": record.metadata,
        "content_hash": record.content_hash,
        "open_passages": sum(1 for d in drafts if d.claims),
    }


def _column_keys(values: dict[str, Any]) -> dict[str, Any]:
    """Attribute names -> column names, for Core inserts (``meta`` is stored as "metadata")."""
    return {("metadata" if key == "meta" else key): value for key, value in values.items()}


def title_of(record: DocumentRecord, drafts: Sequence[PassageDraft]) -> str:
    if record.title:
        return record.title
    return drafts[0].text if drafts else record.external_id


def insert_documents(
    session: Session,
    project: Project,
    records: Sequence[DocumentRecord],
    analysed: Sequence[Sequence[PassageDraft]],
    outlet_ids: dict[str, int],
) -> list[StoredDocument]:
    """Bulk-insert documents with their passages and claims."""
    rows = [
        {"project_id": project.id, **_column_keys(document_values(r, drafts))}
        for r, drafts in zip(records, analysed, strict=True)
    ]
    document_ids = _insert_ids(session, Document, rows, "project_id", "external_id")
    keep_sources(session, list(zip(document_ids, records, strict=True)))
    return insert_passages(
        session, project, list(zip(document_ids, analysed, strict=True)), outlet_ids
    )


def keep_sources(session: Session, documents: Sequence[tuple[int, DocumentRecord]]) -> None:
    """Keep what each document's analysis read (not for records restored with passages)."""
    rows = [
        {"document_id": document_id, "title": record.title, "text": record.text}
        for document_id, record in documents
        if record.passages is None
    ]
    if rows:
        session.execute(insert(DocumentSource), rows)


def insert_passages(
    session: Session,
    project: Project,
    documents: Sequence[tuple[int, Sequence[PassageDraft]]],
    outlet_ids: dict[str, int],
) -> list[StoredDocument]:
    """Bulk-insert the passages and claims of existing documents (COPY on PostgreSQL)."""
    passage_rows = [
        _passage_row(project, document_id, draft, outlet_ids)
        for document_id, drafts in documents
        for draft in drafts
    ]
    passage_ids = _insert_many(session, Passage, passage_rows, "document_id", "index")
    drafts_in_order = [draft for _, drafts in documents for draft in drafts]
    claim_rows = [
        claim_row(passage_id, index, claim, draft.text)
        for passage_id, draft in zip(passage_ids, drafts_in_order, strict=True)
        for index, claim in enumerate(draft.claims)
    ]
    claim_ids = _insert_many(session, Claim, claim_rows, "passage_id", "index")
    return _stored(documents, passage_ids, claim_ids)


IDS_PER_LOOKUP = 500
ANALYZE_AFTER_ROWS = 1000
DOCUMENT_TABLES = ("projects", "documents", "passages", "claims")


def refresh_statistics(
    session: Session, rows: int, tables: Sequence[str] = DOCUMENT_TABLES
) -> None:
    """After a large import (``rows`` written), ANALYZE the tables it wrote on PostgreSQL: with
    the statistics of a near-empty table the planner sorted all 10,000 documents for every
    "Next" (13 ms instead of 0.06 ms) until autovacuum came round. The projects table too,
    which an import of documents may have written to first: taking a never-analysed table for
    several pages of projects, the planner expected one row from a project's page of the
    export and joined it by index lookups, 13% slower (round 9). (A smaller sample, 3,000
    rows a table, took 18 ms rather than 124 ms after 29,000 passages, but the export's plans
    at 290,000 passages got a third slower: docs/benchmarks.md, round 8.) SQLite plans
    without statistics and needs nothing."""
    if rows < ANALYZE_AFTER_ROWS or session.get_bind().dialect.name != "postgresql":
        return
    session.execute(text(f"ANALYZE {', '.join(tables)}"))
    session.commit()


def _insert_many(
    session: Session, model: Any, rows: Sequence[dict[str, Any]], parent: str, key: str
) -> list[int]:
    """Insert the rows (all with the keys of the first) under ids drawn before writing, so
    that nothing has to be read back, and return the ids in row order. PostgreSQL: COPY, ids
    from the table's sequence (its executemany sends one INSERT per row: 29,000 passages
    and 40,000 claims took 6.1 s, COPY 1.5 s). SQLite: the driver's executemany of plain
    tuples, ids after the table's largest, which no other writer can take while the import
    holds the database's write lock (``db.begin_write``); SQLAlchemy's executemany and the
    read-back took a third of a 290,000-passage import's storing (docs/benchmarks.md).
    ``parent`` and ``key``, unique together, serve the generic path (``_insert_ids``)."""
    if not rows:
        return []
    if _uses_copy(session):
        return _copy_ids(session, model.__table__, rows)
    if session.get_bind().dialect.name == "sqlite":
        return _insert_after_largest_id(session, model.__table__, rows)
    return _insert_ids(session, model, rows, parent, key)


def _uses_copy(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _copy_ids(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> list[int]:
    """PostgreSQL: COPY the rows under ids taken from the table's sequence first. Runs on the
    session's connection, inside its transaction."""
    connection = session.connection()
    ids = _next_ids(connection, table, len(rows))
    _copy(connection, table, *_values_with_ids(table, rows, ids))
    return ids


def insert_rows(session: Session, model: Any, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows whose ids nobody reads back (all with the keys of the first), the ids from
    the column's default: COPY on PostgreSQL, the driver's executemany on SQLite. For the
    120,000 labels and 80,000 reviews that new versions of 1,000 documents carried,
    SQLAlchemy's executemany took 8.1 s on PostgreSQL, and on SQLite half a profile's time
    more than the driver's (docs/benchmarks.md, round 27)."""
    if not rows:
        return
    table = model.__table__
    names, values = _values_with_defaults(table, rows)
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        _copy(session.connection(), table, names, values)
    elif dialect == "sqlite":
        _insert_by_driver(session.connection(), table, names, values)
    else:
        session.execute(insert(model), list(rows))


def _copy(
    connection: Connection, table: Table, names: Sequence[str], values: Iterable[tuple[Any, ...]]
) -> None:
    quote = connection.dialect.identifier_preparer.quote
    columns = ", ".join(quote(name) for name in names)
    statement = f"COPY {quote(table.name)} ({columns}) FROM STDIN"
    driver: Any = connection.connection.driver_connection
    with (
        _as_sqlalchemy_errors(connection, statement),
        driver.cursor() as cursor,
        cursor.copy(statement) as copy,
    ):
        for row in values:
            copy.write_row(row)


def _insert_after_largest_id(
    session: Session, table: Table, rows: Sequence[dict[str, Any]]
) -> list[int]:
    """SQLite, inside a write transaction: the rows under the ids SQLite would give them,
    written by the driver's executemany. Those follow the largest id stored or, for a table
    that never reuses an id (AUTOINCREMENT), the largest it ever gave."""
    connection = session.connection()
    first = _largest_id_given(connection, table) + 1
    ids = list(range(first, first + len(rows)))
    _insert_by_driver(connection, table, *_values_with_ids(table, rows, ids))
    return ids


def _insert_by_driver(
    connection: Connection, table: Table, names: Sequence[str], values: list[tuple[Any, ...]]
) -> None:
    """SQLite: one executemany of plain tuples, each value converted as SQLAlchemy would
    (its column type's bind processor: datetimes to SQLAlchemy's text form, for one)."""
    dialect = connection.dialect
    processors = [
        (position, processor)
        for position, name in enumerate(names)
        if (processor := table.c[name].type.dialect_impl(dialect).bind_processor(dialect))
    ]
    if processors:
        values = [_processed(row, processors) for row in values]
    quote = dialect.identifier_preparer.quote
    columns = ", ".join(quote(name) for name in names)
    placeholders = ", ".join("?" * len(names))
    # quoted names of our own table and columns; the values go as parameters
    statement = f"INSERT INTO {quote(table.name)} ({columns}) VALUES ({placeholders})"  # noqa: S608
    connection.exec_driver_sql(statement, values)


def _processed(
    row: tuple[Any, ...], processors: Sequence[tuple[int, Callable[[Any], Any]]]
) -> tuple[Any, ...]:
    converted = list(row)
    for position, processor in processors:
        converted[position] = processor(converted[position])
    return tuple(converted)


def _largest_id_given(connection: Connection, table: Table) -> int:
    largest = connection.scalar(select(func.max(table.c.id))) or 0
    if not table.dialect_options["sqlite"]["autoincrement"]:
        return largest
    given = connection.scalar(
        text("SELECT seq FROM sqlite_sequence WHERE name = :table"), {"table": table.name}
    )
    return max(largest, given or 0)


def _values_with_ids(
    table: Table, rows: Sequence[dict[str, Any]], ids: Sequence[int]
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The column names and each row's values under its id (see ``_values_with_defaults``)."""
    names, values = _values_with_defaults(table, rows)
    return ["id", *names], [(row_id, *row) for row_id, row in zip(ids, values, strict=True)]


def _values_with_defaults(
    table: Table, rows: Sequence[dict[str, Any]]
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The column names and each row's values, for the driver: the rows all have the keys of
    the first, and the Python-side defaults that insert() would add are filled in (COPY and
    the driver know only the server's)."""
    defaults = _scalar_defaults(table, rows[0])
    values = itemgetter(*rows[0])  # rows have several keys: a tuple of values
    extra = tuple(defaults.values())
    return [*rows[0], *defaults], [(*values(row), *extra) for row in rows]


def _next_ids(connection: Connection, table: Table, count: int) -> list[int]:
    """``count`` new ids from the sequence of ``table.id``, ascending. The sequence is named
    as a parameter: pg_get_serial_sequence() inside the query ran once per row (5x slower)."""
    sequence = connection.scalar(
        text("SELECT pg_get_serial_sequence(:table, 'id')"), {"table": table.name}
    )
    query = text(
        "SELECT ARRAY(SELECT nextval(CAST(:sequence AS regclass)) FROM generate_series(1, :count))"
    )
    return sorted(connection.scalar(query, {"sequence": sequence, "count": count}))


def _scalar_defaults(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    """The column defaults that insert() would fill in for the columns the row leaves out.
    A function's (``utcnow``) is called once for all the rows, one moment as for one
    statement."""
    defaults = {}
    for column in table.columns:
        if column.primary_key or column.name in row or column.default is None:
            continue
        if isinstance(column.default, ScalarElementColumnDefault):
            defaults[column.name] = column.default.arg
        elif isinstance(column.default, CallableColumnDefault):
            # our defaults take no arguments; SQLAlchemy's wrapper ignores the context
            defaults[column.name] = column.default.arg(None)  # type: ignore[arg-type]
        else:
            raise ValueError(f"COPY cannot compute the default of {table.name}.{column.name}")
    return defaults


@contextmanager
def _as_sqlalchemy_errors(connection: Connection, statement: str) -> Iterator[None]:
    """Raise the driver's errors as SQLAlchemy raises them for its own statements (the error
    pages tell an unavailable database by them), invalidating a lost connection."""
    driver_error = connection.dialect.loaded_dbapi.Error
    try:
        yield
    except driver_error as exc:
        lost = connection.dialect.is_disconnect(exc, connection.connection, None)
        if lost:
            connection.invalidate(exc)
        raise DBAPIError.instance(
            statement,
            None,
            exc,
            driver_error,
            connection_invalidated=lost,
            dialect=connection.dialect,
        ) from exc


def _insert_ids(
    session: Session, model: Any, rows: Sequence[dict[str, Any]], parent: str, key: str
) -> list[int]:
    """Insert the rows (one executemany) and return their ids in row order, read back by the
    unique (parent, key) pair. INSERT .. RETURNING with sort_by_parameter_order runs one
    statement per row on SQLite (no sentinel column) and SQLAlchemy 2.1 splices those results
    in quadratic time: 29,000 passages took 5.8 s instead of 1.9 s (docs/benchmarks.md)."""
    if not rows:
        return []
    table = model.__table__
    session.execute(insert(table), list(rows))
    parents = sorted({row[parent] for row in rows})
    keys = sorted({row[key] for row in rows})
    found: dict[tuple[Any, Any], int] = {}
    for start in range(0, len(parents), IDS_PER_LOOKUP):
        query = select(table.c.id, table.c[parent], table.c[key]).where(
            table.c[parent].in_(parents[start : start + IDS_PER_LOOKUP]), table.c[key].in_(keys)
        )
        found.update({(p, k): i for i, p, k in session.execute(query)})
    return [found[row[parent], row[key]] for row in rows]


def _passage_row(
    project: Project, document_id: int, draft: PassageDraft, outlet_ids: dict[str, int]
) -> dict[str, Any]:
    return {
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


def claim_row(passage_id: int, index: int, claim: ClaimDraft, passage_text: str) -> dict[str, Any]:
    text = passage_text[claim.start : claim.end]
    return {
        "passage_id": passage_id,
        "index": index,
        "start": claim.start,
        "end": claim.end,
        "text": text,
        "suggested_label": claim.label,
        "suggestion_reason": claim.reason,
        "csv_form": int(csv_form_of(text)),
    }


def _stored(
    documents: Sequence[tuple[int, Sequence[PassageDraft]]],
    passage_ids: list[int],
    claim_ids: list[int],
) -> list[StoredDocument]:
    """Split the flat id lists back per document and passage."""
    stored = []
    passages_iter, claims_iter = iter(passage_ids), iter(claim_ids)
    for document_id, drafts in documents:
        own_passages = [next(passages_iter) for _ in drafts]
        own_claims = [[next(claims_iter) for _ in draft.claims] for draft in drafts]
        stored.append(StoredDocument(document_id, own_passages, own_claims))
    return stored
