"""CSRF: with protection on (as in production), every state-changing route in the URL map
refuses a forged request (no token, or a wrong one), as a form and as JSON, with 400, and
nothing in the database changes. The caller is an admin, who passes every access check, so
the refusal comes from the CSRF check and not from a permission."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from tests.conftest import PASSWORD
from tests.helpers import fingerprint
from tests.security.conftest import World, log_in_as
from tests.security.test_permissions import ROUTES, _build

pytestmark = pytest.mark.csrf

UNSAFE = [(m, e, r) for m, e, r in ROUTES if m not in ("GET", "HEAD", "OPTIONS")]
FORGERIES = {
    "form without token": {"data": {"username": "adam", "password": PASSWORD}},
    "form with a wrong token": {"data": {"csrf_token": "forged"}},
    "JSON without header": {"json": {"labels": {}, "label": "reported", "version": 0}},
    "JSON with a wrong header": {"json": {}, "headers": {"X-CSRFToken": "forged"}},
}


def test_there_are_state_changing_routes_to_check():
    assert len(UNSAFE) >= 20


@pytest.mark.parametrize(("method", "endpoint", "rule"), UNSAFE)
def test_forged_requests_are_refused_and_change_nothing(
    app: Flask, session: Session, world: World, method: str, endpoint: str, rule: str
):
    client = app.test_client()
    log_in_as(client, world.users["admin"])
    url = _build(app, endpoint, rule, world)
    # An /api route that takes API tokens only may refuse the cookie outright instead.
    refusals = {400, 401, 403} if rule.startswith("/api") else {400}
    before = fingerprint(session)
    answers = {
        name: refusal(client.open(url, method=method, **kw)) for name, kw in FORGERIES.items()
    }
    assert all(answer in refusals for answer in answers.values()), f"{method} {url}: {answers}"
    assert fingerprint(session) == before


def refusal(response) -> object:
    """400 when the CSRF check refused it (and not, say, form validation), else the status."""
    if response.status_code == 400:
        return (
            400 if "Security check failed" in response.get_data(as_text=True) else "400 (not CSRF)"
        )
    return response.status_code


def test_forged_login_does_not_log_in(app: Flask, world: World):
    client = app.test_client()
    response = client.post("/login", data={"username": "adam", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/").status_code == 302  # still anonymous: sent to the login page


def test_the_real_token_flow_works_for_forms_and_json(app: Flask, world: World):
    """The same requests pass with the page's token (so the refusals above are CSRF's)."""
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
    login = {"username": "rita", "password": PASSWORD, "csrf_token": token}
    assert client.post("/login", data=login).status_code == 302
    passage_page = client.get(f"/passages/{world.passage.id}").get_data(as_text=True)
    meta = re.search(r'<meta name="csrf-token" content="([^"]+)"', passage_page)[1]
    claim = world.passage.claims[0]
    body = {"labels": {str(claim.id): "reported"}, "versions": {str(claim.id): 0}}
    saved = client.post(f"/passages/{world.passage.id}", json=body, headers={"X-CSRFToken": meta})
    assert saved.status_code == 200, saved.get_data(as_text=True)
