"""Session cookies (HttpOnly, SameSite, Secure over HTTPS), sessions ending on logout, the
reverse-proxy setting, password hashing and the security headers on every kind of response.
(Sessions ending on password reset and deactivation: tests/integration/test_admin.py.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.exc import OperationalError
from werkzeug.middleware.proxy_fix import ProxyFix

from annotator import create_app
from annotator.security import CONTENT_SECURITY_POLICY, is_web_url, proxy_count
from annotator.services import accounts
from tests.conftest import PASSWORD, REPO
from tests.security.conftest import World, log_in_as

HTTPS = {"base_url": "https://annotator.example.org"}


def log_in(client: FlaskClient, username: str, remember: bool = False, **kw):
    data = {"username": username, "password": PASSWORD, "remember": "y" if remember else ""}
    response = client.post("/login", data=data, **kw)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def cookies(response) -> dict[str, set[str]]:
    """Cookie name -> its attributes, lower-cased (``httponly``, ``secure``, ``samesite=lax``)."""
    found = {}
    for header in response.headers.getlist("Set-Cookie"):
        name, _, rest = header.partition("=")
        found[name] = {part.strip().lower() for part in rest.split(";")[1:]}
    return found


# Cookies


def test_session_cookie_is_httponly_samesite_and_plain_over_http(client, make_user):
    make_user("rita")
    session_cookie = cookies(log_in(client, "rita"))["session"]
    assert {"httponly", "samesite=lax"} <= session_cookie
    assert "secure" not in session_cookie, "local http://127.0.0.1 use must keep working"


def test_every_cookie_is_secure_over_https(client, make_user):
    make_user("rita")
    response = log_in(client, "rita", remember=True, **HTTPS)
    found = cookies(response)
    assert {"session", "remember_token"} <= found.keys()
    for name, attributes in found.items():
        assert {"secure", "httponly", "samesite=lax"} <= attributes, name
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_secure_cookies_setting_forces_secure(configured_app, make_user):
    client = configured_app(SECURE_COOKIES=True).test_client()
    make_user("rita")
    found = cookies(log_in(client, "rita", remember=True))
    assert all("secure" in attributes for attributes in found.values())


def test_behind_a_proxy_forwarded_https_and_prefix_are_honoured(configured_app, make_user):
    client = configured_app(PROXY_FIX=1).test_client()
    make_user("rita")
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Prefix": "/annotator"}
    response = log_in(client, "rita", headers=headers)
    assert "secure" in cookies(response)["session"]
    assert "Strict-Transport-Security" in response.headers
    page = client.get("/login", headers=headers).get_data(as_text=True)
    assert 'href="/annotator/static/css/app.css' in page


def test_without_proxy_fix_forwarded_headers_are_ignored(client, make_user):
    make_user("rita")
    response = log_in(client, "rita", headers={"X-Forwarded-Proto": "https"})
    assert "secure" not in cookies(response)["session"]
    assert "Strict-Transport-Security" not in response.headers


@pytest.mark.parametrize(
    ("setting", "proxies"), [(None, 0), (0, 0), (False, 0), (True, 1), (1, 1), ("2", 2), ("", 0)]
)
def test_proxy_fix_setting_counts_proxies(setting, proxies):
    assert proxy_count(setting) == proxies


def test_proxy_fix_and_secure_cookies_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("ANNOTATOR_PROXY_FIX", "2")
    monkeypatch.setenv("ANNOTATOR_SECURE_COOKIES", "1")
    app = create_app({"SECRET_KEY": "x", "DATABASE_URL": "sqlite://"})
    assert isinstance(app.wsgi_app, ProxyFix)
    assert (app.wsgi_app.x_for, app.wsgi_app.x_proto) == (2, 2)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True


# Sessions end


def test_logout_ends_copies_of_the_session_and_the_remember_cookie(app, client, make_user):
    make_user("rita")
    log_in(client, "rita", remember=True)
    copy = app.test_client()  # e.g. a stolen cookie
    copy.set_cookie("session", client.get_cookie("session").value)
    remembered = app.test_client()  # a browser restarted with only the remember cookie
    remembered.set_cookie("remember_token", client.get_cookie("remember_token").value)
    assert copy.get("/").status_code == 200
    assert remembered.get("/").status_code == 200
    assert client.post("/logout").status_code == 302
    assert client.get("/").status_code == 302
    assert copy.get("/").status_code == 302
    assert remembered.get("/").status_code == 302


@pytest.mark.parametrize(
    "ending",
    [
        lambda session, user, admin: accounts.set_password(session, user, "a new password"),
        lambda session, user, admin: accounts.set_active(session, user, False, admin),
    ],
    ids=["password reset", "deactivation"],
)
def test_admin_actions_end_every_session_of_the_user(app, client, session, make_user, ending):
    """The service level of tests/integration/test_admin.py's reset and deactivation tests:
    a copied cookie stops working too."""
    user = make_user("rita")
    admin = make_user("adam", "admin")
    log_in(client, "rita")
    copy = app.test_client()
    copy.set_cookie("session", client.get_cookie("session").value)
    assert copy.get("/").status_code == 200
    ending(session, user, admin)
    assert client.get("/").status_code == 302
    assert copy.get("/").status_code == 302


def test_passwords_are_hashed_with_scrypt(make_user):
    user = make_user("rita")
    assert user.password_hash.startswith("scrypt:")
    assert PASSWORD not in user.password_hash


# Security headers


def _responses(app: Flask, world: World) -> dict[str, object]:
    anonymous = app.test_client()
    reviewer = app.test_client()
    log_in_as(reviewer, world.users["reviewer"])
    curator = app.test_client()
    log_in_as(curator, world.users["curator"])
    claim = world.passage.claims[0]
    body = {"labels": {str(claim.id): "quoted"}, "versions": {str(claim.id): 0}}
    requests = {
        "login page": lambda: anonymous.get("/login"),
        "redirect to login": lambda: anonymous.get("/"),
        "passage page": lambda: reviewer.get(f"/passages/{world.passage.id}"),
        "JSON save": lambda: reviewer.post(f"/passages/{world.passage.id}", json=body),
        "404": lambda: reviewer.get("/passages/987654"),
        "403": lambda: reviewer.get("/admin/users"),
        "CSV export": lambda: curator.get("/export/annotations.csv"),
        "static file": lambda: anonymous.get("/static/css/app.css"),
    }
    return {name: _complete(make) for name, make in requests.items()}


def _complete(make):
    """Read and close the response: a streamed one keeps its request's context (and its
    logged-in user) pushed until then, which later requests of the test would reuse."""
    response = make()
    response.get_data()
    response.close()
    return response


def test_security_headers_on_every_kind_of_response(app, world, monkeypatch):
    responses = _responses(app, world)
    responses["503"] = _unavailable(app, world, monkeypatch)
    for name, response in responses.items():
        headers = response.headers
        policy = headers.get("Content-Security-Policy", "")
        assert policy == CONTENT_SECURITY_POLICY, name
        assert "script-src 'self'" in policy, name
        assert "unsafe-inline" not in policy, name
        assert "frame-ancestors 'none'" in policy, name
        assert headers.get("X-Content-Type-Options") == "nosniff", name
        assert headers.get("Referrer-Policy") == "same-origin", name
        assert headers.get("X-Frame-Options") == "DENY", name


def _unavailable(app: Flask, world: World, monkeypatch):
    def broken(*_args, **_kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr("annotator.extensions.get_session", broken)
    client = app.test_client()
    log_in_as(client, world.users["reviewer"])
    response = _complete(lambda: client.get("/"))
    assert response.status_code == 503
    return response


TEMPLATES = sorted((REPO / "templates").rglob("*.html"))


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(REPO)))
def test_templates_hold_no_inline_script_style_or_handlers(template: Path):
    """The policy forbids inline code, so inline code in a template would silently not run;
    keep all of it in static/ files."""
    source = template.read_text(encoding="utf-8")
    for tag in re.findall(r"<script\b[^>]*>", source):
        assert "src=" in tag, f"inline <script> in {template.name}: {tag}"
    assert not re.search(r"<style\b", source), f"<style> element in {template.name}"
    assert not re.search(r"\son[a-z]+\s*=", source), f"event-handler attribute in {template.name}"
    assert not re.search(r"\sstyle\s*=", source), f"style attribute in {template.name}"
    assert "javascript:" not in source.lower(), f"javascript: URL in {template.name}"


@pytest.mark.parametrize(
    ("url", "web"),
    [
        ("https://example.org/a", True),
        ("HTTP://example.org", True),
        ("javascript:alert(1)", False),
        (" JavaScript:alert(1)", False),
        ("java\tscript:alert(1)", False),
        ("data:text/html,<script>alert(1)</script>", False),
        ("//evil.example", False),
        ("", False),
        (None, False),
    ],
)
def test_only_web_addresses_become_links(url, web):
    assert is_web_url(url) is web
