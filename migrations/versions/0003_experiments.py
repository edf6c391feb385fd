"""experiments

Named sweeps of training runs (``xner experiment CONFIG``): experiment holds the configuration, experiment_run
links each (language, strategy, k, seed) point to its training run (runs are cached by configuration hash, so one
run may serve several experiments).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 15:11:51.663888
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "experiment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experiment")),
        sa.UniqueConstraint("name", name=op.f("uq_experiment_name")),
    )
    op.create_table(
        "experiment_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=64), nullable=False),
        sa.Column("strategy", sa.String(length=200), nullable=False),
        sa.Column("k", sa.Integer(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiment.id"],
            name=op.f("fk_experiment_run_experiment_id_experiment"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["training_run.id"], name=op.f("fk_experiment_run_run_id_training_run"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experiment_run")),
        sa.UniqueConstraint(
            "experiment_id",
            "language",
            "strategy",
            "k",
            "seed",
            name=op.f("uq_experiment_run_experiment_id_language_strategy_k_seed"),
        ),
    )
    with op.batch_alter_table("experiment_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_experiment_run_run_id"), ["run_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("experiment_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_experiment_run_run_id"))

    op.drop_table("experiment_run")
    op.drop_table("experiment")
