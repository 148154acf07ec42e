"""Backups: ``annotator backup OUT`` copies a live SQLite database (online backup API, WAL
content included) into one self-contained file that opens and holds the data; restoring is
copying it back (or pointing DATABASE_URL at it). PostgreSQL is refused with a pointer to
pg_dump, and the documented pg_dump/pg_restore commands are run on PostgreSQL runs."""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import func, select

from annotator import create_app
from annotator.backup import PG_DUMP_HINT, BackupError, backup_database
from annotator.cli import prepare_database
from annotator.db import get_engine, get_session, make_engine, release_session
from annotator.models import Document, User
from tests.conftest import PASSWORD
from tests.faults.conftest import fresh_database
from tests.faults.servers import run_cli, seed

pytestmark = pytest.mark.slow


def contents(database_url: str) -> tuple[int, list[str]]:
    """(documents, usernames) as the database at this URL holds them."""
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "x"})
    with app.app_context():
        session = get_session()
        documents = session.scalar(select(func.count(Document.id))) or 0
        users = sorted(session.scalars(select(User.username)))
        release_session()
        get_engine().dispose()
    return documents, users


@pytest.fixture
def live_sqlite(tmp_path: Path) -> str:
    """A migrated SQLite file with a project of two documents and a reviewer."""
    path = tmp_path / "live" / "annotator.db"
    path.parent.mkdir()
    url = f"sqlite:///{path}"
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "x"})
    with app.app_context():
        prepare_database()  # what `annotator db upgrade` does
        release_session()
        get_engine().dispose()
    seed(url, documents=2, reviewers=1, tmp_path=tmp_path)
    return url


def test_backup_of_a_live_database_opens_and_holds_the_data(live_sqlite, tmp_path):
    """A connection has just committed a user that is only in the write-ahead log,
    and another connection holds a read transaction open: the backup has it all."""
    live = Path(live_sqlite.removeprefix("sqlite:///"))
    writer = sqlite3.connect(live, isolation_level=None)
    writer.execute(
        "INSERT INTO users (username, password_hash, role, active, session_epoch, created_at)"
        " VALUES ('fresh', 'x', 'reviewer', 1, 0, '2026-01-01 00:00:00')"
    )
    reader = sqlite3.connect(live, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM documents").fetchone()
    out = tmp_path / "backups" / "annotator-backup.db"
    out.parent.mkdir()
    try:
        assert Path(f"{live}-wal").stat().st_size > 0, "the new user is still in the WAL"
        output = run_cli(live_sqlite, "backup", str(out))
    finally:
        reader.close()
        writer.close()
    assert f"Backed up the database to {out}" in output
    assert sorted(p.name for p in out.parent.iterdir()) == [out.name], "one self-contained file"
    assert contents(f"sqlite:///{out}") == contents(live_sqlite) == (2, ["faults0", "fresh"])


def test_restore_by_copying_the_backup_back(live_sqlite, tmp_path):
    out = tmp_path / "backup.db"
    run_cli(live_sqlite, "backup", str(out))
    seed(live_sqlite, documents=1, reviewers=1, tmp_path=tmp_path, project="later")
    assert contents(live_sqlite) == (3, ["faults0", "later0"])
    live = Path(live_sqlite.removeprefix("sqlite:///"))
    # The documented restore: server stopped, stale -wal/-shm removed, the backup copied back.
    for stale in (Path(f"{live}-wal"), Path(f"{live}-shm")):
        stale.unlink(missing_ok=True)
    shutil.copy(out, live)
    assert contents(live_sqlite) == (2, ["faults0"])


def test_backup_refuses_to_overwrite(live_sqlite, tmp_path):
    out = tmp_path / "exists.db"
    out.write_bytes(b"keep me")
    with pytest.raises(BackupError, match="already exists"):
        backup_database(make_engine(live_sqlite), out)
    assert out.read_bytes() == b"keep me"


def test_backup_into_a_missing_folder_or_onto_a_full_disk_says_so(
    live_sqlite, tmp_path, monkeypatch
):
    with pytest.raises(BackupError, match=r"There is no folder .*missing; create it first"):
        backup_database(make_engine(live_sqlite), tmp_path / "missing" / "out.db")

    def disk_full(source: Path, target: Path) -> None:
        target.write_bytes(b"half a database")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("annotator.backup._copy", disk_full)
    with pytest.raises(BackupError, match=r"Could not write .*No space left on device"):
        backup_database(make_engine(live_sqlite), tmp_path / "out.db")
    assert list(tmp_path.glob("*out.db*")) == [], "no partial file is left"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql://annotator@127.0.0.1:1/annotator", "pg_dump"),
        ("sqlite://", "in a file"),
    ],
)
def test_backup_explains_what_it_cannot_copy(url, message, tmp_path):
    with pytest.raises(BackupError, match=message):
        backup_database(make_engine(url), tmp_path / "out.db")
    assert "pg_restore" in PG_DUMP_HINT


def test_cli_points_postgresql_users_to_pg_dump(tmp_path):
    """The command itself, as a PostgreSQL user would run it (nothing connects)."""
    from click.testing import CliRunner

    from annotator.cli import cli

    env = {"DATABASE_URL": "postgresql://annotator@127.0.0.1:1/annotator", "SECRET_KEY": "x"}
    result = CliRunner().invoke(cli, ["backup", str(tmp_path / "out.db")], env=env)
    assert result.exit_code == 1
    assert "pg_dump --format=custom" in result.output
    assert not (tmp_path / "out.db").exists()


@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL") or not shutil.which("pg_dump"),
    reason="PostgreSQL runs with pg_dump installed only",
)
def test_documented_pg_dump_and_pg_restore_round_trip(tmp_path):
    with fresh_database(tmp_path) as source, fresh_database(tmp_path, migrated=False) as target:
        seed(source, documents=2, reviewers=1, tmp_path=tmp_path)
        dump = tmp_path / "annotator.dump"
        _run(["pg_dump", "--format=custom", f"--file={dump}", _libpq(source)])
        _run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                f"--dbname={_libpq(target)}",
                str(dump),
            ]
        )
        assert contents(target) == contents(source) == (2, ["faults0"])
        assert PASSWORD not in dump.read_bytes().decode("latin-1")


def _libpq(url: str) -> str:
    """The URL in the form pg_dump takes (no SQLAlchemy driver suffix)."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
