"""Login and logout."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_user, logout_user

from annotator import throttle
from annotator.db import get_session
from annotator.forms import EmptyForm, LoginForm
from annotator.services import accounts

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """A failed attempt (wrong password, or a form that does not validate) counts against the
    account's and the address's limits; once one is used up, attempts get 429."""
    if request.method == "POST":
        throttle.refuse_when_locked()
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        session = get_session()
        user = accounts.authenticate(session, form.username.data or "", form.password.data or "")
        if user is not None:
            login_user(user, remember=bool(form.remember.data))
            return redirect(_safe_next(request.args.get("next")))
        flash("Wrong username or password.", "error")
        status = 401
    elif request.method == "POST":
        status = 400
    if request.method == "POST":
        throttle.count_failure()
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
def logout() -> ResponseReturnValue:
    if EmptyForm().validate_on_submit():
        if current_user.is_authenticated:
            accounts.end_sessions(get_session(), current_user)
        logout_user()
    return redirect(url_for("auth.login"))


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths are followed after login."""
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.netloc and not parts.scheme:
            return target
    return url_for("passages.index")
