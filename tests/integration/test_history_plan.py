"""A reviewer's history of a passage is read by passage and reviewer, so the annotation page
costs the same for a reviewer with thousands of earlier changes as for a new one."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from annotator.db import engine_of
from annotator.models import Change, Passage, User, utcnow
from annotator.services import annotating
from tests.helpers import import_fixture, statements_sent

EARLIER_CHANGES = 2000


def _engine(session: Session) -> Engine:
    return engine_of(session) or session.get_bind().engine


def _selects(sent: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    return [(sql, params) for sql, params in sent if sql.lstrip().upper().startswith("SELECT")]


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


@pytest.fixture
def worked_passage(session, make_user) -> tuple[Passage, User]:
    """A passage with 3 changes by a reviewer who made 2,000 elsewhere, and 2 by another."""
    import_fixture(session, "harbour.txt")
    elsewhere, shown = session.scalars(select(Passage).order_by(Passage.id).limit(2)).all()
    reviewer, other = make_user("rita"), make_user("otto")
    session.execute(
        insert(Change),
        _changes(reviewer, elsewhere, EARLIER_CHANGES)
        + _changes(reviewer, shown, 3)
        + _changes(other, shown, 2),
    )
    return shown, reviewer


def _history_and_plan(
    session: Session, passage: Passage, only_user: User | None
) -> tuple[list[Any], str]:
    """What ``history_of`` returns, and the plan of the one statement it ran."""
    with statements_sent(_engine(session)) as sent:
        history = list(annotating.history_of(session, passage, only_user))
    ((statement, params),) = _selects(sent)
    return history, _plan(session, statement, params)


def test_a_reviewers_history_of_a_passage_is_read_by_passage_and_reviewer(session, worked_passage):
    passage, reviewer = worked_passage
    own, plan = _history_and_plan(session, passage, reviewer)
    assert len(own) == 3
    assert {row.username for row in own} == {"rita"}
    assert "ix_changes_passage_id_user_id_id" in plan, plan
    assert "ix_changes_user_id_id" not in plan, plan


def test_everyones_history_of_a_passage_is_read_by_passage(session, worked_passage):
    passage, _ = worked_passage
    everyones, plan = _history_and_plan(session, passage, None)
    assert len(everyones) == 5
    assert {row.username for row in everyones} == {"rita", "otto"}
    assert "ix_changes_passage_id_user_id_id" in plan, plan
