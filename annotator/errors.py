"""Error pages: HTML for people, JSON for fetch() callers."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

MESSAGES = {
    400: "The request could not be understood.",
    403: "You do not have permission to open this page.",
    404: "There is nothing at this address.",
    405: "This address does not accept that kind of request.",
    413: "The upload is too large.",
}


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)


def _wants_json() -> bool:
    return request.is_json or request.accept_mimetypes.best == "application/json"


def _render(status: int, message: str) -> ResponseReturnValue:
    if _wants_json():
        return jsonify(ok=False, error=message), status
    return render_template("errors/error.html", status=status, message=message), status


def _csrf_error(error: CSRFError) -> ResponseReturnValue:
    return _render(400, f"Security check failed ({error.description}) Reload the page and retry.")


def _http_error(error: HTTPException) -> ResponseReturnValue:
    status = error.code or 500
    return _render(status, MESSAGES.get(status, error.description or "Error."))
