"""The project page's reanalysis runs in a process of its own, on a database with real
commits: the page answers at once, the run's row tells how far it has got and what it did,
one run at a time per project, and a run cut short or failed says so."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from annotator.db import get_engine, get_session
from annotator.models import (
    Document,
    Outlet,
    Passage,
    Project,
    ReanalysisRun,
    Role,
    RunState,
    User,
    utcnow,
)
from annotator.services import accounts, deleting, importing, outlets, reanalysis_runs
from annotator.services.importing import ImportReport, Reanalysis, import_files
from tests.conftest import PASSWORD
from tests.helpers import fingerprint
from tests.integration.test_reanalyse import STRIKE, _file, _label_every_claim

RUNS = ("reanalysis_runs",)


@pytest.fixture
def app(app_on_fresh_database: Flask) -> Iterator[Flask]:
    """The strike article labelled by ann, imported before its outlet was known; an admin
    (boss) and a reviewer (rita). Every run's process has ended before the database goes."""
    app_on_fresh_database.config["WTF_CSRF_ENABLED"] = False
    with app_on_fresh_database.app_context():
        session = get_session()
        import_files(session, _file(), "default")
        _label_every_claim(session, accounts.create_user(session, "ann", PASSWORD))
        outlets.create_outlet(session, "Harbour Gazette")
        accounts.create_user(session, "boss", PASSWORD, Role.ADMIN)
        accounts.create_user(session, "rita", PASSWORD)
        session.commit()
    yield app_on_fresh_database
    deadline = time.monotonic() + 30
    for thread in threading.enumerate():
        if thread.name.startswith("reanalysis-"):
            thread.join(max(0.0, deadline - time.monotonic()))


@pytest.fixture
def project_id(app: Flask) -> int:
    with app.app_context():
        project = get_session().scalar(select(Project.id))
    assert project is not None
    return project


def _client(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    client.post("/login", data={"username": username, "password": PASSWORD})
    return client


def _finished(client: FlaskClient, project_id: int) -> dict:
    """The run's status once it has ended (within 30 s)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        run = client.get(f"/api/v1/projects/{project_id}/reanalyse").json["run"]
        if run["state"] != RunState.RUNNING:
            return run
        time.sleep(0.05)
    raise AssertionError("the run did not end within 30 s")


def _excerpt_outlet(app: Flask) -> str | None:
    with app.app_context():
        return get_session().scalar(
            select(Outlet.name).join(Passage, Passage.outlet_id == Outlet.id)
        )


def _runs(app: Flask) -> int:
    with app.app_context():
        return get_session().scalar(select(func.count(ReanalysisRun.id))) or 0


def test_the_page_starts_a_run_in_a_process_of_its_own(app, project_id, monkeypatch):
    def not_here(*args, **kwargs):
        raise AssertionError("the run went on in the web server's process")

    monkeypatch.setattr(importing, "reanalyse_project", not_here)
    boss = _client(app, "boss")
    status = f"/api/v1/projects/{project_id}/reanalyse"
    assert boss.get(status).json["run"] is None
    response = boss.post(f"/admin/projects/{project_id}/reanalyse")
    assert response.status_code == 302
    assert response.location.endswith(f"/admin/projects/{project_id}#reanalyse-project")
    assert boss.get(status).json["run"]["state"] == "running", "answered before the run ended"
    run = _finished(boss, project_id)
    assert (run["state"], run["done"], run["total"], run["preview"]) == ("finished", 1, 1, False)
    assert run["message"] == (
        "Analysis of the documents again finished: 1 document analysed again with a new "
        "result, 0 unchanged."
    )
    assert _excerpt_outlet(app) == "Harbour Gazette"
    page = boss.get(f"/admin/projects/{project_id}").text
    assert "Analysis of the documents again finished: 1 document analysed again" in page
    assert "Labels lost where claims changed: strike-1, passage 2" in page
    assert "by\n       boss; it took " in page
    assert run["finished_at"] >= run["started_at"]


def test_a_preview_runs_in_the_background_and_changes_nothing(app, project_id):
    with app.app_context():
        before = fingerprint(get_session(), leaving_out=RUNS)
    boss = _client(app, "boss")
    assert boss.post(f"/admin/projects/{project_id}/reanalyse/preview").status_code == 302
    run = _finished(boss, project_id)
    assert run["preview"] is True
    assert run["message"] == (
        "Preview of the analysis of the documents again finished: 1 document would get a new "
        "result, 0 unchanged; nothing was changed."
    )
    page = boss.get(f"/admin/projects/{project_id}").text
    assert "Labels that would be lost where claims changed: strike-1, passage 2" in page
    with app.app_context():
        assert fingerprint(get_session(), leaving_out=RUNS) == before
    assert _excerpt_outlet(app) is None


def test_only_admins_start_or_follow_a_run(app, project_id):
    rita = _client(app, "rita")
    assert rita.post(f"/admin/projects/{project_id}/reanalyse").status_code == 403
    assert rita.post(f"/admin/projects/{project_id}/reanalyse/preview").status_code == 403
    assert rita.get(f"/api/v1/projects/{project_id}/reanalyse").status_code == 403
    assert _runs(app) == 0


def _recorded_run(app: Flask, project_id: int, preview: bool = False) -> int:
    """A run recorded as started, whose thread was never launched."""
    with app.app_context():
        session = get_session()
        project = session.get(Project, project_id)
        boss = session.scalar(select(User).where(User.username == "boss"))
        return reanalysis_runs.start(session, project, boss, preview=preview)


def test_a_second_run_is_refused_while_one_goes_on(app, project_id):
    _recorded_run(app, project_id)
    boss = _client(app, "boss")
    page = boss.get(f"/admin/projects/{project_id}").text
    assert "Analysis of the documents again: starting." in page
    assert page.count("disabled>") == 2, "both buttons wait for the run"
    response = boss.post(f"/admin/projects/{project_id}/reanalyse/preview")
    assert response.status_code == 400
    assert (
        "The documents of &#39;default&#39; are already being analysed again (0 documents "
        "done); wait for that run to finish." in response.text
    )
    assert _runs(app) == 1
    assert _excerpt_outlet(app) is None


def test_a_run_whose_heartbeat_stopped_is_shown_as_stopped_and_can_start_again(app, project_id):
    run_id = _recorded_run(app, project_id)
    with app.app_context():
        session = get_session()
        stale = utcnow() - reanalysis_runs.STALE_AFTER - timedelta(seconds=1)
        session.execute(
            update(ReanalysisRun)
            .where(ReanalysisRun.id == run_id)
            .values(done=200, total=1000, heartbeat_at=stale)
        )
        session.commit()
    boss = _client(app, "boss")
    run = boss.get(f"/api/v1/projects/{project_id}/reanalyse").json["run"]
    assert run["state"] == "stopped"
    assert run["message"].startswith(
        "Analysis of the documents again stopped after 200 of 1,000 documents, cut short with "
        "its process (a restart)."
    )
    assert "The documents done keep their new analysis; start it again" in run["message"]
    assert boss.post(f"/admin/projects/{project_id}/reanalyse").status_code == 302
    assert _finished(boss, project_id)["state"] == "finished"
    assert _runs(app) == 2


def _slow_batch(monkeypatch, seconds: float, seen: list[str]) -> None:
    """A reanalysis whose one batch takes ``seconds``, at the end of which the run's state
    as a page shows it goes to ``seen``."""

    def slow(session, project, on_progress, *, preview):
        on_progress(0, 1)
        time.sleep(seconds)
        with Session(session.get_bind()) as looking:
            status = reanalysis_runs.latest(looking, looking.get(Project, project.id))
            seen.append(status.state)
        return Reanalysis(ImportReport(), 0, preview)

    monkeypatch.setattr(importing, "reanalyse_project", slow)


def test_a_batch_longer_than_the_staleness_is_not_taken_for_a_run_cut_short(
    app, project_id, monkeypatch
):
    monkeypatch.setattr(reanalysis_runs, "STALE_AFTER", timedelta(seconds=1))
    monkeypatch.setattr(reanalysis_runs, "HEARTBEAT_EVERY", timedelta(seconds=0.1))
    seen: list[str] = []
    _slow_batch(monkeypatch, 1.5, seen)
    run_id = _recorded_run(app, project_id)
    with app.app_context():
        reanalysis_runs.run(get_engine(), run_id)
    assert seen == ["running"]
    assert f"heartbeat-of-run-{run_id}" not in {thread.name for thread in threading.enumerate()}
    boss = _client(app, "boss")
    assert boss.get(f"/api/v1/projects/{project_id}/reanalyse").json["run"]["state"] == "finished"


def test_a_missed_heartbeat_is_logged_and_the_next_one_beats(app, project_id, monkeypatch, caplog):
    monkeypatch.setattr(reanalysis_runs, "STALE_AFTER", timedelta(seconds=1))
    monkeypatch.setattr(reanalysis_runs, "HEARTBEAT_EVERY", timedelta(seconds=0.1))
    record = reanalysis_runs._record
    beats: list[str] = []

    def busy_once(session, run_id, **values):
        if "heartbeat_at" in values:
            beats.append("missed" if not beats else "beat")
            if beats == ["missed"]:
                raise OperationalError("UPDATE reanalysis_runs", {}, Exception("locked"))
        return record(session, run_id, **values)

    monkeypatch.setattr(reanalysis_runs, "_record", busy_once)
    seen: list[str] = []
    _slow_batch(monkeypatch, 1.5, seen)
    run_id = _recorded_run(app, project_id)
    with app.app_context(), caplog.at_level(logging.WARNING):
        reanalysis_runs.run(get_engine(), run_id)
    assert f"The reanalysis run {run_id} missed a heartbeat" in caplog.text
    assert beats[0] == "missed"
    assert "beat" in beats
    assert seen == ["running"]


def test_a_run_that_fails_says_so_and_logs_why(app, project_id, monkeypatch, caplog):
    def fail(*args, **kwargs):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(importing, "reanalyse_project", fail)
    run_id = _recorded_run(app, project_id)
    with app.app_context(), caplog.at_level(logging.ERROR):
        reanalysis_runs.run(get_engine(), run_id)
    assert "the disk is full" in caplog.text
    boss = _client(app, "boss")
    run = boss.get(f"/api/v1/projects/{project_id}/reanalyse").json["run"]
    assert run["state"] == "failed"
    assert run["message"] == (
        "Analysis of the documents again failed after 0 documents: RuntimeError; the batch "
        "it was on was undone, and the server's log has the details."
    )
    assert boss.post(f"/admin/projects/{project_id}/reanalyse").status_code == 302


def test_the_run_tells_its_row_after_each_batch(app, project_id, monkeypatch):
    _import_copies(app, range(2, 6), "default")
    monkeypatch.setattr(importing, "REANALYSIS_BATCH", 2)
    told: list[tuple[int | None, int | None, str | None]] = []
    record = reanalysis_runs._record

    def spy(session, run_id, **values):
        told.append((values.get("done"), values.get("total"), values.get("state")))
        record(session, run_id, **values)

    monkeypatch.setattr(reanalysis_runs, "_record", spy)
    run_id = _recorded_run(app, project_id)
    with app.app_context():
        reanalysis_runs.run(get_engine(), run_id)
    assert told == [
        (0, 5, None),
        (2, 5, None),
        (4, 5, None),
        (5, 5, None),
        (None, None, "finished"),
    ]


def test_a_run_no_longer_recorded_as_running_is_left_alone(app, project_id, monkeypatch):
    run_id = _recorded_run(app, project_id)
    with app.app_context():
        session = get_session()
        session.execute(
            update(ReanalysisRun).where(ReanalysisRun.id == run_id).values(state="failed")
        )
        session.commit()
        reanalysis_runs.run(get_engine(), run_id)
    assert _excerpt_outlet(app) is None


def _import_copies(app: Flask, numbers: range, project: str) -> None:
    """Copies of the strike article (strike-N for each number) imported into ``project``."""
    documents = [dict(STRIKE, id=f"strike-{number}") for number in numbers]
    data = "".join(json.dumps(document) + "\n" for document in documents).encode()
    with app.app_context():
        session = get_session()
        import_files(session, [("copies.jsonl", data)], project)
        session.commit()


def test_the_api_starts_a_run_in_the_background_and_follows_it(app, project_id):
    boss = _client(app, "boss")
    url = f"/api/v1/projects/{project_id}/reanalyse"
    assert boss.post(url, json={"background": "yes"}).status_code == 400
    response = boss.post(url, json={"background": True})
    assert response.status_code == 202
    assert response.headers["Location"].endswith(url)
    run = response.json["run"]
    assert (run["state"], run["preview"], run["started_by"]) == ("running", False, "boss")
    again = boss.post(url, json={"background": True, "preview": True})
    assert again.status_code == 409
    assert "already being analysed again" in again.json["error"]
    run = _finished(boss, project_id)
    assert run["state"] == "finished"
    assert run["summary"] == "1 document analysed again with a new result, 0 unchanged"
    assert run["lost_labels"].startswith("Labels lost where claims changed: strike-1, passage 2")
    assert _runs(app) == 1
    assert _excerpt_outlet(app) == "Harbour Gazette"


@pytest.mark.parametrize(("seconds", "took"), [(None, ""), (3, "3 s"), (75, "1 min 15 s")])
def test_a_run_that_ended_says_how_long_it_took(seconds, took):
    started = utcnow()
    status = reanalysis_runs.RunStatus(
        id=1,
        preview=False,
        state="finished",
        done=1,
        total=1,
        started_by="boss",
        started_at=started,
        finished_at=None if seconds is None else started + timedelta(seconds=seconds),
        summary="",
        lost_labels="",
    )
    assert status.took() == took


def test_a_run_outlives_the_process_that_started_it(app, project_id):
    run_id = _recorded_run(app, project_id)
    url = app.config["DATABASE_URL"]
    starter = (
        "import sys; from annotator.services import reanalysis_runs; "
        "reanalysis_runs.launch(sys.argv[1], int(sys.argv[2]))"
    )
    subprocess.run([sys.executable, "-c", starter, url, str(run_id)], check=True, timeout=60)
    run = _finished(_client(app, "boss"), project_id)
    assert run["state"] == "finished", "the run ended with the process that started it"
    assert _excerpt_outlet(app) == "Harbour Gazette"


def test_a_project_deleted_during_its_run_ends_the_run_quietly(app, monkeypatch, caplog):
    _import_copies(app, range(1, 6), "harbour")
    with app.app_context():
        harbour = get_session().scalar(select(Project.id).where(Project.name == "harbour"))
    monkeypatch.setattr(importing, "REANALYSIS_BATCH", 2)
    record = reanalysis_runs._record

    def deleting_after_the_first_batch(session, run_id, **values):
        record(session, run_id, **values)
        if values.get("done") == 2:
            with app.app_context():
                deleting.delete_project(get_session(), harbour)

    monkeypatch.setattr(reanalysis_runs, "_record", deleting_after_the_first_batch)
    run_id = _recorded_run(app, harbour)
    with app.app_context(), caplog.at_level(logging.ERROR):
        reanalysis_runs.run(get_engine(), run_id)
        session = get_session()
        assert session.get(Project, harbour) is None
        assert session.scalar(select(func.count(ReanalysisRun.id))) == 0
        assert session.scalar(select(func.count(Document.id))) == 1, "the default project's"
    assert caplog.text == ""


def _cancelling_after_the_first_batch(app, project_id, monkeypatch) -> None:
    """Five documents in batches of two; the admin cancels once the first batch is told."""
    _import_copies(app, range(2, 6), "default")
    with app.app_context():
        session = get_session()
        session.execute(update(Passage).values(outlet_id=None))  # all five to analyse again
        session.commit()
    monkeypatch.setattr(importing, "REANALYSIS_BATCH", 2)
    record = reanalysis_runs._record

    def cancel_after_the_first_batch(session, run_id, **values):
        if values.get("done") == 2:  # the first batch is stored (or, in a preview, undone)
            with app.app_context():
                admins = get_session()
                project = admins.get(Project, project_id)
                boss = admins.scalar(select(User).where(User.username == "boss"))
                reanalysis_runs.cancel(admins, project, boss)
        return record(session, run_id, **values)

    monkeypatch.setattr(reanalysis_runs, "_record", cancel_after_the_first_batch)


def _citing_the_gazette(app) -> int:
    """Passages that cite the outlet created after the import: those analysed again."""
    with app.app_context():
        return get_session().scalar(select(func.count(Passage.outlet_id))) or 0


@pytest.mark.parametrize("preview", [False, True])
def test_a_cancelled_run_stops_after_the_batch_under_way(app, project_id, monkeypatch, preview):
    _cancelling_after_the_first_batch(app, project_id, monkeypatch)
    run_id = _recorded_run(app, project_id, preview=preview)
    with app.app_context():
        reanalysis_runs.run(get_engine(), run_id)
    run = _client(app, "boss").get(f"/api/v1/projects/{project_id}/reanalyse").json["run"]
    assert (run["state"], run["done"], run["total"], run["going_on"]) == ("cancelled", 2, 5, False)
    what = "Preview of the analysis" if preview else "Analysis"
    kept = "Nothing was changed" if preview else "The documents done keep their new analysis"
    assert run["message"] == (
        f"{what} of the documents again was cancelled by boss after 2 of 5 documents. {kept}."
    )
    # Two passages of each document cite the outlet once analysed again.
    assert _citing_the_gazette(app) == (0 if preview else 4), "the first batch, not a preview"


def test_the_page_and_the_api_cancel_a_run_going_on(app, project_id):
    boss, rita = _client(app, "boss"), _client(app, "rita")
    cancel = f"/admin/projects/{project_id}/reanalyse/cancel"
    api = f"/api/v1/projects/{project_id}/reanalyse"
    refused = boss.post(cancel)
    assert refused.status_code == 400
    assert "No analysis of the documents of &#39;default&#39; is going on." in refused.text
    assert boss.delete(api).status_code == 409
    _recorded_run(app, project_id)
    assert rita.post(cancel).status_code == 403
    assert rita.delete(api).status_code == 403
    page = boss.get(f"/admin/projects/{project_id}").text
    assert "Cancel the run</button>" in page
    assert boss.post(cancel).status_code == 302
    run = boss.get(api).json["run"]
    assert (run["state"], run["going_on"]) == ("cancelling", True)
    assert run["message"] == (
        "Analysis of the documents again: stopping after the batch under way (0 documents so far)."
    )
    page = boss.get(f"/admin/projects/{project_id}").text
    assert "disabled>Cancel the run</button>" in page
    assert boss.post(f"/admin/projects/{project_id}/reanalyse").status_code == 400, "going on"
    answer = boss.delete(api)
    assert answer.status_code == 202, "asking again is harmless"
    assert answer.json["run"]["state"] == "cancelling"


def test_a_run_cancelled_before_its_process_began_is_recorded_cancelled(app, project_id):
    run_id = _recorded_run(app, project_id)
    boss = _client(app, "boss")
    assert boss.delete(f"/api/v1/projects/{project_id}/reanalyse").status_code == 202
    with app.app_context():
        reanalysis_runs.run(get_engine(), run_id)
    assert boss.get(f"/api/v1/projects/{project_id}/reanalyse").json["run"]["state"] == "cancelled"
    assert _excerpt_outlet(app) is None
