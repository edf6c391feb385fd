"""directional alignments: the forward and reverse links beside each symmetrised alignment row

``alignment.forward`` and ``alignment.reverse``: the directional links (Pharaoh text, 0-based, source-target) that
an eflomal run's symmetrised ``links`` were made from, so ``xner symmetrize`` derives another symmetrisation
without aligning again. Nullable: imported, neural, derived and manual runs have none, nor do older runs.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE, not batch mode (see 0004): nullable columns without a default, so no rewrite of the table
    op.add_column("alignment", sa.Column("forward", sa.Text(), nullable=True))
    op.add_column("alignment", sa.Column("reverse", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("alignment", "reverse")
    op.drop_column("alignment", "forward")
