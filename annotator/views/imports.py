"""Admin imports beyond article files: labels from CSV, and the shared helpers the article
import page (admin.import_articles) uses for uploads and address lists."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user

from annotator.db import get_session
from annotator.forms import ImportForm, LabelImportForm
from annotator.services import fetching, importing, label_import
from annotator.services.projects import DEFAULT_PROJECT
from annotator.services.records import ImportFileError

bp = Blueprint("imports", __name__, url_prefix="/admin/import")


@bp.before_request
def _admins_only() -> None:
    if not current_user.is_admin:
        abort(403)


def run_article_import(form: ImportForm) -> tuple[importing.ImportReport, list[str]]:
    """Import the uploaded files and the listed addresses of a validated import form."""
    session = get_session()
    project = (form.project.data or "").strip() or DEFAULT_PROJECT
    uploads = form.file.data if isinstance(form.file.data, list) else [form.file.data]
    files = [(u.filename or "upload", u.read()) for u in uploads if u and u.filename]
    reanalyse = bool(form.reanalyse.data)
    report = importing.import_files(
        session,
        files,
        project,
        create_reviewers=bool(form.create_reviewers.data),
        reanalyse=reanalyse,
    )
    results: list[str] = []
    try:
        urls = fetching.parse_url_list(form.urls.data or "")
    except fetching.FetchError as exc:
        report.failed.append(str(exc))
        return report, results
    if urls:
        url_report, results = fetching.import_urls(
            session, urls, project, fetching.settings_from(current_app.config), reanalyse=reanalyse
        )
        report.merge(url_report)
    if not files and not urls:
        report.failed.append("Choose at least one file or give at least one address.")
    return report, results


@bp.route("/labels", methods=["GET", "POST"])
def labels() -> ResponseReturnValue:
    """Upload a CSV of labels into a project (all or nothing)."""
    form = LabelImportForm()
    report, error, status = None, None, 200
    if form.validate_on_submit():
        upload = form.file.data
        try:
            report = label_import.import_labels(
                get_session(),
                upload.filename or "labels.csv",
                upload.read(),
                form.project.data or "",
                create_reviewers=bool(form.create_reviewers.data),
            )
        except ImportFileError as exc:
            error, status = str(exc), 400
    elif form.is_submitted():
        status = 400
    return render_template(
        "admin/import_labels.html", form=form, report=report, error=error
    ), status
