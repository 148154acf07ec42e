"""Downloads of the annotations (streamed)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, abort, render_template, request, stream_with_context
from flask.typing import ResponseReturnValue
from flask_login import current_user

from annotator.db import get_session, streamed
from annotator.models import Role
from annotator.services import export_formats

bp = Blueprint("exports", __name__, url_prefix="/export")


@bp.before_request
def _curators_only() -> None:
    """Exports hold every reviewer's labels in every project, which reviewers may not see
    (a project's reveal setting): curators and admins only."""
    if current_user.role not in (Role.ADMIN, Role.CURATOR):
        abort(403)


@bp.route("/")
def index() -> ResponseReturnValue:
    return render_template(
        "exports/index.html",
        formats=list(export_formats.FORMATS),
        names=export_formats.filter_names(get_session()),
    )


@bp.route("/annotations.<fmt>")
def download(fmt: str) -> ResponseReturnValue:
    """The foundation's addresses: /export/annotations.csv and .jsonl (filters allowed)."""
    if fmt not in ("csv", "jsonl"):
        return render_template("errors/error.html", message=f"Unknown format {fmt!r}."), 404
    return _send(fmt)


@bp.route("/download")
def download_as() -> ResponseReturnValue:
    """Any format (``format=csv|csv-wide|jsonl|label-studio|doccano``) with the filters of
    the export page; ``excel=1`` puts a byte-order mark before a CSV."""
    fmt = request.args.get("format", "csv")
    if fmt not in export_formats.FORMATS:
        return render_template("errors/error.html", message=f"Unknown format {fmt!r}."), 404
    return _send(fmt)


def _send(fmt: str) -> ResponseReturnValue:
    try:
        export_filter = export_formats.filter_from_args(request.args, get_session())
    except export_formats.FilterError as exc:
        return render_template("errors/error.html", message=f"Cannot export: {exc}."), 400
    spec = export_formats.FORMATS[fmt]
    excel = request.args.get("excel") == "1"
    chunks = streamed(
        lambda session: export_formats.export_chunks(session, fmt, export_filter, excel=excel)
    )
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    name = f"annotations-{stamp}.{spec.extension}"
    return Response(
        stream_with_context(chunks),
        mimetype=spec.mimetype,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
