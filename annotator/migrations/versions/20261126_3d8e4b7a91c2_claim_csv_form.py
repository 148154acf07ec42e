"""claims carry how their text is written in the CSV export

Revision ID: 3d8e4b7a91c2
Revises: 7c1e5a90d3b4
Create Date: 2026-11-26 01:00:00.000000
"""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision = "3d8e4b7a91c2"
down_revision = "7c1e5a90d3b4"
branch_labels = None
depends_on = None

AS_IS, QUOTED, CHECKED = 0, 1, 2
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CSV_SPECIAL_CHARACTERS = (",", '"', "\n", "\r")
IDS_PER_UPDATE = 1000


def csv_form_of(text: str) -> int:
    """``exporting.csv_form_of`` as of this revision."""
    if not text or text.startswith(FORMULA_PREFIXES):
        return CHECKED
    if any(character in text for character in CSV_SPECIAL_CHARACTERS):
        return QUOTED
    return AS_IS


def upgrade() -> None:
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("csv_form", sa.SmallInteger(), server_default="2", nullable=False)
        )
    _fill_csv_forms()


def _fill_csv_forms() -> None:
    """Existing claims start as CHECKED (always right); those that can be written faster are
    marked, a thousand ids per UPDATE. The claims are read as a stream (a server-side cursor
    on PostgreSQL), not all at once."""
    connection = op.get_bind()
    claims = sa.text(
        'SELECT claims.id, passages.text, claims.start, claims."end" '
        "FROM claims JOIN passages ON passages.id = claims.passage_id"
    )
    rows = connection.execute(
        claims.execution_options(stream_results=True, yield_per=IDS_PER_UPDATE)
    )
    ids_by_form: dict[int, list[int]] = defaultdict(list)
    for claim_id, text, start, end in rows:
        form = csv_form_of(text[start:end])
        if form != CHECKED:
            ids_by_form[form].append(claim_id)
    for form, ids in ids_by_form.items():
        for first in range(0, len(ids), IDS_PER_UPDATE):
            connection.execute(
                sa.text("UPDATE claims SET csv_form = :form WHERE id IN :ids").bindparams(
                    sa.bindparam("ids", expanding=True)
                ),
                {"form": form, "ids": ids[first : first + IDS_PER_UPDATE]},
            )


def downgrade() -> None:
    with op.batch_alter_table("claims", schema=None) as batch_op:
        batch_op.drop_column("csv_form")
