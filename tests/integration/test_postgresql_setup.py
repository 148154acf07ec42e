"""The PostgreSQL connections' cursors describe results as psycopg's own do, but make the
Column objects only when something reads them (annotator/postgresql_setup.py)."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import Engine

from annotator.db import make_engine, table_of
from annotator.models import Outlet
from annotator.postgresql_setup import LazyDescriptionCursor

STATEMENTS = (
    "SELECT 1 AS one, 'a'::text AS word, now() AS at, NULL::numeric(6, 2) AS amount",
    "SELECT",  # a row without columns
    "SELECT 1 WHERE false",  # columns without a row
    "CREATE TEMPORARY TABLE described (id serial PRIMARY KEY, name varchar(20))",
    "INSERT INTO described (name) VALUES ('x')",  # no rows
    "INSERT INTO described (name) VALUES ('y') RETURNING id, name",
    "UPDATE described SET name = 'z' RETURNING name",
    "DELETE FROM described",
)


@pytest.fixture
def postgresql(engine: Engine) -> Engine:
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL runs only (TEST_DATABASE_URL)")
    return engine


def _plain_psycopg(engine: Engine) -> psycopg.Connection[Any]:
    return psycopg.connect(engine.url.set(drivername="postgresql").render_as_string(False))


def _as_tuples(description: Any) -> list[tuple[Any, ...]] | None:
    return None if description is None else [tuple(column) for column in description]


def test_the_engine_gives_its_connections_our_cursors(postgresql: Engine) -> None:
    engine = make_engine(postgresql.url.render_as_string(hide_password=False))
    try:
        raw = engine.raw_connection()
        assert isinstance(raw.cursor(), LazyDescriptionCursor)
        raw.close()
    finally:
        engine.dispose()


def test_descriptions_match_psycopgs_own(postgresql: Engine) -> None:
    with _plain_psycopg(postgresql) as connection:
        ours, theirs = LazyDescriptionCursor(connection), connection.cursor()
        for statement in STATEMENTS:
            ours.execute(statement)
            ours_described = _as_tuples(ours.description)
            if statement.startswith("CREATE"):
                theirs.execute("DROP TABLE described")  # both cursors share the session
            theirs.execute(statement)
            assert ours_described == _as_tuples(theirs.description), statement
            if ours.description is not None:
                assert len(ours.description) == len(theirs.description or [])
                assert [c.name for c in ours.description[1:]] == [
                    c.name for c in (theirs.description or [])[1:]
                ]
        connection.rollback()


def test_a_description_kept_describes_its_own_result(postgresql: Engine) -> None:
    with _plain_psycopg(postgresql) as connection:
        cursor = LazyDescriptionCursor(connection)
        cursor.execute("SELECT 1 AS first, 2 AS second")
        kept = cursor.description
        cursor.execute("SELECT 'x'::text AS other")
        assert kept is not None
        assert [column.name for column in kept] == ["first", "second"]
        assert [column.name for column in cursor.description or []] == ["other"]


def test_a_statement_run_again_makes_no_column_objects(
    postgresql: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[int] = []

    class CountedColumn(psycopg.Column):
        def __init__(self, cursor: Any, index: int) -> None:
            made.append(index)
            super().__init__(cursor, index)

    monkeypatch.setattr(psycopg, "Column", CountedColumn)
    outlets = table_of(Outlet)
    statement = select(outlets.c.id, outlets.c.name).order_by(outlets.c.id).limit(3)
    engine = make_engine(postgresql.url.render_as_string(hide_password=False))
    try:
        with engine.connect() as connection:
            first = connection.execute(statement).all()
            made_by_first = len(made)
            again = connection.execute(statement).all()
            assert again == first
            assert made_by_first == 2  # SQLAlchemy read the columns to learn the result's shape
            assert len(made) == made_by_first  # and has not needed them since
            assert list(connection.execute(text("SELECT 1 AS one")).keys()) == ["one"]
    finally:
        engine.dispose()
