"""The annotation loop: home, "Next", the passage page and saving tags."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from annotator.db import get_session
from annotator.forms import EmptyForm
from annotator.models import Annotation, Label, Passage
from annotator.services import annotating, outlets, progress
from annotator.services.annotating import SaveError, StaleSave, TagSubmission
from annotator.views.highlight import claim_blocks

bp = Blueprint("passages", __name__)


@bp.route("/")
def index() -> ResponseReturnValue:
    stats = progress.reviewer_progress(get_session(), current_user)
    return render_template("passages/index.html", stats=stats)


@bp.route("/next")
def next_passage() -> ResponseReturnValue:
    after = request.args.get("after", default=0, type=int)
    passage = annotating.next_passage(get_session(), current_user, after_id=after)
    if passage is None:
        flash("Nothing left to annotate: every passage has your tags.", "info")
        return redirect(url_for("passages.index"))
    return redirect(url_for("passages.show", passage_id=passage.id))


@bp.route("/passages/<int:passage_id>")
def show(passage_id: int) -> ResponseReturnValue:
    passage = _load_passage(passage_id)
    return render_template("passages/show.html", **_page_context(passage))


@bp.route("/passages/<int:passage_id>", methods=["POST"])
def save(passage_id: int) -> ResponseReturnValue:
    passage = _load_passage(passage_id)
    wants_json = request.is_json
    try:
        submission = _json_submission() if wants_json else _form_submission(passage)
        stored = annotating.save_passage(get_session(), current_user, passage, submission)
    except StaleSave as exc:
        return _refuse(passage, str(exc), 409, wants_json, current=exc.current)
    except SaveError as exc:
        return _refuse(passage, str(exc), 400, wants_json)
    if wants_json:
        stats = progress.reviewer_progress(get_session(), current_user)
        return jsonify(
            ok=True,
            annotations=_annotation_json(stored),
            progress=f"{stats.completed} of {stats.total}",
        )
    flash("Saved.", "success")
    if request.form.get("action") == "next":
        return redirect(url_for("passages.next_passage", after=passage.id))
    return redirect(url_for("passages.show", passage_id=passage.id))


def _refuse(
    passage: Passage, message: str, status: int, wants_json: bool, current: Any = None
) -> ResponseReturnValue:
    if wants_json:
        return jsonify(ok=False, error=message, current=current or {}), status
    flash(message, "error")
    return render_template("passages/show.html", **_page_context(passage)), status


def _json_submission() -> TagSubmission:
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise SaveError("Expected a JSON object.")
    return TagSubmission(
        labels=_int_keys(payload.get("labels"), str, "labels"),
        versions=_int_keys(payload.get("versions", {}), int, "versions"),
        outlet_choice=str(payload.get("outlet", "")),
    )


def _int_keys(value: Any, kind: type, name: str) -> dict[int, Any]:
    if not isinstance(value, dict):
        raise SaveError(f'"{name}" must be an object keyed by claim id.')
    try:
        result = {int(k): v for k, v in value.items()}
    except ValueError as exc:
        raise SaveError(f'"{name}" keys must be claim ids.') from exc
    if not all(isinstance(v, kind) and not isinstance(v, bool) for v in result.values()):
        raise SaveError(f'"{name}" has values of the wrong type.')
    return result


def _form_submission(passage: Passage) -> TagSubmission:
    if not EmptyForm().validate_on_submit():
        raise SaveError("The form expired or was not sent from this site; please reload.")
    labels: dict[int, str] = {}
    versions: dict[int, int] = {}
    for claim in passage.claims:
        label = request.form.get(f"label-{claim.id}")
        if label:
            labels[claim.id] = label
        version = request.form.get(f"version-{claim.id}", "0")
        if not version.isdigit():
            raise SaveError("The form was altered: a version is not a number.")
        versions[claim.id] = int(version)
    return TagSubmission(labels, versions, request.form.get("outlet", ""))


def _annotation_json(stored: dict[int, Annotation]) -> dict[str, Any]:
    return {
        str(claim_id): {"label": a.label, "version": a.version}
        for claim_id, a in stored.items()
    }


def _load_passage(passage_id: int) -> Passage:
    passage = get_session().scalar(
        select(Passage)
        .where(Passage.id == passage_id)
        .options(
            selectinload(Passage.claims), selectinload(Passage.document), selectinload(Passage.outlet)
        )
    )
    if passage is None:
        abort(404)
    return passage


def _page_context(passage: Passage) -> dict[str, Any]:
    session = get_session()
    annotations = annotating.annotations_of(session, current_user, passage)
    correction = annotating.correction_of(session, current_user, passage)
    return {
        "passage": passage,
        "document": passage.document,
        "neighbours": annotating.neighbours(session, passage),
        "blocks": claim_blocks(passage),
        "annotations": annotations,
        "correction": correction,
        "outlets": outlets.list_outlets(session),
        "labels": list(Label),
        "form": EmptyForm(),
        "stats": progress.reviewer_progress(session, current_user),
    }
