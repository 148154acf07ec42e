"""a passage's history is found by passage, reviewer and order in one index

Revision ID: 9b4f2c6d8e13
Revises: 5a2c7e19b0d4
Create Date: 2026-11-26 12:30:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "9b4f2c6d8e13"
down_revision = "5a2c7e19b0d4"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_changes_passage_id_user_id_id", "changes", ["passage_id", "user_id", "id"])
    op.drop_index("ix_changes_passage_id", table_name="changes")


def downgrade() -> None:
    op.create_index("ix_changes_passage_id", "changes", ["passage_id"])
    op.drop_index("ix_changes_passage_id_user_id_id", table_name="changes")
