"""Login throttling with Flask-Limiter: failed logins are counted per account and per address.

Only failures count (a response other than the redirect of a successful login), so a class
logging in behind one NAT address is not locked out by its own successes. Once a limit is
reached every login attempt for that account or from that address gets HTTP 429 until the
window passes, the right password included. Counts live in ``RATELIMIT_STORAGE_URI``
(``memory://`` by default: per process; use ``redis://`` or ``memcached://`` to share them
between gunicorn workers). The address is ``request.remote_addr``, which is the client's
only when ``PROXY_FIX`` tells how many proxies to trust (see annotator.security).
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

limiter = Limiter(key_func=get_remote_address)


def _account_key() -> str:
    """The account named in the login form, case-folded so "Rita" and "rita" count together."""
    return "account:" + (request.form.get("username") or "").strip().casefold()


def _address_key() -> str:
    return "address:" + get_remote_address()


def _failed(response: Response) -> bool:
    """A successful login redirects; anything else (401, 400) counts against the limits."""
    return response.status_code != 302


def _account_limit() -> str:
    return str(current_app.config["LOGIN_LIMIT_PER_ACCOUNT"])


def _address_limit() -> str:
    return str(current_app.config["LOGIN_LIMIT_PER_ADDRESS"])


login_per_account = limiter.limit(
    _account_limit, key_func=_account_key, methods=["POST"], deduct_when=_failed
)
login_per_address = limiter.limit(
    _address_limit, key_func=_address_key, methods=["POST"], deduct_when=_failed
)


def init_app(app: Flask) -> None:
    """Bind the limiter; each app gets fresh counts (a new storage) when it is created."""
    limiter.init_app(app)
