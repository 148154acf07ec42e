"""The annotation page reads a reviewer's history and annotations of its passage by passage
and reviewer, and the passage's outside suggestions by claim, so it costs the same for a
reviewer with thousands of earlier changes and annotations as for a new one."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from annotator.db import engine_of
from annotator.models import Annotation, Change, Claim, Passage, Suggestion, User, utcnow
from annotator.services import annotating, suggestions
from annotator.views.passages import _PASSAGE_FOR_PAGE
from tests.helpers import import_fixture, statements_sent

EARLIER_CHANGES = 2000
ANNOTATION_BY_CLAIM = ("uq_annotations_claim_id_user_id", "sqlite_autoindex_annotations_1")
SUGGESTION_BY_CLAIM = ("uq_suggestions_claim_id_source", "sqlite_autoindex_suggestions_1")


def _engine(session: Session) -> Engine:
    return engine_of(session) or session.get_bind().engine


def _selects(sent: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    return [(sql, params) for sql, params in sent if sql.lstrip().upper().startswith("SELECT")]


def _plan(session: Session, statement: str, params: Any) -> str:
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)
        return "\n".join(str(row[-1]) for row in rows)
    for table in ("changes", "annotations", "claims", "suggestions"):
        connection.exec_driver_sql(f"ANALYZE {table}")
    rows = connection.exec_driver_sql("EXPLAIN " + statement, params)
    return "\n".join(str(row[0]) for row in rows)


def _changes(user: User, passage: Passage, how_many: int) -> list[dict[str, Any]]:
    return [
        {"user_id": user.id, "passage_id": passage.id, "batch": f"b{n}", "kind": "label",
         "old_value": None, "new_value": "reported", "created_at": utcnow()}
        for n in range(how_many)
    ]  # fmt: skip


def _two_passages_two_reviewers(session, make_user) -> tuple[Passage, Passage, User, User]:
    """The sample's first two passages (one to work on elsewhere, one shown) and two users."""
    import_fixture(session, "harbour.txt")
    elsewhere, shown = session.scalars(select(Passage).order_by(Passage.id).limit(2)).all()
    return elsewhere, shown, make_user("rita"), make_user("otto")


@pytest.fixture
def worked_passage(session, make_user) -> tuple[Passage, User]:
    """A passage with 3 changes by a reviewer who made 2,000 elsewhere, and 2 by another."""
    elsewhere, shown, reviewer, other = _two_passages_two_reviewers(session, make_user)
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


@pytest.fixture
def annotated_elsewhere(session, make_user) -> tuple[Passage, User]:
    """A passage the reviewer annotated (one claim also by another reviewer), after 2,000
    annotated claims of another passage, which also carry outside suggestions."""
    elsewhere, shown, reviewer, other = _two_passages_two_reviewers(session, make_user)
    first_index = len(elsewhere.claims)
    session.execute(
        insert(Claim),
        [
            {"passage_id": elsewhere.id, "index": first_index + n, "start": 0, "end": 1,
             "text": "x", "suggested_label": "reported", "suggestion_reason": ""}
            for n in range(EARLIER_CHANGES)
        ],
    )  # fmt: skip
    elsewhere_claims = list(
        session.scalars(select(Claim.id).where(Claim.passage_id == elsewhere.id))
    )
    shown_claims = [claim.id for claim in shown.claims]
    assert shown_claims, "the fixture's second passage has claims"
    label = {
        "label": "reported",
        "project_id": shown.project_id,
        "created_at": utcnow(),
        "updated_at": utcnow(),
    }
    session.execute(
        insert(Annotation),
        [{"claim_id": c, "user_id": reviewer.id, **label} for c in elsewhere_claims]
        + [{"claim_id": c, "user_id": reviewer.id, **label} for c in shown_claims]
        + [{"claim_id": shown_claims[0], "user_id": other.id, **label}],
    )
    session.execute(
        insert(Suggestion),
        [{"claim_id": c, "source": "model-x", "label": "quoted", "reason": "",
          "updated_at": utcnow()} for c in elsewhere_claims],
    )  # fmt: skip
    return shown, reviewer


def test_a_reviewers_annotations_of_a_passage_are_looked_up_by_claim(session, annotated_elsewhere):
    shown, reviewer = annotated_elsewhere
    with statements_sent(_engine(session)) as sent:
        found = annotating.annotations_of(session, reviewer, shown)
    assert sorted(found) == sorted(claim.id for claim in shown.claims)
    assert {a.user_id for a in found.values()} == {reviewer.id}
    ((statement, params),) = _selects(sent)
    plan = _plan(session, statement, params)
    assert any(name in plan for name in ANNOTATION_BY_CLAIM), plan
    assert "ix_annotations_user_id" not in plan, plan


def test_the_page_asks_whether_there_are_annotations_and_suggestions_by_claim(
    session, annotated_elsewhere
):
    """The page's query tells whether the reviewer annotated the passage and whether it has
    outside suggestions, each by looking up the passage's claims."""
    shown, reviewer = annotated_elsewhere
    found = session.execute(
        select(annotating.annotated_by_user(Passage.id), suggestions.on_passage(Passage.id))
        .where(Passage.id.in_([shown.id, shown.id - 1]))
        .order_by(Passage.id),
        {"user_id": reviewer.id},
    ).all()
    assert [tuple(row) for row in found] == [(True, True), (True, False)]
    query = select(
        Passage.id, annotating.annotated_by_user(Passage.id), suggestions.on_passage(Passage.id)
    ).where(Passage.id == bindparam("passage_id"))
    with statements_sent(_engine(session)) as sent:
        session.execute(query, {"user_id": reviewer.id, "passage_id": shown.id})
    ((statement, params),) = _selects(sent)
    plan = _plan(session, statement, params)
    assert any(name in plan for name in ANNOTATION_BY_CLAIM), plan
    assert any(name in plan for name in SUGGESTION_BY_CLAIM), plan
    assert "ix_annotations_user_id" not in plan, plan


def test_the_page_asks_whether_a_passage_has_a_history_by_passage(session, worked_passage):
    passage, _ = worked_passage
    never_changed = session.scalar(select(func.max(Passage.id)))
    query = select(annotating.has_history(Passage.id)).where(Passage.id == bindparam("passage_id"))
    assert session.scalar(query, {"passage_id": passage.id}) is True
    assert session.scalar(query, {"passage_id": never_changed}) is False
    with statements_sent(_engine(session)) as sent:
        session.execute(query, {"passage_id": passage.id})
    ((statement, params),) = _selects(sent)
    if session.connection().dialect.name == "postgresql":
        # Half of this small table is one passage's, so PostgreSQL would rather scan it to
        # the first match; what is checked is that the index serves the lookup.
        session.connection().exec_driver_sql("SET LOCAL enable_seqscan = off")
    assert "ix_changes_passage_id_user_id_id" in _plan(session, statement, params)


def test_the_page_query_works_out_its_figures_once_not_per_claim(session, make_user):
    """The page's query has a row per claim; a subquery that refers to the row would run
    once per claim (a SubPlan on PostgreSQL, a correlated subquery on SQLite)."""
    _, shown, reviewer, _ = _two_passages_two_reviewers(session, make_user)
    assert len(shown.claims) >= 2, "the fixture's second passage has several claims"
    with statements_sent(_engine(session)) as sent:
        rows = session.execute(
            _PASSAGE_FOR_PAGE, {"passage_id": shown.id, "user_id": reviewer.id}
        ).unique()
        assert rows.one()[0] is shown
    ((statement, params),) = _selects(sent)
    plan = _plan(session, statement, params)
    assert "SubPlan" not in plan, plan
    assert "CORRELATED" not in plan, plan
