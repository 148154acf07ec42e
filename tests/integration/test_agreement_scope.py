"""Agreement figures of one citing site or publication period (page, JSON, command)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from annotator.models import Document, Passage, Project, Role
from annotator.services import annotating
from annotator.services.annotating import TagSubmission
from tests.helpers import table_rows, two_site_study


@pytest.fixture
def study(session, make_user) -> Project:
    """The two-site study: ann labels every claim reported; bob agrees on Harbour Watch's
    claims and says quoted to every claim of Port Digest's."""
    project = two_site_study(session)
    ann, bob = make_user("ann", Role.ADMIN), make_user("bob", Role.ADMIN)
    passages = session.execute(
        select(Passage, Document.site)
        .join(Document, Document.id == Passage.document_id)
        .where(Passage.project_id == project.id, Passage.claim_count > 0)
    ).all()
    for passage, site in passages:
        ids = [claim.id for claim in passage.claims]
        for user, label in (
            (ann, "reported"),
            (bob, "quoted" if site == "Port Digest" else "reported"),
        ):
            submission = TagSubmission(dict.fromkeys(ids, label), dict.fromkeys(ids, 0))
            annotating.save_passage(session, user, passage, submission)
    return project


def overall(client, project, **args) -> dict:
    response = client.get(f"/projects/{project.id}/agreement.json", query_string=args)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


def test_each_site_has_its_own_agreement(client, login, study):
    login("ann")
    everything = overall(client, study)["overall"]
    harbour = overall(client, study, site="Harbour Watch")
    digest = overall(client, study, site="Port Digest")["overall"]
    assert harbour["overall"]["percent_agreement"] == 1.0
    assert digest["percent_agreement"] == 0.0
    claims = harbour["overall"]["n_items"] + digest["n_items"]
    assert claims == everything["n_items"]
    assert 0.0 < everything["percent_agreement"] < 1.0
    assert harbour["filters"] == {
        "outlet": None, "role": None, "label": None,
        "site": "Harbour Watch", "published_from": None, "published_to": None,
    }  # fmt: skip


def test_a_period_keeps_the_documents_published_in_it(client, login, study):
    login("ann")
    april = overall(client, study, published_from="2026-04-01")
    assert april["overall"]["percent_agreement"] == 0.0, "only Port Digest's article"
    assert april["filters"]["published_from"] == "2026-04-01"


def test_the_page_says_what_it_counted(client, login, study):
    login("ann")
    html = client.get(f"/projects/{study.id}/agreement?site=Port+Digest").get_data(as_text=True)
    assert "1 of 3 documents: site Port Digest." in html
    assert "All claims (filtered)" in html
    assert '<option value="Port Digest" selected>' in html


def test_a_scope_that_names_nothing_is_refused(client, login, session, study):
    login("ann")
    before = table_rows(session)
    page = client.get(f"/projects/{study.id}/agreement?published_to=soon")
    assert page.status_code == 400
    assert "Published until: &#39;soon&#39; is not a date" in page.get_data(as_text=True)
    assert 'id="overall"' not in page.get_data(as_text=True)
    answer = client.get(f"/projects/{study.id}/agreement.json?site=Nowhere")
    assert answer.status_code == 400
    assert answer.json == {
        "ok": False,
        "error": "No document of this project names its site as 'Nowhere'.",
    }
    assert table_rows(session) == before


def test_the_command_prints_the_same_figures(client, login, runner, study):
    login("ann")
    page = overall(client, study, site="Port Digest")
    printed = runner.invoke(
        ["stats", "--project", "study", "--format", "json", "--site", "Port Digest"]
    )
    assert printed.exit_code == 0, printed.output
    assert json.loads(printed.output) == page
    refused = runner.invoke(["stats", "--project", "study", "--site", "Nowhere"])
    assert refused.exit_code == 2
    assert "names its site as 'Nowhere'" in refused.output
