"""Adjudication in real Chromium: two reviewers disagree, a curator settles the claim in the
queue, downloads the CSV with the final label and sees the outlet report's share change."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from annotator.db import get_session
from annotator.models import Project
from tests.browser.login import log_in
from tests.panel import build_panel

pytestmark = pytest.mark.browser


@pytest.fixture
def disputed(live_server):
    """The hand-labelled panel: on claim c6 (cited outlet AP) ann said quoted, bob reported."""
    with live_server.app.app_context():
        panel = build_panel(get_session())
    return live_server, panel


def editorial_share_of_ap(page: Page, url: str, project_id: int):
    page.goto(f"{url}/projects/{project_id}/reports/outlets")
    return page.locator('tr[data-outlet="AP"] td.share-editorial .share')


def test_curator_settles_exports_and_sees_the_report_change(page: Page, disputed):
    server, panel = disputed
    log_in(page, server.url, "cora")
    expect(editorial_share_of_ap(page, server.url, panel.project_id)).to_have_text("0.0%")

    page.goto(f"{server.url}/projects/{panel.project_id}/dashboard")
    page.get_by_role("link", name="Adjudicate").click()
    expect(page.locator("#queue-total")).to_contain_text("3 disputed claims")
    dispute = page.locator(f"#dispute-{panel.claim(6)}")
    expect(dispute.locator("table.votes")).to_contain_text("ann")
    expect(dispute.locator("table.votes")).to_contain_text("bob")
    dispute.get_by_label("editorial").check()
    dispute.get_by_role("button", name="Settle").click()
    expect(page.locator(".flash-success")).to_have_text("Settled as editorial.")
    expect(page.locator(f"#dispute-{panel.claim(6)}")).to_have_count(0)
    expect(page.locator("#queue-total")).to_contain_text("2 disputed claims")

    page.goto(server.url + "/export/")
    with page.expect_download() as download_info:
        page.locator("#download-csv").click()
    with Path(download_info.value.path()).open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    settled = {
        r["reviewer"]: r["final_label"]
        for r in rows
        if r["claim_text"] == "Sentence 6 of the panel."
    }
    assert settled == {"ann": "editorial", "bob": "editorial"}

    share = editorial_share_of_ap(page, server.url, panel.project_id)
    expect(share).to_have_text("50.0%")
    expect(page.locator("#basis")).to_contain_text("1 claim settled")
    expect(page.locator("svg.share-chart rect.bar-editorial").first).to_be_visible()


def test_export_form_suggests_names_and_refuses_a_typo(page: Page, disputed):
    server, panel = disputed
    with server.app.app_context():
        project = get_session().get(Project, panel.project_id).name
    log_in(page, server.url, "cora")
    page.goto(server.url + "/export/")
    offered = page.locator("#project-names option").evaluate_all("os => os.map(o => o.value)")
    assert project in offered
    page.get_by_label("Project").fill(project + "x")
    page.get_by_role("button", name="Download").click()
    expect(page.locator("main")).to_contain_text(f"there is no project named '{project}x'")
    page.go_back()
    page.get_by_label("Project").fill(project)
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download").click()
    with Path(download_info.value.path()).open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows
    assert {r["project"] for r in rows} == {project}
