"""The annotation loop in real Chromium: log in, Next, tag with the keyboard, reload, download."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from playwright.sync_api import Page, Request, expect
from sqlalchemy import select

from annotator.db import get_session
from annotator.models import Claim, Passage
from annotator.services import accounts
from tests.browser.login import log_in
from tests.conftest import PASSWORD
from tests.helpers import import_fixture

pytestmark = pytest.mark.browser

PAGE_REQUESTS = {"document", "fetch", "xhr"}


@pytest.fixture
def seeded(live_server):
    """The harbour article and a reviewer; returns the server and the first two passages'
    claim ids."""
    with live_server.app.app_context():
        session = get_session()
        import_fixture(session, "harbour.txt")
        accounts.create_user(session, "rita", PASSWORD, "curator")  # curators may export
        passages = session.scalars(select(Passage).order_by(Passage.id).limit(2)).all()
        claim_ids = [[c.id for c in p.claims] for p in passages]
    assert len(claim_ids[1]) >= 2, "the fixture's second passage should hold two claims"
    return live_server, claim_ids


def keys_ready(page: Page) -> None:
    """Wait for the page's script (it focuses the first claim): keys pressed before it has
    loaded would go nowhere."""
    expect(page.locator("fieldset.claim.focused")).to_have_count(1)


def test_keyboard_tagging_survives_reload_and_reaches_the_csv(page: Page, seeded):
    server, (headline_claims, second_claims) = seeded
    log_in(page, server.url, "rita")
    page.get_by_role("main").get_by_role("link", name="Next passage").click()
    expect(page.locator(".badge.outlet")).to_contain_text("Reuters")
    expect(page.locator(".passage-text mark.cue")).to_have_text("(Reuters)")
    keys_ready(page)

    page.keyboard.press("3")  # editorial, on the focused first claim
    page.keyboard.press("Enter")
    expect(page.locator("#save-status")).to_have_text("Saved.")
    page.reload()
    headline = page.locator(f"#claim-{headline_claims[0]}")
    expect(headline.locator('input[value="editorial"]')).to_be_checked()
    expect(headline.locator("[data-state]")).to_contain_text("Saved as editorial")

    keys_ready(page)
    page.keyboard.press("n")
    expect(page.locator(f"#claim-{second_claims[0]}")).to_be_visible()
    keys_ready(page)
    page.keyboard.press("q")
    page.keyboard.press("j")
    page.keyboard.press("e")
    page.keyboard.press("Enter")
    expect(page.locator("#save-status")).to_have_text("Saved.")
    url_before = page.url
    page.reload()
    assert page.url == url_before
    expect(page.locator(f'#claim-{second_claims[1]} input[value="editorial"]')).to_be_checked()

    page.goto(server.url + "/export/")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="CSV", exact=True).click()
    with Path(download_info.value.path()).open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    tags = {(r["passage_index"], r["claim_index"]): (r["reviewer"], r["label"]) for r in rows}
    assert tags[("0", "0")] == ("rita", "editorial")
    assert tags[("1", "0")] == ("rita", "quoted")
    assert tags[("1", "1")] == ("rita", "editorial")


def test_save_and_next_shows_the_reserved_passage_in_place(page: Page, seeded):
    server, (headline_claims, second_claims) = seeded
    log_in(page, server.url, "rita")
    page.get_by_role("main").get_by_role("link", name="Next passage").click()
    expect(page.locator(f"#claim-{headline_claims[0]}")).to_be_visible()
    keys_ready(page)
    first_url = page.url
    requested: list[str] = []

    def note_page_request(request: Request) -> None:
        if request.resource_type in PAGE_REQUESTS:  # not the icon, fetched when Chromium likes
            requested.append(request.method + " " + request.url)

    page.on("request", note_page_request)
    page.keyboard.press("2")  # quoted
    page.get_by_role("button", name="Save and next").click()
    expect(page.locator(f"#claim-{second_claims[0]}")).to_be_visible()
    expect(page.locator(f"#claim-{headline_claims[0]}")).to_have_count(0)
    expect(page.locator("#save-status")).to_have_text("Saved; this is the next passage.")
    # one request: the save, answered with the next passage's page content
    assert requested == [f"POST {first_url}"], requested
    with server.app.app_context():
        second = get_session().get_one(Claim, second_claims[0]).passage
        assert page.url == f"{server.url}/passages/{second.id}"
        assert page.title() == f"{second.document.title} · passage {second.index + 1} · annotator"

    page.keyboard.press("3")  # the keys work on the passage shown in place
    page.keyboard.press("j")
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    expect(page.locator("#save-status")).to_have_text("Saved.")
    page.reload()
    expect(page.locator(f'#claim-{second_claims[0]} input[value="editorial"]')).to_be_checked()
    expect(page.locator(f'#claim-{second_claims[1]} input[value="reported"]')).to_be_checked()

    page.go_back()
    assert page.url == first_url
    expect(page.locator(f'#claim-{headline_claims[0]} input[value="quoted"]')).to_be_checked()


def test_pages_load_everything_they_ask_for(page: Page, seeded):
    """No request a page makes fails: not its styles, scripts or icon (browsers ask for
    /favicon.ico when a page names no icon)."""
    server, (headline_claims, _) = seeded
    with server.app.app_context():
        passage = get_session().get_one(Claim, headline_claims[0]).passage
        pages = (f"/passages/{passage.id}", f"/projects/{passage.document.project_id}/dashboard")
    log_in(page, server.url, "rita")
    # Listened to from here: a navigation right after the login may abort the icon request of
    # the page the login led to, which is not one of the pages checked.
    page.wait_for_load_state("networkidle")
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.on("requestfailed", lambda request: failed.append(f"failed {request.url}"))
    for path in (*pages, "/export/"):
        page.goto(server.url + path)
        page.wait_for_load_state("networkidle")
    assert failed == []
    icon = page.locator("link[rel=icon]").get_attribute("href", timeout=1000)
    assert icon is not None
    assert page.request.get(server.url + icon).ok
