"""documents keep the title and text their analysis read

Revision ID: e5a1c7f3b924
Revises: d9f2b6c41e83
Create Date: 2026-11-28 03:00:00.000000

So that a project's documents can be analysed again after the outlets change, without their
files. Documents imported before have no row: their files are imported again instead.
A table of its own rather than columns of ``documents``: on SQLite an UPDATE rewrites the
whole row, and every save that completes a passage updates its document's counters.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "e5a1c7f3b924"
down_revision = "d9f2b6c41e83"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "document_sources",
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_document_sources_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("document_id", name=op.f("pk_document_sources")),
    )


def downgrade() -> None:
    op.drop_table("document_sources")
