"""The migration history builds the schema the models describe."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import MetaData, insert, inspect, text
from sqlalchemy.engine import Connection, Engine

from annotator import create_app, migrate
from annotator.db import Base, get_engine, make_engine
from annotator.models import CsvForm
from annotator.services.exporting import csv_form_of
from annotator.text.loaded_terms import DEFAULT_LOADED_TERMS
from tests.conftest import CliRunner


def test_migrations_match_models(engine):
    migrate.check(engine)  # raises when autogenerate would find a difference


def test_every_model_table_exists(engine):
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables


@pytest.fixture
def blank_engine(fresh_database_url: str) -> Iterator[Engine]:
    engine = make_engine(fresh_database_url)
    yield engine
    engine.dispose()


def _two_projects_with_a_passage_each(
    connection: Connection, tables: MetaData, now: datetime
) -> None:
    """Projects 1 and 2, each with a document and a passage of its own number, and reviewer 1,
    written to the tables as the schema stands."""
    connection.execute(
        insert(tables.tables["users"]),
        {"id": 1, "username": "u", "password_hash": "x", "role": "reviewer", "active": True,
         "session_epoch": 0, "created_at": now},
    )  # fmt: skip
    for number in (1, 2):
        connection.execute(
            insert(tables.tables["projects"]),
            {"id": number, "name": f"p{number}", "guidelines": "", "created_at": now},
        )
        connection.execute(
            insert(tables.tables["documents"]),
            {"id": number, "project_id": number, "external_id": "d", "title": "t",
             "content_hash": "h", "imported_at": now},
        )  # fmt: skip
        connection.execute(
            insert(tables.tables["passages"]),
            {"id": number, "project_id": number, "document_id": number, "index": 0,
             "text": "x", "role": "author", "claim_count": 1},
        )  # fmt: skip


def test_reviews_get_their_passages_project_when_migrated(blank_engine):
    migrate.upgrade(blank_engine, "2b4fabdc973d")
    now = datetime.now(UTC)
    tables = MetaData()
    tables.reflect(blank_engine)
    with blank_engine.begin() as connection:
        _two_projects_with_a_passage_each(connection, tables, now)
        connection.execute(
            insert(tables.tables["reviews"]),
            [{"passage_id": n, "document_id": n, "user_id": 1, "status": "completed",
              "reason": "", "updated_at": now} for n in (1, 2)],
        )  # fmt: skip
    migrate.upgrade(blank_engine)
    with blank_engine.connect() as connection:
        rows = connection.execute(text("SELECT passage_id, project_id FROM reviews ORDER BY 1"))
        assert rows.all() == [(1, 1), (2, 2)]
    index_names = {i["name"] for i in inspect(blank_engine).get_indexes("reviews")}
    assert "ix_reviews_user_id_status_project_id" in index_names
    assert "ix_reviews_user_id_status" not in index_names
    app = create_app({"DATABASE_URL": blank_engine.url.render_as_string(hide_password=False),
                      "SECRET_KEY": "x" * 32, "TESTING": True})  # fmt: skip
    result = CliRunner(app).invoke(["db", "downgrade", "2b4fabdc973d"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        get_engine().dispose()
    columns = {c["name"] for c in inspect(blank_engine).get_columns("reviews")}
    assert "project_id" not in columns


def _one_passage_with_claims(
    engine: Engine, passage: str, spans: dict[int, tuple[int, int]]
) -> None:
    """A project, a document and a passage with claims over ``spans`` (id -> start, end),
    written to the tables as the schema stands."""
    now = datetime.now(UTC)
    tables = MetaData()
    tables.reflect(engine)
    with engine.begin() as connection:
        connection.execute(
            insert(tables.tables["projects"]),
            {"id": 1, "name": "p", "guidelines": "", "created_at": now},
        )
        connection.execute(
            insert(tables.tables["documents"]),
            {"id": 1, "project_id": 1, "external_id": "d", "title": "t", "content_hash": "h",
             "imported_at": now},
        )  # fmt: skip
        connection.execute(
            insert(tables.tables["passages"]),
            {"id": 1, "project_id": 1, "document_id": 1, "index": 0, "text": passage,
             "role": "author", "claim_count": len(spans)},
        )  # fmt: skip
        for claim_id, (start, end) in spans.items():
            connection.execute(
                insert(tables.tables["claims"]),
                {"id": claim_id, "passage_id": 1, "index": claim_id, "start": start,
                 "end": end, "suggested_label": "reported", "suggestion_reason": ""},
            )  # fmt: skip


def test_claims_get_their_csv_form_when_migrated(blank_engine):
    migrate.upgrade(blank_engine, "7c1e5a90d3b4")
    text_of = {1: "plain words", 2: 'a comma, and "quotes"', 3: "=SUM(A1)", 4: ""}
    spans, start = {}, 0
    for claim_id, claim_text in text_of.items():
        spans[claim_id] = (start, start + len(claim_text))
        start += len(claim_text) + 1
    _one_passage_with_claims(blank_engine, " ".join(text_of.values()), spans)
    migrate.upgrade(blank_engine)
    with blank_engine.connect() as connection:
        forms = dict(connection.execute(text("SELECT id, csv_form FROM claims")).all())
    assert forms == {claim_id: csv_form_of(t) for claim_id, t in text_of.items()}
    assert set(forms.values()) == set(CsvForm)
    migrate.downgrade(blank_engine, "7c1e5a90d3b4")
    columns = {c["name"] for c in inspect(blank_engine).get_columns("claims")}
    assert "csv_form" not in columns


def test_claims_get_their_text_when_migrated(blank_engine):
    migrate.upgrade(blank_engine, "3d8e4b7a91c2")
    passage = "Café owners 😀 said “no”. =Then: \u2018maybe\u2019."
    spans = {1: (0, 25), 2: (26, len(passage)), 3: (12, 13), 4: (5, 5)}
    _one_passage_with_claims(blank_engine, passage, spans)
    migrate.upgrade(blank_engine)
    with blank_engine.connect() as connection:
        texts = dict(connection.execute(text("SELECT id, text FROM claims")).all())
    assert texts == {claim_id: passage[start:end] for claim_id, (start, end) in spans.items()}
    assert texts[3] == "😀", "characters are counted as Python counts them"
    migrate.downgrade(blank_engine, "3d8e4b7a91c2")
    columns = {c["name"] for c in inspect(blank_engine).get_columns("claims")}
    assert "text" not in columns


def _indexes(engine: Engine, table: str) -> dict[str, list[str]]:
    return {index["name"]: index["column_names"] for index in inspect(engine).get_indexes(table)}


def test_a_passages_history_gets_an_index_by_passage_reviewer_and_order(blank_engine):
    migrate.upgrade(blank_engine)
    indexes = _indexes(blank_engine, "changes")
    assert indexes["ix_changes_passage_id_user_id_id"] == ["passage_id", "user_id", "id"]
    assert "ix_changes_passage_id" not in indexes, "its first column does the same job"
    migrate.downgrade(blank_engine, "5a2c7e19b0d4")
    indexes = _indexes(blank_engine, "changes")
    assert indexes["ix_changes_passage_id"] == ["passage_id"]
    assert "ix_changes_passage_id_user_id_id" not in indexes


def test_outlets_get_a_version_when_migrated(blank_engine):
    migrate.upgrade(blank_engine, "9b4f2c6d8e13")
    with blank_engine.begin() as connection:
        connection.execute(text("INSERT INTO outlets (id, name, notes) VALUES (7, 'Tass', '')"))
    migrate.upgrade(blank_engine)
    with blank_engine.connect() as connection:
        versions = connection.execute(text("SELECT id, version FROM outlets")).all()
    assert [tuple(row) for row in versions] == [(7, 1)]
    migrate.downgrade(blank_engine, "9b4f2c6d8e13")
    columns = {c["name"] for c in inspect(blank_engine).get_columns("outlets")}
    assert "version" not in columns


def test_passages_get_an_index_by_outlet_and_project(blank_engine):
    migrate.upgrade(blank_engine)
    indexes = _indexes(blank_engine, "passages")
    assert indexes["ix_passages_outlet_id_project_id"] == ["outlet_id", "project_id"]
    assert "ix_passages_outlet_id" not in indexes, "its first column does the same job"
    migrate.downgrade(blank_engine, "c3e81d5a7f20")
    indexes = _indexes(blank_engine, "passages")
    assert indexes["ix_passages_outlet_id"] == ["outlet_id"]
    assert "ix_passages_outlet_id_project_id" not in indexes


def test_labels_and_final_labels_get_their_claims_project_when_migrated(blank_engine):
    migrate.upgrade(blank_engine, "e5d1f08a2c64")
    now = datetime.now(UTC)
    tables = MetaData()
    tables.reflect(blank_engine)
    row = {"created_at": now, "updated_at": now}
    with blank_engine.begin() as connection:
        _two_projects_with_a_passage_each(connection, tables, now)
        for number in (1, 2):
            connection.execute(
                insert(tables.tables["claims"]),
                {"id": 10 + number, "passage_id": number, "index": 0, "start": 0, "end": 1,
                 "suggested_label": "reported", "suggestion_reason": "", "text": "x"},
            )  # fmt: skip
            connection.execute(
                insert(tables.tables["annotations"]),
                {"claim_id": 10 + number, "user_id": 1, "label": "quoted", "version": 1, **row},
            )
        connection.execute(
            insert(tables.tables["final_labels"]),
            {"claim_id": 12, "label": "quoted", "version": 1, "updated_at": now},
        )
    migrate.upgrade(blank_engine)
    with blank_engine.connect() as connection:
        labels = connection.execute(text("SELECT claim_id, project_id FROM annotations"))
        assert sorted(labels.all()) == [(11, 1), (12, 2)]
        finals = connection.execute(text("SELECT claim_id, project_id FROM final_labels"))
        assert finals.all() == [(12, 2)]
    for table in ("annotations", "final_labels"):
        indexes = _indexes(blank_engine, table)
        assert indexes[f"ix_{table}_project_id_claim_id"] == ["project_id", "claim_id"]
    migrate.downgrade(blank_engine, "e5d1f08a2c64")
    for table in ("annotations", "final_labels"):
        columns = {c["name"] for c in inspect(blank_engine).get_columns(table)}
        assert "project_id" not in columns


def test_documents_get_the_day_their_publication_date_names_when_migrated(blank_engine):
    migrate.upgrade(blank_engine, "a7c3e9d15b28")
    published = {
        1: "2026-03-01T23:30:00-05:00",
        2: "Sun, 08 Mar 2026 08:00:00 +0000",
        3: "early March",
        4: None,
    }
    now = datetime.now(UTC)
    with blank_engine.begin() as connection:
        connection.execute(
            text("INSERT INTO projects (id, name, guidelines, created_at) VALUES (1, 'p', '', :t)"),
            {"t": now},
        )
        for number, value in published.items():
            connection.execute(
                text(
                    "INSERT INTO documents (id, project_id, external_id, title, content_hash,"
                    " imported_at, published) VALUES (:id, 1, :id, 't', 'h', :t, :published)"
                ),
                {"id": number, "t": now, "published": value},
            )
    migrate.upgrade(blank_engine)
    with blank_engine.connect() as connection:
        days = connection.execute(text("SELECT id, published_on FROM documents ORDER BY id"))
        assert [(n, str(day) if day else None) for n, day in days] == [
            (1, "2026-03-01"),
            (2, "2026-03-08"),
            (3, None),
            (4, None),
        ]
    migrate.downgrade(blank_engine, "a7c3e9d15b28")
    columns = {c["name"] for c in inspect(blank_engine).get_columns("documents")}
    assert "published_on" not in columns


def test_documents_get_a_table_for_their_source_when_migrated(blank_engine):
    migrate.upgrade(blank_engine, "d9f2b6c41e83")
    _work_on_two_passages(blank_engine)
    before = _rows(blank_engine, ("documents", *REFERRING_TO_PASSAGES_AND_CLAIMS))
    migrate.upgrade(blank_engine)
    migrate.check(blank_engine)
    with blank_engine.begin() as connection:
        assert connection.scalar(text("SELECT count(*) FROM document_sources")) == 0
        connection.execute(
            text("INSERT INTO document_sources (document_id, title, text) VALUES (1, 't', 'x')")
        )
    migrate.downgrade(blank_engine, "d9f2b6c41e83")
    assert "document_sources" not in inspect(blank_engine).get_table_names()
    assert _rows(blank_engine, ("documents", *REFERRING_TO_PASSAGES_AND_CLAIMS)) == before


def test_projects_get_the_default_loaded_terms_when_migrated(blank_engine):
    migrate.upgrade(blank_engine, "b8d4f1a06c39")
    with blank_engine.begin() as connection:
        connection.execute(
            text("INSERT INTO projects (id, name, guidelines, created_at) VALUES (1, 'p', '', :t)"),
            {"t": datetime.now(UTC)},
        )
    migrate.upgrade(blank_engine)
    with blank_engine.connect() as connection:
        terms = connection.scalar(text("SELECT loaded_terms FROM projects"))
    assert terms == DEFAULT_LOADED_TERMS
    migrate.downgrade(blank_engine, "b8d4f1a06c39")
    columns = {c["name"] for c in inspect(blank_engine).get_columns("projects")}
    assert "loaded_terms" not in columns


REFERRING_TO_PASSAGES_AND_CLAIMS = (
    "passages",
    "claims",
    "annotations",
    "final_labels",
    "reviews",
    "changes",
    "suggestions",
    "outlet_corrections",
)


def _work_on_two_passages(engine: Engine) -> None:
    """Two projects with a passage and a claim each, and on them every kind of row that refers
    to a passage or a claim, written to the tables as the schema stands."""
    now = datetime.now(UTC)
    tables = MetaData()
    tables.reflect(engine)
    by_claim = {"user_id": 1, "label": "quoted"}
    with engine.begin() as connection:
        _two_projects_with_a_passage_each(connection, tables, now)
        for n in (1, 2):
            claim = 10 + n
            rows = {
                "claims": {"id": claim, "passage_id": n, "index": 0, "start": 0, "end": 1,
                           "suggested_label": "reported", "suggestion_reason": "", "text": "x"},
                "annotations": {"id": 20 + n, "claim_id": claim, "project_id": n, "version": 1,
                                "created_at": now, "updated_at": now, **by_claim},
                "final_labels": {"id": 30 + n, "claim_id": claim, "project_id": n,
                                 "version": 1, "updated_at": now, **by_claim},
                "reviews": {"id": 40 + n, "passage_id": n, "document_id": n, "project_id": n,
                            "user_id": 1, "status": "completed", "reason": "",
                            "updated_at": now},
                "changes": {"id": 50 + n, "user_id": 1, "passage_id": n, "claim_id": claim,
                            "batch": "b", "kind": "label", "old_value": None,
                            "new_value": "quoted", "created_at": now},
                "suggestions": {"id": 60 + n, "claim_id": claim, "source": "model",
                                "updated_at": now, **by_claim},
                "outlet_corrections": {"id": 70 + n, "passage_id": n, "user_id": 1,
                                       "outlet_id": None, "version": 1, "created_at": now,
                                       "updated_at": now},
            }  # fmt: skip
            for table, row in rows.items():
                connection.execute(insert(tables.tables[table]), row)


def _rows(engine: Engine, tables: tuple[str, ...]) -> dict[str, list[tuple[object, ...]]]:
    found = {}
    with engine.connect() as connection:
        for table in tables:
            query = text(f"SELECT * FROM {table}")  # noqa: S608 (our tables' names)
            found[table] = sorted(tuple(row) for row in connection.execute(query))
    return found


def _autoincrement_tables(engine: Engine) -> set[str]:
    if engine.dialect.name != "sqlite":
        return set()
    with engine.connect() as connection:
        schema = connection.execute(text("SELECT name, sql FROM sqlite_master WHERE type='table'"))
        return {name for name, sql in schema if "AUTOINCREMENT" in sql}


def _add_claim_without_id(engine: Engine) -> int:
    with engine.begin() as connection:
        return connection.execute(
            text(
                'INSERT INTO claims (passage_id, "index", start, "end", suggested_label,'
                " suggestion_reason, text) VALUES (2, 1, 0, 1, 'reported', '', 'y')"
                " RETURNING id"
            )
        ).scalar_one()


def test_passages_and_claims_never_reuse_an_id_once_migrated(blank_engine):
    migrate.upgrade(blank_engine, "c4e7a2d91f05")
    _work_on_two_passages(blank_engine)
    before = _rows(blank_engine, REFERRING_TO_PASSAGES_AND_CLAIMS)
    migrate.upgrade(blank_engine)
    # SQLite rebuilt both tables; nothing that refers to them went with the old ones
    assert _rows(blank_engine, REFERRING_TO_PASSAGES_AND_CLAIMS) == before
    migrate.check(blank_engine)
    if blank_engine.dialect.name == "sqlite":
        assert _autoincrement_tables(blank_engine) == {"passages", "claims"}
    with blank_engine.begin() as connection:
        connection.execute(text("DELETE FROM claims WHERE id = 12"))
    assert _add_claim_without_id(blank_engine) != 12, "the deleted claim's id was given again"

    with blank_engine.begin() as connection:
        connection.execute(text("DELETE FROM claims WHERE id <> 11"))
    before = _rows(blank_engine, REFERRING_TO_PASSAGES_AND_CLAIMS)
    migrate.downgrade(blank_engine, "c4e7a2d91f05")
    assert _rows(blank_engine, REFERRING_TO_PASSAGES_AND_CLAIMS) == before
    assert _autoincrement_tables(blank_engine) == set()


def test_a_migration_that_would_leave_broken_references_changes_nothing(blank_engine):
    if blank_engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL never lets such a row in")
    migrate.upgrade(blank_engine, "c4e7a2d91f05")
    _work_on_two_passages(blank_engine)
    with blank_engine.connect() as connection:
        driver = connection.connection.driver_connection
        driver.execute("PRAGMA foreign_keys=OFF")
        driver.execute("UPDATE annotations SET claim_id = 99 WHERE id = 21")
        driver.execute("PRAGMA foreign_keys=ON")
    before = _rows(blank_engine, REFERRING_TO_PASSAGES_AND_CLAIMS)
    with pytest.raises(
        RuntimeError, match=r"1 rows referring .* \(first: annotations 21 -> claims\)"
    ):
        migrate.upgrade(blank_engine)
    assert _rows(blank_engine, REFERRING_TO_PASSAGES_AND_CLAIMS) == before
    assert _autoincrement_tables(blank_engine) == set()
    with blank_engine.connect() as connection:
        assert connection.scalar(text("SELECT version_num FROM alembic_version")) == "c4e7a2d91f05"
        assert connection.scalar(text("PRAGMA foreign_keys")) == 1
