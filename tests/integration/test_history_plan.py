"""A reviewer's history of a passage is read by passage and reviewer, so the annotation page
costs the same for a reviewer with thousands of earlier changes as for a new one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, insert, select
from sqlalchemy.orm import Session

from annotator.db import engine_of
from annotator.models import Change, Passage, User, utcnow
from annotator.services import annotating
from tests.helpers import import_fixture

EARLIER_CHANGES = 2000


@contextmanager
def _statements(session: Session) -> Iterator[list[tuple[str, Any]]]:
    """The SELECT statements the session runs inside the block, with their parameters."""
    seen: list[tuple[str, Any]] = []
    engine = engine_of(session) or session.get_bind().engine

    def note(_conn: Any, _cursor: Any, statement: str, params: Any, *_rest: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, params))

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def _plan(session: Session, statement: str, params: Any) -> str:
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)
        return "\n".join(str(row[-1]) for row in rows)
    connection.exec_driver_sql("ANALYZE changes")
    rows = connection.exec_driver_sql("EXPLAIN " + statement, params)
    return "\n".join(str(row[0]) for row in rows)


def _changes(user: User, passage: Passage, how_many: int) -> list[dict[str, Any]]:
    return [
        {"user_id": user.id, "passage_id": passage.id, "batch": f"b{n}", "kind": "label",
         "old_value": None, "new_value": "reported", "created_at": utcnow()}
        for n in range(how_many)
    ]  # fmt: skip


def test_a_reviewers_history_of_a_passage_is_read_by_passage_and_reviewer(session, make_user):
    import_fixture(session, "harbour.txt")
    elsewhere, shown = session.scalars(select(Passage).order_by(Passage.id).limit(2)).all()
    reviewer, other = make_user("rita"), make_user("otto")
    session.execute(
        insert(Change),
        _changes(reviewer, elsewhere, EARLIER_CHANGES)
        + _changes(reviewer, shown, 3)
        + _changes(other, shown, 2),
    )
    with _statements(session) as seen:
        own = annotating.history_of(session, shown, reviewer)
    assert len(own) == 3
    assert {row.username for row in own} == {"rita"}
    ((statement, params),) = seen
    plan = _plan(session, statement, params)
    assert "ix_changes_passage_id_user_id_id" in plan, plan
    assert "ix_changes_user_id_id" not in plan, plan


def test_everyones_history_of_a_passage_is_read_by_passage(session, make_user):
    import_fixture(session, "harbour.txt")
    elsewhere, shown = session.scalars(select(Passage).order_by(Passage.id).limit(2)).all()
    reviewer, other = make_user("rita"), make_user("otto")
    session.execute(
        insert(Change),
        _changes(reviewer, elsewhere, EARLIER_CHANGES)
        + _changes(reviewer, shown, 3)
        + _changes(other, shown, 2),
    )
    with _statements(session) as seen:
        everyones = annotating.history_of(session, shown, None)
    assert len(everyones) == 5
    assert [row.created_at for row in everyones] == sorted(
        (row.created_at for row in everyones), reverse=True
    )
    ((statement, params),) = seen
    plan = _plan(session, statement, params)
    assert "ix_changes_passage_id_user_id_id" in plan, plan
