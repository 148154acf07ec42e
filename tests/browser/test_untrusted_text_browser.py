"""Hostile imported articles (and a hostile reviewer note) render as inert text in real
Chromium: no dialog opens, no script runs, no markup from the data becomes an element, the
policy reports no violation, and the layout holds (no horizontal overflow, left-to-right
controls stay in order next to right-to-left overrides)."""

from __future__ import annotations

import pytest
from playwright.sync_api import ConsoleMessage, Dialog, Page, expect
from sqlalchemy import select

from annotator.db import get_session
from annotator.models import Document, Passage, Project, Role
from annotator.services import accounts
from tests.conftest import PASSWORD
from tests.security import hostile

pytestmark = pytest.mark.browser

NOTE = "<img src=x onerror=\"alert('note')\"> my note"
# Elements that only markup from the data could have created.
INJECTED = (
    "script:not([src]), iframe, img[src='x'], svg circle[r='4'], [onerror], [onload], "
    "a[href^='javascript:' i], b"
)


class Watch:
    """Everything on the page that would show a payload ran or was blocked."""

    def __init__(self, page: Page) -> None:
        self.dialogs: list[str] = []
        self.violations: list[str] = []
        self.errors: list[str] = []
        page.on("dialog", self._dialog)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _console(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            self.violations.append(message.text)

    def assert_quiet(self) -> None:
        assert self.dialogs == [], "a dialog opened"
        assert self.violations == [], "something tried to run and was blocked by the policy"
        assert self.errors == []


@pytest.fixture
def hostile_site(live_server, page: Page):
    """An admin who uploads the hostile article through the import page."""
    with live_server.app.app_context():
        session = get_session()
        accounts.create_user(session, "adam", PASSWORD, Role.ADMIN)
    watch = Watch(page)
    page.goto(live_server.url + "/login")
    page.get_by_label("Username").fill("adam")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(live_server.url + "/")
    page.goto(live_server.url + "/admin/import")
    upload = {"name": "hostile.jsonl", "mimeType": "text/plain", "buffer": hostile.hostile_jsonl()}
    page.locator("#file").set_input_files(upload)
    page.locator("#project").fill("hostile")
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("status").last).to_contain_text("1 imported")
    return live_server, watch


def passage_ids(live_server) -> tuple[int, list[int]]:
    with live_server.app.app_context():
        session = get_session()
        project = session.scalar(select(Project).where(Project.name == "hostile"))
        ids = session.scalars(
            select(Passage.id).join(Document).where(Document.external_id == "hostile-1")
            .order_by(Passage.index)
        ).all()  # fmt: skip
        return project.id, list(ids)


def check_inert(page: Page) -> None:
    # After a click the page's elements can be found before its stylesheet has loaded; its
    # width is only the page's own once the styles apply.
    page.wait_for_load_state("load")
    assert page.evaluate("() => window.__pwned === undefined"), "a payload ran"
    assert page.locator(INJECTED).count() == 0, "markup from the data became elements"
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"


def test_hostile_article_renders_as_inert_text(hostile_site, page: Page):
    server, watch = hostile_site
    project_id, passages = passage_ids(server)
    assert len(passages) == len(hostile.PARAGRAPHS) + 1
    shown = ""
    for passage_id in passages:
        page.goto(f"{server.url}/passages/{passage_id}")
        check_inert(page)
        shown += page.locator(".passage-text").inner_text() + "\n"
    for fragment in hostile.VERBATIM:
        assert fragment in shown, f"{fragment!r} is not shown as text"
    expect(page.locator("#doc-title")).to_contain_text('<script>alert("title")</script>')
    assert page.get_by_role("link", name="source").count() == 0, "a javascript: URL became a link"
    for path in (f"/projects/{project_id}/dashboard", "/", f"/projects/{project_id}/agreement"):
        page.goto(server.url + path)
        check_inert(page)
    page.goto(f"{server.url}/projects/{project_id}/dashboard")
    page.locator("#documents a").first.click()
    expect(page.locator("h1")).to_contain_text('<script>alert("title")</script>')
    check_inert(page)
    overview = page.locator("#passages").inner_text()
    for fragment in hostile.VERBATIM:
        assert fragment in overview, f"{fragment!r} is not shown as text in the overview"
    watch.assert_quiet()


def test_a_hostile_link_in_a_cue_is_a_plain_link_to_its_address(hostile_site, page: Page):
    server, watch = hostile_site
    _, passages = passage_ids(server)
    page.goto(f"{server.url}/passages/{passages[-1]}")
    check_inert(page)
    expect(page.locator(".badge.outlet")).to_contain_text("NPR")
    link = page.locator("#cited-page")
    assert link.get_attribute("href") == hostile.CITED_ADDRESS
    assert link.get_attribute("onmouseover") is None
    assert link.get_attribute("rel") == "noopener noreferrer nofollow"
    link.hover()
    watch.assert_quiet()


def test_right_to_left_override_stays_inside_its_passage(hostile_site, page: Page):
    server, watch = hostile_site
    _, passages = passage_ids(server)
    rtl_index = next(i for i, text in enumerate(hostile.PARAGRAPHS) if hostile.RTL in text)
    rtl_passage = passages[1 + rtl_index]
    page.goto(f"{server.url}/passages/{rtl_passage}")
    choices = page.locator("fieldset.claim").first.locator("label.choice")
    xs = [choices.nth(i).bounding_box()["x"] for i in range(choices.count())]
    assert xs == sorted(xs), "the label buttons were reordered by the override"
    assert choices.nth(0).inner_text().startswith("reported")
    check_inert(page)
    watch.assert_quiet()


def test_hostile_note_is_shown_as_text(hostile_site, page: Page):
    server, watch = hostile_site
    _, passages = passage_ids(server)
    page.goto(f"{server.url}/passages/{passages[1]}")
    claim = page.locator("fieldset.claim").first
    claim.locator('input[value="quoted"]').check()
    claim.locator("input.note").fill(NOTE)
    page.get_by_role("button", name="Save", exact=False).first.click()
    expect(page.locator("#save-status")).to_have_text("Saved.")
    page.reload()
    expect(page.locator("fieldset.claim").first.locator("input.note")).to_have_value(NOTE)
    page.goto(f"{server.url}/export/")
    check_inert(page)
    watch.assert_quiet()
