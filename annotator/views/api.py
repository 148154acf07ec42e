"""JSON API for scripts under /api/v1 (described by /api/v1/openapi.json).

Authentication: ``Authorization: Bearer <personal token>`` (tokens are made on the account
page). Such a request carries no cookie, so it needs no CSRF token. A request without a
bearer token may use the browser's session cookie instead, and then its writes need the
CSRF token (``X-CSRFToken``) like every form of the site. Permissions are the pages': project
membership to read and tag, curator to post suggestions, admin to import, curator or admin
(global role) to export. Every error is JSON: ``{"ok": false, "error": "..."}``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    jsonify,
    request,
    stream_with_context,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select

from annotator.db import get_session, streamed
from annotator.extensions import csrf
from annotator.models import Document, Outlet, Passage, Project, Role, User
from annotator.openapi import openapi_spec
from annotator.services import (
    annotating,
    catalogue,
    claim_editing,
    deleting,
    export_formats,
    importing,
    passage_decisions,
    projects,
    reanalysis_runs,
    suggestions,
)
from annotator.services.annotating import AUTHOR_OWN_WORDS, PassageGone, SaveError, StaleSave
from annotator.services.jsonl_reader import RecordError, record_from_object
from annotator.services.projects import visible_projects
from annotator.services.records import MAX_ID, ImportFileError, is_whole_number
from annotator.services.tokens import user_for_token

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # checked below, only for requests authenticated by the session cookie

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PUBLIC = frozenset({"api.openapi"})
MAX_IMPORT_DOCUMENTS = 1000


def _error(status: int, message: str) -> Response:
    response = jsonify(ok=False, error=message)
    response.status_code = status
    return response


@bp.before_request
def _authenticate() -> Response | None:
    """Bearer token first; otherwise the session cookie, whose writes need CSRF."""
    if any("\x00" in value for value in request.args.values()):
        return _error(400, "Query parameters must not contain NUL characters.")
    if request.endpoint in PUBLIC:
        return None
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, secret = header.partition(" ")
        user = user_for_token(get_session(), secret.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            return _error(401, "Invalid or revoked API token (Authorization: Bearer <token>).")
        g._login_user = user  # Flask-Login's per-request user: current_user is the token's owner
        return None
    if not current_user.is_authenticated:
        return _error(401, "Authentication required: send Authorization: Bearer <token>.")
    if request.method not in SAFE_METHODS and current_app.config.get("WTF_CSRF_ENABLED", True):
        csrf.protect()
    return None


def _user() -> User:
    user: User = current_user._get_current_object()
    return user


def _json_body() -> Any:
    payload = request.get_json(silent=True)
    if payload is None:
        abort(_error(400, "Expected a JSON body (Content-Type: application/json)."))
    return payload


def _int_arg(name: str, default: int) -> int:
    value = request.args.get(name, "")
    if not value:
        return default
    if not is_whole_number(value) or int(value) > MAX_ID:
        abort(_error(400, f'"{name}" must be an integer from 0 to {MAX_ID}.'))
    return int(value)


def _project(project_id: int) -> Project:
    project = catalogue.visible_project(get_session(), _user(), project_id)
    if project is None:
        abort(_error(404, "No such project (or you are not a member)."))
    return project


def _document(document_id: int) -> Document:
    document = catalogue.visible_document(get_session(), _user(), document_id)
    if document is None:
        abort(_error(404, "No such document (or you are not a member of its project)."))
    return document


def _passage(passage_id: int) -> Passage:
    passage = catalogue.visible_passage(get_session(), _user(), passage_id)
    if passage is None:
        abort(_error(404, "No such passage (or you are not a member of its project)."))
    return passage


@bp.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    return jsonify(openapi_spec(request.host_url.rstrip("/")))


@bp.get("/projects")
def list_projects() -> ResponseReturnValue:
    session, user = get_session(), _user()
    items = [catalogue.project_dict(session, user, p) for p in visible_projects(session, user)]
    return jsonify(ok=True, projects=items)


@bp.get("/projects/<int:project_id>/documents")
def list_documents(project_id: int) -> ResponseReturnValue:
    project = _project(project_id)
    after, limit = _int_arg("after", 0), _int_arg("limit", 100)
    items, next_after = catalogue.document_page(get_session(), project, after, limit)
    return jsonify(ok=True, documents=items, next_after=next_after)


@bp.post("/projects/<int:project_id>/documents")
def import_documents(project_id: int) -> ResponseReturnValue:
    """Admins only, as the import page: ``{"documents": [<JSONL records>]}``, all or nothing."""
    project = _project(project_id)
    if not _user().is_admin:
        return _error(403, "Importing documents needs the admin role.")
    payload = _json_body()
    items = payload.get("documents") if isinstance(payload, dict) else None
    if not isinstance(items, list) or not 0 < len(items) <= MAX_IMPORT_DOCUMENTS:
        return _error(400, f'"documents" must be a list of 1 to {MAX_IMPORT_DOCUMENTS} objects.')
    records = []
    for n, obj in enumerate(items):
        try:
            records.append(record_from_object(obj, f"documents[{n}]"))
        except RecordError as exc:
            return _error(400, f"documents[{n}]: {exc}")
    reanalyse = payload.get("reanalyse", False)
    if not isinstance(reanalyse, bool):
        return _error(400, '"reanalyse" must be true or false.')
    report = importing.ImportReport()
    options = importing.ImportOptions(reanalyse=reanalyse)
    try:
        importing.import_records(get_session(), project, records, report, options)
    except ImportFileError as exc:
        return _error(400, str(exc))
    return jsonify(
        ok=True,
        imported=report.imported,
        updated=report.changed,
        reanalysed=report.reanalysed,
        duplicates=report.duplicates,
        lost_tags=report.lost_tags,
        passages=report.passages,
    )


@bp.post("/projects/<int:project_id>/reanalyse")
def reanalyse_project(project_id: int) -> ResponseReturnValue:
    """Admins only, as the project page: the project's documents analysed again from the texts
    they were imported with; ``{"preview": true}`` reports what would change and changes
    nothing. ``{"background": true}`` starts the run as the project page does and answers 202
    at once (409 while another goes on); otherwise the answer waits for the result. The body
    may be left out."""
    project = _project(project_id)
    if not _user().is_admin:
        return _error(403, "Analysing documents again needs the admin role.")
    payload = request.get_json(silent=True) if request.content_length else {}
    if not isinstance(payload, dict):
        return _error(400, 'Expected no body or a JSON object such as {"preview": true}.')
    preview, background = payload.get("preview", False), payload.get("background", False)
    for name, value in (("preview", preview), ("background", background)):
        if not isinstance(value, bool):
            return _error(400, f'"{name}" must be true or false.')
    if background:
        return _start_run(project, preview)
    done = importing.reanalyse_project(get_session(), project, preview=preview)
    return jsonify(
        ok=True,
        preview=preview,
        reanalysed=done.report.reanalysed,
        unchanged=len(done.report.duplicates),
        without_source=done.without_source,
        lost_tags=done.report.lost_tags,
        passages=done.report.passages,
    )


def _start_run(project: Project, preview: bool) -> ResponseReturnValue:
    try:
        run_id = reanalysis_runs.start(get_session(), project, _user(), preview=preview)
    except reanalysis_runs.RunRefused as exc:
        return _error(409, str(exc))
    reanalysis_runs.launch(current_app.config["DATABASE_URL"], run_id)
    response = _latest_run(project)
    response.status_code = 202
    response.headers["Location"] = url_for("api.reanalysis_run", project_id=project.id)
    return response


@bp.get("/projects/<int:project_id>/reanalyse")
def reanalysis_run(project_id: int) -> ResponseReturnValue:
    """Admins only: the project's latest reanalysis run started in the background (from the
    project page or this API), null when none was; the project page follows it here."""
    project = _project(project_id)
    if not _user().is_admin:
        return _error(403, "Analysing documents again needs the admin role.")
    return _latest_run(project)


@bp.delete("/projects/<int:project_id>/reanalyse")
def cancel_reanalysis(project_id: int) -> ResponseReturnValue:
    """Admins only: ask the project's background run to stop after the batch under way (202
    with the run; 409 when none goes on)."""
    project = _project(project_id)
    if not _user().is_admin:
        return _error(403, "Analysing documents again needs the admin role.")
    try:
        reanalysis_runs.cancel(get_session(), project, _user())
    except reanalysis_runs.RunRefused as exc:
        return _error(409, str(exc))
    response = _latest_run(project)
    response.status_code = 202
    return response


def _latest_run(project: Project) -> Response:
    status = reanalysis_runs.latest(get_session(), project)
    return jsonify(ok=True, run=status.as_json() if status else None)


@bp.get("/documents/<int:document_id>")
def get_document(document_id: int) -> ResponseReturnValue:
    document = _document(document_id)
    passages = catalogue.passages_of(get_session(), document)
    return jsonify(ok=True, document=catalogue.document_dict(document), passages=passages)


@bp.delete("/documents/<int:document_id>")
def delete_document(document_id: int) -> ResponseReturnValue:
    """Admins only, as the document's overview page: the document and everything on it."""
    document = _document(document_id)
    if not _user().is_admin:
        return _error(403, "Deleting a document needs the admin role.")
    try:
        gone = deleting.delete_document(get_session(), document.id)
    except deleting.DeletionError as exc:
        return _error(404, str(exc))
    return jsonify(ok=True, deleted=asdict(gone))


@bp.get("/documents/<int:document_id>/passages")
def list_passages(document_id: int) -> ResponseReturnValue:
    document = _document(document_id)
    return jsonify(ok=True, passages=catalogue.passages_of(get_session(), document))


@bp.get("/passages/<int:passage_id>")
def get_passage(passage_id: int) -> ResponseReturnValue:
    passage = _passage(passage_id)
    claims = catalogue.claims_of(get_session(), passage)
    return jsonify(ok=True, passage=catalogue.passage_dict(passage), claims=claims)


@bp.get("/passages/<int:passage_id>/claims")
def list_claims(passage_id: int) -> ResponseReturnValue:
    passage = _passage(passage_id)
    return _claims_answer(passage)


def _claims_answer(passage: Passage, **extra: Any) -> Response:
    return jsonify(
        ok=True,
        claims=catalogue.claims_of(get_session(), passage),
        claims_version=claim_editing.claims_version(passage),
        **extra,
    )


@bp.put("/passages/<int:passage_id>/claims")
def put_claims(passage_id: int) -> ResponseReturnValue:
    """Curators of the passage's project, as the claims page: ``{"claims": [{"start", "end"}],
    "version", "confirm"?}``; the version is the ``claims_version`` read (409 when stale)."""
    passage = _passage(passage_id)
    session, user = get_session(), _user()
    if not projects.can_curate(session, user, session.get_one(Project, passage.project_id)):
        return _error(403, "Editing claims needs the curator role in the project.")
    spans, version, confirmed = _claim_edit(_json_body())
    try:
        plan = claim_editing.edit_claims(
            session, user, passage.id, spans, version, confirmed=confirmed
        )
    except claim_editing.ConfirmationNeeded as exc:
        message = f'{exc} With the API: send "confirm": true.'
        return jsonify(ok=False, error=message, edit=asdict(exc.plan)), 409
    except claim_editing.StaleClaims as exc:
        return _error(409, str(exc))
    except claim_editing.ClaimEditError as exc:
        return _error(400, str(exc))
    return _claims_answer(passage, edit=asdict(plan))


@bp.put("/passages/<int:passage_id>/outlet")
def put_outlet(passage_id: int) -> ResponseReturnValue:
    """Curators, as the passage's page: ``{"outlet": name or null, "seen": name or null}``,
    null for the author's own words; ``seen`` is the outlet read (409 when it changed)."""
    passage, project = _curated_passage(passage_id)
    payload = _json_body()
    outlet, seen = (_outlet_choice(payload, key) for key in ("outlet", "seen"))
    return _decided(passage_decisions.set_passage_outlet, passage, project, outlet, seen)


@bp.put("/passages/<int:passage_id>/role")
def put_role(passage_id: int) -> ResponseReturnValue:
    """Curators, as the passage's page: ``{"role": "author" or "excerpt", "seen": role}``."""
    passage, project = _curated_passage(passage_id)
    payload = _json_body()
    role, seen = (
        payload.get(key) if isinstance(payload, dict) else None for key in ("role", "seen")
    )
    if not isinstance(role, str) or not isinstance(seen, str):
        return _error(400, '"role" and "seen" must be "author" or "excerpt".')
    return _decided(passage_decisions.set_passage_role, passage, project, role, seen)


def _curated_passage(passage_id: int) -> tuple[Passage, Project]:
    passage = _passage(passage_id)
    project = get_session().get_one(Project, passage.project_id)
    if not projects.can_curate(get_session(), _user(), project):
        abort(_error(403, "Deciding a passage's outlet or role needs the curator role."))
    return passage, project


def _outlet_choice(payload: Any, key: str) -> str:
    """The outlet the body names under ``key`` (null: the author's own words), as the
    passage page's form names it."""
    name = payload.get(key, "") if isinstance(payload, dict) else ""
    if name is None:
        return AUTHOR_OWN_WORDS
    found = (
        get_session().scalar(select(Outlet.id).where(Outlet.name == name))
        if isinstance(name, str)
        else None
    )
    if found is None:
        abort(_error(400, f'"{key}" must name an outlet, or be null for the author\'s own words.'))
    return str(found)


def _decided(
    decide: Callable[..., Passage], passage: Passage, project: Project, value: str, seen: str
) -> ResponseReturnValue:
    try:
        decided = decide(get_session(), _user(), project, passage.id, value, seen)
    except passage_decisions.StaleDecision as exc:
        return _error(409, str(exc))
    except passage_decisions.DecisionError as exc:
        return _error(400, str(exc))
    return jsonify(ok=True, passage=catalogue.passage_dict(decided))


def _claim_edit(payload: Any) -> tuple[list[tuple[int, int]], str, bool]:
    """The spans, version and confirmation of a claim edit's body (400 when malformed)."""
    items = payload.get("claims") if isinstance(payload, dict) else None
    version = payload.get("version") if isinstance(payload, dict) else None
    if not isinstance(items, list) or not isinstance(version, str):
        abort(_error(400, '"claims" must be a list of {"start", "end"} and "version" a string.'))
    spans: list[tuple[int, int]] = []
    for n, item in enumerate(items):
        start = item.get("start") if isinstance(item, dict) else None
        end = item.get("end") if isinstance(item, dict) else None
        if type(start) is not int or type(end) is not int:
            abort(_error(400, f'claims[{n}]: "start" and "end" must be integers.'))
        spans.append((start, end))
    confirmed = payload.get("confirm", False)
    if not isinstance(confirmed, bool):
        abort(_error(400, '"confirm" must be true or false.'))
    return spans, version, confirmed


@bp.get("/passages/<int:passage_id>/tags")
def get_tags(passage_id: int) -> ResponseReturnValue:
    passage = _passage(passage_id)
    return jsonify(ok=True, **catalogue.tags_of(get_session(), _user(), passage))


@bp.put("/passages/<int:passage_id>/tags")
def put_tags(passage_id: int) -> ResponseReturnValue:
    """Same rules as the annotation page: versions guard against stale saves (409)."""
    passage = _passage(passage_id)
    session, user = get_session(), _user()
    try:
        submission = annotating.submission_from_json(_json_body())
        annotating.save_passage(session, user, passage, submission)
    except StaleSave as exc:
        response = jsonify(
            ok=False, error=str(exc), current={str(k): v for k, v in exc.current.items()}
        )
        response.status_code = 409
        return response
    except PassageGone as exc:
        return _error(404, str(exc))
    except SaveError as exc:
        return _error(400, str(exc))
    return jsonify(ok=True, **catalogue.tags_of(session, user, passage))


@bp.post("/suggestions")
def post_suggestions() -> ResponseReturnValue:
    try:
        source, items = suggestions.parse_suggestions(_json_body())
        stored = suggestions.post_suggestions(get_session(), _user(), source, items)
    except suggestions.SuggestionError as exc:
        return _error(exc.status, str(exc))
    return jsonify(ok=True, source=source, stored=stored)


@bp.get("/export")
def export() -> ResponseReturnValue:
    """Streamed, like the browser download; curators and admins only (as the export page)."""
    if _user().role not in (Role.ADMIN, Role.CURATOR):
        return _error(403, "Exports are for curators and admins.")
    fmt = request.args.get("format", "csv")
    if fmt not in export_formats.FORMATS:
        return _error(400, f"format must be one of {', '.join(export_formats.FORMATS)}.")
    try:
        export_filter = export_formats.filter_from_args(request.args, get_session())
    except export_formats.FilterError as exc:
        return _error(400, str(exc))
    spec = export_formats.FORMATS[fmt]
    excel = request.args.get("excel") in ("1", "true", "yes")
    chunks = streamed(
        lambda session: export_formats.export_chunks(session, fmt, export_filter, excel=excel)
    )
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return Response(
        stream_with_context(chunks),
        mimetype=spec.mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="annotations-{stamp}.{spec.extension}"'
        },
    )
