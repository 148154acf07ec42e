"""The user's own account: password, personal API tokens (create, list, revoke)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_user

from annotator import throttle
from annotator.db import get_session
from annotator.forms import EmptyForm, PasswordChangeForm, TokenForm
from annotator.services import accounts, tokens

bp = Blueprint("account", __name__, url_prefix="/account")


def _page(form: TokenForm | None = None, secret: str | None = None) -> str:
    return render_template(
        "account/tokens.html",
        form=form or TokenForm(formdata=None),
        revoke_form=EmptyForm(formdata=None),
        tokens=tokens.list_tokens(get_session(), current_user),
        secret=secret,
    )


@bp.route("/tokens", methods=["GET", "POST"])
def api_tokens() -> ResponseReturnValue:
    """List the user's tokens; create one (its secret is shown on this response only)."""
    form = TokenForm()
    if not form.is_submitted():
        return _page(form)
    if not form.validate():
        for error in form.name.errors:
            flash(f"Name: {error}", "error")
        return _page(form), 400
    try:
        _, secret = tokens.create_token(get_session(), current_user, form.name.data or "")
    except tokens.TokenError as exc:
        flash(str(exc), "error")
        return _page(form), 400
    flash("Token created. Copy it now: it is not shown again.", "success")
    response = _page(TokenForm(formdata=None), secret)
    return response, 201, {"Cache-Control": "no-store"}


@bp.post("/tokens/<int:token_id>/revoke")
def revoke(token_id: int) -> ResponseReturnValue:
    if not EmptyForm().validate_on_submit():
        flash("The form expired; reload the page and try again.", "error")
        return _page(), 400
    try:
        token = tokens.revoke_token(get_session(), current_user, token_id)
    except tokens.TokenError as exc:
        flash(str(exc), "error")
        return _page(), 404
    flash(f"Revoked the token {token.name}.", "success")
    return redirect(url_for("account.api_tokens"))


@bp.route("/password", methods=["GET", "POST"])
def change_password() -> ResponseReturnValue:
    """Change one's own password. A wrong current password counts against the login limits;
    the change ends every other session of the user, and this one goes on."""
    form = PasswordChangeForm()
    if not form.is_submitted():
        return render_template("account/password.html", form=form)
    username = current_user.username
    throttle.refuse_when_locked(username)
    if not form.validate():
        return render_template("account/password.html", form=form), 400
    user = current_user._get_current_object()
    try:
        accounts.change_own_password(
            get_session(), user, form.current_password.data or "", form.new_password.data or ""
        )
    except accounts.WrongPasswordError as exc:
        throttle.count_failure(username)
        flash(str(exc), "error")
        return render_template("account/password.html", form=form), 400
    except accounts.AccountError as exc:
        flash(str(exc), "error")
        return render_template("account/password.html", form=form), 400
    login_user(user)  # the session in use carries the new epoch; every other one has ended
    flash("Password changed; your other sessions have ended.", "success")
    return redirect(url_for("account.change_password"))
