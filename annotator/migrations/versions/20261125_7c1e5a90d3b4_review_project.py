"""reviews carry their passage's project

Revision ID: 7c1e5a90d3b4
Revises: 2b4fabdc973d
Create Date: 2026-11-25 23:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "7c1e5a90d3b4"
down_revision = "2b4fabdc973d"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.add_column(sa.Column("project_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE reviews SET project_id = "
        "(SELECT passages.project_id FROM passages WHERE passages.id = reviews.passage_id)"
    )
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.alter_column("project_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_reviews_project_id_projects"),
            "projects",
            ["project_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.drop_index("ix_reviews_user_id_status")
        batch_op.create_index(
            "ix_reviews_user_id_status_project_id",
            ["user_id", "status", "project_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.drop_index("ix_reviews_user_id_status_project_id")
        batch_op.create_index("ix_reviews_user_id_status", ["user_id", "status"], unique=False)
        batch_op.drop_constraint(batch_op.f("fk_reviews_project_id_projects"), type_="foreignkey")
        batch_op.drop_column("project_id")
