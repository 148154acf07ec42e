"""A curator settles the cited outlet of a passage that reviewers corrected: the passage then
counts under that outlet in the outlet report, the dashboard and the exports; confirming the
detected outlet settles the dispute too; a reviewer's later verdict reopens it; a stale page
or an unknown outlet changes nothing."""

from __future__ import annotations

import csv
import html
import io
import re

import pytest
from sqlalchemy import select

from annotator.models import Change, Outlet, Passage, Project, User
from annotator.services import outlet_disputes, reports
from annotator.services.importing import import_files
from tests.helpers import FIXTURES, harbour_study, import_fixture, passage_starting, table_rows

CLAIM = re.compile(r'<fieldset class="claim[^"]*" id="claim-(\d+)"')


@pytest.fixture
def project(session):
    return harbour_study(session, reviewers=("ann", "bob"), curators=("cora",))


def user_named(session, name) -> User:
    return session.scalar(select(User).where(User.username == name))


def outlet_named(session, name) -> Outlet:
    return session.scalar(select(Outlet).where(Outlet.name == name))


def union_passage(session, project) -> Passage:
    return passage_starting(session, project, "Union leaders")


def verdict(client, passage_id, outlet_choice, *, label=True) -> None:
    """Give this verdict on the outlet (labelling every claim first time round), as the
    page's JSON save does."""
    claims = CLAIM.findall(client.get(f"/passages/{passage_id}").text) if label else []
    body = {
        "labels": dict.fromkeys(claims, "reported"),
        "versions": dict.fromkeys(claims, 0),
        "outlet": outlet_choice,
    }
    assert client.post(f"/passages/{passage_id}", json=body).status_code == 200


def queue_page(client, project, **args) -> str:
    response = client.get(f"/projects/{project.id}/adjudicate/outlets", query_string=args)
    assert response.status_code == 200
    return html.unescape(response.text)


def report_outlets(session, project) -> dict[str, int]:
    report = reports.outlet_report(session, project, reports.Basis.ALL)
    return {row.outlet: row.excerpt_passages for row in report.rows}


@pytest.fixture
def disputed(client, login, session, project):
    """ann says the Reuters excerpt "Union leaders ..." is AP's; bob keeps Reuters."""
    passage = union_passage(session, project)
    assert passage.outlet.name == "Reuters"
    ap = outlet_named(session, "AP")
    login("ann")
    verdict(client, passage.id, str(ap.id))
    login("bob")
    verdict(client, passage.id, "")
    return passage.id, ap.id


def test_the_queue_lists_passages_a_reviewer_corrected_with_every_verdict(
    client, login, disputed, project
):
    passage_id, _ = disputed
    login("cora")
    page = queue_page(client, project)
    assert "1 passage to decide." in page
    entry = page[page.index(f'id="outlet-dispute-{passage_id}"') :]
    assert "cites now: <strong>Reuters</strong>" in entry
    assert "<td>ann</td><td>AP</td>" in entry
    assert "<td>bob</td>" not in entry, "bob kept the detected outlet: no verdict"


def test_setting_the_outlet_moves_the_passage_in_the_reports_and_exports(
    client, login, session, disputed, project
):
    passage_id, ap_id = disputed
    before = report_outlets(session, project)
    login("cora")
    response = client.post(
        f"/projects/{project.id}/adjudicate/outlets/{passage_id}",
        data={"outlet": str(ap_id), "seen": str(union_passage(session, project).outlet_id)},
    )
    assert response.status_code == 302
    done = html.unescape(client.get(response.headers["Location"]).text)
    assert "Passage 3 of its document now cites: AP." in done
    assert "0 passages to decide." in done

    passage = union_passage(session, project)
    assert passage.outlet_id == ap_id
    after = report_outlets(session, project)
    assert after["AP"] == before.get("AP", 0) + 1
    assert after["Reuters"] == before["Reuters"] - 1
    login("boss")
    exported = client.get("/export/annotations.csv?project=study").text
    rows = [r for r in csv.DictReader(io.StringIO(exported)) if r["passage_index"] == "2"]
    assert {r["detected_outlet"] for r in rows} == {"AP"}
    history = session.scalars(
        select(Change.old_value + " > " + Change.new_value).where(
            Change.passage_id == passage.id, Change.kind == "passage_outlet"
        )
    ).all()
    assert history == ["Reuters > AP"]
    shown = html.unescape(client.get(f"/passages/{passage.id}").text)
    assert "passage_outlet: Reuters → AP" in shown


def test_confirming_the_detected_outlet_settles_until_a_new_verdict(
    client, login, session, disputed, project
):
    passage_id, _ = disputed
    reuters = union_passage(session, project).outlet_id
    login("cora")
    data = {"outlet": str(reuters), "seen": str(reuters)}
    client.post(f"/projects/{project.id}/adjudicate/outlets/{passage_id}", data=data)
    assert union_passage(session, project).outlet_id == reuters
    assert "0 passages to decide." in queue_page(client, project)
    decided = queue_page(client, project, decided="1")
    assert "1 passage where a verdict differs from the outlet." in decided
    history = session.scalars(select(Change.new_value).where(Change.kind == "passage_outlet")).all()
    assert history == ["Reuters (confirmed)"]

    login("bob")
    verdict(client, passage_id, "none", label=False)
    login("cora")
    page = queue_page(client, project)
    assert "1 passage to decide." in page, "bob's later verdict reopens the dispute"
    assert "<td>bob</td><td>author's own words</td>" in page


def test_a_stale_page_or_an_unknown_outlet_changes_nothing(
    client, login, session, disputed, project
):
    passage_id, ap_id = disputed
    url = f"/projects/{project.id}/adjudicate/outlets/{passage_id}"
    reuters = str(union_passage(session, project).outlet_id)
    login("boss")
    client.post(url, data={"outlet": "none", "seen": reuters})
    login("cora")
    before = table_rows(session)
    stale = client.post(url, data={"outlet": str(ap_id), "seen": reuters})
    assert stale.status_code == 409
    assert "was changed since this page was loaded" in stale.text
    for data in ({"outlet": "999999", "seen": "none"}, {"outlet": "AP", "seen": "none"}, {}):
        refused = client.post(url, data=data)
        assert refused.status_code == 400
        assert "Unknown outlet" in html.unescape(refused.text)
    assert table_rows(session) == before


def test_only_the_projects_curators_decide(client, login, session, disputed, project):
    passage_id, ap_id = disputed
    url = f"/projects/{project.id}/adjudicate/outlets/{passage_id}"
    data = {"outlet": str(ap_id), "seen": str(union_passage(session, project).outlet_id)}
    login("ann")
    assert client.get(f"/projects/{project.id}/adjudicate/outlets").status_code == 403
    assert client.post(url, data=data).status_code == 403
    import_fixture(session, "two.jsonl", project="elsewhere")
    elsewhere = session.scalar(select(Project).where(Project.name == "elsewhere"))
    login("boss")
    wrong = f"/projects/{elsewhere.id}/adjudicate/outlets/{passage_id}"
    assert client.post(wrong, data=data).status_code == 404
    assert union_passage(session, project).outlet.name == "Reuters"


def test_undo_leaves_the_curators_decision_alone(client, login, session, disputed, project):
    passage_id, ap_id = disputed
    login("boss")
    seen = str(union_passage(session, project).outlet_id)
    url = f"/projects/{project.id}/adjudicate/outlets/{passage_id}"
    client.post(url, data={"outlet": str(ap_id), "seen": seen})
    assert client.post("/undo").status_code in (200, 302)
    assert union_passage(session, project).outlet_id == ap_id
    assert outlet_disputes.choice_of(None) == outlet_disputes.AUTHOR_OWN_WORDS


def test_a_new_outlet_drops_the_cue_that_named_the_old_one(client, login, session, project):
    lead_in = session.scalar(
        select(Passage).where(
            Passage.project_id == project.id, Passage.text.startswith("The harbour strike")
        )
    )
    cue = lead_in.cue
    assert cue is not None
    assert "Reuters" in cue
    reuters, ap = lead_in.outlet_id, outlet_named(session, "AP").id
    login("ann")
    verdict(client, lead_in.id, str(ap))
    login("cora")
    url = f"/projects/{project.id}/adjudicate/outlets/{lead_in.id}"
    client.post(url, data={"outlet": str(reuters), "seen": str(reuters)})
    session.expire_all()
    assert session.get(Passage, lead_in.id).cue == cue, "a confirmation keeps it"
    client.post(url, data={"outlet": str(ap), "seen": str(reuters)})
    session.expire_all()
    moved = session.get(Passage, lead_in.id)
    assert (moved.outlet_id, moved.cue, moved.cue_start, moved.cue_end) == (ap, None, None, None)


def test_a_re_import_keeps_the_outlet_a_curator_set_on_an_unchanged_passage(
    client, login, session, disputed, project
):
    passage_id, ap_id = disputed
    login("cora")
    seen = str(union_passage(session, project).outlet_id)
    client.post(
        f"/projects/{project.id}/adjudicate/outlets/{passage_id}",
        data={"outlet": str(ap_id), "seen": seen},
    )
    article = (FIXTURES / "harbour.txt").read_text()
    for words in ("a standoff that", "a long standoff that"):
        article = article.replace(words, words.replace("standoff", "long standoff"))
        report = import_files(session, [("harbour.txt", article.encode())], "study")
        assert report.changed, report
        again = union_passage(session, project)
        assert again.outlet_id == ap_id, "kept at every re-import"
        kinds = session.scalars(select(Change.kind).where(Change.passage_id == again.id)).all()
        assert kinds == ["passage_outlet"]
    assert "0 passages to decide." in queue_page(client, project)


def test_the_queue_comes_in_pages(client, login, session, disputed, project, monkeypatch):
    passage_id, ap_id = disputed
    lead_in = passage_starting(session, project, "The harbour strike")
    login("ann")
    verdict(client, lead_in.id, str(ap_id))
    monkeypatch.setattr(outlet_disputes, "PER_PAGE", 1)
    login("cora")
    first = queue_page(client, project)
    assert "2 passages to decide." in first
    assert "Page 1 of 2" in first
    assert f'id="outlet-dispute-{lead_in.id}"' in first, "document order"
    second = queue_page(client, project, page=2, decided=1)
    assert "Page 2 of 2" in second
    assert f'id="outlet-dispute-{passage_id}"' in second
    assert "decided=1" in second, "paging keeps the choice"
