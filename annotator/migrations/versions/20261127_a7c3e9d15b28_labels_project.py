"""labels and final labels carry their claim's project

Revision ID: a7c3e9d15b28
Revises: e5d1f08a2c64
Create Date: 2026-11-27 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "a7c3e9d15b28"
down_revision = "e5d1f08a2c64"
branch_labels = None
depends_on = None

CLAIMS = sa.table("claims", sa.column("id"), sa.column("passage_id"))
PASSAGES = sa.table("passages", sa.column("id"), sa.column("project_id"))


def _backfill(name: str) -> sa.Update:
    """Every row gets the project of its claim's passage."""
    table = sa.table(name, sa.column("claim_id"), sa.column("project_id"))
    project = (
        sa.select(PASSAGES.c.project_id)
        .join_from(CLAIMS, PASSAGES, PASSAGES.c.id == CLAIMS.c.passage_id)
        .where(CLAIMS.c.id == table.c.claim_id)
        .scalar_subquery()
    )
    return sa.update(table).values(project_id=project)


def upgrade() -> None:
    for table in ("annotations", "final_labels"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("project_id", sa.Integer(), nullable=True))
        op.execute(_backfill(table))
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("project_id", existing_type=sa.Integer(), nullable=False)
            batch_op.create_foreign_key(
                batch_op.f(f"fk_{table}_project_id_projects"),
                "projects",
                ["project_id"],
                ["id"],
                ondelete="CASCADE",
            )
            batch_op.create_index(f"ix_{table}_project_id_claim_id", ["project_id", "claim_id"])


def downgrade() -> None:
    for table in ("final_labels", "annotations"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f"ix_{table}_project_id_claim_id")
            batch_op.drop_constraint(
                batch_op.f(f"fk_{table}_project_id_projects"), type_="foreignkey"
            )
            batch_op.drop_column("project_id")
