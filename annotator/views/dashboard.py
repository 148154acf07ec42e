"""The project dashboard, and the overview of one of its documents."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user

from annotator.db import get_session
from annotator.forms import DeleteForm
from annotator.models import Document, Project
from annotator.services import dashboard, deleting
from annotator.text.loaded_terms import find_terms, watched_terms
from annotator.views import requested_page
from annotator.views.highlight import cited_address, cue_pieces, found_pieces
from annotator.views.passages import load_project

bp = Blueprint("dashboard", __name__)
MAX_SEARCH_LENGTH = 200


@bp.route("/projects/<int:project_id>/dashboard")
def show(project_id: int) -> ResponseReturnValue:
    project = load_project(project_id)
    session = get_session()
    page, search = requested_page(), _document_search()
    document_total = dashboard.document_count(session, project, search)
    outlets = dashboard.outlets(session, project)
    return render_template(
        "dashboard/show.html",
        project=project,
        totals=dashboard.totals_of(outlets, project),
        reviewers=dashboard.reviewers(session, project),
        outlets=outlets,
        documents=dashboard.documents(session, project, page, search),
        document_total=document_total,
        search=search,
        page=page,
        pages=max(
            (document_total + dashboard.DOCUMENTS_PER_PAGE - 1) // dashboard.DOCUMENTS_PER_PAGE, 1
        ),
    )


def _document_search() -> str:
    """The dashboard's "find a document" words."""
    return _search_words("q")


def _search_words(name: str) -> str:
    return request.args.get(name, "").strip()[:MAX_SEARCH_LENGTH]


@bp.route("/projects/<int:project_id>/passages")
def find_passages(project_id: int) -> ResponseReturnValue:
    """The project's passages whose text holds the words given, with them marked."""
    project = load_project(project_id)
    words, page = _search_words("words"), requested_page()
    hits, total = dashboard.find_passages(get_session(), project, words, page) if words else ([], 0)
    return render_template(
        "dashboard/passages.html",
        project=project,
        words=words,
        hits=hits,
        total=total,
        page=page,
        pages=max((total + dashboard.PASSAGES_PER_PAGE - 1) // dashboard.PASSAGES_PER_PAGE, 1),
        found_pieces=found_pieces,
    )


@bp.route("/projects/<int:project_id>/documents/<int:document_id>")
def document(project_id: int, document_id: int) -> ResponseReturnValue:
    """The document as the tool split it: every passage, its role, the outlet it cites (cue
    marked), its progress and the viewer's own review, each linked to its annotation page."""
    project = load_project(project_id)
    found = dashboard.document_of(get_session(), project, document_id)
    if found is None:
        abort(404)
    return document_page(project, found)


def document_page(
    project: Project, document: Document, delete_form: DeleteForm | None = None
) -> str:
    """The overview; admins also get the form that deletes the document, with what it takes."""
    session = get_session()
    return render_template(
        "dashboard/document.html",
        project=project,
        document=document,
        passages=dashboard.document_passages(session, project, document, current_user.id),
        cue_pieces=cue_pieces,
        cited_address=cited_address,
        find_terms=find_terms,
        terms=watched_terms(project.loaded_terms),
        footprint=deleting.footprint(session, document) if current_user.is_admin else None,
        delete_form=delete_form or DeleteForm(formdata=None),
    )
