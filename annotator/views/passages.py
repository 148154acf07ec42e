"""The annotation loop: project list, "Next", the passage page, saving, skipping, undo; and
the curators' page that corrects a passage's claims."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import ScalarSelect, bindparam, func, select
from sqlalchemy.orm import aliased, joinedload

from annotator.db import get_session
from annotator.forms import (
    SKIP_REASON_LABEL,
    SKIP_REASON_MAX_LENGTH,
    ClaimEditForm,
    EmptyForm,
    SkipForm,
)
from annotator.models import (
    Annotation,
    Label,
    MemberRole,
    OutletCorrection,
    Passage,
    Project,
)
from annotator.services import (
    annotating,
    claim_editing,
    outlet_disputes,
    outlets,
    passage_decisions,
    progress,
    projects,
    queue,
    suggestions,
)
from annotator.services.annotating import PassageGone, SaveError, StaleSave, TagSubmission
from annotator.services.records import is_whole_number
from annotator.text.loaded_terms import find_terms, watched_terms
from annotator.views.highlight import cited_address, claim_blocks

bp = Blueprint("passages", __name__)


@bp.route("/")
def index() -> ResponseReturnValue:
    session = get_session()
    visible = projects.visible_projects(session, current_user)
    rows = [(p, progress.reviewer_progress(session, current_user, p)) for p in visible]
    return render_template("passages/index.html", projects=rows)


@bp.route("/next")
def next_passage() -> ResponseReturnValue:
    """ "Next" without a project: the only project the user has, else the project list."""
    visible = projects.visible_projects(get_session(), current_user)
    if len(visible) != 1:
        if not visible:
            flash("You are not a member of any project yet; ask an admin to add you.", "info")
        return redirect(url_for("passages.index"))
    return redirect(url_for("passages.project_next", project_id=visible[0].id))


@bp.route("/projects/<int:project_id>/next")
def project_next(project_id: int) -> ResponseReturnValue:
    return redirect(_next_url(load_project(project_id)))


def _next_url(project: Project) -> str:
    """Reserve the user's next passage in the project and return where to go."""
    passage_id = queue.next_passage(get_session(), current_user, project, _reservation())
    return _url_of(passage_id, project)


def _reservation() -> timedelta:
    return timedelta(minutes=int(current_app.config["RESERVATION_MINUTES"]))


def _url_of(next_passage_id: int | None, project: Project) -> str:
    """The next passage's page, or the project list (with a message) when nothing is left."""
    if next_passage_id is None:
        flash(f"Nothing left for you in {project.name}: every passage has its reviews.", "info")
        return url_for("passages.index")
    return url_for("passages.show", passage_id=next_passage_id)


@bp.route("/passages/<int:passage_id>")
def show(passage_id: int) -> ResponseReturnValue:
    page = _page_of(passage_id)
    role = _role_or_404(page.project, page.membership)
    return render_template("passages/show.html", **_page_context(page, page.project, role))


@bp.route("/passages/<int:passage_id>", methods=["POST"])
def save(passage_id: int) -> ResponseReturnValue:
    """Save the page's tags. A JSON save with ``"then": "next"`` also reserves the next passage
    and answers with its URL and its page's content, so "Save and next" costs the page one
    request instead of three (save, "Next", page)."""
    passage, project, role = _load_passage(passage_id)
    wants_json = request.is_json
    session = get_session()
    try:
        submission = (
            annotating.submission_from_json(request.get_json(silent=True))
            if wants_json
            else _form_submission(passage)
        )
        then_next = wants_json and _json_then() == "next"
        saved = annotating.save_passage(
            session,
            current_user,
            passage,
            submission,
            reserve_next=_reservation() if then_next else None,
        )
    except StaleSave as exc:
        return _refuse(passage, project, role, str(exc), 409, wants_json, current=exc.current)
    except PassageGone as exc:
        abort(404, description=str(exc))
    except SaveError as exc:
        return _refuse(passage, project, role, str(exc), 400, wants_json)
    if wants_json:
        answer = _annotation_json(saved.annotations)
        if then_next:
            return _next_page_answer(answer, saved.next_passage_id, project, role)
        stats = progress.reviewer_progress(session, current_user, project)
        return jsonify(
            ok=True, annotations=answer, progress=stats.text, complete=stats.mine_complete
        )
    flash("Saved.", "success")
    if request.form.get("after_save") == "next":
        return redirect(url_for("passages.project_next", project_id=project.id))
    return redirect(url_for("passages.show", passage_id=passage.id))


def _next_page_answer(
    annotations: dict[str, Any], next_passage_id: int | None, project: Project, role: str
) -> ResponseReturnValue:
    """The answer to "Save and next": the next passage's URL and, when there is one, the
    content of its page and its title, which the page shows in place of its own."""
    if next_passage_id is None:
        return jsonify(ok=True, annotations=annotations, next_url=_url_of(None, project))
    context = _page_context(_page_of(next_passage_id), project, role, just_reserved=True)
    return jsonify(
        ok=True,
        annotations=annotations,
        next_url=_url_of(next_passage_id, project),
        page=render_template("passages/_annotate.html", **context),
    )


def _json_then() -> str:
    payload = request.get_json(silent=True)
    return str(payload.get("then", "")) if isinstance(payload, dict) else ""


@bp.route("/passages/<int:passage_id>/skip", methods=["POST"])
def skip(passage_id: int) -> ResponseReturnValue:
    passage, project, role = _load_passage(passage_id)
    form = SkipForm()
    if not form.validate_on_submit():
        return _refuse(
            passage,
            project,
            role,
            "The skip reason is too long or the form expired.",
            400,
            request.is_json,
        )
    try:
        annotating.skip_passage(get_session(), current_user, passage, form.reason.data or "")
    except PassageGone as exc:
        abort(404, description=str(exc))
    except SaveError as exc:
        return _refuse(passage, project, role, str(exc), 400, request.is_json)
    flash("Skipped; the passage goes back to the pool for others.", "info")
    return redirect(url_for("passages.project_next", project_id=project.id))


@bp.route("/undo", methods=["POST"])
def undo() -> ResponseReturnValue:
    if not EmptyForm().validate_on_submit():
        abort(400)
    change = annotating.undo_last(get_session(), current_user)
    if change is None:
        message = "Nothing to undo."
        if request.is_json:
            return jsonify(ok=False, error=message), 409
        flash(message, "info")
        return redirect(request.referrer or url_for("passages.index"))
    if request.is_json:
        return jsonify(ok=True, passage_id=change.passage_id, kind=change.kind)
    flash("Your last change was undone.", "success")
    return redirect(url_for("passages.show", passage_id=change.passage_id))


def _curated_passage(passage_id: int) -> tuple[Passage, Project]:
    """The passage and its project if the user curates it: 404 for non-members, 403 for
    reviewers."""
    passage, project, role = _load_passage(passage_id)
    if role != MemberRole.CURATOR:
        abort(403)
    return passage, project


@bp.route("/passages/<int:passage_id>/edit", methods=["GET", "POST"])
def edit_passage(passage_id: int) -> ResponseReturnValue:
    """The curators' page of a passage: its outlet and role (``set_outlet``, ``set_role``),
    and where its claims begin and end (posted here; see claim_editing)."""
    passage, _ = _curated_passage(passage_id)
    form = ClaimEditForm()
    if not form.is_submitted():
        return _edit_page(passage, _current_claims(form, passage))
    if not form.validate():
        return _edit_page(passage, form, status=400)
    try:
        plan = claim_editing.edit_claims(
            get_session(),
            current_user,
            passage.id,
            claim_editing.spans_from_lines(passage.text, form.claims.data or ""),
            form.version.data or "",
            confirmed=form.confirm.data,
        )
    except claim_editing.ConfirmationNeeded as exc:
        return _edit_page(passage, form, pending=exc.plan)  # a question, not a refusal
    except claim_editing.StaleClaims as exc:
        flash(str(exc), "error")
        get_session().refresh(passage, ["claims"])
        return _edit_page(passage, _current_claims(form, passage), status=409)
    except claim_editing.ClaimEditError as exc:
        flash(str(exc), "error")
        return _edit_page(passage, form, status=400)
    if plan.changes_anything:
        flash(f"Claims saved: this {plan.summary()}.", "success")
    else:
        flash("The claims are as they were; nothing was changed.", "info")
    return redirect(url_for("passages.show", passage_id=passage.id))


def _current_claims(form: ClaimEditForm, passage: Passage) -> ClaimEditForm:
    form.claims.data = claim_editing.claim_lines(passage)
    form.version.data = claim_editing.claims_version(passage)
    form.confirm.data = False
    return form


def _edit_page(
    passage: Passage,
    form: ClaimEditForm,
    *,
    status: int = 200,
    pending: claim_editing.ClaimEditPlan | None = None,
) -> ResponseReturnValue:
    return render_template(
        "passages/edit.html",
        passage=passage,
        form=form,
        pending=pending,
        outlets=outlets.list_outlets(get_session()),
        outlet_choice=outlet_disputes.choice_of(passage.outlet_id),
        author_own_words=annotating.AUTHOR_OWN_WORDS,
        roles=passage_decisions.ROLE_NAMES,
    ), status


def _fresh_edit_page(passage: Passage, status: int) -> ResponseReturnValue:
    """The page as first shown, after a refused outlet or role."""
    return _edit_page(
        passage, _current_claims(ClaimEditForm(formdata=None), passage), status=status
    )


@bp.route("/passages/<int:passage_id>/outlet", methods=["POST"])
def set_outlet(passage_id: int) -> ResponseReturnValue:
    """Set the passage's outlet from its page (the outlet disputes queue has its own form)."""
    return _decide(passage_id, passage_decisions.set_passage_outlet, "outlet")


@bp.route("/passages/<int:passage_id>/role", methods=["POST"])
def set_role(passage_id: int) -> ResponseReturnValue:
    """Set the passage's role; the form says which role it showed (409 when it changed)."""
    return _decide(passage_id, passage_decisions.set_passage_role, "role")


def _decide(passage_id: int, decide: Callable[..., Passage], field: str) -> ResponseReturnValue:
    """Apply a curator's decision on the passage (``passage_decisions``) from the form's
    ``field`` and ``seen`` (the value the page showed); back to the passage's page."""
    passage, project = _curated_passage(passage_id)
    session = get_session()
    try:
        decide(
            session,
            current_user,
            project,
            passage.id,
            request.form.get(field, ""),
            request.form.get("seen", ""),
        )
    except passage_decisions.StaleDecision as exc:
        flash(str(exc), "error")
        session.refresh(passage)
        return _fresh_edit_page(passage, 409)
    except passage_decisions.DecisionError as exc:
        flash(str(exc), "error")
        return _fresh_edit_page(passage, 400)
    flash(f"Saved: {passage_decisions.describe(passage)}.", "success")
    return redirect(url_for("passages.edit_passage", passage_id=passage.id))


def _refuse(
    passage: Passage,
    project: Project,
    role: str,
    message: str,
    status: int,
    wants_json: bool,
    current: Any = None,
) -> ResponseReturnValue:
    if wants_json:
        return jsonify(ok=False, error=message, current=current or {}), status
    flash(message, "error")
    context = _page_context(_page_of(passage.id), project, role)
    return render_template("passages/show.html", **context), status


def _form_submission(passage: Passage) -> TagSubmission:
    if not EmptyForm().validate_on_submit():
        raise SaveError("The form expired or was not sent from this site; please reload.")
    labels: dict[int, str] = {}
    versions: dict[int, int] = {}
    unsure: dict[int, bool] = {}
    notes: dict[int, str] = {}
    for claim in passage.claims:
        label = request.form.get(f"label-{claim.id}")
        version = request.form.get(f"version-{claim.id}", "0")
        if not is_whole_number(version):
            raise SaveError("The form was altered: a version is not a number.")
        versions[claim.id] = int(version)
        if label:
            labels[claim.id] = label
            unsure[claim.id] = request.form.get(f"unsure-{claim.id}") == "1"
            notes[claim.id] = request.form.get(f"note-{claim.id}", "").strip()
    return TagSubmission(labels, versions, unsure, notes, request.form.get("outlet", ""))


def _annotation_json(stored: dict[int, Annotation]) -> dict[str, Any]:
    return {
        str(claim_id): {"label": a.label, "version": a.version, "unsure": a.unsure, "note": a.note}
        for claim_id, a in stored.items()
    }


def load_project(project_id: int) -> Project:
    """The project if the user may work in it; 404 otherwise (no hint that it exists)."""
    found = projects.project_and_role(get_session(), current_user, project_id)
    if found is None:
        abort(404)
    return found[0]


# Built once: the page and every save load a passage (see annotating._ANNOTATIONS_OF), with
# its project and the user's membership there (``_role_or_404``).
_PASSAGE_WITH_CLAIMS = projects.with_project_and_membership(
    select(Passage)
    .where(Passage.id == bindparam("passage_id"))
    .options(joinedload(Passage.claims)),
    Passage.project_id,
)
_SIBLING = aliased(Passage)


# The page's query finds its passage's neighbours and figures from the passage id rather
# than from its own row: PostgreSQL runs a subquery that refers to the row once per row, and
# the query has a row per claim.
_THIS = aliased(Passage)


def _of_this_passage(column: Any) -> ScalarSelect[Any]:
    """``column`` (of ``_THIS``) of the passage ``:passage_id``."""
    return select(column).where(_THIS.id == bindparam("passage_id")).scalar_subquery()


_DOCUMENT = _of_this_passage(_THIS.document_id)
_INDEX = _of_this_passage(_THIS.index)
_PROJECT = _of_this_passage(_THIS.project_id)


def _sibling_text(offset: int) -> ScalarSelect[str]:
    """The text of the passage ``offset`` places away in the same document (NULL if none)."""
    return (
        select(_SIBLING.text)
        .where(_SIBLING.document_id == _DOCUMENT, _SIBLING.index == _INDEX + offset)
        .scalar_subquery()
    )


_PASSAGE_FOR_PAGE = projects.with_project_and_membership(
    select(
        Passage,
        select(func.count(_SIBLING.id)).where(_SIBLING.document_id == _DOCUMENT).scalar_subquery(),
        _sibling_text(-1),
        _sibling_text(+1),
        OutletCorrection,
        progress.completed_by_user(_PROJECT),
        progress.newest_passage_id(_PROJECT),
        annotating.annotated_by_user(bindparam("passage_id")),
        suggestions.on_passage(bindparam("passage_id")),
        annotating.has_history(bindparam("passage_id")),
        outlets.menu_version(),
    )
    .outerjoin(
        OutletCorrection,
        (OutletCorrection.passage_id == Passage.id)
        & (OutletCorrection.user_id == bindparam("user_id")),
    )
    .where(Passage.id == bindparam("passage_id"))
    .options(joinedload(Passage.claims), joinedload(Passage.document), joinedload(Passage.outlet)),
    Passage.project_id,
)


def _load_passage(passage_id: int) -> tuple[Passage, Project, str]:
    """The passage with its claims, its project and the user's role there, in one query; 404
    when either is out of the user's reach."""
    params = {"passage_id": passage_id, "user_id": current_user.id}
    found = get_session().execute(_PASSAGE_WITH_CLAIMS, params).unique().one_or_none()
    if found is None:
        abort(404)
    passage, project, membership = found
    return passage, project, _role_or_404(project, membership)


def _role_or_404(project: Project, membership: str | None) -> str:
    """The user's role in the project; 404 when they have none (no hint that it exists)."""
    role = projects.role_from_membership(current_user, project, membership)
    if role is None:
        abort(404)
    return role


@dataclass(frozen=True)
class _PagePassage:
    """A passage loaded for its page: claims, document and outlet, how many passages its
    document has (the page says "passage 3 of 12"), the texts of the passages before and
    after it (shown as context), the user's correction of its outlet, if any, the user's
    progress figures in the project (see ``progress.progress_from``), whether the user has
    annotated it, whether it has outside suggestions and a history, the version of the
    outlet menu (``outlets.menu_version``), the project and the user's membership there."""

    passage: Passage
    passages_in_document: int
    text_before: str | None
    text_after: str | None
    correction: OutletCorrection | None
    completed_by_user: int
    newest_passage_id: int | None
    annotated: bool
    has_outside_suggestions: bool
    has_history: bool
    outlet_menu_version: str
    project: Project
    membership: str | None


def _page_of(passage_id: int) -> _PagePassage:
    """The passage as its page needs it, in one query; 404 when there is none. The caller
    checks the user's access to its project (``_role_or_404``)."""
    params = {"passage_id": passage_id, "user_id": current_user.id}
    rows = get_session().execute(_PASSAGE_FOR_PAGE, params).unique()
    found = rows.one_or_none()
    if found is None:
        abort(404)
    return _PagePassage(*found)


def _page_context(
    page: _PagePassage, project: Project, role: str, *, just_reserved: bool = False
) -> dict[str, Any]:
    """What the annotation page shows. ``just_reserved``: "Save and next" reserved the
    passage in this request (see ``annotating.may_see_others``)."""
    session = get_session()
    passage = page.passage
    stats = progress.progress_from(session, project, page.completed_by_user, page.newest_passage_id)
    sees_others = annotating.may_see_others(
        session, current_user, passage, project, role, just_reserved=just_reserved
    )
    term_hits = find_terms(passage.text, watched_terms(project.loaded_terms))
    return {
        "page_title": f"{passage.document.title} · passage {passage.index + 1}",
        "passage": passage,
        "project": project,
        "document": passage.document,
        "passage_count": page.passages_in_document,
        "neighbours": (page.text_before, page.text_after),
        "blocks": claim_blocks(passage, term_hits),
        "cited_address": cited_address(passage.cue),
        "term_hits": term_hits,
        "annotations": (
            annotating.annotations_of(session, current_user, passage) if page.annotated else {}
        ),
        "correction": page.correction,
        "others": annotating.others_labels(session, current_user, passage) if sees_others else {},
        "history": (
            annotating.history_of(session, passage, None if sees_others else current_user)
            if page.has_history
            else []
        ),
        "outlet_options": outlet_options(
            outlets.outlet_menu(session, page.outlet_menu_version),
            page.correction.outlet_id if page.correction else None,
        ),
        "labels": _NUMBERED_LABELS,
        "skip_reason": {"label": SKIP_REASON_LABEL, "max_length": SKIP_REASON_MAX_LENGTH},
        "stats": stats,
        "can_curate": role == MemberRole.CURATOR,
        "outside_suggestions": (
            suggestions.for_passage(session, passage.id)
            if project.show_suggestions and page.has_outside_suggestions
            else {}
        ),
    }


_NUMBERED_LABELS = tuple(enumerate(Label, start=1))  # the page's keys 1-3
_OPTION = Markup('<option value="{}"{}>{}</option>')


@lru_cache(maxsize=256)
def outlet_options(choices: tuple[outlets.OutletChoice, ...], chosen: int | None) -> Markup:
    """The outlet menu's options, the ``chosen`` one selected. Made once per list of outlets
    and choice: escaping 46 outlets' names on every page was 3% of a "Save & next"'s CPU.
    ``Markup.format`` escapes what it is given."""
    return Markup("\n").join(
        _OPTION.format(choice.id, Markup(" selected") if choice.id == chosen else "", choice.name)
        for choice in choices
    )
