"""The import page in real Chromium: the upload goes through XMLHttpRequest with a progress
bar, and the result replaces the page without a navigation."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from annotator.db import get_session
from annotator.services import accounts
from tests.browser.login import log_in
from tests.conftest import PASSWORD
from tests.helpers import FIXTURES, STRIKE_DOCX_PARAGRAPHS, word_document

pytestmark = pytest.mark.browser


def log_in_as_admin(page: Page, live_server) -> None:
    """A new admin, logged in through the login form."""
    with live_server.app.app_context():
        accounts.create_user(get_session(), "boss", PASSWORD, "admin")
    log_in(page, live_server.url, "boss")


def test_upload_shows_progress_and_the_report(page: Page, live_server, tmp_path):
    big = tmp_path / "big.jsonl"
    line = (FIXTURES / "two.jsonl").read_text(encoding="utf-8").splitlines()[0]
    padding = "x" * 2000
    big.write_text(
        "\n".join(
            line.replace('"a-1"', f'"big-{n}"').replace(
                "}", f', "metadata": {{"pad": "{padding}"}}}}', 1
            )
            for n in range(300)
        )
        + "\n",
        encoding="utf-8",
    )
    strike = tmp_path / "strike.docx"
    strike.write_bytes(word_document(*STRIKE_DOCX_PARAGRAPHS))
    log_in_as_admin(page, live_server)
    page.goto(live_server.url + "/admin/import")
    page.set_input_files("#file", [str(big), str(FIXTURES / "kremlin.html"), str(strike)])
    requests = []
    page.on("request", lambda request: requests.append(request.resource_type))
    page.get_by_role("button", name="Import").click()
    expect(page.locator("#import-progress")).to_be_visible()
    expect(page.locator("#import-report")).to_contain_text("302 imported", timeout=60_000)
    assert "xhr" in requests
    assert "document" not in requests
    expect(page.get_by_role("button", name="Import")).to_be_enabled()


@pytest.mark.parametrize(
    "path", ["/admin/import", "/admin/import/labels", "/admin/projects", "/admin/users"]
)
def test_fields_sit_below_their_labels(page: Page, live_server, path):
    """Every field but a checkbox starts below its label, so label and field never run together
    ("FilesChoose Files"), whatever kind of input it is."""
    log_in_as_admin(page, live_server)
    page.goto(live_server.url + path)
    labels = page.locator("main label[for]")
    checked = []
    for index in range(labels.count()):
        label = labels.nth(index)
        field = page.locator(f"#{label.get_attribute('for')}")
        if field.get_attribute("type") == "checkbox" or not field.is_visible():
            continue
        label_box, field_box = label.bounding_box(), field.bounding_box()
        assert field_box["y"] >= label_box["y"] + label_box["height"] - 1, label.inner_text()
        checked.append(field.get_attribute("type") or field.evaluate("f => f.tagName"))
    assert checked, path


def test_menu_entries_and_column_headers_never_break_inside_a_word(page: Page, live_server):
    """At a laptop's width the admin's menu wraps between entries, never inside one ("Next /
    passage"), and a narrow column's header ("Notes" over an empty column) between words."""
    page.set_viewport_size({"width": 1100, "height": 800})
    log_in_as_admin(page, live_server)
    page.goto(live_server.url + "/admin/outlets")
    lines_of_text = "e => { const r = document.createRange(); r.selectNodeContents(e); "
    lines_of_text += "return new Set([...r.getClientRects()].map(b => Math.round(b.top))).size; }"
    menu = page.locator(".topbar nav a")
    assert menu.count() > 3
    for index in range(menu.count()):
        assert menu.nth(index).evaluate(lines_of_text) == 1, menu.nth(index).inner_text()
    headers = page.locator("thead th")
    assert headers.count() > 3
    for index in range(headers.count()):
        text = headers.nth(index).inner_text().strip()
        assert headers.nth(index).evaluate(lines_of_text) <= len(text.split()), text
