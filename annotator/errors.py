"""Error pages: HTML for people, JSON for fetch() callers."""

from __future__ import annotations

from flask import Flask, current_app, g, jsonify, make_response, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from annotator.db import get_session, is_deadlock
from annotator.extensions import login_manager

MESSAGES = {
    400: "The request could not be understood.",
    403: "You do not have permission to open this page.",
    404: "There is nothing at this address.",
    405: "This address does not accept that kind of request.",
    413: "The upload is too large.",
    429: "Too many failed logins for this account or from this address. "
    "Wait a few minutes, then try again.",
}
UNAVAILABLE = (
    "The database cannot be reached at the moment (it may be restarting or busy). "
    "Wait a minute and try again; if you were saving, reload the page to see what was stored."
)

MET_ANOTHER_CHANGE = (
    "This request met another change to the same data at the same moment and was undone. "
    "Reload the page to see what is stored, then try again."
)


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    app.register_error_handler(DBAPIError, _database_error)
    app.register_error_handler(PoolTimeoutError, _database_error)


def _wants_json() -> bool:
    """fetch() callers and everything under /api/ get JSON errors."""
    if request.path.startswith("/api/"):
        return True
    return request.is_json or request.accept_mimetypes.best == "application/json"


def _render(status: int, message: str) -> ResponseReturnValue:
    if _wants_json():
        return jsonify(ok=False, error=message), status
    return render_template("errors/error.html", status=status, message=message), status


def _csrf_error(error: CSRFError) -> ResponseReturnValue:
    return _render(400, f"Security check failed ({error.description}) Reload the page and retry.")


def _http_error(error: HTTPException) -> ResponseReturnValue:
    status = error.code or 500
    response = make_response(_render(status, _message_of(error, status)))
    retry_after = dict(error.get_headers()).get("Retry-After")  # e.g. a throttled login's
    if retry_after is not None:
        response.headers["Retry-After"] = retry_after
    return response


def _message_of(error: HTTPException, status: int) -> str:
    """The description given to ``abort``, or ours for the status (Werkzeug's own ones are
    written for developers)."""
    if error.description and error.description != type(error).description:
        return error.description
    return MESSAGES.get(status, error.description or "Error.")


def _too_large(error: RequestEntityTooLarge) -> ResponseReturnValue:
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    size = f"the limit is {limit / 1024 / 1024:.0f} MB" if limit else "it exceeds the limit"
    return _render(
        413,
        f"The upload is too large: {size}. Split the file into smaller ones, "
        "or ask an administrator to raise ANNOTATOR_MAX_CONTENT_LENGTH.",
    )


def database_unavailable(error: Exception) -> bool:
    """Connection-level failures (server down, connection lost, pool exhausted, SQLite busy)
    rather than errors in the statement itself, which stay 500s."""
    if isinstance(error, OperationalError | InterfaceError | PoolTimeoutError):
        return True
    return bool(getattr(error, "connection_invalidated", False))


def _database_error(error: Exception) -> ResponseReturnValue:
    """503 with a page that does not touch the database (no logged-in user in the header);
    409 when PostgreSQL ended the transaction to break a deadlock (work that retries its
    transaction does so before it gets here)."""
    if is_deadlock(error):
        get_session().rollback()
        return _render(409, MET_ANOTHER_CHANGE)
    if not database_unavailable(error):
        raise error
    current_app.logger.warning("database unavailable: %s", error)
    g._login_user = login_manager.anonymous_user()  # no user lookup: the database is down
    headers = {"Retry-After": "30"}
    if _wants_json():
        return jsonify(ok=False, error=UNAVAILABLE), 503, headers
    return render_template("errors/unavailable.html", message=UNAVAILABLE), 503, headers
