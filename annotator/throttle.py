"""Login throttling with the `limits` library: failed logins are counted per account and per
address.

Only failures count, so a class logging in behind one NAT address is not locked out by its
own successes. Once a limit is reached every login attempt for that account or from that
address gets HTTP 429 (with Retry-After) until the window passes, the right password
included. Counts live in ``RATELIMIT_STORAGE_URI`` (``memory://`` by default: per process; use
``redis://`` or ``memcached://`` to share them between gunicorn workers). The address is
``request.remote_addr``, which is the client's only when ``PROXY_FIX`` tells how many proxies
to trust (see annotator.security).

The login view and the password change ask (``refuse_when_locked``, ``count_failure``), so
guessing a password through either counts against the same limits: nothing runs for other
requests, where an extension's hooks cost 2% of a "Save and next" (docs/benchmarks.md).
"""

from __future__ import annotations

import math
import time

from flask import Flask, current_app, request
from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
from werkzeug.exceptions import TooManyRequests

_LIMITER = "annotator.login_limiter"


def init_app(app: Flask) -> None:
    """Fresh counts for each app, in the configured storage (a storage URI that cannot be
    used fails here, at startup, not at the first login)."""
    storage = storage_from_string(app.config["RATELIMIT_STORAGE_URI"])
    app.extensions[_LIMITER] = FixedWindowRateLimiter(storage)


def refuse_when_locked(username: str | None = None) -> None:
    """Raise 429, with the seconds until the window ends, when a limit is used up.

    ``username`` names the account when the request's form does not (a password change)."""
    limiter = _limiter()
    for limit, key in _limits(username):
        if not limiter.test(limit, key):
            reset_at = limiter.get_window_stats(limit, key).reset_time
            raise TooManyRequests(retry_after=max(1, math.ceil(reset_at - time.time())))


def count_failure(username: str | None = None) -> None:
    """Count a wrong password against the account and the address."""
    limiter = _limiter()
    for limit, key in _limits(username):
        limiter.hit(limit, key)


def _limiter() -> FixedWindowRateLimiter:
    limiter: FixedWindowRateLimiter = current_app.extensions[_LIMITER]
    return limiter


def _limits(username: str | None) -> list[tuple[RateLimitItem, str]]:
    config = current_app.config
    account, address = _account_key(username), _address_key()
    return [
        *((limit, account) for limit in parse_many(config["LOGIN_LIMIT_PER_ACCOUNT"])),
        *((limit, address) for limit in parse_many(config["LOGIN_LIMIT_PER_ADDRESS"])),
    ]


def _account_key(username: str | None) -> str:
    """The account (by default the one named in the login form), case-folded so "Rita" and
    "rita" count together."""
    name = request.form.get("username") if username is None else username
    return "login-account:" + (name or "").strip().casefold()


def _address_key() -> str:
    return "login-address:" + (request.remote_addr or "")
