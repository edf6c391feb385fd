"""review revision: a counter per corpus raised by every write that changes its review counts

``review_revision``: one row per corpus (none yet: revision 0). Queueing, decisions, undo and publishing appended
pairs raise it in their own transaction, so the Review page keeps the corpus's review counts (two counts over every
state and pair) until it changes, reading one row per page run.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 18:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "review_revision",
        sa.Column("corpus_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["corpus_id"], ["corpus.id"], name="fk_review_revision_corpus_id_corpus", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("corpus_id", name="pk_review_revision"),
    )


def downgrade() -> None:
    op.drop_table("review_revision")
