"""How a request's database transaction ends: reads are committed (so that the PostgreSQL
driver keeps its prepared statements), anything that wrote without committing, and any
request that failed, is rolled back."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, func, insert, select

from annotator import create_app, migrate
from annotator.db import get_engine, get_session
from annotator.models import Project, utcnow


@pytest.fixture
def own_app(fresh_database_url: str) -> Iterator[Flask]:
    """An app on a database of its own: these tests need real COMMITs and ROLLBACKs, not the
    suite's rolled-back outer transaction."""
    app = create_app({"DATABASE_URL": fresh_database_url, "SECRET_KEY": "x" * 32, "TESTING": True})
    with app.app_context():
        migrate.upgrade(get_engine())
    yield app
    with app.app_context():
        get_engine().dispose()


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


def test_a_request_that_only_read_is_committed(own_app):
    ends = _ends(own_app)
    with own_app.test_request_context():
        get_session().execute(select(Project.id)).all()
    assert ends == ["commit"]


def test_a_write_left_uncommitted_is_rolled_back(own_app):
    ends = _ends(own_app)
    with own_app.test_request_context():
        get_session().execute(insert(Project), _new_project("half-done"))
    assert ends == ["rollback"]
    assert _projects(own_app) == 0


def test_an_unfinished_orm_change_is_rolled_back(own_app):
    ends = _ends(own_app)
    with own_app.test_request_context():
        session = get_session()
        session.execute(select(Project.id)).all()
        session.add(Project(**_new_project("pending")))
    assert ends == ["rollback"]
    assert _projects(own_app) == 0


def test_a_failed_request_is_rolled_back_even_if_it_only_read(own_app):
    ends = _ends(own_app)
    context = own_app.test_request_context()
    context.push()
    get_session().execute(select(Project.id)).all()
    context.pop(RuntimeError("the view failed"))
    assert ends == ["rollback"]


def test_a_committed_write_stays(own_app):
    with own_app.test_request_context():
        session = get_session()
        session.execute(insert(Project), _new_project("kept"))
        session.commit()
    assert _projects(own_app) == 1
