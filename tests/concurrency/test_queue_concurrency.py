"""Eight reviewers work one project concurrently over HTTP against a real server until it is
complete; afterwards the overlap holds exactly and every acknowledged save is stored."""

from __future__ import annotations

import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select

from annotator.db import get_session
from annotator.models import Annotation, Passage, Project, Review, User
from annotator.services import accounts, importing
from tests.conftest import PASSWORD, SHARED
from tests.web_client import Reviewer

REVIEWERS = 8
DOCUMENTS = 6
LABELS = ("reported", "quoted", "editorial")

pytestmark = pytest.mark.slow


@pytest.fixture
def busy_project(live_server, tmp_path: Path):
    corpus = tmp_path / "corpus.jsonl"
    subprocess.run(
        [sys.executable, str(SHARED / "bench" / "make_corpus.py"), str(DOCUMENTS), str(corpus)],
        check=True,
    )
    with live_server.app.app_context():
        session = get_session()
        report = importing.import_files(session, [(corpus.name, corpus.read_bytes())], "busy")
        assert not report.failed
        project = session.scalar(select(Project).where(Project.name == "busy"))
        project.open_to_all = True
        session.commit()
        for index in range(REVIEWERS):
            accounts.create_user(session, f"worker{index}", PASSWORD)
        return live_server, project.id


def work_until_done(base_url: str, index: int, project_id: int) -> list[tuple[int, int, str]]:
    """Returns the (passage, claim, label) of every save the server acknowledged. Even
    reviewers move on with "Save and next", odd ones with a save and then "Next"."""
    reviewer = Reviewer(base_url, f"worker{index}")
    reviewer.log_in()
    then = "next" if index % 2 == 0 else None
    acknowledged: list[tuple[int, int, str]] = []
    served: set[int] = set()
    found = reviewer.next_passage(project_id)
    while found is not None:
        passage_id, html = found
        assert passage_id not in served, "the queue served a passage twice to one reviewer"
        served.add(passage_id)
        label = LABELS[(passage_id + index) % 3]
        response = reviewer.save_all(passage_id, html, label, then)
        assert response.status_code == 200, response.text
        for claim_id in response.json()["annotations"]:
            acknowledged.append((passage_id, int(claim_id), label))
        found = shown_next(response.json()) if then else reviewer.next_passage(project_id)
    return acknowledged


def shown_next(answer: dict) -> tuple[int, str] | None:
    """The passage a "Save and next" answer shows in place, with its page content."""
    match = re.search(r"/passages/(\d+)$", answer["next_url"])
    return (int(match.group(1)), answer["page"]) if match else None


def test_eight_reviewers_complete_the_project_exactly(busy_project):
    server, project_id = busy_project
    with ThreadPoolExecutor(REVIEWERS) as pool:
        futures = [
            pool.submit(work_until_done, server.url, i, project_id) for i in range(REVIEWERS)
        ]
        results = [f.result(timeout=600) for f in futures]
    with server.app.app_context():
        session = get_session()
        project = session.get(Project, project_id)
        passages = session.scalars(
            select(Passage).where(Passage.project_id == project_id, Passage.claim_count > 0)
        ).all()
        completed = dict(
            session.execute(
                select(Review.passage_id, func.count(Review.id))
                .where(Review.status == "completed")
                .group_by(Review.passage_id)
            ).all()
        )
        assert {p.id: completed.get(p.id, 0) for p in passages} == {
            p.id: project.overlap for p in passages
        }
        assert all(p.completed_count == project.overlap for p in passages)
        stored = {
            (a.claim_id, a.user.username): a.label
            for a in session.scalars(select(Annotation).join(User))
        }
        for index, saves in enumerate(results):
            for _, claim_id, label in saves:
                assert stored[(claim_id, f"worker{index}")] == label
        assert sum(len(r) for r in results) == len(stored)
        assert sum(1 for r in results if r) > 1, "work was spread over several reviewers"
