"""Pages cost a fixed number of SQL queries however large the project: the annotation page,
"Next", a save, "Save and next", the dashboard, a document's overview, the CSV export and the
pages a team follows a study on (outlet report and the claims behind it, agreement,
reviewer report, adjudication queue) are counted at two project sizes."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from annotator.models import Document, Project, Review, ReviewStatus, User
from annotator.services.importing import import_files
from tests.conftest import SHARED
from tests.helpers import statements_sent

SMALL, LARGE = 2, 8  # documents; both fit in one export page (DOCUMENTS_PER_PAGE = 250)
# Statements per request (BEGIN and COMMIT included), counted by the test below: the
# annotation loop is CPU-bound, and each statement costs the worker about 0.1 ms
# (docs/benchmarks.md). The next page of "Save and next" was reserved in the same request,
# so the reviewer's review of it is known and not read again. The page reads the reviewer's
# annotations, the outside suggestions and the history only when its query found some (the
# counted passages have none). A save that labels every claim for the first time does not
# read the stored annotations first (annotating._first_save_of_every_claim). Workers cache
# the outlet menu (test_outlet_menu.py), but the pages counted here read it every time:
# their sessions run inside the test's transaction. On PostgreSQL a reservation locks the
# passage it finds and counts the room in its upsert; SQLite, whose writers hold the
# database lock, needs no lock but sends its own BEGIN. The dashboard reads what the
# project's passages are made of per outlet and which outlet each passage cites, which a
# worker keeps (structure.py) but these sessions read again every time.
BUDGET = {
    "sqlite": {
        "next": 9,
        "page": 7,
        "dashboard": 11,  # 9 when the worker keeps the project's structure (above)
        "document": 9,  # 3 count what deleting it would take (admins only)
        "export": 9,  # one checks that the project filter names a project
        "page + save": 21,
        "save and next, with the next page": 19,
    },
    "postgresql": {
        "next": 7,
        "page": 7,
        "dashboard": 11,
        "document": 9,  # 3 count what deleting it would take (admins only)
        "export": 9,  # one turns off parallel workers for the page, one checks the project
        "page + save": 19,
        "save and next, with the next page": 17,
    },
}
# The team's pages, with two reviewers' disagreeing labels on the same passages. Their
# figures are computed from the labels, and what the project's passages are made of per
# outlet is read again every time here, as for the dashboard above.
TEAM_BUDGET = {
    "outlet report": 8,  # one counts the documents of each citing site, for the scope menu
    "outlet report, settled labels": 8,
    "outlet report CSV": 7,
    "outlet report of a site and period": 10,  # two count the documents the scope keeps
    "an outlet's claims": 11,  # two the page's claims and their labels, two the outlet menu
    "loaded terms report": 11,  # every passage's text and the structure, where nothing was kept
    "agreement": 9,  # one counts the documents of each citing site, for the scope menu
    "agreement JSON": 5,
    "reviewer report": 6,
    "adjudication queue": 12,  # one counts the documents of each citing site, for the scope menu
}
TEAM_PAGES = {
    "outlet report": "/projects/{p}/reports/outlets",
    "outlet report, settled labels": "/projects/{p}/reports/outlets?basis=settled",
    "outlet report CSV": "/projects/{p}/reports/outlets.csv",
    "outlet report of a site and period": (
        "/projects/{p}/reports/outlets?site=Wire&published_from=2026-01-01"
    ),
    "an outlet's claims": "/projects/{p}/reports/outlets/claims?outlet=Kyiv+Independent&basis=all",
    "loaded terms report": "/projects/{p}/reports/terms",
    "agreement": "/projects/{p}/agreement",
    "agreement JSON": "/projects/{p}/agreement.json",
    "reviewer report": "/projects/{p}/reports/reviewers",
    "adjudication queue": "/projects/{p}/adjudicate",
}
CLAIM = re.compile(r'<fieldset class="claim[^"]*" id="claim-(\d+)"')


def _project(session: Any, tmp_path: Path, documents: int) -> int:
    corpus = tmp_path / f"corpus-{documents}.jsonl"
    subprocess.run(
        [sys.executable, str(SHARED / "bench" / "make_corpus.py"), str(documents), str(corpus)],
        check=True,
    )
    name = f"size-{documents}"
    report = import_files(session, [(corpus.name, corpus.read_bytes())], name)
    assert report.imported
    assert not report.failed
    project = session.scalar(select(Project).where(Project.name == name))
    project.open_to_all = True
    session.execute(
        update(Document)
        .where(Document.project_id == project.id)
        .values(site="Wire", published_on=date(2026, 2, 1))
    )
    session.commit()
    return int(project.id)


def _save_all(client: Any, passage_id: int, html: str | None = None, then: str = "") -> Any:
    page = html or client.get(f"/passages/{passage_id}").get_data(as_text=True)
    claims = CLAIM.findall(page)
    body = {"labels": dict.fromkeys(claims, "quoted"), "versions": dict.fromkeys(claims, 0)}
    return client.post(f"/passages/{passage_id}", json={**body, "then": then})


def _query_counts(client: Any, engine: Engine, project_id: int) -> dict[str, int]:
    """The annotation loop, counted for a reviewer: work a little first (so the reviewer has
    history), then count each request."""
    for _ in range(2):
        passage_id = int(client.get(f"/projects/{project_id}/next").location.rsplit("/", 1)[1])
        assert _save_all(client, passage_id).status_code == 200
    counts = {}
    with statements_sent(engine) as statements:
        response = client.get(f"/projects/{project_id}/next")
    counts["next"] = len(statements)
    passage_id = int(response.location.rsplit("/", 1)[1])
    counts["page"] = _count_get(client, engine, f"/passages/{passage_id}")
    with statements_sent(engine) as statements:
        assert _save_all(client, passage_id).status_code == 200
    counts["page + save"] = len(statements)
    passage_id = int(client.get(f"/projects/{project_id}/next").location.rsplit("/", 1)[1])
    page = client.get(f"/passages/{passage_id}").get_data(as_text=True)
    with statements_sent(engine) as statements:
        reply = _save_all(client, passage_id, page, then="next")
    assert reply.status_code == 200
    assert "page" in reply.json
    counts["save and next, with the next page"] = len(statements)
    return counts


def _admin_counts(client: Any, engine: Engine, project_id: int, name: str) -> dict[str, int]:
    """The dashboard, a document's overview and the export, counted for an admin."""
    dashboard = client.get(f"/projects/{project_id}/dashboard").get_data(as_text=True)
    document = re.search(r'href="(/projects/\d+/documents/\d+)"', dashboard)
    assert document is not None, "the dashboard links to its documents"
    return {
        "dashboard": _count_get(client, engine, f"/projects/{project_id}/dashboard"),
        "document": _count_get(client, engine, document.group(1)),
        "export": _count_get(
            client, engine, f"/export/annotations.csv?all_claims=1&project={name}"
        ),
    }


def _count_get(client: Any, engine: Engine, url: str) -> int:
    with statements_sent(engine) as statements:
        reply = client.get(url)
        reply.get_data()
    assert reply.status_code == 200, (url, reply.status_code)
    return len(statements)


@pytest.mark.slow
def test_query_counts_do_not_grow_with_the_project(
    app: Any, client: Any, session: Any, engine: Engine, make_user: Any, login: Any, tmp_path: Path
) -> None:
    small = _project(session, tmp_path, SMALL)
    large = _project(session, tmp_path, LARGE)
    login(make_user("counter"))
    small_counts = _query_counts(client, engine, small)
    large_counts = _query_counts(client, engine, large)
    login(make_user("exporter", role="admin"))  # exports are for curators and admins
    small_counts |= _admin_counts(client, engine, small, f"size-{SMALL}")
    large_counts |= _admin_counts(client, engine, large, f"size-{LARGE}")
    assert small_counts == large_counts
    budget = BUDGET[engine.dialect.name]
    over = {name: n for name, n in small_counts.items() if n > budget[name]}
    assert not over, f"more statements than budgeted: {over} (budget {budget})"


def _disagree(client: Any, session: Any, project_id: int, first: str) -> int:
    """A second reviewer labels every passage ``first`` completed, differently; returns how
    many passages that was."""
    completed = session.scalars(
        select(Review.passage_id)
        .join(User, User.id == Review.user_id)
        .where(
            Review.project_id == project_id,
            User.username == first,
            Review.status == ReviewStatus.COMPLETED,
        )
    ).all()
    for passage_id in completed:
        page = client.get(f"/passages/{passage_id}").get_data(as_text=True)
        claims = CLAIM.findall(page)
        body = {"labels": dict.fromkeys(claims, "reported"), "versions": dict.fromkeys(claims, 0)}
        assert client.post(f"/passages/{passage_id}", json=body).status_code == 200
    return len(completed)


def _team_counts(client: Any, engine: Engine, project_id: int) -> dict[str, int]:
    queue = client.get(f"/projects/{project_id}/adjudicate").get_data(as_text=True)
    assert "claim-text" in queue, "the queue holds the disagreements"
    return {
        name: _count_get(client, engine, address.format(p=project_id))
        for name, address in TEAM_PAGES.items()
    }


@pytest.mark.slow
def test_team_pages_query_counts_do_not_grow_with_the_project(
    app: Any, client: Any, session: Any, engine: Engine, make_user: Any, login: Any, tmp_path: Path
) -> None:
    small = _project(session, tmp_path, SMALL)
    large = _project(session, tmp_path, LARGE)
    make_user("first")
    make_user("second")
    login("first")
    for project_id in (small, large):
        for _ in range(3):
            address = client.get(f"/projects/{project_id}/next").location
            assert _save_all(client, int(address.rsplit("/", 1)[1])).status_code == 200
    login("second")
    assert _disagree(client, session, small, "first") == _disagree(client, session, large, "first")
    login(make_user("curator", role="admin"))
    small_counts = _team_counts(client, engine, small)
    large_counts = _team_counts(client, engine, large)
    assert small_counts == large_counts
    over = {name: n for name, n in small_counts.items() if n > TEAM_BUDGET[name]}
    assert not over, f"more statements than budgeted: {over} (budget {TEAM_BUDGET})"
