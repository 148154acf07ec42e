"""Two reviewers in two browser contexts work one project: keyboard tagging, skip, undo, and
the dashboard shows their work."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from annotator.db import get_session
from annotator.models import Annotation, MemberRole, Project, Review, Role
from annotator.services import accounts, projects
from tests.conftest import PASSWORD
from tests.helpers import import_fixture

pytestmark = pytest.mark.browser


@pytest.fixture
def team(live_server):
    with live_server.app.app_context():
        session = get_session()
        import_fixture(session, "harbour.txt", "two.jsonl", project="team")
        project = session.scalar(select(Project).where(Project.name == "team"))
        for name in ("ann", "bob"):
            user = accounts.create_user(session, name, PASSWORD, Role.REVIEWER)
            projects.add_member(session, project, user, MemberRole.REVIEWER)
        return live_server, project.id


def open_as(browser: Browser, url: str, name: str) -> Page:
    page = browser.new_context().new_page()
    page.goto(url + "/login")
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(url + "/")
    return page


def passage_id(page: Page) -> int:
    return int(re.search(r"/passages/(\d+)", page.url).group(1))


def test_two_reviewers_tag_skip_undo_and_see_the_dashboard(browser: Browser, team):
    server, project_id = team
    ann = open_as(browser, server.url, "ann")
    bob = open_as(browser, server.url, "bob")

    ann.get_by_role("link", name="Next passage").first.click()
    ann.wait_for_url("**/passages/*")
    ann_first = passage_id(ann)
    bob.get_by_role("link", name="Next passage").first.click()
    bob.wait_for_url("**/passages/*")
    assert passage_id(bob) != ann_first, "the two reviewers start on different documents"

    ann.keyboard.press("2")
    ann.keyboard.press("Enter")
    expect(ann.locator("#save-status")).to_have_text("Saved.")
    expect(ann.locator("#progress")).to_contain_text("1 of")

    ann.keyboard.press("u")
    ann.wait_for_load_state()
    expect(ann.locator("fieldset.claim").first.locator("[data-state]")).to_have_text(
        "Not saved yet"
    )
    expect(ann.locator("fieldset.claim.focused")).to_have_count(1)  # the page's keys are live

    ann.keyboard.press("3")
    ann.keyboard.press("Enter")
    expect(ann.locator("#save-status")).to_have_text("Saved.")

    bob_skipped = passage_id(bob)
    bob.get_by_label("Why skip? (optional)").fill("cannot tell the outlet")
    bob.get_by_role("button", name="Skip this passage").click()
    bob.wait_for_url(re.compile(rf".*/passages/(?!{bob_skipped}$)\d+$"))
    bob.keyboard.press("1")
    bob.keyboard.press("Enter")
    expect(bob.locator("#save-status")).to_have_text("Saved.")

    with server.app.app_context():
        session = get_session()
        ann_labels = session.scalars(
            select(Annotation.label)
            .join(Annotation.user)
            .where(Annotation.user.has(username="ann"))
        ).all()
        assert ann_labels == ["editorial"]
        skip = session.scalar(select(Review).where(Review.passage_id == bob_skipped))
        assert (skip.status, skip.reason) == ("skipped", "cannot tell the outlet")

    ann.goto(f"{server.url}/projects/{project_id}/dashboard")
    rows = ann.locator("#reviewers tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("ann")
    expect(rows.nth(1)).to_contain_text("bob")
    expect(rows.nth(1).locator("td").nth(2)).to_have_text("1")  # bob skipped one
    expect(ann.locator("#project-totals")).to_contain_text("Reviews done: 2")
