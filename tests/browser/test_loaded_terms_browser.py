"""Loaded terms in real Chromium: a reviewer sees them underlined on the annotation page, with
the badge naming them, and follows the report's link from a term to the passages holding it."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from annotator.db import get_session
from annotator.models import MemberRole, Passage, Role
from annotator.services import accounts, projects
from tests.browser.login import log_in
from tests.conftest import PASSWORD
from tests.helpers import terms_study

pytestmark = pytest.mark.browser


@pytest.fixture
def study(live_server) -> tuple[int, int]:
    """The terms study with a reviewer "ann"; the project's id and the Reuters excerpt's."""
    with live_server.app.app_context():
        session = get_session()
        project = terms_study(session)
        ann = accounts.create_user(session, "ann", PASSWORD, Role.REVIEWER)
        projects.add_member(session, project, ann, MemberRole.REVIEWER)
        passage = session.scalar(select(Passage).where(Passage.text.startswith("The regime")))
        session.commit()
        return project.id, passage.id


def test_a_reviewer_sees_the_terms_and_finds_their_passages(page: Page, live_server, study):
    project_id, passage_id = study
    log_in(page, live_server.url, "ann")
    page.goto(f"{live_server.url}/passages/{passage_id}")
    term = page.locator(".passage-text mark.loaded")
    expect(term).to_have_text("regime")
    expect(term).to_have_attribute("title", "Loaded term: regime")
    underline = term.evaluate("mark => getComputedStyle(mark).textDecorationLine")
    assert underline == "underline"
    expect(page.locator(".loaded-badge")).to_have_text("loaded terms: regime")
    page.goto(f"{live_server.url}/projects/{project_id}/reports/outlets")
    page.get_by_role("link", name="Loaded terms").click()
    reuters = page.locator('#terms-by-outlet tr[data-outlet="Reuters"]')
    expect(reuters.locator("td.top-terms")).to_have_text("regime (1)")
    page.locator("#terms-by-term").get_by_role("link", name="regime").click()
    expect(page.locator(".passage-text mark")).to_have_text("regime")
