"""A user's own password change (/account/password): proven by the current password, whose
wrong guesses count against the login limits; it ends the user's other sessions and keeps the
one in use; bad input changes nothing."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from annotator.models import User
from tests.conftest import PASSWORD

NEW = "a brand new passphrase"


def log_in(client: FlaskClient, username: str, password: str = PASSWORD):
    return client.post("/login", data={"username": username, "password": password})


def change(client: FlaskClient, current: str, new: str = NEW, repeated: str | None = None):
    data = {"current_password": current, "new_password": new, "repeated": repeated or new}
    return client.post("/account/password", data=data)


def stored_hash(session: Session, user: User) -> str:
    session.expire_all()
    return session.get(User, user.id).password_hash


def test_the_change_ends_other_sessions_and_keeps_this_one(app: Flask, client, make_user):
    make_user("rita")
    assert log_in(client, "rita").status_code == 302
    other_device = app.test_client()
    assert log_in(other_device, "rita").status_code == 302
    response = change(client, PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/account/password")
    assert "Password changed" in client.get("/account/password").get_data(as_text=True)
    assert client.get("/").status_code == 200
    assert other_device.get("/").status_code == 302
    fresh = app.test_client()
    assert log_in(fresh, "rita").status_code == 401
    assert log_in(fresh, "rita", NEW).status_code == 302


@pytest.mark.parametrize(
    ("current", "new", "repeated", "message"),
    [
        ("not the password", NEW, NEW, "The current password is wrong."),
        (PASSWORD, NEW, NEW + "!", "It differs from the new password."),
        (PASSWORD, "short", "short", "between 8 and 200"),
        (PASSWORD, PASSWORD, PASSWORD, "The new password is the same as the current one."),
        ("", NEW, NEW, "This field is required."),
    ],
)
def test_bad_input_changes_nothing(
    app, client, session, make_user, current, new, repeated, message
):
    rita = make_user("rita")
    before = stored_hash(session, rita)
    log_in(client, "rita")
    other_device = app.test_client()
    log_in(other_device, "rita")
    response = change(client, current, new, repeated)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert stored_hash(session, rita) == before
    assert client.get("/").status_code == 200
    assert other_device.get("/").status_code == 200


def test_wrong_current_passwords_count_against_the_login_limits(app, client, make_user):
    """A stolen session cannot guess the password faster here than at the login page."""
    app.config["LOGIN_LIMIT_PER_ACCOUNT"] = "2 per minute"
    make_user("rita")
    log_in(client, "rita")
    for _ in range(2):
        assert change(client, "a guess").status_code == 400
    locked = change(client, PASSWORD)
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 0
    assert log_in(app.test_client(), "rita").status_code == 429, "the login shares the count"
    assert client.get("/").status_code == 200, "the session in use goes on"


def test_every_user_finds_the_page(client, make_user):
    make_user("rita")
    log_in(client, "rita")
    page = client.get("/").get_data(as_text=True)
    assert 'href="/account/password"' in page
    form = client.get("/account/password").get_data(as_text=True)
    assert 'autocomplete="current-password"' in form
    assert form.count('autocomplete="new-password"') == 2
