"""review preferences: each reviewer's queue choices per corpus

``review_preference``: the order, items (status choice), labels and confidence range a reviewer last chose for a
corpus's review queue, so the Review page restores them in their next session.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 05:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "review_preference",
        sa.Column("reviewer", sa.String(length=200), nullable=False),
        sa.Column("corpus_id", sa.Integer(), nullable=False),
        sa.Column("queue_order", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=100), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("min_confidence", sa.Float(), nullable=False),
        sa.Column("max_confidence", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["corpus_id"], ["corpus.id"], name="fk_review_preference_corpus_id_corpus", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("reviewer", "corpus_id", name="pk_review_preference"),
    )


def downgrade() -> None:
    op.drop_table("review_preference")
