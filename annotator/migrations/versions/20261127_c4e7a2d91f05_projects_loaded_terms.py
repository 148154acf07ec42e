"""projects watch a list of loaded terms

Revision ID: c4e7a2d91f05
Revises: b8d4f1a06c39
Create Date: 2026-11-27 15:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from annotator.text.loaded_terms import DEFAULT_LOADED_TERMS

revision = "c4e7a2d91f05"
down_revision = "b8d4f1a06c39"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.add_column(sa.Column("loaded_terms", sa.Text(), server_default="", nullable=False))
    # Projects made before get the list new projects start with.
    projects = sa.table("projects", sa.column("loaded_terms", sa.Text))
    op.execute(sa.update(projects).values(loaded_terms=DEFAULT_LOADED_TERMS))


def downgrade() -> None:
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.drop_column("loaded_terms")
