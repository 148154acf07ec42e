"""The dashboard, the agreement figures, the reports and the adjudication queue read the
project's labels and the page they show: not every passage of the project (at 290,000
passages reading them all made the outlet report take 3 s and the dashboard 0.5 s), nor every
label of every project (400,000 labels in another project made a small project's adjudication
queue take 0.6 s; docs/benchmarks.md). SQLite, which has no statistics, picks its plans by the
form of the query, so its plans are checked; PostgreSQL chooses by its statistics, and a test
database is too small for its choice to say anything."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from annotator.db import engine_of
from annotator.models import Document, Project, User
from annotator.services import adjudication, agreement, dashboard, reports
from annotator.services.adjudication import QueueFilter
from tests.helpers import statements_sent
from tests.panel import build_panel

PROJECT_PASSAGES = "ix_passages_project_id_id (project_id=?)"
PROJECT_LABELS = "ix_annotations_project_id_claim_id (project_id=?"
FULL_SCANS = ("SCAN passages", "SCAN claims", "SCAN annotations", "SCAN final_labels")

READS: dict[str, Callable[[Session, Project], Any]] = {
    "outlet report labels": reports.load_claim_labels,
    "agreement ratings": agreement.load_ratings,
    "suggested against settled": agreement.suggester_confusion,
    "outlet menu": agreement.outlet_names,
    "reviewers' work": dashboard.reviewers,
    "adjudication queue": lambda s, p: adjudication.disagreement_queue(s, p, QueueFilter()),
}
LABEL_READS = ["outlet report labels", "agreement ratings", "reviewers' work", "adjudication queue"]


@pytest.fixture
def project(session: Session) -> Project:
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("SQLite plans by the form of the query; PostgreSQL by its statistics")
    panel = build_panel(session)
    project = session.get(Project, panel.project_id)
    assert project is not None
    return project


def _plans(session: Session, read: Callable[[Session, Project], Any], project: Project) -> str:
    engine = engine_of(session) or session.get_bind().engine
    with statements_sent(engine) as sent:
        read(session, project)
    connection = session.connection()
    plans = []
    for statement, params in sent:
        rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)
        plans.append("\n".join(str(row[-1]) for row in rows))
    return "\n".join(plans)


@pytest.mark.parametrize("name", list(READS))
def test_reads_do_not_walk_the_projects_passages(session, project, name):
    plan = _plans(session, READS[name], project)
    assert plan, "the read sent no statement"
    assert PROJECT_PASSAGES not in plan, plan
    scans = [line for line in plan.splitlines() if line.startswith(FULL_SCANS)]
    assert not scans, plan


@pytest.mark.parametrize("name", LABEL_READS)
def test_reads_find_the_projects_labels_in_their_index(session, project, name):
    plan = _plans(session, READS[name], project)
    assert PROJECT_LABELS in plan, plan


def test_the_outlet_menu_looks_up_each_outlet_in_one_index(session, project):
    plan = _plans(session, agreement.outlet_names, project)
    assert "ix_passages_outlet_id_project_id (outlet_id=? AND project_id=?)" in plan, plan


def test_a_page_of_documents_is_picked_before_its_passages_are_read(session, project):
    plan = _plans(session, lambda s, p: dashboard.documents(s, p, 1), project)
    assert "LIST SUBQUERY" in plan, plan
    assert "SEARCH documents USING INTEGER PRIMARY KEY (rowid=?)" in plan, plan


def test_a_documents_overview_reads_its_passages_and_the_viewers_reviews_by_index(session, project):
    document = session.scalar(select(Document).where(Document.project_id == project.id))
    viewer = session.scalar(select(User.id).order_by(User.id))
    plan = _plans(
        session, lambda s, p: dashboard.document_passages(s, p, document, viewer), project
    )
    assert "SEARCH passages USING INDEX" in plan
    assert "(document_id=?)" in plan
    scans = [line for line in plan.splitlines() if line.startswith((*FULL_SCANS, "SCAN reviews"))]
    assert not scans, plan
