"""Login requirement for every page, security headers on every response, cookie and proxy
settings (docs/security.md)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, abort, request
from flask.json.provider import DefaultJSONProvider
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from annotator.extensions import login_manager
from annotator.services.records import first_unstorable, unstorable_reason

PUBLIC_ENDPOINTS = frozenset({"auth.login", "static"})
# The API authenticates each request itself (bearer token or session + CSRF; views/api.py).
SELF_AUTHENTICATING_BLUEPRINTS = frozenset({"api"})

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HSTS = "max-age=31536000"


def init_app(app: Flask) -> None:
    app.before_request(_refuse_unstorable_text)
    app.before_request(_require_login)
    app.after_request(_add_security_headers)
    app.jinja_env.tests["web_url"] = is_web_url
    app.json = BoundedJSONProvider(app)
    app.session_interface = HttpsAwareSessionInterface()
    if app.config.get("SECURE_COOKIES"):
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
    proxies = proxy_count(app.config.get("PROXY_FIX"))
    if proxies:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_prefix=proxies
        )


def is_web_url(value: object) -> bool:
    """Only http(s) addresses from imported data become links (no ``javascript:``)."""
    if not isinstance(value, str):
        return False
    try:
        return urlsplit(value.strip()).scheme.lower() in ("http", "https")
    except ValueError:
        return False


def proxy_count(setting: object) -> int:
    """``PROXY_FIX``: how many reverse proxies to trust (``True`` means one, falsy none)."""
    try:
        count = int(setting) if isinstance(setting, int) else int(str(setting or 0))
    except ValueError as exc:
        raise ValueError(f"PROXY_FIX must be a number of proxies, not {setting!r}") from exc
    return max(count, 0)


class BoundedJSONProvider(DefaultJSONProvider):
    """JSON nested too deeply for the parser is a bad request (400), not a server error."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return super().loads(s, **kwargs)
        except RecursionError as exc:
            raise ValueError("JSON nested too deeply") from exc


class HttpsAwareSessionInterface(SecureCookieSessionInterface):
    """Every cookie of a response to an HTTPS request is marked ``Secure``: the session cookie
    and Flask-Login's remember cookie (set before the session is saved). Over plain HTTP
    (local use) cookies stay usable unless ``SECURE_COOKIES`` forces ``Secure``."""

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        super().save_session(app, session, response)
        if request.is_secure:
            _mark_cookies_secure(response)


def _mark_cookies_secure(response: Response) -> None:
    cookies = response.headers.getlist("Set-Cookie")
    if not cookies:
        return
    del response.headers["Set-Cookie"]
    for cookie in cookies:
        secure = any(p.strip().lower() == "secure" for p in cookie.split(";"))
        response.headers.add("Set-Cookie", cookie if secure else cookie + "; Secure")


def _refuse_unstorable_text() -> None:
    """No page sends a NUL or a lone surrogate, and the database cannot store either: a
    request that carries one in its address's arguments, its form fields or its JSON body is
    a bad request (400) before any view reads it."""
    fields = [*request.args.items(multi=True), *request.form.items(multi=True)]
    payload = request.get_json(silent=True) if _json_with_escapes() else None
    bad = first_unstorable(payload) or first_unstorable([part for f in fields for part in f])
    if bad is not None:
        abort(400, description=f"The request holds the character {unstorable_reason(bad)}.")


def _json_with_escapes() -> bool:
    """Whether the body is JSON with a \\u escape: only through one can JSON carry a NUL (its
    parser refuses raw control characters) or a lone surrogate (UTF-8 encodes none). The page's
    saves have none, and are not walked."""
    return request.is_json and b"\\u" in request.get_data()


def _require_login() -> Response | None:
    """Every endpoint except the login page and static files needs a logged-in user."""
    if request.endpoint in PUBLIC_ENDPOINTS or _self_authenticating():
        return None
    if current_user.is_authenticated:
        return None
    response: Response = login_manager.unauthorized()
    return response


def _self_authenticating() -> bool:
    """API requests (even to unknown API addresses) answer for themselves, in JSON."""
    return request.blueprint in SELF_AUTHENTICATING_BLUEPRINTS or request.path.startswith("/api/")


def _add_security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response
