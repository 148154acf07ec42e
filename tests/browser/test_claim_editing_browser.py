"""Correcting claims in real Chromium: a curator splits a claim a reviewer has labelled,
is told whose label goes, confirms, and finds the two new claims on the annotation page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from annotator.db import get_session
from annotator.models import Passage, User
from annotator.services import annotating
from annotator.services.annotating import TagSubmission
from tests.browser.login import log_in
from tests.helpers import harbour_study

pytestmark = pytest.mark.browser

FIRST = "Union leaders walked out of the talks"
SECOND = "after the port authority refused to raise its wage offer, Reuters said."


@pytest.fixture
def labelled_passage(live_server) -> int:
    """The harbour article in "study"; ann (reviewer) labelled its one-claim passage
    "Union leaders ...", cora curates the project."""
    with live_server.app.app_context():
        session = get_session()
        harbour_study(session, reviewers=("ann",), curators=("cora",))
        ann = session.scalar(select(User).where(User.username == "ann"))
        passage = session.scalar(select(Passage).where(Passage.text.startswith("Union leaders")))
        (claim,) = passage.claims
        submission = TagSubmission({claim.id: "reported"}, {claim.id: 0}, {}, {}, "")
        annotating.save_passage(session, ann, passage, submission)
        return passage.id


def test_curator_splits_a_labelled_claim_after_confirming(
    page: Page, live_server, labelled_passage
):
    log_in(page, live_server.url, "cora")
    page.goto(f"{live_server.url}/passages/{labelled_passage}")
    expect(page.locator("fieldset.claim")).to_have_count(1)
    page.get_by_role("link", name="edit passage").click()
    editor = page.get_by_label("Claims, one per line")
    expect(editor).to_have_value(f"{FIRST} {SECOND}")
    editor.fill(f"{FIRST}\n{SECOND}")
    page.get_by_role("button", name="Save claims").click()

    expect(page.get_by_role("alert")).to_have_text(
        "This edit keeps 0 claims, removes 1 and adds 2; it deletes 1 label (by ann)."
    )
    expect(page.get_by_label("Claims, one per line")).to_have_value(f"{FIRST}\n{SECOND}")
    page.get_by_label("Yes, delete the labels of the changed claims").check()
    page.get_by_role("button", name="Save claims").click()

    page.wait_for_url(f"{live_server.url}/passages/{labelled_passage}")
    expect(page.locator(".flash-success")).to_contain_text("Claims saved")
    legends = page.locator("fieldset.claim legend q")
    expect(legends).to_have_text([FIRST, SECOND])
    expect(page.locator("details.history summary").last).to_have_text("Passage history (1)")


def test_a_reviewer_sees_no_link_to_the_claims_page(page: Page, live_server, labelled_passage):
    log_in(page, live_server.url, "ann")
    page.goto(f"{live_server.url}/passages/{labelled_passage}")
    expect(page.locator("fieldset.claim")).to_have_count(1)
    expect(page.get_by_role("link", name="edit passage")).to_have_count(0)
