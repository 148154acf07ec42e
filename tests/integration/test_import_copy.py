"""Passages and claims are written under ids drawn first: with COPY on PostgreSQL (ids from
the sequences), with the driver's executemany on SQLite (ids after the largest, under the
write lock). Both must store what the generic executemany, which reads the ids back, stores."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from annotator.errors import database_unavailable
from annotator.models import Claim, CsvForm, Document, Passage, Project, Suggestion
from annotator.services import importing, storing
from annotator.services.exporting import csv_form_of
from tests.conftest import empty_database
from tests.helpers import counts, import_fixture

FILES = ("harbour.txt", "two.jsonl", "kremlin.html", "formula.jsonl")
DOCUMENT_COLUMNS = (
    *("external_id", "title", "url", "site", "published", "meta", "content_hash"),
    *("open_passages", "started_by"),
)
PASSAGE_COLUMNS = (
    *("index", "text", "role", "outlet_id", "cue", "cue_start", "cue_end"),
    *("claim_count", "completed_count"),
)
CLAIM_COLUMNS = ("index", "start", "end", "suggested_label", "suggestion_reason", "csv_form")


def _import(session: Any, monkeypatch: pytest.MonkeyPatch, project: str, fast: bool) -> None:
    """Import the files with the database's own path (``fast``) or the generic one."""
    with monkeypatch.context() as patch:
        if not fast:
            patch.setattr(storing, "_insert_many", storing._insert_ids)
        report = import_fixture(session, *FILES, project=project)
    assert not report.failed
    assert report.passages


def _stored(session: Any, project: str) -> list[tuple[Any, ...]]:
    """The project's documents, passages and claims without ids, in id order."""
    project_id = session.scalar(select(Project.id).where(Project.name == project))
    rows: list[tuple[Any, ...]] = []
    for document in _in_id_order(session, Document, Document.project_id == project_id):
        rows.append(_values(document, DOCUMENT_COLUMNS))
        for passage in _in_id_order(session, Passage, Passage.document_id == document.id):
            assert passage.project_id == project_id
            rows.append(_values(passage, PASSAGE_COLUMNS))
            for claim in _in_id_order(session, Claim, Claim.passage_id == passage.id):
                rows.append(_values(claim, CLAIM_COLUMNS))
    return rows


def _values(row: Any, names: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(getattr(row, name) for name in names)


def _in_id_order(session: Any, model: Any, where: Any) -> list[Any]:
    return list(session.scalars(select(model).where(where).order_by(model.id)))


def _indexes_in_id_order(session: Any, model: Any, parent: Any) -> dict[int, list[int]]:
    """Per parent (document or passage), the indexes of its rows in id order."""
    found: dict[int, list[int]] = {}
    for parent_id, index in session.execute(select(parent, model.index).order_by(model.id)):
        found.setdefault(parent_id, []).append(index)
    return found


def test_the_fast_path_stores_what_the_generic_insert_stores(session, monkeypatch):
    _import(session, monkeypatch, "fast", fast=True)
    _import(session, monkeypatch, "generic", fast=False)
    assert _stored(session, "fast") == _stored(session, "generic")


def test_sqlite_ids_follow_the_largest_even_after_deletions(session, monkeypatch):
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("the SQLite path")
    _import(session, monkeypatch, "first", fast=True)
    largest = session.scalar(select(func.max(Passage.id)))
    session.execute(delete(Claim))
    session.execute(delete(Passage).where(Passage.id < largest))
    session.commit()
    _import(session, monkeypatch, "second", fast=True)
    second = select(Passage.id).join(Project).where(Project.name == "second")
    ids = list(session.scalars(second.order_by(Passage.id)))
    assert ids == list(range(largest + 1, largest + 1 + len(ids)))


def test_ids_follow_the_indexes(session, monkeypatch):
    _import(session, monkeypatch, "fast", fast=True)
    for model, parent in ((Passage, Passage.document_id), (Claim, Claim.passage_id)):
        for indexes in _indexes_in_id_order(session, model, parent).values():
            assert indexes == list(range(len(indexes)))


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "generic"])
def test_claims_are_stored_with_the_csv_form_of_their_text(session, monkeypatch, fast):
    _import(session, monkeypatch, "forms", fast=fast)
    claims = session.scalars(
        select(Claim).join(Passage).join(Project).where(Project.name == "forms")
    ).all()
    assert all(claim.text == claim.passage.text[claim.start : claim.end] for claim in claims)
    forms = {(claim.text, claim.csv_form) for claim in claims}
    assert forms == {(text, csv_form_of(text)) for text, _ in forms}
    assert {CsvForm.AS_IS, CsvForm.QUOTED, CsvForm.CHECKED} <= {form for _, form in forms}


def test_copy_is_the_postgresql_path(session):
    assert storing._uses_copy(session) == (session.get_bind().dialect.name == "postgresql")


def test_a_failing_insert_imports_nothing_and_raises_sqlalchemy_errors(session, monkeypatch):
    before = counts(session)

    def dangling_outlet(*args: Any) -> dict[str, Any]:
        return {**passage_row(*args), "outlet_id": 2_000_000_000}

    passage_row = storing._passage_row
    monkeypatch.setattr(storing, "_passage_row", dangling_outlet)
    with pytest.raises(IntegrityError):
        import_fixture(session, "two.jsonl", project="dangling")
    assert counts(session) == before
    monkeypatch.undo()
    assert not import_fixture(session, "two.jsonl", project="dangling").failed
    assert counts(session) != before


def test_a_connection_lost_during_copy_reads_as_database_unavailable(engine: Engine, monkeypatch):
    """Real commits on the test database (emptied after), since the connection dies."""
    if engine.dialect.name != "postgresql":
        pytest.skip("COPY is the PostgreSQL path")
    next_ids = storing._next_ids

    def cut_off(connection: Any, table: Any, count: int) -> list[int]:
        ids = next_ids(connection, table, count)
        backend = connection.scalar(text("SELECT pg_backend_pid()"))
        with engine.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
        return ids

    monkeypatch.setattr(storing, "_next_ids", cut_off)
    try:
        with Session(engine) as session, pytest.raises(OperationalError) as raised:
            import_fixture(session, "two.jsonl", project="cut off")
        assert raised.value.connection_invalidated
        assert database_unavailable(raised.value)
        with Session(engine) as session:
            project = select(Project.id).where(Project.name == "cut off").scalar_subquery()
            stored = select(func.count()).where(Document.project_id == project)
            assert session.scalar(stored) == 0
    finally:
        empty_database(engine)


def test_a_large_import_leaves_statistics_that_know_its_rows(session):
    text_of_40_passages = "\n\n".join(f"The council met on day {day}." for day in range(40))
    report = importing.import_files(session, [("council.txt", text_of_40_passages.encode())], "p")
    assert report.passages == 40
    storing.refresh_statistics(session, storing.ANALYZE_AFTER_ROWS)
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite plans without statistics: nothing to refresh, nothing failed
    bounds = session.scalar(
        text(
            "SELECT histogram_bounds::text::int[] FROM pg_stats"
            " WHERE tablename = 'passages' AND attname = 'id'"
        )
    )
    assert bounds is not None
    assert bounds[-1] == session.scalar(select(func.max(Passage.id))), "the newest passage seen"
    projects = session.scalar(text("SELECT reltuples FROM pg_class WHERE relname = 'projects'"))
    assert projects == session.scalar(select(func.count(Project.id))), "the new project counted"


def test_rows_whose_ids_nobody_reads_get_the_defaults_insert_gives(session):
    """``insert_rows`` (COPY on PostgreSQL) fills in the Python-side defaults, a function's
    (``utcnow``) included, as insert() does."""
    import_fixture(session, "harbour.txt", project="default")
    claims = session.scalars(select(Claim.id).order_by(Claim.id).limit(2)).all()
    rows = [{"claim_id": claim_id, "source": "model-x", "label": "quoted"} for claim_id in claims]
    storing.insert_rows(session, Suggestion, rows)
    session.commit()
    stored = session.scalars(select(Suggestion).order_by(Suggestion.claim_id)).all()
    assert [(s.claim_id, s.reason, s.score) for s in stored] == [(c, "", None) for c in claims]
    assert all(s.updated_at is not None for s in stored)


def test_rows_whose_ids_nobody_reads_are_stored_as_insert_stores_them(session):
    """The same values through ``insert_rows`` and through insert(): the same stored form
    (on SQLite, a datetime's text is SQLAlchemy's, which its reads and comparisons expect)."""
    import_fixture(session, "harbour.txt", project="default")
    first, second = session.scalars(select(Claim.id).order_by(Claim.id).limit(2)).all()
    moment = datetime(2026, 3, 1, 12, 30, 15, 250000, tzinfo=UTC)
    row = {"source": "model-x", "label": "quoted", "score": 0.5, "updated_at": moment}
    storing.insert_rows(session, Suggestion, [{**row, "claim_id": first}])
    session.execute(insert(Suggestion), [{**row, "claim_id": second}])
    session.commit()
    stored = session.execute(
        text("SELECT source, label, score, reason, updated_at FROM suggestions ORDER BY claim_id")
    ).all()
    assert stored[0] == stored[1]
    assert session.scalar(select(func.count()).where(Suggestion.updated_at == moment)) == 2
