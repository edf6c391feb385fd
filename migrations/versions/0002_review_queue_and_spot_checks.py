"""review queue and spot checks

The review queue: each review_state row records the projection run that suggested its spans (run_id), the
disagreement of the projection methods on it, and its labels (for the label filter). The queue index gains
sentence_id (tie-breaker) and labels (the label filter reads the index alone); a second index of that shape
serves the disagreement order. review_event.undoes links an undo to the decision it reverts. spot_check and
spot_check_item hold stratified samples of projected spans and their judgments.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 12:45:19.888841
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "spot_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("corpus_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("requested", sa.Integer(), nullable=False),
        sa.Column("strata", sa.JSON(), nullable=False),
        sa.Column("buckets", sa.JSON(), nullable=False),
        sa.Column("populations", sa.JSON(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["corpus_id"], ["corpus.id"], name=op.f("fk_spot_check_corpus_id_corpus"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["projection_run.id"], name=op.f("fk_spot_check_run_id_projection_run"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spot_check")),
    )
    with op.batch_alter_table("spot_check", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_spot_check_corpus_id"), ["corpus_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_spot_check_run_id"), ["run_id"], unique=False)

    op.create_table(
        "spot_check_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("check_id", sa.Integer(), nullable=False),
        sa.Column("pair_id", sa.Integer(), nullable=False),
        sa.Column("span_index", sa.Integer(), nullable=False),
        sa.Column("start", sa.Integer(), nullable=False),
        sa.Column("end", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("stratum", sa.String(length=200), nullable=False),
        sa.Column("correct", sa.Boolean(), nullable=True),
        sa.Column("judged_by", sa.String(length=200), nullable=False),
        sa.Column("judged_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["check_id"], ["spot_check.id"], name=op.f("fk_spot_check_item_check_id_spot_check"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["pair_id"],
            ["sentence_pair.id"],
            name=op.f("fk_spot_check_item_pair_id_sentence_pair"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spot_check_item")),
        sa.UniqueConstraint(
            "check_id", "pair_id", "span_index", name=op.f("uq_spot_check_item_check_id_pair_id_span_index")
        ),
    )
    with op.batch_alter_table("spot_check_item", schema=None) as batch_op:
        batch_op.create_index("ix_spot_check_item_check_stratum", ["check_id", "stratum"], unique=False)
        batch_op.create_index(batch_op.f("ix_spot_check_item_pair_id"), ["pair_id"], unique=False)

    with op.batch_alter_table("review_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("undoes", sa.Integer(), nullable=True))

    with op.batch_alter_table("review_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("run_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("disagreement", sa.Float(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("labels", sa.Text(), server_default="", nullable=False))
        batch_op.drop_index("ix_review_state_queue")
        batch_op.create_index(
            "ix_review_state_queue", ["corpus_id", "status", "confidence", "sentence_id", "labels"], unique=False
        )
        batch_op.create_index(
            "ix_review_state_disagreement",
            ["corpus_id", "status", "disagreement", "sentence_id", "labels"],
            unique=False,
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_review_state_run_id_projection_run"),
            "projection_run",
            ["run_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("review_state", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_review_state_run_id_projection_run"), type_="foreignkey")
        batch_op.drop_index("ix_review_state_disagreement")
        batch_op.drop_index("ix_review_state_queue")
        batch_op.create_index("ix_review_state_queue", ["corpus_id", "status", "confidence"], unique=False)
        batch_op.drop_column("labels")
        batch_op.drop_column("disagreement")
        batch_op.drop_column("run_id")

    with op.batch_alter_table("review_event", schema=None) as batch_op:
        batch_op.drop_column("undoes")

    with op.batch_alter_table("spot_check_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_spot_check_item_pair_id"))
        batch_op.drop_index("ix_spot_check_item_check_stratum")

    op.drop_table("spot_check_item")
    with op.batch_alter_table("spot_check", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_spot_check_run_id"))
        batch_op.drop_index(batch_op.f("ix_spot_check_corpus_id"))

    op.drop_table("spot_check")
