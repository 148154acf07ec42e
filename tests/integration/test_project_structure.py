"""What a project's passages are made of per outlet is kept per worker under a version that
every import and every change of the outlet registry moves. Needs real commits, so each test
has a database of its own (the suite's rolled-back transaction bypasses the cache)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from annotator.db import get_engine, get_session
from annotator.models import Outlet, Passage, Project
from annotator.services import dashboard, outlets, reports, structure
from tests.helpers import import_fixture, statements_sent


@pytest.fixture
def session(app_on_fresh_database: Flask) -> Iterator[Session]:
    structure._STRUCTURES.clear()
    with app_on_fresh_database.app_context():
        session = get_session()
        import_fixture(session, "harbour.txt", "two.jsonl", project="study")
        yield session


def _project(session: Session) -> Project:
    project = session.scalar(select(Project).where(Project.name == "study"))
    assert project is not None
    return project


def _read(session: Session) -> tuple[tuple[structure.OutletStructure, ...], int]:
    """The structure, and how many times getting it read the passages."""
    project = _project(session)
    with statements_sent(get_engine()) as sent:
        figures = structure.project_structure(session, project)
    session.commit()
    return figures, sum("GROUP BY passages.outlet_id" in sql for sql, _ in sent)


def _by_name(figures: tuple[structure.OutletStructure, ...]) -> dict[str | None, int]:
    return {o.name: o.passages_with_claims for o in figures}


def test_the_figures_are_those_of_the_passages(session):
    figures, _ = _read(session)
    project = _project(session)
    assert figures == structure.read_structure(session, project)
    passages = session.scalars(select(Passage).where(Passage.project_id == project.id)).all()
    assert sum(o.claims for o in figures) == sum(p.claim_count for p in passages)
    assert sum(o.excerpt_passages + o.author_passages for o in figures) == len(passages)
    cited = {p.outlet.name for p in passages if p.outlet is not None and p.claim_count}
    assert {name for name, n in _by_name(figures).items() if n and name} == cited


def test_they_are_read_once_while_nothing_changes(session):
    first, first_reads = _read(session)
    again, later_reads = _read(session)
    assert again == first
    assert (first_reads, later_reads) == (1, 0)


def test_an_import_into_the_project_shows_at_once(session):
    before, _ = _read(session)
    import_fixture(session, "kremlin.html", project="study")
    after, reads = _read(session)
    assert reads == 1
    assert sum(o.documents for o in after) > sum(o.documents for o in before)
    assert after == structure.read_structure(session, _project(session))


def test_a_merge_of_outlets_shows_at_once(session):
    before, _ = _read(session)
    source_name = next(name for name, n in _by_name(before).items() if name and n)
    source = session.scalar(select(Outlet).where(Outlet.name == source_name))
    target = outlets.create_outlet(session, "Merged Wire")
    outlets.merge_outlets(session, source.id, target.id)
    after, _ = _read(session)
    assert source_name not in _by_name(after)
    assert _by_name(after)["Merged Wire"] == _by_name(before)[source_name]


def test_the_dashboard_and_the_outlet_report_use_them(session):
    project = _project(session)
    rows = dashboard.outlets(session, project)
    with_claims = select(func.count(Passage.id)).where(
        Passage.project_id == project.id, Passage.claim_count > 0
    )
    assert sum(row.passages for row in rows) == session.scalar(with_claims)
    report = reports.outlet_report(session, project, reports.Basis.SETTLED_OR_MAJORITY)
    figures, _ = _read(session)
    assert {r.outlet: r.claims for r in report.rows} == {
        o.name: o.claims for o in figures if o.name is not None
    }


def test_the_kept_figures_expire(session, monkeypatch):
    _read(session)
    monkeypatch.setattr(structure._STRUCTURES, "ttl_s", 0.0)
    assert _read(session)[1] == 1
