"""SQLite: passages and claims never reuse an id

Revision ID: d9f2b6c41e83
Revises: c4e7a2d91f05
Create Date: 2026-11-27 23:00:00.000000

Without AUTOINCREMENT, SQLite gives a new row the largest id plus one, so rows inserted after
the newest passages or claims were deleted (a re-import, a curator's claim edit) would take
their ids, and a reviewer's page from before would label the new claim as if it were the old.
AUTOINCREMENT keeps the largest id ever given in ``sqlite_sequence``. SQLite adds it to a
table only by rebuilding it; ``annotator.migrate`` turns foreign keys off meanwhile, so the
rows that refer to these tables stay. PostgreSQL's sequences never reuse an id: nothing to do.
"""

from __future__ import annotations

from alembic import op

revision = "d9f2b6c41e83"
down_revision = "c4e7a2d91f05"
branch_labels = None
depends_on = None

TABLES = ("passages", "claims")


def upgrade() -> None:
    _rebuild(autoincrement=True)


def downgrade() -> None:
    _rebuild(autoincrement=False)
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DELETE FROM sqlite_sequence WHERE name IN ('passages', 'claims')")


def _rebuild(*, autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
        ):
            pass
