"""Work distribution rows: who has which review item open (leases), each corpus's queue settings (overlap, lease
length) and each reviewer's saved queue choices (preferences).

A claim's statements are here one by one; the service (:mod:`xner.services.review.leases`) runs them in one
transaction, in the order that makes a claim race-free (:func:`lock_state` first).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, Table, delete, func, select, update
from sqlalchemy.orm import Session

from xner.store.models import ReviewLease, ReviewPreference, ReviewQueue
from xner.store.paging import AnyRow
from xner.store.queries.review_states import state_table, upsert

lease_table = cast(Table, ReviewLease.__table__)
settings_table = cast(Table, ReviewQueue.__table__)
preference_table = cast(Table, ReviewPreference.__table__)


def settings_row(session: Session, corpus_id: int) -> AnyRow | None:
    """The queue settings row of corpus ``corpus_id`` (None: the defaults apply)."""
    return session.execute(select(settings_table).where(settings_table.c.corpus_id == corpus_id)).one_or_none()


def save_settings(session: Session, corpus_id: int, values: Mapping[str, Any]) -> None:
    """Insert or update the queue settings of corpus ``corpus_id`` (one upsert)."""
    upsert(session, settings_table, {"corpus_id": corpus_id, **values}, ["corpus_id"], dict(values))


def lock_state(session: Session, sentence_id: int) -> bool:
    """Write the state row of ``sentence_id`` without changing it: takes SQLite's write lock and PostgreSQL's row
    lock, so the reads that follow in the transaction see the newest data. False when the item has no state."""
    state = state_table.c
    result = session.execute(update(state_table).where(state.sentence_id == sentence_id).values(votes=state.votes))
    return bool(cast(CursorResult[Any], result).rowcount)


def state_votes(session: Session, sentence_id: int) -> AnyRow:
    """The ``corpus_id``, ``votes`` and ``final`` columns of the state of ``sentence_id`` (which must exist)."""
    state = state_table.c
    return session.execute(
        select(state.corpus_id, state.votes, state.final).where(state.sentence_id == sentence_id)
    ).one()


def delete_expired_leases(session: Session, sentence_id: int, now: datetime) -> None:
    """Remove the leases on ``sentence_id`` that expired by ``now``."""
    lease = lease_table.c
    session.execute(delete(lease_table).where(lease.sentence_id == sentence_id, lease.expires_at <= now))


def other_leases(session: Session, sentence_id: int, reviewer: str) -> int:
    """How many leases on ``sentence_id`` reviewers other than ``reviewer`` hold (expired ones included: delete
    those first)."""
    lease = lease_table.c
    query = select(func.count()).where(lease.sentence_id == sentence_id, lease.reviewer != reviewer)
    return session.scalar(query) or 0


def save_lease(session: Session, sentence_id: int, reviewer: str, corpus_id: int, expires_at: datetime) -> None:
    """Lease ``sentence_id`` to ``reviewer`` until ``expires_at`` (or move their lease's end there)."""
    values = {"expires_at": expires_at}
    key = {"sentence_id": sentence_id, "reviewer": reviewer, "corpus_id": corpus_id}
    upsert(session, lease_table, {**key, **values}, ["sentence_id", "reviewer"], values)


def delete_lease(session: Session, sentence_id: int, reviewer: str) -> None:
    """End ``reviewer``'s lease on ``sentence_id`` (nothing happens when they hold none)."""
    lease = lease_table.c
    session.execute(delete(lease_table).where(lease.sentence_id == sentence_id, lease.reviewer == reviewer))


def has_room(reviewer: str, overlap: int, now: datetime) -> ColumnElement[bool]:
    """A queue condition on review states: the item's votes and the other reviewers' live leases leave room for
    one more reviewer (a correlated count over the lease primary key: cheap per row)."""
    lease = lease_table.c
    others = (
        select(func.count())
        .where(lease.sentence_id == state_table.c.sentence_id, lease.reviewer != reviewer, lease.expires_at > now)
        .scalar_subquery()
    )
    return state_table.c.votes + others < overlap


def live_leases(session: Session, corpus_id: int, now: datetime) -> list[tuple[int, str, datetime]]:
    """The leases of corpus ``corpus_id`` live at ``now``: (sentence id, reviewer, expiry), by sentence and
    reviewer."""
    lease = lease_table.c
    rows = session.execute(
        select(lease.sentence_id, lease.reviewer, lease.expires_at)
        .where(lease.corpus_id == corpus_id, lease.expires_at > now)
        .order_by(lease.sentence_id, lease.reviewer)
    )
    return [(row.sentence_id, row.reviewer, row.expires_at) for row in rows]


def holders(session: Session, sentence_id: int, reviewer: str, now: datetime) -> list[str]:
    """The reviewers other than ``reviewer`` with a lease on ``sentence_id`` live at ``now``, by name."""
    lease = lease_table.c
    return list(
        session.scalars(
            select(lease.reviewer)
            .where(lease.sentence_id == sentence_id, lease.reviewer != reviewer, lease.expires_at > now)
            .order_by(lease.reviewer)
        )
    )


def preference_row(session: Session, reviewer: str, corpus_id: int) -> AnyRow | None:
    """``reviewer``'s saved queue choices row for corpus ``corpus_id``, or None."""
    table = preference_table
    return session.execute(
        select(table).where(table.c.reviewer == reviewer, table.c.corpus_id == corpus_id)
    ).one_or_none()


def save_preferences(session: Session, reviewer: str, corpus_id: int, values: Mapping[str, Any]) -> None:
    """Insert or update ``reviewer``'s queue choices for corpus ``corpus_id`` (one upsert)."""
    row = {"reviewer": reviewer, "corpus_id": corpus_id, **values}
    upsert(session, preference_table, row, ["reviewer", "corpus_id"], dict(values))
