"""reanalysis runs: a project page's reanalysis runs in the background

Revision ID: f2b7d4e8a1c6
Revises: e5a1c7f3b924
Create Date: 2026-11-28 09:00:00.000000

The page started the reanalysis in its request, which a large project's run outlasted (a
worker's timeout). The run now goes on in a thread of the web process; its row tells the page
how far it has got, and what it did or why it failed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "f2b7d4e8a1c6"
down_revision = "e5a1c7f3b924"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reanalysis_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("started_by", sa.Integer(), nullable=True),
        sa.Column("preview", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("lost_labels", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_reanalysis_runs_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["started_by"],
            ["users.id"],
            name=op.f("fk_reanalysis_runs_started_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reanalysis_runs")),
    )
    op.create_index(
        "ix_reanalysis_runs_project_id_id", "reanalysis_runs", ["project_id", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_reanalysis_runs_project_id_id", table_name="reanalysis_runs")
    op.drop_table("reanalysis_runs")
