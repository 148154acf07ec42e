"""Configuration: defaults, then the environment (``ANNOTATOR_*``, ``DATABASE_URL``,
``SECRET_KEY``)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask

DEFAULTS: dict[str, Any] = {
    "RESERVATION_MINUTES": 30,
    "MAX_CONTENT_LENGTH": 50 * 1024 * 1024,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "WTF_CSRF_TIME_LIMIT": None,
    # Security and operations (README "Security and operations", docs/security.md).
    "SECURE_COOKIES": False,
    "PROXY_FIX": 0,
    "RATELIMIT_STORAGE_URI": "memory://",
    "LOGIN_LIMIT_PER_ACCOUNT": "5 per minute; 20 per hour",
    "LOGIN_LIMIT_PER_ADDRESS": "20 per minute; 100 per hour",
}


def load(app: Flask, overrides: dict[str, Any]) -> None:
    """Fill ``app.config``: defaults < environment < ``overrides``."""
    app.config.from_mapping(DEFAULTS)
    app.config.from_prefixed_env("ANNOTATOR")
    if "DATABASE_URL" in os.environ:
        app.config["DATABASE_URL"] = os.environ["DATABASE_URL"]
    if os.environ.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
    app.config.update(overrides)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.setdefault("DATABASE_URL", f"sqlite:///{Path(app.instance_path) / 'annotator.db'}")
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path) / "secret_key")


def _instance_secret(path: Path) -> str:
    """Generate the secret key once and keep it in the instance folder (mode 600)."""
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key)
    return key
