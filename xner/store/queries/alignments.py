"""The rows of one alignment run: whether they carry directional links, and those links a page at a time.

The Pharaoh text is returned as stored; parsing it is a format's work, done by the services.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from xner.store.models import Alignment
from xner.store.paging import PAGE_SIZE, keyset_page


def directional_counts(session: Session, run_id: int) -> tuple[int, int]:
    """``(rows, rows with directional links)`` of alignment run ``run_id``."""
    rows, directional = session.execute(
        select(func.count(), func.count(Alignment.forward)).where(Alignment.run_id == run_id)
    ).one()
    return rows, directional


def directional_page(
    session: Session, run_id: int, *, after: int | None = None, size: int = PAGE_SIZE
) -> list[tuple[int, str, str]]:
    """The next ``size`` rows of alignment run ``run_id`` after pair id ``after`` (from the first when None), in pair
    id order, as ``(pair id, forward links, reverse links)``: one range read of the (run, pair) index, for paging
    across transactions (a short read, then a short write of the derived rows)."""
    query = select(Alignment.pair_id, Alignment.forward, Alignment.reverse).where(
        Alignment.run_id == run_id, Alignment.forward.is_not(None)
    )
    rows: Sequence = keyset_page(session, query, Alignment.pair_id, after=after, size=size)
    return [(pair_id, forward, reverse) for pair_id, forward, reverse in rows]


def replace_shard_alignments(
    session: Session, *, run_id: int, first_id: int, last_id: int, rows: Sequence[dict[str, object]]
) -> None:
    """Make ``rows`` (``pair_id``, ``links``, ``forward``, ``reverse``) the rows of alignment run ``run_id`` for the
    pairs with ids in ``[first_id, last_id]``: an earlier try of the same shard is removed first, in the same
    transaction, so a shard aligned again neither duplicates nor loses a row."""
    session.execute(
        delete(Alignment).where(Alignment.run_id == run_id, Alignment.pair_id >= first_id, Alignment.pair_id <= last_id)
    )
    if rows:
        session.execute(insert(Alignment), [{"run_id": run_id, **row} for row in rows])
