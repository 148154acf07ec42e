"""A database of their own for the server-process tests: a SQLite file, or a fresh database on
the PostgreSQL server of TEST_DATABASE_URL, with the schema applied by `annotator db upgrade`."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from annotator.db import make_engine, normalise_url
from tests.faults.servers import ServerProcess, run_cli


@contextmanager
def fresh_database(folder: Path, *, migrated: bool = True) -> Iterator[str]:
    """The URL of a new database, migrated unless told otherwise (dropped afterwards on
    PostgreSQL)."""
    server_url = os.environ.get("TEST_DATABASE_URL")
    if not server_url:
        url = f"sqlite:///{folder / 'server.db'}"
        if migrated:
            run_cli(url, "db", "upgrade")
        yield url
        return
    admin_url = make_url(normalise_url(server_url))
    name = f"annotator_fault_{uuid.uuid4().hex[:10]}"
    admin = make_engine(
        admin_url.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = admin_url.set(database=name).render_as_string(hide_password=False)
        if migrated:
            run_cli(url, "db", "upgrade")
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def server_database(tmp_path: Path) -> Iterator[str]:
    with fresh_database(tmp_path) as url:
        yield url


@pytest.fixture
def servers() -> Iterator[list[ServerProcess]]:
    """Server processes made by the test are stopped afterwards, whatever happened."""
    started: list[ServerProcess] = []
    yield started
    for server in started:
        server.stop()
