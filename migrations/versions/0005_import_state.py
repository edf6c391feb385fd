"""import state

``corpus.import_state`` (NULL: complete and visible; ``importing`` / ``discarding``: hidden from every reader),
``import_owner`` (the writing process, ``host:pid:start``), ``import_started_at`` and ``import_heartbeat_at``: long
imports and runs write committed batches under a hidden corpus and publish it in one short transaction (see
xner.store.staging). And an index on ``sentence_pair.src_sentence_id``, so that deleting sentences in batches
(removing a failed import) finds their pairs through an index instead of scanning every pair for each sentence.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


# Plain ALTER TABLE, not batch mode: batch mode copies the table and drops the old one, and with SQLite's foreign
# keys on, dropping corpus would cascade to every sentence, pair and review row (SQLite ≥ 3.35 drops a column).

COLUMNS = ("import_state", "import_owner", "import_started_at", "import_heartbeat_at")


def upgrade() -> None:
    op.add_column("corpus", sa.Column("import_state", sa.String(length=16), nullable=True))
    op.add_column("corpus", sa.Column("import_owner", sa.String(length=200), nullable=True))
    op.add_column("corpus", sa.Column("import_started_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("corpus", sa.Column("import_heartbeat_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_sentence_pair_src_sentence_id", "sentence_pair", ["src_sentence_id"])


def downgrade() -> None:
    # Hidden corpora are unfinished imports: without the column they would show up half-written, so they go first.
    corpus = sa.table("corpus", sa.column("import_state", sa.String()))
    op.execute(sa.delete(corpus).where(corpus.c.import_state.is_not(None)))
    op.drop_index("ix_sentence_pair_src_sentence_id", table_name="sentence_pair")
    for name in reversed(COLUMNS):
        op.drop_column("corpus", name)
