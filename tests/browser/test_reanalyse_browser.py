"""An admin previews analysing a project again (nothing changes, the labels that would be
lost are listed), then runs it, from the project page in a real browser; the page follows a
run going on in the background until it ends."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import delete, select, update

from annotator.db import get_session
from annotator.models import Outlet, Project, ReanalysisRun, Role, User, utcnow
from annotator.services import accounts, outlets, reanalysis_runs
from annotator.services.importing import import_files
from tests.browser.login import log_in
from tests.conftest import PASSWORD
from tests.helpers import fingerprint
from tests.integration.test_reanalyse import EXCERPT, _file, _label_every_claim, _outlet_name

pytestmark = pytest.mark.browser
RUNS = ("reanalysis_runs",)


@pytest.fixture
def strike_without_its_outlet(live_server):
    """The article labelled by ann, imported before its outlet was known, and an admin. The
    outlet goes afterwards: the live server's clean-up keeps the outlets."""
    with live_server.app.app_context():
        session = get_session()
        import_files(session, _file(), "default")
        _label_every_claim(session, accounts.create_user(session, "ann", PASSWORD))
        outlet_id = outlets.create_outlet(session, "Harbour Gazette").id
        accounts.create_user(session, "boss", PASSWORD, Role.ADMIN)
        session.commit()
        project_id = session.scalar(select(Project.id))
    yield live_server, project_id
    with live_server.app.app_context():
        session = get_session()
        session.execute(delete(Outlet).where(Outlet.id == outlet_id))
        session.commit()


def test_an_admin_previews_then_analyses_the_documents_again(
    browser: Browser, strike_without_its_outlet
):
    server, project_id = strike_without_its_outlet
    page = browser.new_context().new_page()
    log_in(page, server.url, "boss")
    page.goto(f"{server.url}/admin/projects/{project_id}")
    with server.app.app_context():
        before = fingerprint(get_session(), leaving_out=RUNS)

    page.get_by_role("button", name="Preview what would change").click()
    page.wait_for_load_state()
    expect(
        page.get_by_text(
            "Preview of the analysis of the documents again finished: 1 document would get a "
            "new result, 0 unchanged; nothing was changed."
        )
    ).to_be_visible()
    expect(
        page.get_by_text("Labels that would be lost where claims changed: strike-1, passage 2")
    ).to_be_visible()
    with server.app.app_context():
        session = get_session()
        assert fingerprint(session, leaving_out=RUNS) == before
        assert _outlet_name(session, EXCERPT) is None

    page.get_by_role("button", name="Analyse the documents again").click()
    page.wait_for_load_state()
    expect(
        page.get_by_text(
            "Analysis of the documents again finished: 1 document analysed again with a new "
            "result, 0 unchanged."
        )
    ).to_be_visible()
    expect(
        page.get_by_text("Labels lost where claims changed: strike-1, passage 2")
    ).to_be_visible()
    with server.app.app_context():
        assert _outlet_name(get_session(), EXCERPT) == "Harbour Gazette"


def test_the_page_follows_a_run_until_it_ends(browser: Browser, strike_without_its_outlet):
    server, project_id = strike_without_its_outlet
    with server.app.app_context():
        session = get_session()
        boss = session.scalar(select(User).where(User.username == "boss"))
        project = session.get(Project, project_id)
        run_id = reanalysis_runs.start(session, project, boss, preview=False)
    page = browser.new_context().new_page()
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    log_in(page, server.url, "boss")
    page.goto(f"{server.url}/admin/projects/{project_id}")
    status = page.locator("#reanalysis-status")
    expect(status).to_contain_text("Analysis of the documents again: starting.")
    expect(page.locator("button:has-text('Analyse the documents again')")).to_be_disabled()
    expect(page.locator("button:has-text('Preview what would change')")).to_be_disabled()

    _tell(server, run_id, done=200, total=1000, heartbeat_at=utcnow())
    expect(status).to_contain_text("200 of 1,000 documents so far.")
    _tell(server, run_id, state="finished", done=1000, summary="a summary of the run")
    expect(status).to_contain_text(
        "Analysis of the documents again finished: a summary of the run."
    )
    expect(page.locator("button:has-text('Analyse the documents again')")).to_be_enabled()
    assert errors == []


def _tell(server, run_id: int, **values) -> None:
    with server.app.app_context():
        session = get_session()
        session.execute(update(ReanalysisRun).where(ReanalysisRun.id == run_id).values(**values))
        session.commit()


def test_an_admin_cancels_a_run_from_the_page(browser: Browser, strike_without_its_outlet):
    server, project_id = strike_without_its_outlet
    with server.app.app_context():
        session = get_session()
        boss = session.scalar(select(User).where(User.username == "boss"))
        run_id = reanalysis_runs.start(
            session, session.get(Project, project_id), boss, preview=True
        )
    _tell(server, run_id, done=200, total=1000, heartbeat_at=utcnow())
    page = browser.new_context().new_page()
    log_in(page, server.url, "boss")
    page.goto(f"{server.url}/admin/projects/{project_id}")
    page.locator("button:has-text('Cancel the run')").click()
    page.wait_for_load_state()
    status = page.locator("#reanalysis-status")
    expect(status).to_contain_text(
        "Preview of the analysis of the documents again: stopping after the batch under way "
        "(200 of 1,000 documents so far)."
    )
    expect(page.locator("button:has-text('Cancel the run')")).to_be_disabled()
    _tell(server, run_id, state="cancelled", done=400, finished_at=utcnow())
    expect(status).to_contain_text(
        "Preview of the analysis of the documents again was cancelled by boss after 400 of "
        "1,000 documents. Nothing was changed."
    )
    expect(page.locator("button:has-text('Cancel the run')")).to_have_count(0)
    expect(page.locator("button:has-text('Preview what would change')")).to_be_enabled()
