"""Login throttling (the limits library): failed logins are limited per account and per address;
successes do not count; behind a reverse proxy the forwarded address counts, and only then."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from limits.errors import ConfigurationError

from annotator import create_app
from tests.conftest import PASSWORD

WRONG = "not the password"


def attempt(client: FlaskClient, username: str, password: str, address: str = "10.0.0.1", **kw):
    return client.post(
        "/login",
        data={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": address},
        **kw,
    )


def test_five_failures_lock_the_account_even_for_the_right_password(app, client, make_user):
    """The defaults: 5 failures a minute per account."""
    make_user("rita")
    make_user("sam")
    for _ in range(5):
        assert attempt(client, "rita", WRONG).status_code == 401
    locked = attempt(client, "rita", PASSWORD)
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.get_data(as_text=True)
    assert int(locked.headers["Retry-After"]) > 0
    assert attempt(client, "RITA ", PASSWORD, address="10.9.9.9").status_code == 429
    assert attempt(client, "sam", PASSWORD).status_code == 302, "other accounts are not locked"


def test_successful_logins_do_not_count(app, client, make_user):
    app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "2 per minute"
    make_user("rita")
    for _ in range(3):
        assert attempt(client, "rita", PASSWORD).status_code == 302
    for _ in range(2):
        assert attempt(client, "rita", WRONG).status_code == 401
    assert attempt(client, "rita", PASSWORD).status_code == 429


def test_failures_from_one_address_lock_that_address_only(app, client, make_user):
    app.config["LOGIN_LIMIT_PER_ADDRESS"] = "3 per minute"
    make_user("rita")
    for name in ("ann", "bob", "cid"):  # password spraying over several accounts
        assert attempt(client, name, WRONG).status_code == 401
    assert attempt(client, "rita", PASSWORD).status_code == 429
    assert attempt(client, "rita", PASSWORD, address="10.0.0.2").status_code == 302


def test_forwarded_for_is_ignored_without_proxy_fix(app, client, make_user):
    """Without PROXY_FIX a client cannot pick its own address with X-Forwarded-For."""
    app.config["LOGIN_LIMIT_PER_ADDRESS"] = "2 per minute"
    for index in range(2):
        headers = {"X-Forwarded-For": f"192.0.2.{index}"}
        assert attempt(client, f"user{index}", WRONG, headers=headers).status_code == 401
    headers = {"X-Forwarded-For": "192.0.2.99"}
    assert attempt(client, "user9", WRONG, headers=headers).status_code == 429


def test_behind_a_proxy_each_forwarded_address_counts(configured_app, make_user):
    proxied = configured_app(PROXY_FIX=1, LOGIN_LIMIT_PER_ADDRESS="2 per minute")
    client = proxied.test_client()
    make_user("rita")
    for name in ("ann", "bob"):
        response = attempt(client, name, WRONG, address="127.0.0.1",
                           headers={"X-Forwarded-For": "198.51.100.7"})  # fmt: skip
        assert response.status_code == 401
    blocked = attempt(client, "rita", PASSWORD, address="127.0.0.1",
                      headers={"X-Forwarded-For": "198.51.100.7"})  # fmt: skip
    assert blocked.status_code == 429
    other = attempt(client, "rita", PASSWORD, address="127.0.0.1",
                    headers={"X-Forwarded-For": "198.51.100.8"})  # fmt: skip
    assert other.status_code == 302


def test_the_limits_and_their_storage_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("ANNOTATOR_RATELIMIT_STORAGE_URI", "memory://")
    monkeypatch.setenv("ANNOTATOR_LOGIN_LIMIT_PER_ACCOUNT", "3 per hour")
    app = create_app({"SECRET_KEY": "x", "DATABASE_URL": "sqlite://"})
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"
    assert app.config["LOGIN_LIMIT_PER_ACCOUNT"] == "3 per hour"


def test_an_unknown_storage_fails_at_startup_not_at_login():
    with pytest.raises(ConfigurationError):
        create_app(
            {"SECRET_KEY": "x", "DATABASE_URL": "sqlite://", "RATELIMIT_STORAGE_URI": "x://"}
        )
