"""Login requirement for every page and the security headers on every response."""

from __future__ import annotations

from flask import Flask, Response, request
from flask_login import current_user

from annotator.extensions import login_manager

PUBLIC_ENDPOINTS = frozenset({"auth.login", "static"})

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def init_app(app: Flask) -> None:
    app.before_request(_require_login)
    app.after_request(_add_security_headers)


def _require_login() -> Response | None:
    """Every endpoint except the login page and static files needs a logged-in user."""
    if request.endpoint in PUBLIC_ENDPOINTS or current_user.is_authenticated:
        return None
    response: Response = login_manager.unauthorized()
    return response


def _add_security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response
