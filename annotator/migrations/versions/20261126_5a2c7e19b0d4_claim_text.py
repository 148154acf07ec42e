"""claims keep their text

Revision ID: 5a2c7e19b0d4
Revises: 3d8e4b7a91c2
Create Date: 2026-11-26 10:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "5a2c7e19b0d4"
down_revision = "3d8e4b7a91c2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.add_column(sa.Column("text", sa.Text(), nullable=True))
    # substr counts characters on both databases, as Python's slices do
    op.execute(
        'UPDATE claims SET text = (SELECT substr(passages.text, claims.start + 1, claims."end"'
        " - claims.start) FROM passages WHERE passages.id = claims.passage_id)"
    )
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.alter_column("text", existing_type=sa.Text(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.drop_column("text")
