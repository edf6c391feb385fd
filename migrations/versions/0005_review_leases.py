"""review leases, queue overlap and votes

``review_lease``: the items shown to reviewers (claimed until decided, released or expired), so concurrent
reviewers of one queue get different items; ``review_queue``: a corpus's queue settings (overlap: how many distinct
reviewers decide each item; lease length); ``review_state.votes`` (distinct reviewers whose decision stands) and
``review_state.final`` (settled by an adjudication); ``review_event.applied`` (False: a vote recorded beside an
item another reviewer had already decided, for adjudication, not applied to its state). Existing states get their
votes and final flag from their history.

Revision ID: 0005r
Revises: 0004
Create Date: 2026-12-07 02:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005r"
down_revision = "0004"
branch_labels = None
depends_on = None

VOTES = ("accept", "reject", "correct")

# Plain ALTER TABLE, not batch mode (see 0004): batch mode would recreate review_state/review_event.


def upgrade() -> None:
    op.add_column("review_state", sa.Column("votes", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("review_state", sa.Column("final", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("review_event", sa.Column("applied", sa.Boolean(), nullable=False, server_default=sa.true()))
    op.create_index(
        "ix_review_state_votes", "review_state", ["corpus_id", "status", "votes", "confidence", "sentence_id"]
    )
    op.create_table(
        "review_lease",
        sa.Column("sentence_id", sa.Integer(), nullable=False),
        sa.Column("reviewer", sa.String(length=200), nullable=False),
        sa.Column("corpus_id", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["sentence_id"], ["sentence.id"], name="fk_review_lease_sentence_id_sentence", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["corpus_id"], ["corpus.id"], name="fk_review_lease_corpus_id_corpus", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("sentence_id", "reviewer", name="pk_review_lease"),
    )
    op.create_index("ix_review_lease_corpus_id", "review_lease", ["corpus_id"])
    op.create_table(
        "review_queue",
        sa.Column("corpus_id", sa.Integer(), nullable=False),
        sa.Column("overlap", sa.Integer(), nullable=False),
        sa.Column("lease_seconds", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["corpus_id"], ["corpus.id"], name="fk_review_queue_corpus_id_corpus", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("corpus_id", name="pk_review_queue"),
    )
    _backfill_votes()


def _backfill_votes() -> None:
    """Each decided state's votes (reviewers whose last vote was not undone) and final flag, from its history."""
    bind = op.get_bind()
    event = sa.table(
        "review_event",
        sa.column("id"),
        sa.column("sentence_id"),
        sa.column("reviewer"),
        sa.column("action"),
        sa.column("undoes"),
    )
    state = sa.table("review_state", sa.column("sentence_id"), sa.column("votes"), sa.column("final"))
    rows = bind.execute(
        sa.select(event.c.id, event.c.sentence_id, event.c.reviewer, event.c.action, event.c.undoes).order_by(
            event.c.id
        )
    ).all()
    undone = {row.undoes for row in rows if row.undoes is not None}
    voters: dict[int, set[str]] = {}
    last_standing: dict[int, str] = {}
    for row in rows:
        if row.action == "undo" or row.id in undone:
            continue
        if row.action in VOTES:
            voters.setdefault(row.sentence_id, set()).add(row.reviewer)
        last_standing[row.sentence_id] = row.action
    for sentence_id in set(voters) | set(last_standing):
        bind.execute(
            sa.update(state)
            .where(state.c.sentence_id == sentence_id)
            .values(votes=len(voters.get(sentence_id, ())), final=last_standing.get(sentence_id) == "adjudicate")
        )


def downgrade() -> None:
    op.drop_table("review_queue")
    op.drop_index("ix_review_lease_corpus_id", table_name="review_lease")
    op.drop_table("review_lease")
    op.drop_index("ix_review_state_votes", table_name="review_state")
    op.drop_column("review_event", "applied")
    op.drop_column("review_state", "final")
    op.drop_column("review_state", "votes")
