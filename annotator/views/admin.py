"""Admin pages: importing articles and managing users."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select

from annotator.db import get_session
from annotator.services.projects import DEFAULT_PROJECT
from annotator.forms import ImportForm, UserForm
from annotator.models import User
from annotator.services import accounts, importing

bp = Blueprint("admin", __name__, url_prefix="/admin")


def admin_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


@bp.route("/import", methods=["GET", "POST"])
@admin_required
def import_articles() -> ResponseReturnValue:
    form = ImportForm()
    report = None
    status = 200
    if form.validate_on_submit():
        project = form.project.data or DEFAULT_PROJECT
        uploads = form.file.data if isinstance(form.file.data, list) else [form.file.data]
        files = [(u.filename or "upload", u.read()) for u in uploads]
        report = importing.import_files(get_session(), files, project)
        status = 400 if report.failed and not report.imported else 200
    elif form.is_submitted():
        status = 400
    return render_template("admin/import.html", form=form, report=report), status


@bp.route("/users", methods=["GET", "POST"])
@admin_required
def users() -> ResponseReturnValue:
    form = UserForm()
    session = get_session()
    status = 200
    if form.validate_on_submit():
        try:
            accounts.create_user(
                session, form.username.data or "", form.password.data or "", form.role.data
            )
        except accounts.AccountError as exc:
            flash(str(exc), "error")
            status = 400
        else:
            flash(f"Created {form.role.data} {form.username.data}.", "success")
            return redirect(url_for("admin.users"))
    elif form.is_submitted():
        status = 400
    people = session.scalars(select(User).order_by(User.username)).all()
    return render_template("admin/users.html", form=form, users=people), status
