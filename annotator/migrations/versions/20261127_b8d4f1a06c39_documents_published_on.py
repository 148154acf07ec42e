"""documents carry the day their publication date names

Revision ID: b8d4f1a06c39
Revises: a7c3e9d15b28
Create Date: 2026-11-27 14:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from annotator.services.records import publication_date

revision = "b8d4f1a06c39"
down_revision = "a7c3e9d15b28"
branch_labels = None
depends_on = None

DOCUMENTS = sa.table(
    "documents", sa.column("id"), sa.column("published"), sa.column("published_on", sa.Date)
)


def _backfill() -> None:
    """Documents imported before get the day their ``published`` text names, read as new
    imports read it."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(DOCUMENTS.c.id, DOCUMENTS.c.published).where(DOCUMENTS.c.published.is_not(None))
    ).all()
    days = [
        {"document": document, "day": day}
        for document, published in rows
        if (day := publication_date(published)) is not None
    ]
    if days:
        bind.execute(
            sa.update(DOCUMENTS)
            .where(DOCUMENTS.c.id == sa.bindparam("document"))
            .values(published_on=sa.bindparam("day")),
            days,
        )


def upgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("published_on", sa.Date(), nullable=True))
    _backfill()


def downgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_column("published_on")
