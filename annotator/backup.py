"""``annotator backup``: a consistent copy of a live SQLite database (the online backup API).

PostgreSQL is backed up with its own tools (pg_dump/pg_restore, see the README), which know
about roles, sequences and consistent snapshots far better than anything we could write.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlalchemy.engine import Engine

PG_DUMP_HINT = (
    "annotator backup copies SQLite databases only. Back up PostgreSQL with pg_dump, e.g. "
    'pg_dump --format=custom --file=annotator.dump "$DATABASE_URL", and restore with '
    'pg_restore --clean --if-exists --no-owner --dbname="$DATABASE_URL" annotator.dump '
    '(README, "Security and operations").'
)


class BackupError(Exception):
    """The backup could not be made; the message says why and what to do instead."""


def backup_database(engine: Engine, out: Path) -> None:
    """Copy the engine's SQLite database to ``out`` while the app keeps running.

    The copy is written to a temporary file next to ``out``, checked with
    ``PRAGMA integrity_check``, switched to a self-contained rollback journal (no -wal file
    needed) and only then renamed to ``out``, so ``out`` is never half-written.
    """
    source_path = _sqlite_path(engine)
    if out.exists():
        raise BackupError(f"{out} already exists; choose a new file name.")
    if not out.parent.is_dir():
        raise BackupError(f"There is no folder {out.parent}; create it first.")
    partial = out.with_name(f".{out.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        _copy(source_path, partial)
        os.replace(partial, out)
    except (OSError, sqlite3.Error) as exc:  # no permission, a full disk...
        raise BackupError(f"Could not write {out}: {exc}") from exc
    finally:
        partial.unlink(missing_ok=True)


def _sqlite_path(engine: Engine) -> Path:
    if engine.dialect.name != "sqlite":
        raise BackupError(PG_DUMP_HINT)
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError("Only a SQLite database in a file can be backed up.")
    path = Path(database)
    if not path.is_file():
        raise BackupError(f"There is no database file at {path}.")
    return path


def _copy(source_path: Path, target_path: Path) -> None:
    source = sqlite3.connect(source_path, timeout=30)
    target = sqlite3.connect(target_path)
    try:
        source.backup(target)
        target.execute("PRAGMA journal_mode=DELETE")
        (result,) = target.execute("PRAGMA integrity_check").fetchone()
        if result != "ok":
            raise BackupError(f"The copy failed its integrity check: {result}")
    finally:
        target.close()
        source.close()
