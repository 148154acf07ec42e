"""The CSV export is written by the database (SQL on SQLite, COPY on PostgreSQL); these tests
hold it to the Python reference: ``csv_record`` on the claim rows, written by the csv module.
Every cell that can hold user text gets hostile values: quotes, commas, line ends, formula
signs, characters outside the BMP (the SQL must see first characters as Python does), printf
directives and empty strings."""

from __future__ import annotations

import csv
import io
import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from annotator.models import (
    Annotation,
    Claim,
    CsvForm,
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
from annotator.services import exporting
from annotator.services.exporting import (
    CSV_COLUMNS,
    FORMULA_PREFIXES,
    ExportFilter,
    csv_form_of,
    csv_record,
    iter_csv,
    iter_pages,
)
from annotator.services.scope import DocumentScope

HOSTILE = [
    "=1+1",
    "+1",
    "-1",
    "@SUM(A1)",
    "\tTab first",
    "\rCR first",
    "plain",
    "comma, inside",
    'quote " inside',
    '"quoted"',
    "line\nbreak",
    "crlf\r\nend",
    "ends in CR\r",
    "it's",
    "zoë naïve",
    "😀 emoji first",
    "mid 😀 emoji, comma",
    "\u202eright-to-left",
    "  spaced  ",
    "%s %w %q %% %d",
    "back\\slash",
    "=",
    "-",
    '"',
    ",",
    "\n",
    "'already",
    "a\u00a0b",
    "é=",
]
ALPHABET = ",\"\r\n=+-@\t 'a%é😀\\"


def random_texts(count: int, seed: int = 4180) -> list[str]:
    generator = random.Random(seed)
    return [
        "".join(generator.choice(ALPHABET) for _ in range(generator.randint(1, 12)))
        for _ in range(count)
    ]


def reference_csv(session: Session, export_filter: ExportFilter) -> str:
    """The export as the Python code writes it: csv_record on the claim rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for rows, _ in iter_pages(session, export_filter):
        writer.writerows(csv_record(row) for row in rows)
    return buffer.getvalue()


def exported(session: Session, export_filter: ExportFilter) -> str:
    return b"".join(iter_csv(session, export_filter)).decode()


@pytest.fixture
def hostile_project(session: Session) -> Project:
    """Documents, passages and claims whose every text cell is hostile, with annotations,
    skips, outlet corrections and final labels."""
    values = HOSTILE + random_texts(40)
    project = Project(name='=proj, "x"\n')
    evil = Outlet(name='=Evil, "Outlet"\r\nInc')
    plain = Outlet(name="zoë-news")
    users = [User(username=name, password_hash="-") for name in ("=ann", "bob, jr", '"q"', "zoë")]
    session.add_all([project, evil, plain, *users])
    session.flush()
    moments = [
        datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC),  # a zero fraction, left out by isoformat
        datetime(2026, 3, 4, 5, 6, 7, 890, tzinfo=UTC),
        datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ]
    for number, value in enumerate(values):
        document = Document(
            project_id=project.id,
            external_id=f"{value}#{number}",
            title=value,
            url=[None, "", value][number % 3],
            content_hash=str(number),
            site=[None, "=site, x", "other"][number % 3],
            published_on=[None, date(2026, 3, 1), date(2026, 5, 1), None][number % 4],
        )
        session.add(document)
        session.flush()
        texts = [value, values[(number + 1) % len(values)], "😀 filler, 😀"]
        passage_text = " | ".join(texts)
        passage = Passage(
            project_id=project.id,
            document_id=document.id,
            index=0,
            text=passage_text,
            role=["author", "excerpt"][number % 2],
            outlet_id=[None, evil.id, plain.id][number % 3],
            cue=[None, "", value][(number + 1) % 3],
            claim_count=len(texts),
        )
        session.add(passage)
        session.flush()
        start = 0
        claims = []
        for index, claim_text in enumerate(texts):
            claims.append(
                Claim(
                    passage_id=passage.id,
                    index=index,
                    start=start,
                    end=start + len(claim_text),
                    text=claim_text,
                    suggested_label="reported",
                    suggestion_reason="",
                    # as stored by an import, or left to the export (CHECKED) for a third
                    csv_form=CsvForm.CHECKED if number % 3 == 2 else csv_form_of(claim_text),
                )
            )
            start += len(claim_text) + len(" | ")
        session.add_all(claims)
        session.flush()
        for user_number, user in enumerate(users if number % 6 else []):  # some left untagged
            moment = moments[(number + user_number) % len(moments)] + timedelta(days=number)
            if (number + user_number) % 5 == 4:
                session.add(
                    Review(
                        passage_id=passage.id,
                        document_id=document.id,
                        project_id=passage.project_id,
                        user_id=user.id,
                        status=ReviewStatus.SKIPPED,
                        reason=values[-number],
                        updated_at=moment,
                    )
                )
                continue
            for claim in claims[: 1 + (number + user_number) % 3]:
                session.add(
                    Annotation(
                        claim_id=claim.id,
                        project_id=project.id,
                        user_id=user.id,
                        label=["reported", "quoted", "editorial"][user_number % 3],
                        unsure=bool(user_number % 2),
                        note=["", value][user_number % 2],
                        created_at=moment,
                        updated_at=moment,
                    )
                )
            if (number + user_number) % 4 == 1:
                outlet_id = [None, evil.id, plain.id][user_number % 3]
                session.add(
                    OutletCorrection(passage_id=passage.id, user_id=user.id, outlet_id=outlet_id)
                )
        if number % 3 == 0:
            session.add(FinalLabel(claim_id=claims[0].id, project_id=project.id, label="quoted"))
    session.commit()
    return project


FILTERS = [
    ExportFilter(),
    ExportFilter(all_claims=True),
    ExportFilter(project='=proj, "x"\n', all_claims=True),
    ExportFilter(project="no such project", all_claims=True),
    ExportFilter(reviewer="bob, jr"),
    ExportFilter(label="quoted", all_claims=True),
    ExportFilter(outlet='=evil, "outlet"\r\ninc'),
    ExportFilter(outlet="none", all_claims=True),
    ExportFilter(role="excerpt"),
    ExportFilter(since=date(2026, 3, 20), until=date(2026, 4, 10)),
    ExportFilter(settled_only=True, all_claims=True),
    ExportFilter(documents=DocumentScope(site="=site, x", published_to=date(2026, 4, 1))),
]


@pytest.mark.parametrize("export_filter", FILTERS, ids=range(len(FILTERS)))
def test_csv_export_is_the_python_reference(session, hostile_project, export_filter):
    assert exported(session, export_filter) == reference_csv(session, export_filter)


def test_reference_covers_the_hostile_cells(session, hostile_project):
    """The comparison above is only as good as the data: every kind of cell is exercised."""
    text = exported(session, ExportFilter(all_claims=True))
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert len(rows) > 3 * len(HOSTILE)
    titles = {row["document_title"] for row in rows}
    assert {"'=1+1", "'\tTab first", "'\rCR first", "comma, inside", "line\nbreak"} <= titles
    assert "😀 emoji first" in {row["claim_text"] for row in rows}
    assert '\'=Evil, "Outlet"\r\nInc' in {row["outlet"] for row in rows}
    assert {"'=ann", "bob, jr", '"q"', "zoë"} <= {row["reviewer"] for row in rows}
    assert {"yes", "no", ""} == {row["skipped"] for row in rows}
    stamps = [row["updated_at"] for row in rows if row["updated_at"]]
    assert any(stamp[19:20] != "." for stamp in stamps), "a zero fraction, left out"
    assert any(stamp[19:26] == ".000890" for stamp in stamps)
    cells = [cell for row in rows for cell in row.values()]
    assert not [cell for cell in cells if cell.startswith(FORMULA_PREFIXES)]
    assert text.count("\r\n") >= len(rows) + 1
    assert set(session.scalars(select(Claim.csv_form).distinct())) == set(CsvForm)


def test_csv_line_ends_and_quoting_are_the_csv_modules(session, hostile_project):
    """Spot checks written out by hand, independent of csv_record."""
    text = exported(session, ExportFilter(all_claims=True))
    assert text.startswith(",".join(CSV_COLUMNS) + "\r\n")
    assert text.endswith("\r\n")
    assert ',"\'=proj, ""x""\n",' in text  # neutralised, then quoted as one cell
    assert '"\'=Evil, ""Outlet""\r\nInc"' in text
    assert ',"line\nbreak",' in text


def exported_after(session: Session, *updates: str) -> str:
    """The whole export after ``updates`` (values no import writes), held to the reference."""
    for update in updates:
        session.execute(text(update))
    session.commit()
    export_filter = ExportFilter(all_claims=True)
    result = exported(session, export_filter)
    assert result == reference_csv(session, export_filter)
    return result


def test_words_the_application_never_writes_are_still_quoted(session, hostile_project):
    """Roles and labels are recognised first as the words the application writes; anything
    else in those columns (written by other means) still gets the csv module's quoting."""
    result = exported_after(
        session,
        "UPDATE passages SET role = 'x,\"y\"' WHERE id % 2 = 0",
        "UPDATE claims SET suggested_label = 'odd\nword' WHERE id % 3 = 0",
        "UPDATE annotations SET label = 'a,b' WHERE id % 4 = 0",
        "UPDATE final_labels SET label = ''",
    )
    assert ',"x,""y""",' in result
    assert ',"odd\nword",' in result
    assert ',"a,b",' in result


def test_timestamps_stored_another_way_on_sqlite(session, hostile_project):
    """SQLAlchemy writes "YYYY-MM-DD HH:MM:SS.ffffff" on SQLite; a value stored some other way
    is still written as the datetime SQLAlchemy reads from it."""
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("SQLite stores timestamps as text")
    result = exported_after(
        session,
        "UPDATE annotations SET updated_at = '2026-05-06T07:08:09+02:00'",
        "UPDATE reviews SET updated_at = '2026-05-06 07:08:09'",
    )
    assert "2026-05-06T07:08:09+02:00" in result
    assert ",2026-05-06T07:08:09," in result


def test_timestamps_in_the_session_time_zone_on_postgresql(session, hostile_project):
    """psycopg returns timestamptz in the connection's time zone, as to_char writes them."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    connection = session.get_bind()
    connection.exec_driver_sql("SET TIME ZONE 'America/St_Johns'")  # -03:30 / -02:30
    try:
        export_filter = ExportFilter(reviewer="zoë")
        result = exported(session, export_filter)
        assert result == reference_csv(session, export_filter)
        assert "-03:30" in result or "-02:30" in result
    finally:
        connection.exec_driver_sql("SET TIME ZONE 'UTC'")


def test_the_export_is_utf8_whatever_the_connection_encoding(session, hostile_project):
    """COPY's bytes go out as they come on a UTF-8 connection, and are converted on another
    (GB18030 covers all of Unicode, so the hostile characters survive it)."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    export_filter = ExportFilter(all_claims=True)
    as_utf8 = exported(session, export_filter)
    connection = session.get_bind()
    connection.exec_driver_sql("SET client_encoding = 'GB18030'")
    try:
        assert exported(session, export_filter) == as_utf8
    finally:
        connection.exec_driver_sql("SET client_encoding = 'UTF8'")
    assert as_utf8 == reference_csv(session, export_filter)
    assert "😀" in as_utf8


def test_pages_of_documents_read_separately(session, hostile_project, monkeypatch):
    """Page boundaries change nothing (three documents a page here)."""
    export_filter = ExportFilter(all_claims=True)
    whole = exported(session, export_filter)
    monkeypatch.setattr("annotator.services.exporting.DOCUMENTS_PER_PAGE", 3)
    assert exported(session, export_filter) == whole
    assert list(iter_csv(session, export_filter))[2]  # the header, then a chunk per page


def test_a_csv_page_is_read_without_parallel_workers(session, hostile_project, monkeypatch):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    show = "SHOW max_parallel_workers_per_gather"
    assert session.scalar(text(show)) != "0", "the server's default allows them"
    seen = []
    copy_csv = exporting._copy_csv

    def copy_and_note_the_setting(cursor, sql, params):
        seen.append(cursor.execute(show).fetchone()[0])
        return copy_csv(cursor, sql, params)

    monkeypatch.setattr(exporting, "_copy_csv", copy_and_note_the_setting)
    monkeypatch.setattr(exporting, "DOCUMENTS_PER_PAGE", 3)
    assert exported(session, ExportFilter(all_claims=True)) == reference_csv(
        session, ExportFilter(all_claims=True)
    )
    assert len(seen) > 1
    assert set(seen) == {"0"}


def test_every_page_of_rows_is_planned_without_parallel_workers(session, hostile_project):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    statements = []

    def note(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engine = session.get_bind().engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        pages = list(iter_pages(session, ExportFilter(all_claims=True)))
    finally:
        event.remove(engine, "before_cursor_execute", note)
    reads = [
        i
        for i, sql in enumerate(statements)
        if sql.lstrip().startswith("SELECT documents.id AS doc_pk")
    ]
    assert len(reads) == len(pages) > 0
    assert all("max_parallel_workers_per_gather = 0" in statements[i - 1] for i in reads)


def _interleaved_projects(session: Session) -> list[Document]:
    """Documents d0-d5 of projects A and B in turn, with work (``_expected_keys``)."""
    projects = [Project(name="A"), Project(name="B")]
    users = [User(username="u1", password_hash="-"), User(username="u2", password_hash="-")]
    session.add_all([*projects, *users])
    session.flush()
    documents = []
    for number in range(6):
        project = projects[number % 2]
        document = Document(
            project_id=project.id, external_id=f"d{number}", title="t", content_hash=str(number)
        )
        session.add(document)
        session.flush()
        documents.append(document)
        _passage_with_work(session, document, 0, users, skip=number == 3)
    _passage_with_work(session, documents[0], 1, users, skip=False)  # the highest passage id
    session.commit()
    return documents


def test_pages_with_interleaved_projects_and_late_passages(session, monkeypatch):
    """Pages hold documents of other projects, and a passage added late has an id far from
    its document's: every claim and entry still lands in its row, exactly once."""
    monkeypatch.setattr("annotator.services.exporting.DOCUMENTS_PER_PAGE", 2)
    documents = _interleaved_projects(session)
    for export_filter in (
        ExportFilter(all_claims=True),
        ExportFilter(project="A"),
        ExportFilter(project="B", all_claims=True),
    ):
        rows = list(csv.DictReader(io.StringIO(exported(session, export_filter), newline="")))
        got = [
            (r["document_id"], r["passage_index"], r["claim_index"], r["reviewer"], r["skipped"])
            for r in rows
        ]
        assert got == _expected_keys(documents, export_filter)


def _passage_with_work(
    session: Session, document: Document, index: int, users: list[User], *, skip: bool
) -> None:
    passage = Passage(
        project_id=document.project_id, document_id=document.id, index=index,
        text="One, two. Three.", role="author", claim_count=2,
    )  # fmt: skip
    session.add(passage)
    session.flush()
    claims = [
        Claim(passage_id=passage.id, index=0, start=0, end=9, text="One, two.",
              suggested_label="reported", suggestion_reason=""),
        Claim(passage_id=passage.id, index=1, start=10, end=16, text="Three.",
              suggested_label="quoted", suggestion_reason=""),
    ]  # fmt: skip
    session.add_all(claims)
    session.flush()
    session.add(
        Annotation(
            claim_id=claims[0].id,
            project_id=passage.project_id,
            user_id=users[0].id,
            label="quoted",
        )
    )
    if skip:
        session.add(
            Review(
                passage_id=passage.id,
                document_id=document.id,
                project_id=passage.project_id,
                user_id=users[1].id,
                status=ReviewStatus.SKIPPED,
                reason="r",
            )
        )


def _expected_keys(
    documents: list[Document], export_filter: ExportFilter
) -> list[tuple[str, str, str, str, str]]:
    """Rows as the fixture above builds them: u1 labelled claim 0 of every passage, u2 skipped
    the passage of d3 (a row for each of its claims)."""
    keys = []
    for number, document in enumerate(documents):
        if export_filter.project and export_filter.project != "AB"[number % 2]:
            continue
        for passage_index in (0, 1) if number == 0 else (0,):
            for claim_index in (0, 1):
                entries = [("u1", "no")] if claim_index == 0 else []
                if number == 3:
                    entries.append(("u2", "yes"))
                if not entries and export_filter.all_claims:
                    entries = [("", "")]
                keys += [
                    (document.external_id, str(passage_index), str(claim_index), user, skipped)
                    for user, skipped in entries
                ]
    return keys


def _reads_of(plan: dict[str, Any], table: str) -> list[str]:
    """The conditions (index, recheck and filter) of every read of ``table`` in the plan."""
    own = []
    if plan.get("Relation Name") == table:
        keys = ("Index Cond", "Recheck Cond", "Filter")
        own.append(" ".join(plan.get(key, "") for key in keys))
    return own + [read for child in plan.get("Plans", []) for read in _reads_of(child, table)]


def test_a_projects_export_reads_only_its_projects_labels_on_postgresql(session):
    """PostgreSQL reads a page's entries once for the page: for one project's export, they are
    that project's labels and skips, however many other projects hold."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite reads the entries of the page's passages only")
    _interleaved_projects(session)
    export_filter = ExportFilter(project="B", all_claims=True)
    statement = exporting._csv_statement(export_filter, session.get_bind().dialect)
    page = next(exporting._document_pages(session, export_filter))
    params = statement.parameters(exporting._page_bounds(session, page))
    explain = "EXPLAIN (FORMAT JSON) " + statement.sql
    plan = session.connection().exec_driver_sql(explain, params).scalar_one()[0]["Plan"]
    for table in ("annotations", "reviews"):
        reads = _reads_of(plan, table)
        assert reads, f"the plan reads {table}"
        assert all("project_id" in conditions for conditions in reads), (table, reads)


def test_a_filter_is_compiled_once_and_each_filter_keeps_its_own(session, hostile_project):
    everything, one_label = ExportFilter(all_claims=True), ExportFilter(label="quoted")
    first = exported(session, everything)
    hits = exporting._csv_statement.cache_info().hits
    assert exported(session, everything) == first
    assert exporting._csv_statement.cache_info().hits == hits + 1
    labelled = exported(session, one_label)
    assert labelled == reference_csv(session, one_label) != first
    assert exported(session, everything) == first


def _sqlite_plan(session: Session, statement: Any, bounds: dict[str, int]) -> list[str]:
    connection = session.connection().connection
    connection.dbapi_connection.create_function(
        exporting.SQLITE_ISOFORMAT, 1, exporting._sqlite_isoformat, deterministic=True
    )
    cursor = connection.cursor()
    try:
        cursor.execute("EXPLAIN QUERY PLAN " + statement.sql, statement.parameters(bounds))
        return [str(row[-1]) for row in cursor.fetchall()]
    finally:
        cursor.close()


@pytest.mark.parametrize("export_filter", FILTERS, ids=range(len(FILTERS)))
def test_sqlite_reads_a_page_through_its_own_documents_whatever_the_filter(
    session, hostile_project, export_filter
):
    """SQLite plans by the form of the query. No filter may lead it to the passages through
    another index, which finds them in every document of the database, again on every page:
    filtered on passages citing no outlet, the export of 290,000 passages took 126 s."""
    dialect = session.get_bind().dialect
    if dialect.name != "sqlite":
        pytest.skip("SQLite plans by the form of the query; PostgreSQL by its statistics")
    documents = sorted(
        session.scalars(select(Document.id).where(Document.project_id == hostile_project.id))
    )
    page = exporting._Page(documents, hostile_project.id)
    bounds = exporting._page_bounds(session, page)
    csv_lines = exporting._csv_statement(export_filter, dialect)
    rows = exporting._DriverStatement.of(
        exporting._claim_rows_query(export_filter, dialect.name), dialect
    )
    for statement in (csv_lines, rows):
        plan = _sqlite_plan(session, statement, bounds)
        passages = [line for line in plan if " passages " in f"{line} "]
        by_page = [line for line in passages if "(document_id" in line or "PRIMARY KEY" in line]
        assert passages, plan
        assert by_page == passages, "\n".join(plan)
        assert not [line for line in plan if line.startswith(("SCAN passages", "SCAN claims"))]
