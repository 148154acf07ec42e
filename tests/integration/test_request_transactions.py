"""How a request's database transaction ends: reads are committed (so that the PostgreSQL
driver keeps its prepared statements), anything that wrote without committing, and any
request that failed, is rolled back."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, func, insert, select

from annotator.db import begin_write, engine_of, get_engine, get_session
from annotator.models import Project, utcnow


def _ends(app: Flask) -> list[str]:
    """The ends of transactions on the app's engine, as they happen."""
    ends: list[str] = []
    with app.app_context():
        engine = get_engine()
    event.listen(engine, "commit", lambda _conn: ends.append("commit"))
    event.listen(engine, "rollback", lambda _conn: ends.append("rollback"))
    return ends


def _projects(app: Flask) -> int:
    with app.app_context():
        return get_session().scalar(select(func.count(Project.id))) or 0


def _new_project(name: str) -> dict[str, Any]:
    return {"name": name, "guidelines": "", "created_at": utcnow()}


def test_a_request_that_only_read_is_committed(app_on_fresh_database):
    ends = _ends(app_on_fresh_database)
    with app_on_fresh_database.test_request_context():
        get_session().execute(select(Project.id)).all()
    assert ends == ["commit"]


def test_a_write_left_uncommitted_is_rolled_back(app_on_fresh_database):
    ends = _ends(app_on_fresh_database)
    with app_on_fresh_database.test_request_context():
        get_session().execute(insert(Project), _new_project("half-done"))
    assert ends == ["rollback"]
    assert _projects(app_on_fresh_database) == 0


def test_an_unfinished_orm_change_is_rolled_back(app_on_fresh_database):
    ends = _ends(app_on_fresh_database)
    with app_on_fresh_database.test_request_context():
        session = get_session()
        session.execute(select(Project.id)).all()
        session.add(Project(**_new_project("pending")))
    assert ends == ["rollback"]
    assert _projects(app_on_fresh_database) == 0


def test_a_failed_request_is_rolled_back_even_if_it_only_read(app_on_fresh_database):
    ends = _ends(app_on_fresh_database)
    context = app_on_fresh_database.test_request_context()
    context.push()
    get_session().execute(select(Project.id)).all()
    context.pop(RuntimeError("the view failed"))
    assert ends == ["rollback"]


def test_a_committed_write_stays(app_on_fresh_database):
    with app_on_fresh_database.test_request_context():
        session = get_session()
        session.execute(insert(Project), _new_project("kept"))
        session.commit()
    assert _projects(app_on_fresh_database) == 1


def test_a_request_runs_all_its_transactions_on_one_connection(app_on_fresh_database):
    with app_on_fresh_database.app_context():
        engine = get_engine()
    checkouts: list[int] = []
    event.listen(engine, "checkout", lambda dbapi, *_: checkouts.append(id(dbapi)))
    with app_on_fresh_database.test_request_context():
        session = get_session()
        session.execute(select(Project.id)).all()
        session.commit()
        begin_write(session)
        session.execute(insert(Project), _new_project("first"))
        session.commit()
        session.execute(select(Project.id)).all()
        assert engine.pool.checkedout() == 1
    assert len(checkouts) == 1
    assert engine.pool.checkedout() == 0, "the connection went back when the request ended"
    assert _projects(app_on_fresh_database) == 1


def test_a_write_transaction_takes_sqlites_lock_for_itself_only(app_on_fresh_database):
    with app_on_fresh_database.app_context():
        engine = get_engine()
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's BEGIN IMMEDIATE")
    begins: list[str] = []
    event.listen(
        engine,
        "before_cursor_execute",
        lambda _c, _cur, statement, *_: (
            begins.append(statement) if statement.startswith("BEGIN") else None
        ),
    )
    with app_on_fresh_database.test_request_context():
        session = get_session()
        begin_write(session)
        session.execute(insert(Project), _new_project("written"))
        session.commit()
        session.execute(select(Project.id)).all()  # reads after the write on the same connection
    assert begins == ["BEGIN IMMEDIATE", "BEGIN"]


def test_only_a_session_that_began_its_transactions_names_its_engine(app, session):
    """The tests' sessions join a transaction that is rolled back: other connections cannot
    see their work, and caches must not keep what they read."""
    assert engine_of(session) is None
    with app.app_context():
        assert engine_of(get_session()) is None


def test_a_request_session_names_its_engine(app_on_fresh_database):
    with app_on_fresh_database.test_request_context():
        assert engine_of(get_session()) is get_engine()
