"""Downloads of the annotations (streamed)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, render_template, request, stream_with_context
from flask.typing import ResponseReturnValue

from annotator.db import get_session
from annotator.services import exporting

bp = Blueprint("exports", __name__, url_prefix="/export")

FORMATS = {
    "csv": (exporting.iter_csv, "text/csv; charset=utf-8"),
    "jsonl": (exporting.iter_jsonl, "application/x-ndjson; charset=utf-8"),
}


@bp.route("/")
def index() -> ResponseReturnValue:
    return render_template("exports/index.html")


@bp.route("/annotations.<fmt>")
def download(fmt: str) -> ResponseReturnValue:
    if fmt not in FORMATS:
        return render_template("errors/error.html", message=f"Unknown format {fmt!r}."), 404
    writer, mimetype = FORMATS[fmt]
    export_filter = exporting.ExportFilter(
        project=request.args.get("project") or None,
        all_claims=request.args.get("all_claims") == "1",
    )
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    chunks = stream_with_context(writer(get_session(), export_filter))
    return Response(
        chunks,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="annotations-{stamp}.{fmt}"'},
    )
