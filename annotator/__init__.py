"""annotator: tag how news articles use their sources (reported, quoted, editorial)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from annotator.sqlite_setup import turn_off_memory_statistics

turn_off_memory_statistics()  # before anything imports sqlite3 (see the module)

from flask import Flask  # noqa: E402

_PKG = Path(__file__).resolve().parent


def _asset_dir(name: str) -> Path:
    """Templates and static files live at the repo root and are copied into the wheel."""
    packaged = _PKG / name
    return packaged if packaged.is_dir() else _PKG.parent / name


def create_app(overrides: dict[str, Any] | None = None, *, web: bool = True) -> Flask:
    """Build the application; ``overrides`` wins over environment configuration. With
    ``web=False`` only the configuration and the database, for commands that serve no pages
    (importing the pages, logins and their throttling is a sixth of a command's start-up)."""
    from annotator import config, db

    app = Flask(
        __name__,
        template_folder=str(_asset_dir("templates")),
        static_folder=str(_asset_dir("static")),
        instance_relative_config=True,
    )
    config.load(app, overrides or {})
    db.init_app(app)
    if web:
        _add_web(app)
    return app


def _add_web(app: Flask) -> None:
    """Pages, API, logins, CSRF protection, security headers, error pages and throttling."""
    from annotator import errors, extensions, security, throttle
    from annotator.views import RowIdConverter, admin, auth, dashboard, exports, passages, reports
    from annotator.wording import counted

    app.url_map.converters["int"] = RowIdConverter  # before the blueprints' rules are added
    extensions.init_app(app)
    security.init_app(app)
    errors.register_error_handlers(app)
    throttle.init_app(app)
    app.jinja_env.globals["counted"] = counted
    for blueprint in (auth.bp, passages.bp, dashboard.bp, exports.bp, admin.bp, reports.bp):
        app.register_blueprint(blueprint)
    from annotator.views import account, api, imports

    for blueprint in (account.bp, api.bp, imports.bp):
        app.register_blueprint(blueprint)
