"""Fixtures: one suite, two databases (TEST_DATABASE_URL picks PostgreSQL), a rolled-back
transaction per test, users, login, and a live server for browser and concurrency tests."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.cli import ScriptInfo
from flask.testing import FlaskClient
from playwright.sync_api import expect
from sqlalchemy import delete, select, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.serving import make_server

from annotator import create_app, migrate
from annotator.cli import cli
from annotator.db import Base, get_engine, get_session, make_engine, normalise_url
from annotator.models import Annotation, Claim, FinalLabel, Passage, Role, User
from annotator.services import accounts, outlets

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
PASSWORD = "correct horse battery"


def pytest_report_header() -> str:
    return f"database: {_backend_name()}"


def _backend_name() -> str:
    return "postgresql" if os.environ.get("TEST_DATABASE_URL") else "sqlite"


@contextmanager
def _fresh_database(sqlite_file: Path, prefix: str) -> Iterator[str]:
    """The URL of a new, empty database of the suite's kind: ``sqlite_file``, or a database
    created on the PostgreSQL server named by TEST_DATABASE_URL and dropped afterwards."""
    server_url = os.environ.get("TEST_DATABASE_URL")
    if not server_url:
        yield f"sqlite:///{sqlite_file}"
        return
    admin_url = make_url(normalise_url(server_url))
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = make_engine(
        admin_url.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The run's database (see ``_fresh_database``)."""
    with _fresh_database(tmp_path_factory.mktemp("db") / "test.db", "annotator_test") as url:
        yield url


@pytest.fixture
def fresh_database_url(tmp_path: Path) -> Iterator[str]:
    """An empty database (no schema) for one test (see ``_fresh_database``)."""
    with _fresh_database(tmp_path / "fresh.db", "annotator_fresh") as url:
        yield url


@pytest.fixture
def app_on_fresh_database(fresh_database_url: str) -> Iterator[Flask]:
    """An app on a database of its own, migrated and with the outlet registry: for tests that
    need real COMMITs and several connections, which the suite's rolled-back outer
    transaction cannot give."""
    app = create_app({"DATABASE_URL": fresh_database_url, "SECRET_KEY": "x" * 32, "TESTING": True})
    with app.app_context():
        migrate.upgrade(get_engine())
        outlets.seed_default_outlets(get_session())
    yield app
    with app.app_context():
        get_engine().dispose()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    """The schema is built by the migrations, as in production, and outlets are seeded."""
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    with Session(engine) as session:
        outlets.seed_default_outlets(session)
    yield engine
    engine.dispose()


def _config(database_url: str, **extra: Any) -> dict[str, Any]:
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": False,
        **extra,
    }


@pytest.fixture
def app(
    request: pytest.FixtureRequest, engine: Engine, database_url: str, tmp_path: Path
) -> Iterator[Flask]:
    """An app whose sessions run inside one transaction that is rolled back after the test.
    Tests marked ``csrf`` keep CSRF protection on."""
    csrf_on = request.node.get_closest_marker("csrf") is not None
    app = create_app(_config(database_url, WTF_CSRF_ENABLED=csrf_on))
    app.instance_path = str(tmp_path)
    connection = engine.connect()
    outer = connection.begin()
    app.extensions["annotator.sessionmaker"] = sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )
    app.extensions["annotator.engine"] = engine
    yield app
    _check_labels_are_in_their_claims_project(connection)
    outer.rollback()
    connection.close()


def _check_labels_are_in_their_claims_project(connection: Connection) -> None:
    """Labels and final labels carry their claim's project (models.Annotation): whatever a
    test wrote them with, the copy must agree."""
    wrong = [
        (model.__tablename__, row_id)
        for model in (Annotation, FinalLabel)
        for row_id in connection.scalars(
            select(model.id)
            .join(Claim, Claim.id == model.claim_id)
            .join(Passage, Passage.id == Claim.passage_id)
            .where(model.project_id != Passage.project_id)
        )
    ]
    assert not wrong, f"labels stored under another project than their claim's: {wrong}"


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


class CliRunner:
    """Invokes the real ``annotator`` command group against the test app."""

    def __init__(self, app: Flask) -> None:
        self.runner = app.test_cli_runner()
        self.app = app

    def invoke(self, args: list[str], **kwargs: Any) -> Any:
        info = ScriptInfo(create_app=lambda: self.app)
        return self.runner.invoke(cli, args=args, obj=info, **kwargs)


@pytest.fixture
def runner(app: Flask) -> CliRunner:
    return CliRunner(app)


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    """A session on the test's connection, outside any app context, so that requests made by
    the test client get their own context (and their own logged-in user)."""
    test_session = app.extensions["annotator.sessionmaker"]()
    yield test_session
    test_session.close()


@pytest.fixture
def make_user(session: Session) -> Callable[..., User]:
    def make(username: str = "reviewer", role: str = Role.REVIEWER) -> User:
        return accounts.create_user(session, username, PASSWORD, role)

    return make


@pytest.fixture
def login(client: FlaskClient) -> Callable[[User | str], Any]:
    def log_in(user: User | str) -> Any:
        name = user if isinstance(user, str) else user.username
        return client.post("/login", data={"username": name, "password": PASSWORD})

    return log_in


class LiveServer:
    def __init__(self, app: Flask, url: str) -> None:
        self.app = app
        self.url = url


@pytest.fixture
def live_server(engine: Engine, database_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    """The app on a free loopback port with real commits (CSRF on); tables are emptied after."""
    app = create_app(_config(database_url, WTF_CSRF_ENABLED=True, TESTING=False))
    app.instance_path = str(tmp_path)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield LiveServer(app, f"http://127.0.0.1:{server.server_port}")
    server.shutdown()
    thread.join()
    app.extensions["annotator.engine"].dispose()
    empty_database(engine)


def empty_database(engine: Engine) -> None:
    """Delete every row except the seeded outlet registry."""
    keep = {"outlets", "outlet_aliases", "alembic_version"}
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name not in keep:
                connection.execute(delete(table))


# CI machines have two cores shared by the server and the browser: give pages time.
expect.set_options(timeout=15_000)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }
