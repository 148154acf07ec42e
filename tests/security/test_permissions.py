"""Every route in the URL map, for every kind of caller, against an explicit permission table.

A route without an entry in PERMISSIONS fails here, so a new page or endpoint cannot ship
without someone deciding who may use it. Routes with arguments are called with real ids from
a seeded project (tests/security/conftest.py). What a caller gets is classified as:

- ``ok``: served (2xx, a redirect other than to the login page, or 400 for the empty form
  these tests send: the request got past every access check);
- ``login``: sent to the login page (or 401);
- ``denied``: 403;
- ``hidden``: 404, the answer for objects of a project the caller is not in (no hint that
  they exist).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask, url_for
from sqlalchemy.orm import Session
from werkzeug.routing import Rule

from annotator import create_app
from annotator.services import tokens
from tests.security.conftest import World, log_in_as

OK, LOGIN, DENIED, HIDDEN = "ok", "login", "denied", "hidden"
ROLES = ("anonymous", "outsider", "reviewer", "curator", "admin")
SAFE_METHODS = frozenset({"HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Access:
    """What each caller gets. ``reviewer``/``curator`` are members of the project with that
    project role (and that global role); ``outsider`` is a reviewer outside the project;
    ``admin`` belongs to no project. ``token`` is a request carrying the reviewer member's
    API token and no session; it is required for routes under /api and ignored elsewhere."""

    anonymous: str
    outsider: str
    reviewer: str
    curator: str
    admin: str
    token: str | None = None


PUBLIC = Access(OK, OK, OK, OK, OK)
ANY_USER = Access(LOGIN, OK, OK, OK, OK)
MEMBERS = Access(LOGIN, HIDDEN, OK, OK, OK)
CURATORS = Access(LOGIN, DENIED, DENIED, OK, OK)
PROJECT_CURATORS = Access(LOGIN, HIDDEN, DENIED, OK, OK)
ADMINS = Access(LOGIN, DENIED, DENIED, DENIED, OK)

PERMISSIONS: dict[tuple[str, str], Access] = {
    ("GET", "static"): PUBLIC,
    # auth
    ("GET", "auth.login"): PUBLIC,
    ("POST", "auth.login"): PUBLIC,
    ("POST", "auth.logout"): ANY_USER,
    # passages: the project list shows only the caller's projects; undo acts on own changes
    ("GET", "passages.index"): ANY_USER,
    ("GET", "passages.next_passage"): ANY_USER,
    ("POST", "passages.undo"): ANY_USER,
    ("GET", "passages.project_next"): MEMBERS,
    ("GET", "passages.show"): MEMBERS,
    ("POST", "passages.save"): MEMBERS,
    ("POST", "passages.skip"): MEMBERS,
    # correcting claim boundaries deletes reviewers' labels on the changed claims
    ("GET", "reports.outlet_dispute_queue"): PROJECT_CURATORS,
    ("POST", "reports.set_outlet"): PROJECT_CURATORS,
    ("GET", "passages.edit_passage"): PROJECT_CURATORS,
    ("POST", "passages.edit_passage"): PROJECT_CURATORS,
    ("POST", "passages.set_outlet"): PROJECT_CURATORS,
    ("POST", "passages.set_role"): PROJECT_CURATORS,
    ("GET", "dashboard.show"): MEMBERS,
    ("GET", "dashboard.document"): MEMBERS,
    ("GET", "dashboard.find_passages"): MEMBERS,
    # exports hold every reviewer's labels in every project
    ("GET", "exports.index"): CURATORS,
    ("GET", "exports.download"): CURATORS,
    # admin
    ("GET", "admin.import_articles"): ADMINS,
    ("POST", "admin.import_articles"): ADMINS,
    ("GET", "admin.users"): ADMINS,
    ("POST", "admin.users"): ADMINS,
    ("POST", "admin.change_role"): ADMINS,
    ("POST", "admin.reset_password"): ADMINS,
    ("POST", "admin.deactivate"): ADMINS,
    ("POST", "admin.reactivate"): ADMINS,
    ("GET", "admin.project_list"): ADMINS,
    ("POST", "admin.project_list"): ADMINS,
    ("GET", "admin.project_detail"): ADMINS,
    ("POST", "admin.project_detail"): ADMINS,
    ("POST", "admin.add_member"): ADMINS,
    ("POST", "admin.change_member_role"): ADMINS,
    ("POST", "admin.remove_member"): ADMINS,
    ("POST", "admin.delete_document"): ADMINS,
    ("POST", "admin.delete_project"): ADMINS,
    ("POST", "admin.reanalyse_project"): ADMINS,
    ("POST", "admin.preview_reanalysis"): ADMINS,
    ("POST", "admin.cancel_reanalysis"): ADMINS,
    ("GET", "admin.outlet_list"): ADMINS,
    ("POST", "admin.outlet_list"): ADMINS,
    ("GET", "admin.outlet_detail"): ADMINS,
    ("POST", "admin.outlet_detail"): ADMINS,
    ("POST", "admin.add_alias"): ADMINS,
    ("POST", "admin.remove_alias"): ADMINS,
    ("POST", "admin.merge_outlet"): ADMINS,
    # reports: figures for members, adjudication and per-reviewer figures for curators
    ("GET", "reports.agreement_page"): MEMBERS,
    ("GET", "reports.agreement_json"): MEMBERS,
    ("GET", "reports.outlet_report"): MEMBERS,
    ("GET", "reports.outlet_csv"): MEMBERS,
    # who gave which label: curators only, as adjudication
    ("GET", "reports.outlet_claim_list"): PROJECT_CURATORS,
    ("GET", "reports.outlet_claims_csv"): PROJECT_CURATORS,
    ("GET", "reports.term_report"): MEMBERS,
    ("GET", "reports.term_csv"): MEMBERS,
    ("GET", "reports.adjudicate"): PROJECT_CURATORS,
    ("POST", "reports.settle"): PROJECT_CURATORS,
    ("POST", "reports.accept_unanimous"): PROJECT_CURATORS,
    ("GET", "reports.reviewer_report"): PROJECT_CURATORS,
    # API (annotator/views/api.py): one entry per route, with ``token=`` set, e.g.
    #   ("GET", "api.passages"): Access(LOGIN, HIDDEN, OK, OK, OK, token=OK),
    ("GET", "api.openapi"): Access(OK, OK, OK, OK, OK, token=OK),
    ("GET", "api.list_projects"): Access(LOGIN, OK, OK, OK, OK, token=OK),
    ("GET", "api.list_documents"): Access(LOGIN, HIDDEN, OK, OK, OK, token=OK),
    ("POST", "api.import_documents"): Access(LOGIN, HIDDEN, DENIED, DENIED, OK, token=DENIED),
    ("POST", "api.reanalyse_project"): Access(LOGIN, HIDDEN, DENIED, DENIED, OK, token=DENIED),
    ("GET", "api.reanalysis_run"): Access(LOGIN, HIDDEN, DENIED, DENIED, OK, token=DENIED),
    ("DELETE", "api.cancel_reanalysis"): Access(LOGIN, HIDDEN, DENIED, DENIED, OK, token=DENIED),
    ("GET", "api.get_document"): Access(LOGIN, HIDDEN, OK, OK, OK, token=OK),
    ("DELETE", "api.delete_document"): Access(LOGIN, HIDDEN, DENIED, DENIED, OK, token=DENIED),
    ("GET", "api.list_passages"): Access(LOGIN, HIDDEN, OK, OK, OK, token=OK),
    ("GET", "api.get_passage"): Access(LOGIN, HIDDEN, OK, OK, OK, token=OK),
    ("GET", "api.list_claims"): Access(LOGIN, HIDDEN, OK, OK, OK, token=OK),
    ("PUT", "api.put_claims"): Access(LOGIN, HIDDEN, DENIED, OK, OK, token=DENIED),
    ("PUT", "api.put_outlet"): Access(LOGIN, HIDDEN, DENIED, OK, OK, token=DENIED),
    ("PUT", "api.put_role"): Access(LOGIN, HIDDEN, DENIED, OK, OK, token=DENIED),
    ("GET", "api.get_tags"): Access(LOGIN, HIDDEN, OK, OK, OK, token=OK),
    ("PUT", "api.put_tags"): Access(LOGIN, HIDDEN, OK, OK, OK, token=OK),
    # the empty body is refused (400) before the per-claim curator check
    ("POST", "api.post_suggestions"): Access(LOGIN, OK, OK, OK, OK, token=OK),
    ("GET", "api.export"): Access(LOGIN, DENIED, DENIED, OK, OK, token=DENIED),
    # the caller's own API tokens; a token of the reviewer member is hidden from others
    ("GET", "account.api_tokens"): ANY_USER,
    ("POST", "account.api_tokens"): ANY_USER,
    ("POST", "account.revoke"): Access(LOGIN, HIDDEN, OK, HIDDEN, HIDDEN),
    ("GET", "account.change_password"): ANY_USER,
    ("POST", "account.change_password"): ANY_USER,
    ("GET", "imports.labels"): ADMINS,
    ("POST", "imports.labels"): ADMINS,
    ("GET", "exports.download_as"): CURATORS,
}


def _rules() -> list[Rule]:
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": "sqlite://"})
    return sorted(app.url_map.iter_rules(), key=lambda rule: (rule.rule, rule.endpoint))


def _routes() -> list[tuple[str, str, str]]:
    """(method, endpoint, rule) for every route in the URL map, HEAD/OPTIONS aside."""
    return [
        (method, rule.endpoint, rule.rule)
        for rule in _rules()
        for method in sorted((rule.methods or set()) - SAFE_METHODS)
    ]


ROUTES = _routes()


def test_every_route_has_an_entry_and_every_entry_a_route():
    routes = {(method, endpoint) for method, endpoint, _ in ROUTES}
    missing = sorted(routes - PERMISSIONS.keys())
    assert not missing, f"add these routes to PERMISSIONS in {__file__}: {missing}"
    stale = sorted(PERMISSIONS.keys() - routes)
    assert not stale, f"these PERMISSIONS entries match no route any more: {stale}"


def test_api_routes_say_what_a_token_may_do():
    undecided = [
        (m, e) for m, e, r in ROUTES if r.startswith("/api") and _entry(m, e).token is None
    ]
    assert not undecided, f"set token= in PERMISSIONS for {undecided}"


def _entry(method: str, endpoint: str) -> Access:
    entry = PERMISSIONS.get((method, endpoint))
    if entry is None:
        pytest.fail(f"no PERMISSIONS entry for {method} {endpoint}: decide who may use it")
    return entry


@pytest.mark.parametrize(("method", "endpoint", "rule"), ROUTES)
def test_route_answers_each_caller_as_the_table_says(
    app: Flask, session: Session, world: World, method: str, endpoint: str, rule: str
):
    """Each caller in turn; whatever one caller changes is rolled back before the next."""
    entry = _entry(method, endpoint)
    roles = [*ROLES, "token"] if rule.startswith("/api") else list(ROLES)
    url = _build(app, endpoint, rule, world)
    bearer = api_token_headers(session, world) if "token" in roles else {}
    wrong = []
    for role in roles:
        expected = entry.token if role == "token" else getattr(entry, role)
        savepoint = session.begin_nested()
        session.connection()  # sends the SAVEPOINT now, before the caller's changes
        try:
            got, status = _call(app, world, role, method, url, bearer)
        finally:
            savepoint.rollback()
        if got != expected:
            wrong.append(f"{role}: expected {expected}, got {got} (HTTP {status})")
    assert not wrong, f"{method} {url}: " + "; ".join(wrong)


def _call(
    app: Flask, world: World, role: str, method: str, url: str, bearer: dict[str, str]
) -> tuple[str, int]:
    client = app.test_client()
    headers = bearer if role == "token" else {}
    if role != "token":
        log_in_as(client, world.users.get(role))
    data = None if method == "GET" else {}
    response = client.open(url, method=method, data=data, headers=headers)
    try:
        return outcome(response), response.status_code
    finally:
        response.close()


def _build(app: Flask, endpoint: str, rule: str, world: World) -> str:
    rule_obj = next(
        r for r in app.url_map.iter_rules() if r.rule == rule and r.endpoint == endpoint
    )
    unknown = rule_obj.arguments - world.url_values.keys()
    assert not unknown, f"give URL argument(s) {unknown} a value in tests/security/conftest.py"
    values = {name: world.url_values[name] for name in rule_obj.arguments}
    with app.test_request_context():
        return url_for(endpoint, **values)


def outcome(response) -> str:
    """Classify a response (see the module docstring); a server error fails the test."""
    status = response.status_code
    assert status < 500, f"server error {status}"
    if status == 401:
        return LOGIN
    if status in (301, 302, 303, 307, 308):
        target = urlsplit(response.headers["Location"])
        if target.path.endswith("/login") and "next" in parse_qs(target.query):
            return LOGIN
    return {403: DENIED, 404: HIDDEN}.get(status, OK)


def api_token_headers(session: Session, world: World) -> dict[str, str]:
    """Headers carrying a fresh API token of the reviewer member, as API clients send it."""
    _, secret = tokens.create_token(session, world.users["reviewer"], "permissions test")
    return {"Authorization": f"Bearer {secret}"}
