"""The JSON API: token authentication, CSRF for cookie sessions, permissions, tags with
versions, suggestions, imports and exports."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from sqlalchemy import func, select, update

from annotator.models import Annotation, ApiToken, Document, Passage, Suggestion
from tests.api.conftest import bearer
from tests.helpers import fingerprint


def test_requests_without_a_valid_token_get_json_401(client, api_world):
    for headers in ({}, {"Authorization": "Bearer ann_wrong"}, {"Authorization": "Basic abc"}):
        response = client.get("/api/v1/projects", headers=headers)
        assert response.status_code == 401
        assert response.json["ok"] is False
        assert "token" in response.json["error"].lower()
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.json["ok"] is False


def test_projects_documents_passages_claims(client, api_world):
    headers = api_world.headers["reviewer"]
    projects = client.get("/api/v1/projects", headers=headers).json["projects"]
    assert {p["name"] for p in projects} >= {"study"}
    study = next(p for p in projects if p["name"] == "study")
    assert study["documents"] == 3
    assert study["role"] == "reviewer"
    assert study["loaded_terms"][:3] == ["so-called", "regime", "junta"]
    page = client.get(f"/api/v1/projects/{study['id']}/documents?limit=2", headers=headers).json
    assert len(page["documents"]) == 2
    assert page["next_after"] is not None
    rest = client.get(
        f"/api/v1/projects/{study['id']}/documents?after={page['next_after']}", headers=headers
    ).json
    assert len(rest["documents"]) == 1
    assert rest["next_after"] is None
    document = rest["documents"][0]
    detail = client.get(f"/api/v1/documents/{document['id']}", headers=headers).json
    assert detail["document"]["external_id"] == document["external_id"]
    passages = client.get(f"/api/v1/documents/{document['id']}/passages", headers=headers).json
    assert passages["passages"] == detail["passages"]
    claims = client.get(f"/api/v1/passages/{api_world.passage.id}/claims", headers=headers).json
    first = claims["claims"][0]
    assert first["text"] == api_world.passage.text[first["start"] : first["end"]]
    assert first["suggestions"] == []


def test_a_document_gives_the_day_its_publication_date_names(client, session, api_world):
    document = session.scalar(select(Document).order_by(Document.id))
    document.published, document.published_on = "Sun, 01 Mar 2026 08:00:00 +0000", date(2026, 3, 1)
    session.commit()
    answer = client.get(f"/api/v1/documents/{document.id}", headers=api_world.headers["admin"])
    given = answer.json["document"]
    assert (given["published"], given["published_on"]) == (document.published, "2026-03-01")


def test_outsiders_see_nothing_of_the_project(client, api_world):
    headers = api_world.headers["outsider"]
    assert "study" not in {
        p["name"] for p in client.get("/api/v1/projects", headers=headers).json["projects"]
    }
    assert (
        client.get(f"/api/v1/passages/{api_world.passage.id}", headers=headers).status_code == 404
    )
    assert (
        client.get(
            f"/api/v1/projects/{api_world.project.id}/documents", headers=headers
        ).status_code
        == 404
    )


def test_tags_round_trip_with_versions_and_409(client, api_world):
    headers = api_world.headers["reviewer"]
    claim_ids = [c.id for c in api_world.passage.claims]
    url = f"/api/v1/passages/{api_world.passage.id}/tags"
    body = {
        "labels": {str(c): "quoted" for c in claim_ids},
        "versions": {str(c): 0 for c in claim_ids},
        "notes": {str(claim_ids[0]): "check"},
    }
    saved = client.put(url, json=body, headers=headers)
    assert saved.status_code == 200, saved.json
    tags = client.get(url, headers=headers).json["tags"]
    assert {tags[str(c)]["label"] for c in claim_ids} == {"quoted"}
    version = tags[str(claim_ids[0])]["version"]
    assert version >= 1
    assert tags[str(claim_ids[0])]["note"] == "check"
    first = str(claim_ids[0])
    stale = client.put(
        url, json={"labels": {first: "reported"}, "versions": {first: 0}}, headers=headers
    )
    assert stale.status_code == 409
    assert stale.json["current"][first] == "quoted"
    fresh = client.put(
        url, json={"labels": {first: "reported"}, "versions": {first: version}}, headers=headers
    )
    assert fresh.status_code == 200
    assert fresh.json["tags"][first]["version"] == version + 1
    bad = client.put(url, json={"labels": {str(claim_ids[0]): "maybe"}}, headers=headers)
    assert bad.status_code == 400
    assert "Unknown label" in bad.json["error"]
    assert client.put(url, data="x", headers=headers).status_code == 400


def test_suggestions_are_stored_shown_and_exported(client, api_world, login):
    claim = api_world.passage.claims[0]
    body = {
        "source": "my-model-v1",
        "suggestions": [
            {"claim_id": claim.id, "label": "editorial", "score": 0.82, "reason": "loaded words"}
        ],
    }
    assert (
        client.post(
            "/api/v1/suggestions", json=body, headers=api_world.headers["reviewer"]
        ).status_code
        == 403
    )
    response = client.post("/api/v1/suggestions", json=body, headers=api_world.headers["curator"])
    assert response.status_code == 200
    assert response.json["stored"] == 1
    again = client.post(
        "/api/v1/suggestions",
        json={**body, "suggestions": [{"claim_id": claim.id, "label": "quoted", "score": 0.6}]},
        headers=api_world.headers["curator"],
    )
    assert again.status_code == 200
    claims = client.get(
        f"/api/v1/passages/{api_world.passage.id}/claims", headers=api_world.headers["reviewer"]
    ).json
    assert claims["claims"][0]["suggestions"][0] | {"updated_at": None} == {
        "source": "my-model-v1",
        "label": "quoted",
        "score": 0.6,
        "reason": "",
        "updated_at": None,
    }
    unknown = client.post(
        "/api/v1/suggestions",
        json={"source": "x", "suggestions": [{"claim_id": 999999, "label": "quoted"}]},
        headers=api_world.headers["curator"],
    )
    assert unknown.status_code == 404
    login(api_world.users["reviewer"])
    page = client.get(f"/passages/{api_world.passage.id}").get_data(as_text=True)
    assert "Suggestion from my-model-v1" in page
    assert "score 0.60" in page


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"source": "", "suggestions": [{}]},
        {"source": "s", "suggestions": []},
        {"source": "s", "suggestions": [{"claim_id": "1", "label": "quoted"}]},
        {"source": "s", "suggestions": [{"claim_id": 1, "label": "quoted", "score": "high"}]},
        {"source": "s", "suggestions": [{"claim_id": 1, "label": {"name": "quoted"}}]},
        {"source": "s", "suggestions": [{"claim_id": 1, "label": ["quoted"]}]},
    ],
)
def test_bad_suggestions_are_refused(client, api_world, body):
    response = client.post("/api/v1/suggestions", json=body, headers=api_world.headers["curator"])
    assert response.status_code == 400
    assert response.json["ok"] is False


def test_admin_imports_documents(client, session, api_world):
    url = f"/api/v1/projects/{api_world.project.id}/documents"
    docs = {
        "documents": [
            {
                "id": "api-1",
                "title": "Bridge closes (AP)",
                "text": "The bridge closed on Friday.",
                "metadata": {"desk": "city"},
            }
        ]
    }
    assert client.post(url, json=docs, headers=api_world.headers["curator"]).status_code == 403
    response = client.post(url, json=docs, headers=api_world.headers["admin"])
    assert response.status_code == 200
    assert response.json["imported"] == ["api-1"]
    assert session.scalar(select(Document.meta).where(Document.external_id == "api-1")) == {
        "desk": "city"
    }
    again = client.post(url, json=docs, headers=api_world.headers["admin"])
    assert again.json["duplicates"] == ["api-1"]
    bad = client.post(
        url, json={"documents": [{"id": "x", "title": "t"}]}, headers=api_world.headers["admin"]
    )
    assert bad.status_code == 400
    assert bad.json["error"].startswith("documents[0]")


def test_admin_analyses_a_project_again_or_previews_it(client, session, api_world):
    project = api_world.project
    url = f"/api/v1/projects/{project.id}/reanalyse"
    admin = api_world.headers["admin"]
    assert client.post(url, headers=api_world.headers["curator"]).status_code == 403
    session.execute(update(Passage).where(Passage.project_id == project.id).values(outlet_id=None))
    session.commit()
    assert client.get("/api/v1/projects", headers=admin).status_code == 200  # the token's use
    before = fingerprint(session)
    preview = client.post(url, json={"preview": True}, headers=admin)
    assert preview.status_code == 200, preview.json
    assert preview.json["preview"] is True
    assert fingerprint(session) == before
    done = client.post(url, headers=admin)  # no body: a run
    assert done.status_code == 200, done.json
    assert done.json["preview"] is False
    assert done.json["reanalysed"] == preview.json["reanalysed"]
    assert done.json["reanalysed"], "the cleared outlets come back"
    assert len(done.json["reanalysed"]) + done.json["unchanged"] == 3
    assert done.json["without_source"] == 0
    assert fingerprint(session) != before
    again = client.post(url, json={"preview": False}, headers=admin).json
    assert (again["reanalysed"], again["unchanged"]) == ([], 3)
    for body in ({"preview": "yes"}, [True]):
        refused = client.post(url, json=body, headers=admin)
        assert refused.status_code == 400
        assert refused.json["ok"] is False


def test_export_through_the_api(client, api_world):
    headers = api_world.headers["curator"]
    claim_ids = [c.id for c in api_world.passage.claims]
    client.put(
        f"/api/v1/passages/{api_world.passage.id}/tags",
        json={"labels": {str(c): "quoted" for c in claim_ids}},
        headers=api_world.headers["reviewer"],
    )
    response = client.get("/api/v1/export?format=csv&project=study&label=quoted", headers=headers)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == len(claim_ids)
    assert {r["reviewer"] for r in rows} == {"rita"}
    assert client.get("/api/v1/export", headers=api_world.headers["reviewer"]).status_code == 403
    assert client.get("/api/v1/export?format=xml", headers=headers).status_code == 400
    assert client.get("/api/v1/export?until=soon", headers=headers).status_code == 400


def test_openapi_description_is_public_and_lists_every_route(client, app):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    described = {(method.upper(), path) for path, item in spec["paths"].items() for method in item}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/") and rule.endpoint != "api.openapi":
            path = rule.rule.replace("<int:", "{").replace(">", "}")
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                assert (method, path) in described


# Tokens


def test_token_page_creates_shows_once_and_revokes(client, session, make_user, login):
    user = make_user("rita")
    login("rita")
    assert client.get("/account/tokens").status_code == 200
    created = client.post("/account/tokens", data={"name": "my script"})
    assert created.status_code == 201
    assert created.headers["Cache-Control"] == "no-store"
    page = created.get_data(as_text=True)
    token = session.scalar(select(ApiToken).where(ApiToken.user_id == user.id))
    start = page.index('value="ann_') + len('value="')
    secret = page[start : page.index('"', start)]
    assert token.token_hash != secret
    assert secret not in str(token.__dict__)
    assert len(token.token_hash) == 64
    assert secret.startswith(token.prefix)
    assert secret not in client.get("/account/tokens").get_data(as_text=True)
    api = app_client(client)
    assert (
        api.get("/api/v1/projects", headers={"Authorization": f"Bearer {secret}"}).status_code
        == 200
    )
    assert client.post(f"/account/tokens/{token.id}/revoke").status_code == 302
    assert (
        api.get("/api/v1/projects", headers={"Authorization": f"Bearer {secret}"}).status_code
        == 401
    )


def app_client(client):
    """A second client without the browser's cookies (a script)."""
    return client.application.test_client()


def test_others_cannot_revoke_my_token(client, session, make_user, login):
    rita = make_user("rita")
    make_user("otto")
    bearer(session, rita)
    token = session.scalar(select(ApiToken))
    login("otto")
    assert client.post(f"/account/tokens/{token.id}/revoke").status_code == 404
    session.refresh(token)
    assert token.revoked_at is None


def test_deactivated_users_tokens_stop_working(client, session, make_user):
    from annotator.services import accounts

    rita = make_user("rita")
    admin = make_user("adam", "admin")
    headers = bearer(session, rita)
    assert client.get("/api/v1/projects", headers=headers).status_code == 200
    accounts.set_active(session, rita, False, admin)
    assert client.get("/api/v1/projects", headers=headers).status_code == 401


def test_empty_token_name_is_refused(client, make_user, login):
    make_user("rita")
    login("rita")
    assert client.post("/account/tokens", data={"name": "  "}).status_code == 400


@pytest.mark.parametrize("key", ["²", "٣", "-1", "1.5", ""])
def test_tags_keyed_by_anything_but_a_claim_id_are_refused(client, session, api_world, key):
    """Keys that look like digits to ``str.isdigit`` but not to ``int`` ("²") included."""
    url = f"/api/v1/passages/{api_world.passage.id}/tags"
    response = client.put(
        url, json={"labels": {key: "quoted"}}, headers=api_world.headers["reviewer"]
    )
    assert response.status_code == 400
    assert response.json["error"] == '"labels" keys must be claim ids.'
    assert session.scalar(select(func.count(Annotation.id))) == 0


# CSRF: a bearer request carries no cookie and needs no CSRF token; a cookie session does.


@pytest.mark.csrf
def test_cookie_sessions_need_csrf_but_bearer_tokens_do_not(client, session, api_world):
    url = f"/api/v1/passages/{api_world.passage.id}/tags"
    claim = api_world.passage.claims[0]
    body = {"labels": {str(claim.id): "quoted"}}
    assert client.put(url, json=body, headers=api_world.headers["reviewer"]).status_code == 200

    browser = client.application.test_client()
    login_page = browser.get("/login").get_data(as_text=True)
    token = _meta_csrf(login_page)
    response = browser.post(
        "/login",
        data={"username": "cora", "password": "correct horse battery", "csrf_token": token},
    )
    assert response.status_code == 302
    refused = browser.put(url, json={"labels": {str(claim.id): "reported"}})
    assert refused.status_code == 400
    assert refused.json["ok"] is False
    page = browser.get("/").get_data(as_text=True)
    accepted = browser.put(
        url, json={"labels": {str(claim.id): "reported"}}, headers={"X-CSRFToken": _meta_csrf(page)}
    )
    assert accepted.status_code == 200


def _meta_csrf(page: str) -> str:
    marker = '<meta name="csrf-token" content="'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]


def test_suggestion_table_is_written(session, client, api_world):
    claim = api_world.passage.claims[0]
    client.post(
        "/api/v1/suggestions",
        json={"source": "m", "suggestions": [{"claim_id": claim.id, "label": "quoted"}]},
        headers=api_world.headers["admin"],
    )
    assert session.scalar(select(Suggestion.source)) == "m"


def test_admin_deletes_a_document_and_others_may_not(client, session, api_world):
    document_id = api_world.passage.document_id
    url = f"/api/v1/documents/{document_id}"
    passages = session.scalar(
        select(func.count(Passage.id)).where(Passage.document_id == document_id)
    )
    for name in ("reviewer", "curator"):
        refused = client.delete(url, headers=api_world.headers[name])
        assert refused.status_code == 403
        assert refused.json == {"ok": False, "error": "Deleting a document needs the admin role."}
    assert client.delete(url, headers=api_world.headers["outsider"]).status_code == 404
    deleted = client.delete(url, headers=api_world.headers["admin"])
    assert deleted.status_code == 200
    assert deleted.json["deleted"]["passages"] == passages
    assert set(deleted.json["deleted"]) == {"passages", "claims", "labels", "reviewers", "settled"}
    assert client.get(url, headers=api_world.headers["admin"]).status_code == 404
    assert client.delete(url, headers=api_world.headers["admin"]).status_code == 404


def test_curators_correct_claim_boundaries_with_versions_and_confirmation(
    client, session, api_world
):
    url = f"/api/v1/passages/{api_world.passage.id}/claims"
    read = client.get(url, headers=api_world.headers["reviewer"]).json
    first, second = read["claims"][:2]
    labels = {str(first["id"]): "reported", str(second["id"]): "quoted"}
    body = {"labels": labels, "versions": dict.fromkeys(labels, 0)}
    tags = client.put(f"{url[:-7]}/tags", json=body, headers=api_world.headers["reviewer"])
    assert tags.status_code == 200
    joined = {
        "claims": [{"start": first["start"], "end": second["end"]}]
        + [{"start": c["start"], "end": c["end"]} for c in read["claims"][2:]],
        "version": read["claims_version"],
    }
    refused = client.put(url, json=joined, headers=api_world.headers["reviewer"])
    assert refused.status_code == 403
    asked = client.put(url, json=joined, headers=api_world.headers["curator"])
    assert asked.status_code == 409
    assert asked.json["edit"]["labels_lost"] == 2
    assert asked.json["edit"]["reviewers"] == ["rita"]
    assert '"confirm": true' in asked.json["error"]
    assert client.get(url, headers=api_world.headers["curator"]).json["claims"] == read["claims"]

    done = client.put(url, json={**joined, "confirm": True}, headers=api_world.headers["curator"])
    assert done.status_code == 200
    assert done.json["edit"] == {
        "kept": len(read["claims"]) - 2,
        "removed": 2,
        "added": 1,
        "labels_lost": 2,
        "reviewers": ["rita"],
        "settled_lost": 0,
    }
    claims = done.json["claims"]
    assert (claims[0]["start"], claims[0]["end"]) == (first["start"], second["end"])
    assert done.json["claims_version"] != read["claims_version"]
    assert session.scalar(select(func.count(Annotation.id))) == 0

    stale = client.put(url, json={**joined, "confirm": True}, headers=api_world.headers["curator"])
    assert stale.status_code == 409
    assert "changed since" in stale.json["error"]


@pytest.mark.parametrize(
    "body",
    [
        {"claims": [{"start": 0, "end": 10_000}]},
        {"claims": [{"start": 5, "end": 2}]},
        {"claims": [{"start": 0, "end": "9"}]},
        {"claims": []},
        {"claims": "0-9"},
        {"claims": [{"start": 0, "end": 9}], "confirm": "yes"},
    ],
)
def test_bad_claim_edits_are_refused_and_change_nothing(client, api_world, body):
    url = f"/api/v1/passages/{api_world.passage.id}/claims"
    before = client.get(url, headers=api_world.headers["curator"]).json
    response = client.put(
        url, json={"version": before["claims_version"], **body}, headers=api_world.headers["admin"]
    )
    assert response.status_code == 400
    assert response.json["ok"] is False
    assert client.get(url, headers=api_world.headers["curator"]).json == before


def test_curators_set_a_passages_outlet_and_role(client, api_world):
    url = f"/api/v1/passages/{api_world.passage.id}"
    before = client.get(url, headers=api_world.headers["reviewer"]).json["passage"]
    body = {"outlet": "AP", "seen": before["outlet"]}
    refused = client.put(f"{url}/outlet", json=body, headers=api_world.headers["reviewer"])
    assert refused.status_code == 403
    done = client.put(f"{url}/outlet", json=body, headers=api_world.headers["curator"])
    assert done.status_code == 200
    assert done.json["passage"]["outlet"] == "AP"
    assert done.json["passage"]["cue"] is None
    stale = client.put(f"{url}/outlet", json=body, headers=api_world.headers["curator"])
    assert stale.status_code == 409
    own_words = {"outlet": None, "seen": "AP"}
    assert (
        client.put(f"{url}/outlet", json=own_words, headers=api_world.headers["admin"]).json[
            "passage"
        ]["outlet"]
        is None
    )
    other = "excerpt" if before["role"] == "author" else "author"
    role = {"role": other, "seen": before["role"]}
    moved = client.put(f"{url}/role", json=role, headers=api_world.headers["curator"])
    assert moved.status_code == 200
    assert moved.json["passage"]["role"] == other
    assert (
        client.put(f"{url}/role", json=role, headers=api_world.headers["curator"]).status_code
        == 409
    )


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("outlet", {"outlet": "No Such Outlet", "seen": None}),
        ("outlet", {"outlet": 3, "seen": None}),
        ("outlet", {"seen": None}),
        ("outlet", ["AP"]),
        ("role", {"role": "commentary", "seen": "author"}),
        ("role", {"role": "author"}),
    ],
)
def test_bad_outlet_or_role_decisions_are_refused(client, api_world, path, body):
    url = f"/api/v1/passages/{api_world.passage.id}"
    before = client.get(url, headers=api_world.headers["curator"]).json
    response = client.put(f"{url}/{path}", json=body, headers=api_world.headers["curator"])
    assert response.status_code == 400
    assert response.json["ok"] is False
    assert client.get(url, headers=api_world.headers["curator"]).json == before
