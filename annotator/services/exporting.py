"""Streaming exports: CSV (one row per claim and reviewer) and nested JSONL (one document a line).

Rows come from one ordered query read a page of documents at a time, each page in its own
short read transaction, so memory stays flat however large the export is. The CSV rows are
written by the database itself (see ``iter_csv``).
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import groupby
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    case,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.compiler import SQLCompiler

from annotator.db import end_read, engine_of
from annotator.models import (
    Annotation,
    Claim,
    CsvForm,
    Document,
    FinalLabel,
    Label,
    Outlet,
    OutletCorrection,
    Passage,
    PassageRole,
    Project,
    Review,
    ReviewStatus,
    Suggestion,
    User,
)
from annotator.services.scope import EVERY_DOCUMENT, DocumentScope
from annotator.services.suggestions import for_claims
from annotator.text.loaded_terms import find_terms, watched_terms

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
CSV_SPECIAL_CHARACTERS = (",", '"', "\n", "\r")  # a cell holding one is quoted
SQLITE_FORMULA_GLOB = "[-=+@\t\r]*"  # "-" first: a literal, not a range
_D = "[0-9]"  # SQLAlchemy's text form of a DateTime on SQLite:
SQLITE_TIMESTAMP_GLOB = f"{_D * 4}-{_D * 2}-{_D * 2} {_D * 2}:{_D * 2}:{_D * 2}.{_D * 6}"
SQLITE_ISOFORMAT = "annotator_isoformat"
DOCUMENTS_PER_PAGE = 250
# Pages of the CSV export written at the same time, each by its own connection: the database
# does nearly all the work, and so uses a second core (x1.5 on PostgreSQL; on SQLite x1.6,
# with its memory statistics off: see sqlite_setup).
CSV_PAGES_AT_ONCE = 2
# Pages asked for before the reader takes the first: a written page waits for the reader,
# rather than a core for the next page (x1.07 over CSV_PAGES_AT_ONCE; each page is ~2 MB).
CSV_PAGES_QUEUED = 2 * CSV_PAGES_AT_ONCE


def csv_writer() -> tuple[io.StringIO, Any]:
    """A buffer and a CSV writer on it (RFC 4180, CRLF), to stream CSV text a batch at a time
    (``drain``)."""
    buffer = io.StringIO()
    return buffer, csv.writer(buffer, lineterminator="\r\n")


def drain(buffer: io.StringIO) -> str:
    """What the buffer holds, leaving it empty for the next batch."""
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def neutralise_cell(value: str) -> str:
    """Stop spreadsheets from running a cell as a formula (OWASP CSV injection advice)."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def csv_form_of(text: str) -> CsvForm:
    """How a claim with this text is written in the CSV export (stored with the claim)."""
    if not text or text.startswith(FORMULA_PREFIXES):
        return CsvForm.CHECKED
    if any(character in text for character in CSV_SPECIAL_CHARACTERS):
        return CsvForm.QUOTED
    return CsvForm.AS_IS


NO_OUTLET = "none"


@dataclass(frozen=True)
class ExportFilter:
    """Which rows (claim x reviewer entry) an export holds. ``outlet`` is the detected outlet's
    name (``"none"``: passages citing none), ``role`` the passage role, ``label`` and
    ``reviewer`` select reviewers' entries, ``since``/``until`` (inclusive dates, UTC) the day
    the entry was last saved, ``settled_only`` claims with a final label. A filter on entries
    leaves out claims without a matching entry, also from the per-claim formats. ``documents``
    keeps the documents of one citing site and publication period: it chooses the pages of
    documents, so it costs nothing per row."""

    project: str | None = None
    all_claims: bool = False
    outlet: str | None = None
    role: str | None = None
    label: str | None = None
    reviewer: str | None = None
    since: date | None = None
    until: date | None = None
    settled_only: bool = False
    documents: DocumentScope = EVERY_DOCUMENT


def _entries(dialect: str, project: str | None) -> Any:
    """Each reviewer's entry on a claim: an annotation, or a skip of the claim's passage. Read
    for the page's passages (``_limits_entries``), or else for the project filtered on: other
    projects' labels are not the export's business."""
    annotated = select(
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
        .where(Review.status == _sql(ReviewStatus.SKIPPED))
    )
    if _limits_entries(dialect):  # through the claims: annotations do not name the passage
        annotated = annotated.join(Claim, Claim.id == Annotation.claim_id).where(
            _passages_on_page(Claim.passage_id)
        )
        skipped = skipped.where(_passages_on_page(Review.passage_id))
    elif project:  # by id: PostgreSQL's estimate for one project by name was "half the labels"
        annotated = annotated.where(Annotation.project_id == bindparam("project_id"))
        skipped = skipped.where(Review.project_id == bindparam("project_id"))
    return union_all(annotated, skipped).subquery("entries")


def _limits_entries(dialect: str) -> bool:
    """Whether the entries are read for the page's passages only. SQLite builds the union
    anew for every page, so it must be. PostgreSQL hashes it once a page; limited, its row
    estimates got so small that it compared every claim with every entry of the page."""
    return dialect == "sqlite"


def _on_page(document_id: Any) -> Any:
    """The page's documents: ids from ``first_document`` to ``last_document`` (bound per page,
    see ``_page_bounds``). Other projects' documents in that range are left out by the project
    filter."""
    return document_id.between(bindparam("first_document"), bindparam("last_document"))


def _passages_on_page(passage_id: Any) -> Any:
    """At least the passages of the page's documents (the range of their ids); others in the
    range match no claim of the page."""
    return passage_id.between(bindparam("first_passage"), bindparam("last_passage"))


@dataclass(frozen=True)
class _ClaimTables:
    """The aliased tables of the claim-row join, shared by its column lists and filters."""

    detected: Any
    corrected: Any
    entries: Any

    @classmethod
    def new(cls, dialect: str, project: str | None) -> _ClaimTables:
        return cls(aliased(Outlet), aliased(Outlet), _entries(dialect, project))


def _passage_columns(detected: Any) -> list[Any]:
    """The document's and the passage's columns of an export row (``detected``: the outlet
    table joined as the passage's)."""
    return [
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
    ]


def _claim_rows_query(export_filter: ExportFilter, dialect: str) -> Select[Any]:
    """One row per claim and reviewer entry with everything the exports need."""
    tables = _ClaimTables.new(dialect, export_filter.project)
    detected, corrected, entries = tables.detected, tables.corrected, tables.entries
    columns = select(
        *_passage_columns(detected),
        Claim.id.label("claim_pk"),
        Claim.index.label("claim_index"),
        Claim.start,
        Claim.end,
        Claim.text.label("claim_text"),
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
    return _from_claims(columns, tables, export_filter)


def _from_claims(columns: Select[Any], tables: _ClaimTables, f: ExportFilter) -> Select[Any]:
    """The join behind every export row (claim x reviewer entry), in export order, filtered."""
    detected, corrected, entries = tables.detected, tables.corrected, tables.entries
    query = (
        columns.select_from(Claim)
        .join(Passage, Passage.id == Claim.passage_id)
        .join(Document, Document.id == Passage.document_id)
        .join(Project, Project.id == Document.project_id)
        .outerjoin(detected, detected.id == Passage.outlet_id)
        .join(entries, entries.c.claim_id == Claim.id, isouter=f.all_claims)
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
        .where(_on_page(Document.id))
        .order_by(Document.id, Passage.index, Claim.index, User.username)
    )
    if f.project:
        query = query.where(Project.name == f.project)
    # A page spans the ids from its first document to its last: the documents between them
    # that the scope leaves out are left out here.
    return _filtered(query.where(*f.documents.conditions()), f, detected, entries)


def _on_passages(f: ExportFilter, detected: Any) -> list[ColumnElement[bool]]:
    """The filters on the passage: its outlet (``detected``: the outlet table joined as the
    passage's) and role."""
    kept = []
    if f.outlet is not None:
        outlet = f.outlet.strip().lower()
        kept.append(
            _cites_no_outlet() if outlet == NO_OUTLET else func.lower(detected.name) == outlet
        )
    if f.role:
        kept.append(Passage.role == f.role)
    return kept


def _filtered(query: Select[Any], f: ExportFilter, detected: Any, entries: Any) -> Select[Any]:
    """The optional filters, each a WHERE on the claim rows."""
    query = query.where(*_on_passages(f, detected))
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


def _cites_no_outlet() -> ColumnElement[bool]:
    """Passages citing no outlet, in a form no index answers. As ``outlet_id IS NULL``,
    SQLite looked up every passage without an outlet in the database through the outlet
    index, on every page: 126 s for the filtered export at 290,000 passages, against 1.5 s
    for the whole one (docs/benchmarks.md, round 16). Outlet ids start at 1."""
    return func.coalesce(Passage.outlet_id, 0) == 0


# The CSV export has the database write the rows' text, so that no Python runs per row (about
# a third of the work per row of SQLAlchemy rows + csv_record + the csv module). PostgreSQL's
# COPY writes the CSV from the cells; on SQLite the query quotes the cells and joins them into
# lines itself. Both give the bytes of csv_record written by Python's csv module
# (QUOTE_MINIMAL, CRLF line ends), which tests/integration/test_export_csv_sql.py checks.


def _csv_query(export_filter: ExportFilter, dialect: Dialect) -> Select[Any]:
    """The CSV rows of a page: the cells for COPY on PostgreSQL, each row's line on SQLite."""
    postgresql = dialect.name == "postgresql"
    text, word = (_copy_text, _copy_word) if postgresql else (_sqlite_text, _sqlite_word)
    tables = _ClaimTables.new(dialect.name, export_filter.project)
    documents = _document_cells(text, dialect)
    outlets = _OutletCells.new(tables, text, dialect)
    cells = _csv_cells(tables, documents, outlets, dialect.name, text=text, word=word)
    if postgresql:
        columns = select(*cells)
    else:
        template = ",".join(["%s"] * len(cells)) + "\r\n"  # printf writes NULL as ""
        columns = select(func.printf(_sql(template), *cells))
    query = _from_claims(columns, tables, export_filter)
    return outlets.joined(query.join(documents, documents.c.id == Document.id))


@dataclass(frozen=True)
class _OutletCells:
    """The detected and the corrected outlet's names as cells. On SQLite every outlet's cell
    is written once per page (a registry holds hundreds of outlets, a page thousands of rows
    citing them: 13% of the query's time) and looked up through an automatic index. Not on
    PostgreSQL: misjudging a page's rows, its planner scanned the whole list of outlets for
    every row (x1.6 at N=10,000), so each row writes its cells itself."""

    detected: ColumnElement[Any]
    corrected: ColumnElement[Any]
    aliases: tuple[Any, Any] | None = None  # the CTE as the detected and the corrected outlet

    @classmethod
    def new(
        cls, tables: _ClaimTables, text: Callable[[Any], ColumnElement[Any]], dialect: Dialect
    ) -> _OutletCells:
        if dialect.name == "postgresql":
            return cls(text(tables.detected.name), text(tables.corrected.name))
        cells = select(Outlet.id, text(Outlet.name).label("cell")).cte("outlet_cells")
        outlets = _materialized(cells, dialect)
        detected, corrected = outlets.alias("detected_cells"), outlets.alias("corrected_cells")
        return cls(detected.c.cell, corrected.c.cell, (detected, corrected))

    def joined(self, query: Select[Any]) -> Select[Any]:
        if self.aliases is None:
            return query
        detected, corrected = self.aliases
        return query.outerjoin(detected, detected.c.id == Passage.outlet_id).outerjoin(
            corrected, corrected.c.id == OutletCorrection.outlet_id
        )


def _document_cells(text: Callable[[Any], ColumnElement[Any]], dialect: Dialect) -> Any:
    """The cells of the page's documents and their projects, written once per document rather
    than on each of its dozens of rows."""
    cells = (
        select(
            Document.id,
            text(Document.external_id).label("external_id"),
            text(Document.title).label("title"),
            text(Document.url).label("url"),
            text(Project.name).label("project"),
        )
        .join(Project, Project.id == Document.project_id)
        .where(_on_page(Document.id))
        .cte("document_cells")
    )
    return _materialized(cells, dialect)


def _materialized(cte: Any, dialect: Dialect) -> Any:
    """The CTE computed once (inlined, its cells would be written per row again). SQLite
    learnt MATERIALIZED in 3.35; older versions get the same output a little slower."""
    if dialect.name == "sqlite" and getattr(dialect.dbapi, "sqlite_version_info", ()) < (3, 35):
        return cte
    return cte.prefix_with("MATERIALIZED")


def _csv_cells(
    tables: _ClaimTables,
    documents: Any,
    outlets: _OutletCells,
    dialect: str,
    *,
    text: Callable[[Any], ColumnElement[Any]],
    word: Callable[[Any, Iterable[str]], ColumnElement[Any]],
) -> list[Any]:
    """CSV_COLUMNS in SQL with ``csv_record``'s rules. ``text`` writes a cell that can hold
    user text (neutralised), ``word`` a label or role; missing values are NULL. The document
    cells come written from ``documents``, the outlets' from ``outlets``."""
    entries = tables.entries
    reviewed = User.username.is_not(None)
    outlet = case((OutletCorrection.id.is_not(None), outlets.corrected), else_=outlets.detected)
    return [
        documents.c.external_id,
        documents.c.title,
        documents.c.url,
        Passage.index,
        word(Passage.role, PassageRole),
        outlet,
        text(Passage.cue),
        Claim.index,
        Claim.start,
        Claim.end,
        _claim_text_cell(Claim.text, dialect, text),
        word(Claim.suggested_label, Label),
        word(entries.c.label, Label),
        text(User.username),
        _iso_timestamp(entries.c.updated_at, dialect),
        documents.c.project,
        case((~reviewed, null()), (entries.c.unsure, _sql("yes")), else_=_sql("no")),
        text(entries.c.note),
        case((~reviewed, null()), (entries.c.skipped, _sql("yes")), else_=_sql("no")),
        text(entries.c.skip_reason),
        word(FinalLabel.label, Label),
        outlets.detected,
    ]


def _claim_text_cell(
    claim_text: ColumnElement[Any], dialect: str, text: Callable[[Any], ColumnElement[Any]]
) -> ColumnElement[Any]:
    """The claim's text as its stored ``csv_form`` says; only CHECKED claims are tested here
    (testing every claim's text was half of the SQLite export's time per row)."""
    if dialect == "postgresql":  # COPY quotes
        return case((Claim.csv_form == _sql(CsvForm.CHECKED), text(claim_text)), else_=claim_text)
    return case(
        (Claim.csv_form == _sql(CsvForm.AS_IS), claim_text),
        (Claim.csv_form == _sql(CsvForm.QUOTED), func.printf(_sql('"%w"'), claim_text)),
        else_=text(claim_text),
    )


def _sql(value: str | int) -> ColumnElement[Any]:
    """A constant written into the statement rather than bound: the CSV query has dozens, and
    COPY's parameters are merged into the statement's text by psycopg."""
    if isinstance(value, int):
        return literal_column(str(int(value)), Integer)
    return literal_column("'" + value.replace("'", "''") + "'", String)


_FORMULA_CODES_SQL = [_sql(ord(prefix)) for prefix in FORMULA_PREFIXES]


def _copy_text(value: ColumnElement[Any]) -> ColumnElement[Any]:
    """``_safe`` in SQL, for COPY. The first character's code is compared, not the character:
    ``substr`` made a string for every cell and compared it by collation (5% of PostgreSQL's
    time for a page; docs/benchmarks.md, round 9)."""
    formula = func.ascii(value).in_(_FORMULA_CODES_SQL)
    return _empty_as_null(case((formula, _sql("'") + value), else_=value))


def _copy_word(value: ColumnElement[Any], words: Iterable[str]) -> ColumnElement[Any]:
    """A label or role for COPY, which does the quoting whatever the word."""
    return _empty_as_null(value)


def _empty_as_null(value: ColumnElement[Any]) -> ColumnElement[Any]:
    """COPY quotes an empty string (it would read back as NULL otherwise); the csv module
    writes it bare, as COPY writes NULL."""
    return func.nullif(value, _sql(""))


def _sqlite_text(value: ColumnElement[Any]) -> ColumnElement[Any]:
    """``_safe`` and the csv module's quoting in one: printf's %w doubles the quotes. NULL
    comes first as most cells are empty, and each check below would call a function on it."""
    formula = value.op("GLOB")(_sql(SQLITE_FORMULA_GLOB))
    quoted = case(
        (formula, func.printf(_sql('"\'%w"'), value)), else_=func.printf(_sql('"%w"'), value)
    )
    return case(
        (value.is_(None), null()),
        (_sqlite_needs_quotes(value), quoted),
        (formula, _sql("'") + value),
        else_=value,
    )


def _sqlite_word(value: ColumnElement[Any], words: Iterable[str]) -> ColumnElement[Any]:
    """A label or role: quoted if need be, never neutralised (as in ``csv_record``). The
    column's ``words``, which need no quotes, are recognised first: comparing is cheaper
    than searching for the four special characters."""
    known = [(value == _sql(str(word)), _sql(str(word))) for word in words]
    quoted = func.printf(_sql('"%w"'), value)
    return case(
        (value.is_(None), null()), *known, (_sqlite_needs_quotes(value), quoted), else_=value
    )


def _sqlite_needs_quotes(value: ColumnElement[Any]) -> ColumnElement[bool]:
    """QUOTE_MINIMAL: the delimiter, the quote character or a line end. Four instr() calls
    cost less than one GLOB '*[...]*'."""
    return or_(*(func.instr(value, _sql(char)) > _sql(0) for char in CSV_SPECIAL_CHARACTERS))


def _iso_timestamp(value: ColumnElement[Any], dialect: str) -> ColumnElement[Any]:
    """``isoformat()`` of the datetime SQLAlchemy would return for the value, as text."""
    if dialect == "postgresql":
        # psycopg returns timestamptz in the session's time zone, which to_char writes
        micro = func.to_char(value, _sql("US"))
        fraction = case((micro == _sql("000000"), _sql("")), else_=_sql(".") + micro)
        date_time = func.to_char(value, _sql('YYYY-MM-DD"T"HH24:MI:SS'))
        return date_time + fraction + func.to_char(value, _sql("TZH:TZM"))
    # SQLAlchemy stores "YYYY-MM-DD HH:MM:SS.ffffff" on SQLite; isoformat() leaves out a zero
    # fraction. Anything else goes through SQLAlchemy's own parsing (see _sqlite_isoformat).
    day, clock = func.substr(value, _sql(1), _sql(10)), func.substr(value, _sql(12), _sql(8))
    given = func.substr(value, _sql(20))
    iso = day + _sql("T") + clock + case((given == _sql(".000000"), _sql("")), else_=given)
    return case(
        (value.is_(None), null()),
        (value.op("GLOB")(_sql(SQLITE_TIMESTAMP_GLOB)), iso),
        else_=getattr(func, SQLITE_ISOFORMAT)(value),
    )


def _sqlite_isoformat(value: str) -> str:
    return datetime.fromisoformat(value).isoformat()


@dataclass(frozen=True)
class _DriverStatement:
    """A statement compiled once and run on the driver's own cursor (no result rows built by
    SQLAlchemy), with SQLAlchemy's conversion of the parameters (e.g. dates on SQLite)."""

    compiled: SQLCompiler
    dialect: Dialect

    @classmethod
    def of(cls, statement: Select[Any], dialect: Dialect) -> _DriverStatement:
        return cls(statement.compile(dialect=dialect), dialect)

    @property
    def sql(self) -> str:
        return str(self.compiled)

    def parameters(self, values: dict[str, Any]) -> Any:
        params = dict(self.compiled.construct_params(values))
        for name, bind in self.compiled.binds.items():
            process = bind.type.dialect_impl(self.dialect).bind_processor(self.dialect)
            if process is not None and params.get(name) is not None:
                params[name] = process(params[name])
        if self.compiled.positiontup is None:
            return params
        return tuple(params[name] for name in self.compiled.positiontup)


def _csv_page(session: Session, statement: _DriverStatement, page: _Page) -> bytes:
    """The CSV lines of a page of documents in UTF-8, read in the session's transaction
    (SQLite gets the fallback for odd timestamps registered on its connection first)."""
    params = statement.parameters(_page_bounds(session, page))
    _one_process_per_page(session)
    connection = session.connection().connection
    cursor = connection.cursor()
    try:
        if statement.dialect.name == "postgresql":
            return _copy_csv(cursor, statement.sql, params)
        connection.dbapi_connection.create_function(  # type: ignore[union-attr]
            SQLITE_ISOFORMAT, 1, _sqlite_isoformat, deterministic=True
        )
        cursor.execute(statement.sql, params)
        return "".join([line for (line,) in cursor.fetchall()]).encode()
    finally:
        cursor.close()


def _copy_csv(cursor: Any, sql: str, params: Any) -> bytes:
    """COPY's CSV with CRLF line ends, in UTF-8. PostgreSQL sends each row as one message
    ending in LF; LFs inside quoted cells are data and stay. The bytes go out as they came
    when the connection speaks UTF-8 (decoding and encoding them again was 6-10% of an
    export, docs/benchmarks.md)."""
    data = bytearray()
    with cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)", params) as copy:
        for row in copy:
            data += row[:-1]
            data += b"\r\n"
    encoding = codecs.lookup(cursor.connection.info.encoding).name
    return bytes(data) if encoding == "utf-8" else data.decode(encoding).encode()


def _stream(session: Session, export_filter: ExportFilter) -> Iterator[Any]:
    """Rows a page of documents at a time (see ``iter_pages``)."""
    for rows, _ in iter_pages(session, export_filter):
        yield from rows


def iter_pages(
    session: Session,
    export_filter: ExportFilter,
    *,
    suggestions: bool = False,
    claimless: bool = False,
) -> Iterator[tuple[Sequence[Any], dict[int, list[Suggestion]]]]:
    """Rows a page of documents at a time (see ``_document_pages``). With ``suggestions`` each
    page comes with the outside suggestions of its claims, by claim id. With ``claimless``
    the passages without claims (a lead-in such as "Reuters reports:") come too, as one row
    each whose claim is None, in their place, unless the filter selects reviewers' labels:
    a passage without claims has none."""
    query = _claim_rows_query(export_filter, session.get_bind().dialect.name)
    with_claimless = claimless and not _selects_entries(export_filter)
    for page in _document_pages(session, export_filter):
        _one_process_per_page(session)
        rows = session.execute(query, _page_bounds(session, page)).all()
        extra = for_claims(session, sorted({r.claim_pk for r in rows})) if suggestions else {}
        if with_claimless:
            others = session.execute(_claimless_query(export_filter, page)).all()
            rows = sorted([*rows, *others], key=lambda r: (r.doc_pk, r.passage_index))
        end_read(session)
        yield rows, extra


def _selects_entries(f: ExportFilter) -> bool:
    return bool(f.label or f.reviewer or f.since or f.until or f.settled_only)


def _claimless_query(f: ExportFilter, page: _Page) -> Select[Any]:
    """The page's passages without claims, as rows shaped like ``_claim_rows_query``'s for
    what a passage needs (the claim's columns None), within the passage filters."""
    detected = aliased(Outlet)
    query = (
        select(
            *_passage_columns(detected),
            null().label("claim_pk"),
            null().label("claim_index"),
            null().label("skipped"),
        )
        .select_from(Passage)
        .join(Document, Document.id == Passage.document_id)
        .join(Project, Project.id == Document.project_id)
        .outerjoin(detected, detected.id == Passage.outlet_id)
        .where(Document.id.in_(page.document_ids), Passage.claim_count == 0)
        .where(*f.documents.conditions(), *_on_passages(f, detected))
    )
    if f.project:
        query = query.where(Project.name == f.project)
    return query


def _one_process_per_page(session: Session) -> None:
    """No parallel workers for the query of a page, on PostgreSQL (until its transaction
    ends). The CSV export already reads two pages at once, one per core; at 290,000 passages
    the planner gave each page a parallel scan of every passage, three processes per page
    where index lookups of the page's passages were quicker alone (docs/benchmarks.md, round
    9)."""
    if session.get_bind().dialect.name == "postgresql":
        session.connection().exec_driver_sql("SET LOCAL max_parallel_workers_per_gather = 0")


@dataclass(frozen=True)
class _Page:
    """A page of documents: their ids in order, and the project of the first (of them all
    when the export is of one project)."""

    document_ids: list[int]
    project_id: int


def _page_bounds(session: Session, page: _Page) -> dict[str, int]:
    """The bound parameters of a page: its first and last document id, its project, and
    where the entries are limited to the page (``_limits_entries``), the range of its
    passages' ids."""
    first, last = page.document_ids[0], page.document_ids[-1]
    bounds = {"first_document": first, "last_document": last, "project_id": page.project_id}
    if _limits_entries(session.get_bind().dialect.name):
        first_passage, last_passage = session.execute(
            select(func.min(Passage.id), func.max(Passage.id)).where(
                Passage.document_id.between(first, last)
            )
        ).one()
        bounds.update(first_passage=first_passage or 0, last_passage=last_passage or 0)
    return bounds


def _document_pages(session: Session, export_filter: ExportFilter) -> Iterator[_Page]:
    """The next DOCUMENTS_PER_PAGE documents, page after page. The caller reads a page and
    ends the read transaction (rollback) before asking for the next, so an export neither
    holds a connection between pages nor keeps an old snapshot open (and a client that goes
    away mid-download leaves nothing locked)."""
    last_id = 0
    while True:
        rows = session.execute(
            _document_ids_query(export_filter)
            .where(Document.id > last_id)
            .order_by(Document.id)
            .limit(DOCUMENTS_PER_PAGE)
        ).all()
        if not rows:
            end_read(session)
            return
        yield _Page([document_id for document_id, _ in rows], rows[0].project_id)
        last_id = rows[-1].id


def _document_ids_query(export_filter: ExportFilter) -> Select[int, int]:
    query = select(Document.id, Document.project_id).where(*export_filter.documents.conditions())
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
    """One CSV row from a claim row, in Python: the wide CSV's cells, and the reference that
    the SQL of ``iter_csv`` follows. Only cells that can hold user text are neutralised: the
    numbers, dates, labels and yes/no flags never start with a formula character."""
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
        _safe(row.claim_text),
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
    """``neutralise_cell`` with a set lookup: ``csv_record`` calls it ten times a row."""
    return "'" + value if value and value[0] in _FORMULA_FIRST else value


def iter_csv(session: Session, export_filter: ExportFilter) -> Iterator[bytes]:
    """CSV in UTF-8 chunks (RFC 4180, CRLF line ends): the header, then a chunk per page of
    documents, each read in its own short transaction (see ``_document_pages``)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(CSV_COLUMNS)
    yield buffer.getvalue().encode()
    statement = _csv_statement(export_filter, session.get_bind().dialect)
    engine = _engine_for_parallel_pages(session)
    if engine is None:
        for page in _document_pages(session, export_filter):
            text = _csv_page(session, statement, page)
            end_read(session)
            if text:
                yield text
        return
    for text in _csv_pages_at_once(session, engine, statement, export_filter):
        if text:
            yield text


@lru_cache(maxsize=64)
def _csv_statement(export_filter: ExportFilter, dialect: Dialect) -> _DriverStatement:
    """The CSV query of a filter, compiled once: building and compiling its 22 cells took
    25 ms, an eighth of a 40,000-row download (docs/benchmarks.md)."""
    return _DriverStatement.of(_csv_query(export_filter, dialect), dialect)


def _engine_for_parallel_pages(session: Session) -> Engine | None:
    """The engine when pages may be written by connections of their own: not for a session
    inside a transaction it did not begin (which others could not see), nor for an
    in-memory SQLite database (each connection would have its own)."""
    engine = engine_of(session)
    if CSV_PAGES_AT_ONCE < 2 or engine is None:
        return None
    if engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:"):
        return None
    return engine


def _csv_pages_at_once(
    session: Session, engine: Engine, statement: _DriverStatement, export_filter: ExportFilter
) -> Iterator[bytes]:
    """The pages' CSV in order, CSV_PAGES_AT_ONCE of them being written at any time,
    each in a short read transaction of its own. If the reader stops (a download cut short),
    the pages in progress are finished and their connections returned; queued ones are
    dropped and no more are started."""
    pool = ThreadPoolExecutor(CSV_PAGES_AT_ONCE)
    try:
        pending: deque[Future[bytes]] = deque()
        for page in _document_pages(session, export_filter):
            end_read(session)  # the page's ids are read
            pending.append(pool.submit(_csv_page_alone, engine, statement, page))
            if len(pending) >= CSV_PAGES_QUEUED:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _csv_page_alone(engine: Engine, statement: _DriverStatement, page: _Page) -> bytes:
    with Session(engine) as session:
        text = _csv_page(session, statement, page)
        end_read(session)
        return text


def iter_jsonl(session: Session, export_filter: ExportFilter) -> Iterator[str]:
    """One JSON document per line with its passages, claims, annotations and outside
    suggestions nested (the shape ``annotator import`` restores)."""
    nested_filter = replace(export_filter, all_claims=True)
    terms_of = {
        name: watched_terms(terms)
        for name, terms in session.execute(select(Project.name, Project.loaded_terms))
    }
    end_read(session)
    pages = iter_pages(session, nested_filter, suggestions=True, claimless=True)
    for rows, suggestions in pages:
        for _, doc_rows in groupby(rows, key=lambda r: r.doc_pk):
            document = _document_json(list(doc_rows), suggestions, terms_of)
            yield json.dumps(document, ensure_ascii=False) + "\n"


def _document_json(
    rows: Sequence[Any],
    suggestions: dict[int, list[Suggestion]],
    terms_of: dict[str, tuple[str, ...]],
) -> dict[str, Any]:
    """A document as the JSONL export writes it; ``terms_of``: each project's loaded terms."""
    first = rows[0]
    terms = terms_of.get(first.project, ())
    return {
        "id": first.external_id,
        "title": first.title,
        "url": first.url,
        "site": first.site,
        "published": first.published,
        "metadata": first.meta,
        "project": first.project,
        "passages": [
            _passage_json(list(p_rows), suggestions, terms)
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


def _passage_json(
    rows: Sequence[Any], suggestions: dict[int, list[Suggestion]], terms: tuple[str, ...]
) -> dict[str, Any]:
    first = rows[0]
    return {
        "index": first.passage_index,
        "text": first.passage_text,
        "role": first.role,
        "outlet": first.detected_outlet,
        "cue": first.cue,
        "loaded_terms": [
            {"term": hit.term, "start": hit.start, "end": hit.end}
            for hit in find_terms(first.passage_text, terms)
        ],
        "skips": _skips_json(rows),
        "claims": [
            _claim_json(list(c_rows), suggestions)
            for _, c_rows in groupby(rows, key=lambda r: r.claim_index)
        ]
        if first.claim_pk is not None
        else [],
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
        "text": first.claim_text,
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
