"""The outlet report of one site and period, chosen with the page's menu and date fields in
real Chromium (the date field sends the day as the report reads it)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from annotator.db import get_session
from annotator.models import Role
from annotator.services import accounts
from tests.browser.login import log_in
from tests.conftest import PASSWORD
from tests.helpers import two_site_study

pytestmark = pytest.mark.browser


@pytest.fixture
def study(live_server) -> int:
    with live_server.app.app_context():
        session = get_session()
        project = two_site_study(session)
        accounts.create_user(session, "ann", PASSWORD, Role.ADMIN)
        session.commit()
        return project.id


def test_a_member_narrows_the_outlet_report_to_one_site_and_period(page: Page, live_server, study):
    log_in(page, live_server.url, "ann")
    page.goto(f"{live_server.url}/projects/{study}/reports/outlets?basis=settled")
    expect(page.locator("#scope")).to_have_text("Every document of the project (3).")
    expect(page.locator('tr[data-outlet="AP"]')).to_have_count(1)
    page.get_by_label("Citing site").select_option(label="Harbour Watch (2 documents)")
    page.get_by_label("Published from").fill("2026-03-01")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#scope")).to_contain_text(
        "1 of 3 documents: site Harbour Watch, published from 2026-03-01."
    )
    expect(page.locator('tr[data-outlet="AP"]')).to_have_count(0)
    reuters = page.locator('tr[data-outlet="Reuters"]')
    expect(reuters.locator("td.share-editorial .share")).to_have_text("100.0%")
    page.get_by_role("link", name="Reported").click()  # sorting keeps the choice
    expect(page.locator("#scope")).to_contain_text("site Harbour Watch")
    expect(page.get_by_label("Published from")).to_have_value("2026-03-01")
    with page.expect_download() as download:
        page.locator("#outlets-csv").click()
    assert download.value.suggested_filename == (
        f"outlets-project-{study}-settled-site-Harbour-Watch-from-2026-03-01.csv"
    )


def test_a_curator_reads_the_claims_behind_a_share_and_changes_the_label(
    page: Page, live_server, study
):
    log_in(page, live_server.url, "ann")
    page.goto(f"{live_server.url}/projects/{study}/reports/outlets?basis=settled")
    page.get_by_label("Citing site").select_option(label="Harbour Watch (2 documents)")
    page.get_by_role("button", name="Apply").click()
    editorial = page.locator('tr[data-outlet="Reuters"] td.share-editorial')
    counted = int(editorial.locator(".count").inner_text().strip("()"))
    assert counted > 0
    editorial.get_by_role("link").click()
    expect(page.locator("h1")).to_have_text("Reuters: editorial claims")
    expect(page.locator("#scope")).to_contain_text("site Harbour Watch")
    claims = page.locator("#outlet-claims tbody tr")
    expect(claims).to_have_count(counted)
    expect(claims.locator("td.settled .settled-label")).to_have_text(["editorial"] * counted)
    with page.expect_download() as download:
        page.locator("#claims-csv").click()
    assert download.value.suggested_filename == (
        f"claims-Reuters-editorial-project-{study}-settled-site-Harbour-Watch.csv"
    )
    lines = Path(download.value.path()).read_text().splitlines()
    assert len(lines) == counted + 1
    first = claims.first
    first.get_by_label("Settle the claim as").select_option("quoted")
    first.get_by_role("button", name="Settle").click()
    expect(page.get_by_text("Settled as quoted.")).to_be_visible()
    expect(page.locator("#scope")).to_contain_text("site Harbour Watch")
    expect(claims).to_have_count(counted - 1)  # settled labels count: it is quoted now
    page.get_by_label("Counted as").select_option("reported")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("h1")).to_have_text("Reuters: reported claims")
    expect(page.locator("#scope")).to_contain_text("site Harbour Watch")
    expect(page.locator("#claim-count")).to_contain_text("0 claims of Reuters count as reported")
    expect(claims).to_have_count(0)
