"""Outlet disputes in real Chromium: a reviewer says a Reuters excerpt is AP's, the curator
finds it from the dashboard, sets the outlet, and the outlet report counts it under AP."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from annotator.db import get_session
from annotator.models import Outlet, Passage, User
from annotator.services import annotating
from annotator.services.annotating import TagSubmission
from tests.browser.login import log_in
from tests.helpers import harbour_study

pytestmark = pytest.mark.browser


@pytest.fixture
def dispute(live_server) -> int:
    with live_server.app.app_context():
        session = get_session()
        project = harbour_study(session, reviewers=("ann",), curators=("cora",))
        ann = session.scalar(select(User).where(User.username == "ann"))
        passage = session.scalar(select(Passage).where(Passage.text.startswith("Union leaders")))
        ap = session.scalar(select(Outlet).where(Outlet.name == "AP"))
        (claim,) = passage.claims
        submission = TagSubmission({claim.id: "reported"}, {claim.id: 0}, {}, {}, str(ap.id))
        annotating.save_passage(session, ann, passage, submission)
        return project.id


def test_curator_sets_a_disputed_outlet_and_the_report_follows(page: Page, live_server, dispute):
    log_in(page, live_server.url, "cora")
    page.goto(f"{live_server.url}/projects/{dispute}/dashboard")
    page.get_by_role("link", name="Outlets in dispute").first.click()
    expect(page.locator("#dispute-total")).to_have_text("1 passage to decide.")
    entry = page.locator("article.dispute")
    expect(entry.locator("table.votes")).to_contain_text("ann")
    expect(entry.locator("table.votes")).to_contain_text("AP")
    entry.get_by_label("The passage cites").select_option(label="AP")
    entry.get_by_role("button", name="Set outlet").click()
    expect(page.locator(".flash-success")).to_have_text("Passage 3 of its document now cites: AP.")
    expect(page.locator("#dispute-total")).to_have_text("0 passages to decide.")
    page.goto(f"{live_server.url}/projects/{dispute}/reports/outlets?basis=all")
    expect(page.locator('tr[data-outlet="AP"]')).to_have_count(1)
