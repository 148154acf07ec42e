"""passages are found by outlet and project in one index

Revision ID: e5d1f08a2c64
Revises: c3e81d5a7f20
Create Date: 2026-11-26 19:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "e5d1f08a2c64"
down_revision = "c3e81d5a7f20"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_passages_outlet_id_project_id", "passages", ["outlet_id", "project_id"])
    op.drop_index("ix_passages_outlet_id", table_name="passages")


def downgrade() -> None:
    op.create_index("ix_passages_outlet_id", "passages", ["outlet_id"])
    op.drop_index("ix_passages_outlet_id_project_id", table_name="passages")
