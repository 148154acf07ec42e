"""The project dashboard."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from annotator.db import get_session
from annotator.services import dashboard
from annotator.views import requested_page
from annotator.views.passages import load_project

bp = Blueprint("dashboard", __name__)


@bp.route("/projects/<int:project_id>/dashboard")
def show(project_id: int) -> ResponseReturnValue:
    project = load_project(project_id)
    session = get_session()
    page = requested_page()
    document_total = dashboard.document_count(session, project)
    outlets = dashboard.outlets(session, project)
    return render_template(
        "dashboard/show.html",
        project=project,
        totals=dashboard.totals_of(outlets, project),
        reviewers=dashboard.reviewers(session, project),
        outlets=outlets,
        documents=dashboard.documents(session, project, page),
        page=page,
        pages=max(
            (document_total + dashboard.DOCUMENTS_PER_PAGE - 1) // dashboard.DOCUMENTS_PER_PAGE, 1
        ),
    )
