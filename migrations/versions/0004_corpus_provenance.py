"""corpus provenance

``corpus.provenance``: how a corpus was made when xner made it (a translation: the corpus translated, the mode, and
per split the translator, its options or the file's digest), so that a rerun can tell whether a stored translation
answers the same request. NULL for imported corpora.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 00:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


# Plain ALTER TABLE, not batch mode: batch mode copies the table and drops the old one, and with SQLite's foreign
# keys on, dropping corpus would cascade to every sentence, pair and review row (SQLite ≥ 3.35 drops a column).


def upgrade() -> None:
    op.add_column("corpus", sa.Column("provenance", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("corpus", "provenance")
