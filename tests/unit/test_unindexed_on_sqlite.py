"""``unindexed_on_sqlite`` keeps SQLite from answering a comparison through an index (its
unary plus) and leaves the column as it is for other databases."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from annotator.db import unindexed_on_sqlite
from annotator.models import Passage


def _where(dialect) -> str:
    statement = select(Passage.id).where(unindexed_on_sqlite(Passage.project_id) == 7)
    return str(statement.compile(dialect=dialect)).split("WHERE", 1)[1].strip()


def test_sqlite_gets_a_unary_plus() -> None:
    assert _where(sqlite.dialect()) == "+passages.project_id = ?"


def test_postgresql_gets_the_plain_column() -> None:
    assert _where(postgresql.dialect()) == "passages.project_id = %(param_1)s::INTEGER"
