"""A curator sets a passage's role and outlet on the passage's own page: the reports count it
there, the history keeps the decision, a re-import of a changed version keeps it; a stale page
or an unknown value changes nothing."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from annotator.models import Change, Outlet
from annotator.services import reports
from annotator.services.importing import import_files
from tests.helpers import FIXTURES, harbour_study, passage_starting, table_rows


@pytest.fixture
def project(session):
    return harbour_study(session, reviewers=("ann",), curators=("cora",))


def reuters_row(session, project) -> reports.OutletRow:
    report = reports.outlet_report(session, project, reports.Basis.ALL)
    return next(row for row in report.rows if row.outlet == "Reuters")


def test_setting_the_role_moves_the_passage_in_the_outlet_report(client, login, session, project):
    passage = passage_starting(session, project, "This looks like a standoff")
    assert passage.role == "excerpt"
    before = reuters_row(session, project)
    login("cora")
    page = client.get(f"/passages/{passage.id}/edit").text
    assert 'id="outlet-and-role"' in page
    response = client.post(
        f"/passages/{passage.id}/role", data={"role": "author", "seen": "excerpt"}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/passages/{passage.id}/edit")
    shown = html.unescape(client.get(response.headers["Location"]).text)
    assert "Saved: the author's text, citing Reuters." in shown
    assert passage_starting(session, project, "This looks like").role == "author"
    after = reuters_row(session, project)
    assert after.excerpt_passages == before.excerpt_passages - 1
    assert after.author_passages == before.author_passages + 1
    history = session.scalars(
        select(Change.old_value + " > " + Change.new_value).where(Change.kind == "passage_role")
    ).all()
    assert history == ["excerpt > author's text"]
    annotation_page = html.unescape(client.get(f"/passages/{passage.id}").text)
    assert "passage_role: excerpt → author's text" in annotation_page


def test_the_outlet_set_on_the_passages_page_goes_back_there(client, login, session, project):
    passage = passage_starting(session, project, "This looks like a standoff")
    ap = session.scalar(select(Outlet.id).where(Outlet.name == "AP"))
    login("cora")
    response = client.post(
        f"/passages/{passage.id}/outlet", data={"outlet": str(ap), "seen": str(passage.outlet_id)}
    )
    assert response.headers["Location"].endswith(f"/passages/{passage.id}/edit")
    assert "Saved: an excerpt of AP." in html.unescape(
        client.get(response.headers["Location"]).text
    )
    assert passage_starting(session, project, "This looks like").outlet_id == ap


@pytest.mark.parametrize(
    ("url_end", "data", "status", "message"),
    [
        ("role", {"role": "author", "seen": "author"}, 409, "was changed since this page"),
        ("role", {"role": "commentary", "seen": "excerpt"}, 400, "Unknown role"),
        ("role", {}, 400, "Unknown role"),
        ("outlet", {"outlet": "none", "seen": "none"}, 409, "was changed since this page"),
        ("outlet", {"outlet": "Reuters", "seen": "none"}, 400, "Unknown outlet"),
    ],
)
def test_a_stale_or_wrong_decision_changes_nothing(
    client, login, session, project, url_end, data, status, message
):
    passage = passage_starting(session, project, "This looks like a standoff")
    login("cora")
    before = table_rows(session)
    response = client.post(f"/passages/{passage.id}/{url_end}", data=data)
    assert response.status_code == status
    assert message in html.unescape(response.text)
    assert 'id="outlet-and-role"' in response.text, "the page is shown again"
    assert table_rows(session) == before


def test_reviewers_may_not_decide(client, login, session, project):
    passage = passage_starting(session, project, "This looks like a standoff")
    login("ann")
    assert client.get(f"/passages/{passage.id}/edit").status_code == 403
    refused = client.post(
        f"/passages/{passage.id}/role", data={"role": "author", "seen": "excerpt"}
    )
    assert refused.status_code == 403
    assert passage_starting(session, project, "This looks like").role == "excerpt"


def test_a_passage_without_claims_can_still_get_its_outlet_and_role(
    client, login, session, project
):
    article = "Port talks resume\n\nThe Kyiv Independent reports:\n\nTalks resumed on Monday.\n"
    import_files(session, [("lead-in.txt", article.encode())], "study")
    lead_in = passage_starting(session, project, "The Kyiv Independent reports")
    assert lead_in.claim_count == 0
    login("cora")
    page = html.unescape(client.get(f"/passages/{lead_in.id}/edit").text)
    assert "The tool found no claim in this passage" in page
    assert 'name="claims"' not in page
    overview = client.get(f"/projects/{project.id}/documents/{lead_in.document_id}").text
    assert f'href="/passages/{lead_in.id}/edit"' in overview
    response = client.post(
        f"/passages/{lead_in.id}/role", data={"role": "excerpt", "seen": lead_in.role}
    )
    assert response.status_code == 302
    assert passage_starting(session, project, "The Kyiv Independent").role == "excerpt"


def test_a_re_import_keeps_the_role_a_curator_set(client, login, session, project):
    passage = passage_starting(session, project, "This looks like a standoff")
    login("cora")
    client.post(f"/passages/{passage.id}/role", data={"role": "author", "seen": "excerpt"})
    article = (FIXTURES / "harbour.txt").read_text()
    changed = article.replace("Union leaders walked out", "Union leaders stormed out")
    assert changed != article
    report = import_files(session, [("harbour.txt", changed.encode())], "study")
    assert report.changed, report
    assert passage_starting(session, project, "This looks like").role == "author"
