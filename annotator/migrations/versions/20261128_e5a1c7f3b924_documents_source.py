"""documents keep the title and text their analysis read

Revision ID: e5a1c7f3b924
Revises: d9f2b6c41e83
Create Date: 2026-11-28 03:00:00.000000

So that a project's documents can be analysed again after the outlets change, without their
files. Documents imported before have none: their files are imported again instead.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "e5a1c7f3b924"
down_revision = "d9f2b6c41e83"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_title", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("source_text", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_column("source_text")
        batch_op.drop_column("source_title")
