"""Two app server processes on one database (PostgreSQL, or one SQLite file: it must hold
there too) under concurrent reviewers: no acknowledged save lost, no duplicate tag, the
overlap exact, and two sessions of one reviewer racing on the same claims through different
servers never silently overwrite each other (one wins, the other gets 409)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from annotator import create_app
from annotator.db import get_engine, get_session, release_session
from annotator.models import Annotation, Passage, Project, Review
from tests.faults.conftest import fresh_database
from tests.faults.servers import (
    LABELS,
    SECRET_KEY,
    ServerProcess,
    Work,
    review_until_done,
    seed,
    stored_labels,
)
from tests.web_client import Reviewer

pytestmark = pytest.mark.slow

REVIEWERS = 6
OVERLAP = 2
RACES = 8


@pytest.fixture(scope="module")
def two_servers(tmp_path_factory):
    """One database, one seeded project, two server processes, shared by this module's tests
    (starting them is most of the cost). faults0..5 do project "faults"; race0 races in
    project "race", so the tests do not depend on their order."""
    folder = tmp_path_factory.mktemp("two_servers")
    with fresh_database(folder) as database_url:
        project_id = seed(database_url, documents=1, reviewers=REVIEWERS, tmp_path=folder)
        seed(database_url, documents=1, reviewers=1, tmp_path=folder, project="race")
        started = []
        try:
            for name in ("a", "b"):
                started.append(ServerProcess(database_url, folder / f"{name}.log").start())
            yield database_url, project_id, started
        finally:
            for server in started:
                server.stop()


def test_concurrent_reviewers_on_two_servers_lose_and_duplicate_nothing(two_servers):
    database_url, project_id, (first, second) = two_servers
    work = Work()
    with ThreadPoolExecutor(REVIEWERS) as pool:
        for index in range(REVIEWERS):
            url = (first, second)[index % 2].url
            pool.submit(
                review_until_done, url, f"faults{index}", project_id, work, threading.Event()
            )
    assert work.errors == []
    stored = {k: v for k, v in stored_labels(database_url).items() if k[0] != "race0"}
    assert stored == work.acknowledged, "every acknowledged save, and nothing else, is stored"
    duplicates, over_served, miscounted = _project_state(database_url, project_id)
    assert duplicates == [], "a reviewer has two tags on one claim"
    assert over_served == [], "a passage got more completed reviews than the overlap"
    assert miscounted == [], "a passage's completed_count disagrees with its reviews"


def _project_state(database_url: str, project_id: int) -> tuple[list, list, list]:
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": SECRET_KEY})
    with app.app_context():
        session = get_session()
        duplicates = session.execute(
            select(Annotation.claim_id, Annotation.user_id)
            .group_by(Annotation.claim_id, Annotation.user_id)
            .having(func.count() > 1)
        ).all()
        completed = dict(
            session.execute(
                select(Review.passage_id, func.count())
                .where(Review.status == "completed")
                .group_by(Review.passage_id)
            ).all()
        )
        passages = session.scalars(
            select(Passage).where(Passage.project_id == project_id, Passage.claim_count > 0)
        ).all()
        over = [p.id for p in passages if completed.get(p.id, 0) != OVERLAP]
        miscounted = [p.id for p in passages if p.completed_count != completed.get(p.id, 0)]
        release_session()
        get_engine().dispose()
    return list(duplicates), over, miscounted


def test_one_reviewer_racing_through_both_servers_loses_no_update(two_servers):
    """Two tabs of one reviewer, one per server, save different labels on the same passage at the
    same moment, first on untagged claims (inserts), then again on the stored versions
    (updates): each time exactly one save wins and the other is told (409)."""
    database_url, _, (first, second) = two_servers
    racer = "race0"
    tabs = [Reviewer(first.url, racer), Reviewer(second.url, racer)]
    for tab in tabs:
        tab.log_in()
    winners: dict[int, str] = {}
    for passage_id in _passages(database_url, "race")[:RACES]:
        first_round = _race(tabs, passage_id, ("quoted", "editorial"))
        current = set(first_round.values())
        # Then both change the stored label (to two other labels), racing on the versions.
        second_labels = tuple(label for label in LABELS if label not in current)
        if len(second_labels) == 2:
            winners.update(_race(tabs, passage_id, second_labels))
        else:
            winners.update(first_round)
    stored = stored_labels(database_url)
    assert {claim: label for (user, claim), label in stored.items() if user == racer} == winners


def _race(tabs: list[Reviewer], passage_id: int, labels: tuple[str, ...]) -> dict[int, str]:
    """Both tabs load the passage, then save all its claims at once, each its own label."""
    pages = [tab.http.get(f"{tab.base}/passages/{passage_id}", timeout=30).text for tab in tabs]
    start = threading.Barrier(len(tabs))

    def save(index: int):
        start.wait()
        return tabs[index].save_all(passage_id, pages[index], labels[index])

    with ThreadPoolExecutor(len(tabs)) as pool:
        responses = list(pool.map(save, range(len(tabs))))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 409], [r.text[:200] for r in responses]
    (winner,) = [(i, r) for i, r in enumerate(responses) if r.status_code == 200]
    return {int(claim): labels[winner[0]] for claim in winner[1].json()["annotations"]}


def _passages(database_url: str, project: str) -> list[int]:
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": SECRET_KEY})
    with app.app_context():
        ids = (
            get_session()
            .scalars(
                select(Passage.id)
                .join(Project, Project.id == Passage.project_id)
                .where(Project.name == project, Passage.claim_count > 0)
                .order_by(Passage.id)
            )
            .all()
        )
        release_session()
        get_engine().dispose()
    return list(ids)
