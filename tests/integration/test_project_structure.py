"""What a project's passages are made of per outlet is kept per worker under a version that
every import and every change of the outlet registry moves. Needs real commits, so each test
has a database of its own (the suite's rolled-back transaction bypasses the cache)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from annotator.db import get_engine, get_session
from annotator.models import Document, Outlet, Passage, Project, Review, ReviewStatus
from annotator.services import (
    accounts,
    dashboard,
    deleting,
    outlets,
    progress,
    reports,
    structure,
)
from tests.conftest import PASSWORD
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


def _done_by_joining_passages(session: Session, project: Project) -> dict[int | None, tuple]:
    """The dashboard's reviews done per outlet as the database counts them, joining every
    completed review to its passage."""
    reviews = (
        select(Review.passage_id, func.count().label("n"))
        .where(Review.project_id == project.id, Review.status == ReviewStatus.COMPLETED)
        .group_by(Review.passage_id)
        .subquery()
    )
    capped = case((reviews.c.n > project.overlap, project.overlap), else_=reviews.c.n)
    rows = session.execute(
        select(
            Passage.outlet_id,
            func.sum(capped),
            func.sum(case((reviews.c.n >= project.overlap, 1), else_=0)),
        )
        .join(reviews, reviews.c.passage_id == Passage.id)
        .where(Passage.claim_count > 0)
        .group_by(Passage.outlet_id)
    )
    return {outlet_id: (int(done), int(complete)) for outlet_id, done, complete in rows}


def _complete_reviews(session: Session, project: Project, passages: list[Passage], users) -> None:
    for passage, reviewers in zip(passages, users, strict=False):
        for user in reviewers:
            session.add(
                Review(
                    passage_id=passage.id,
                    document_id=passage.document_id,
                    project_id=project.id,
                    user_id=user.id,
                    status=ReviewStatus.COMPLETED,
                )
            )
    session.commit()


def test_the_dashboard_counts_reviews_per_outlet_as_the_passages_say(session):
    """Completed reviews of passages citing each outlet, one to three a passage (the overlap
    is two), and of a passage without claims: the kept map of the passages' outlets gives
    what joining the reviews to their passages gives."""
    project = _project(session)
    ann, bob, cat = (accounts.create_user(session, name, PASSWORD) for name in "abc")
    passages = session.scalars(
        select(Passage).where(Passage.project_id == project.id).order_by(Passage.id)
    ).all()
    without_claims = passages[-1:]  # its claims are taken away below
    without_claims[0].claims.clear()
    without_claims[0].claim_count = 0
    session.commit()
    with_claims = [p for p in passages if p.claim_count]
    cited = {p.outlet_id for p in with_claims}
    assert len(cited) >= 3, "the fixtures cite at least two outlets beside the author's words"
    crowds = [[ann], [ann, bob], [ann, bob, cat]]
    chosen = with_claims[::2] + without_claims
    _complete_reviews(session, project, chosen, [crowds[i % 3] for i in range(len(chosen))])

    done = {
        row.name: (row.reviews_done, row.complete_passages)
        for row in dashboard.outlets(session, project)
    }

    names = {
        o.outlet_id: o.name or dashboard.AUTHOR_OWN_WORDS
        for o in structure.project_structure(session, project)
    }
    expected = {
        names[o]: figures for o, figures in _done_by_joining_passages(session, project).items()
    }
    assert {name: figures for name, figures in done.items() if figures != (0, 0)} == expected
    assert sum(complete for _, complete in done.values()) == sum(
        1 for i, p in enumerate(chosen) if p.claim_count and i % 3
    )


def test_the_passages_outlets_are_read_once_while_nothing_changes(session):
    project = _project(session)
    with statements_sent(get_engine()) as sent:
        first = structure.structure_of(session, project).passage_outlets(session)
        again = structure.structure_of(session, project).passage_outlets(session)
    session.commit()
    assert again is first
    assert (
        sum("passages.claim_count > " in sql and "ORDER BY passages.id" in sql for sql, _ in sent)
        == 1
    )
    import_fixture(session, "kremlin.html", project="study")
    after = structure.structure_of(session, project).passage_outlets(session)
    assert len(after.passage_ids) > len(first.passage_ids), "an import shows at once"


def test_deleting_a_document_shows_at_once_in_this_process(session):
    """The version (the newest passage) does not move when an older document goes, so the
    deleting process forgets what it kept; the reviewer's total is refreshed the same way."""
    project = _project(session)
    first = session.scalar(
        select(Document).where(Document.project_id == project.id).order_by(Document.id)
    )
    first_id = first.id
    newest = session.scalar(select(func.max(Passage.id)).where(Passage.project_id == project.id))
    before, _ = _read(session)
    total_before = progress.passages_to_review(session, project, newest)
    session.commit()
    deleting.delete_document(session, first_id)
    project = _project(session)
    assert session.scalar(select(func.max(Passage.id))) == newest, "the version did not move"
    after, reads = _read(session)
    assert reads == 1
    assert after == structure.read_structure(session, project)
    assert sum(o.passages_with_claims for o in after) < sum(o.passages_with_claims for o in before)
    total_after = progress.passages_to_review(session, project, newest)
    assert total_after < total_before
