"""Reviewers keep saving a passage over HTTP while a curator keeps splitting and joining its
claims: no request fails with a server error, and afterwards the passage's counters agree
with its claims, labels and reviews."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from annotator.db import get_session
from annotator.models import (
    Document,
    MemberRole,
    Passage,
    Project,
)
from annotator.services import accounts, projects
from tests.concurrency.study import CONTESTED, check_completed_reviews, open_study
from tests.conftest import PASSWORD
from tests.web_client import CSRF_FIELD, Reviewer

REVIEWERS = 3
ROUNDS = 25
FIRST = "Union leaders walked out of the talks"
SECOND = "after the port authority refused to raise its wage offer, Reuters said."
VERSION = re.compile(r'name="version" type="hidden" value="([0-9a-f]+)"')

pytestmark = pytest.mark.slow


@pytest.fixture
def contested(live_server):
    with live_server.app.app_context():
        session = get_session()
        project = open_study(session, REVIEWERS)
        curator = accounts.create_user(session, "cora", PASSWORD)
        projects.add_member(session, project, curator, MemberRole.CURATOR)
        session.commit()
        passage = session.scalar(select(Passage).where(Passage.text.startswith(CONTESTED)))
        return live_server, passage.id, passage.text


def keep_saving(base_url: str, name: str, passage_id: int) -> list[int]:
    reviewer = Reviewer(base_url, name)
    reviewer.log_in()
    statuses = []
    for round_ in range(ROUNDS):
        _, html = reviewer.open(f"/passages/{passage_id}")
        label = ("reported", "quoted", "editorial")[round_ % 3]
        statuses.append(reviewer.save_all(passage_id, html, label).status_code)
    return statuses


def keep_editing(base_url: str, passage_id: int, text: str) -> list[int]:
    curator = Reviewer(base_url, "cora")
    curator.log_in()
    statuses = []
    for round_ in range(ROUNDS):
        page = curator.http.get(f"{base_url}/passages/{passage_id}/edit", timeout=30).text
        claims = f"{FIRST}\n{SECOND}" if round_ % 2 == 0 else text
        response = curator.http.post(
            f"{base_url}/passages/{passage_id}/edit",
            data={
                "csrf_token": CSRF_FIELD.search(page).group(1),
                "version": VERSION.search(page).group(1),
                "claims": claims,
                "confirm": "y",
            },
            allow_redirects=False,
            timeout=30,
        )
        statuses.append(response.status_code)
    return statuses


def test_saves_and_claim_edits_at_once_stay_consistent(contested):
    server, passage_id, text = contested
    with ThreadPoolExecutor(REVIEWERS + 1) as pool:
        edits = pool.submit(keep_editing, server.url, passage_id, text)
        saves = [
            pool.submit(keep_saving, server.url, f"rev{index}", passage_id)
            for index in range(REVIEWERS)
        ]
        edit_statuses = edits.result()
        save_statuses = [status for future in saves for status in future.result()]
    assert set(edit_statuses) <= {302, 400, 409}, edit_statuses
    assert edit_statuses.count(302) >= ROUNDS // 2, edit_statuses
    assert set(save_statuses) <= {200, 400, 409}, save_statuses
    assert 200 in save_statuses

    with server.app.app_context():
        session = get_session()
        passage = session.get(Passage, passage_id)
        check_completed_reviews(session, passage)
        document = session.get(Document, passage.document_id)
        open_now = session.scalar(
            select(func.count(Passage.id)).where(
                Passage.document_id == document.id,
                Passage.claim_count > 0,
                Passage.completed_count < session.get(Project, passage.project_id).overlap,
            )
        )
        assert document.open_passages == open_now
