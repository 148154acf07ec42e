"""Reviewers keep saving a passage over HTTP (now and then skipping it, or saving and taking
the next) while a curator keeps importing new versions of its document, and then deletes it:
no request fails with a server error, every re-import succeeds, and afterwards the passage's
counters agree with its claims, labels and reviews."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import pytest
from requests import HTTPError, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from annotator.db import get_session
from annotator.errors import MET_ANOTHER_CHANGE
from annotator.models import Annotation, Document, Passage, Project
from annotator.services import deleting
from annotator.services.importing import import_files
from tests.concurrency.study import CONTESTED, check_completed_reviews, open_study
from tests.helpers import FIXTURES
from tests.web_client import CSRF_META, Reviewer

REVIEWERS = 3
ROUNDS = 20

DEADLOCK = "ended to break a deadlock"
# A save's or skip's answers with nothing wrong on the server's side (a stale page, a passage
# gone with its version: 409, 404); a deadlock is answered 409 too, and told apart.
ANSWERED = {200, 302, 400, 404, 409}

pytestmark = pytest.mark.slow


@pytest.fixture
def study(live_server):
    with live_server.app.app_context():
        session = get_session()
        open_study(session, REVIEWERS)
        session.commit()
    return live_server


def _contested_passage_id(server) -> int | None:
    with server.app.app_context():
        return get_session().scalar(select(Passage.id).where(Passage.text.startswith(CONTESTED)))


def outcome(response: Response) -> int | str:
    """The status, or what the request met when the database ended it to break a deadlock
    (a 409, as a stale page's)."""
    return DEADLOCK if MET_ANOTHER_CHANGE in response.text else response.status_code


def keep_saving(server, name: str) -> list[int | str]:
    reviewer = Reviewer(server.url, name)
    reviewer.log_in()
    statuses: list[int | str] = []
    for round_ in range(ROUNDS):
        passage_id = _contested_passage_id(server)
        if passage_id is None:
            break
        try:
            opened = reviewer.open(f"/passages/{passage_id}")
        except HTTPError as exc:  # the version it was part of was replaced meanwhile
            statuses.append(outcome(exc.response))
            continue
        assert opened is not None
        if round_ % 4 == 3:
            statuses.append(skip(reviewer, passage_id, opened[1]))
            continue
        label = ("reported", "quoted", "editorial")[round_ % 3]
        then = "next" if round_ % 4 == 1 else None  # "Save and next" reserves another passage
        statuses.append(outcome(reviewer.save_all(passage_id, opened[1], label, then)))
    return statuses


def skip(reviewer: Reviewer, passage_id: int, page: str) -> int | str:
    response = reviewer.http.post(
        f"{reviewer.base}/passages/{passage_id}/skip",
        data={"csrf_token": CSRF_META.search(page).group(1), "reason": "later"},
        allow_redirects=False,
        timeout=30,
    )
    return outcome(response)


def wait_for_a_label(server) -> None:
    """Until the reviewers are saving (their logins take longer than a deletion)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with server.app.app_context():
            if get_session().scalar(select(func.count(Annotation.id))):
                return
        time.sleep(0.01)
    raise AssertionError("no reviewer saved a label")


def delete_while_saving(server, delete: Callable[[Session], object]) -> None:
    """Reviewers keep saving while ``delete`` runs on the curator's session; no request of
    theirs fails."""
    with ThreadPoolExecutor(REVIEWERS) as pool:
        saves = [pool.submit(keep_saving, server, f"rev{index}") for index in range(REVIEWERS)]
        wait_for_a_label(server)
        with server.app.app_context():
            delete(get_session())
        save_statuses = [status for future in saves for status in future.result()]
    assert set(save_statuses) <= ANSWERED, save_statuses


def keep_reimporting(server) -> list[list[str]]:
    """New versions of the article, each with another closing paragraph (the contested
    passage keeps its text, so its labels are carried over)."""
    article = (FIXTURES / "harbour.txt").read_text()
    failures = []
    for round_ in range(ROUNDS):
        version = f"{article.rstrip()}\n\nEditor's note, version {round_}.\n"
        with server.app.app_context():
            report = import_files(get_session(), [("harbour.txt", version.encode())], "study")
        failures.append(report.failed)
    return failures


def test_saves_during_reimports_and_a_delete_stay_consistent(study):
    with ThreadPoolExecutor(REVIEWERS + 1) as pool:
        imports = pool.submit(keep_reimporting, study)
        saves = [pool.submit(keep_saving, study, f"rev{index}") for index in range(REVIEWERS)]
        import_failures = imports.result()
        save_statuses = [status for future in saves for status in future.result()]
    assert not any(import_failures), import_failures
    assert set(save_statuses) <= ANSWERED, save_statuses
    assert 200 in save_statuses
    assert 302 in save_statuses, "no skip went through"

    with study.app.app_context():
        session = get_session()
        passage = session.scalar(select(Passage).where(Passage.text.startswith(CONTESTED)))
        check_completed_reviews(session, passage)
        document_id = passage.document_id

    delete_while_saving(study, partial(deleting.delete_document, document_id=document_id))
    with study.app.app_context():
        session = get_session()
        assert session.get(Document, document_id) is None
        assert session.scalar(select(func.count(Passage.id))) == 0


def test_saves_during_a_project_deletion_stay_consistent(study):
    with study.app.app_context():
        project_id = deleting.project_named(get_session(), "study").id
    delete_while_saving(study, partial(deleting.delete_project, project_id=project_id))
    with study.app.app_context():
        session = get_session()
        assert session.get(Project, project_id) is None
        assert session.scalar(select(func.count(Passage.id))) == 0
