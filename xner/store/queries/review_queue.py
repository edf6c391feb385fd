"""The review queue's reads: the first item after the filters along the queue indexes (:func:`first_in_queue`),
how many items match (:func:`queue_remaining`), and the projection rows that queueing a run reads.

The queue is read one status at a time along an index, ``(corpus, status, confidence, sentence)`` or
``(corpus, status, disagreement, sentence)``, taking the first row after the filters: never a full-table read.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select, tuple_
from sqlalchemy.orm import Session

from xner.errors import XnerError
from xner.store.models import Projection, ProjectionRun
from xner.store.models import SentencePair as PairRow
from xner.store.paging import AnyRow, keyset_page
from xner.store.queries.leases import has_room
from xner.store.queries.review_states import event_table, state_table
from xner.types import REVIEWED_STATUSES


@dataclass(frozen=True)
class QueueFilter:
    """The filters of a queue, split into those an index range answers (corpus, status, confidence range) and
    those checked row by row (labels, reviewers), plus the skipped sentences.

    ``decisions``: the event actions that count as a reviewer's decision (for ``reviewer`` and
    ``not_decided_by``); ``overlap`` > 1: decided items still short of this many reviewers are in the queue too.
    """

    corpus_id: int
    statuses: Sequence[str]
    labels: Collection[str] | None = None
    min_confidence: float | None = None
    max_confidence: float | None = None
    reviewer: str | None = None
    not_decided_by: str | None = None
    skip: Collection[int] = ()
    overlap: int = 1
    decisions: Collection[str] = ()

    def partitions(self) -> list[list[Any]]:
        """The index ranges the queue reads, one ``LIMIT 1`` each: a status each, and with an overlap of N, each
        reviewed status with each vote count below N (items not settled by an adjudication)."""
        state = state_table.c
        ranges = [[state.status == status] for status in self.statuses]
        for status in REVIEWED_STATUSES if self.overlap > 1 else ():
            for votes in range(1, self.overlap):
                ranges.append([state.status == status.value, state.votes == votes, state.final.is_(False)])
        return ranges

    def ranged(self) -> list[Any]:
        conditions: list[Any] = [state_table.c.corpus_id == self.corpus_id]
        if self.min_confidence is not None:
            conditions.append(state_table.c.confidence >= self.min_confidence)
        if self.max_confidence is not None:
            conditions.append(state_table.c.confidence <= self.max_confidence)
        return conditions

    def scanned(self) -> list[Any]:
        conditions: list[Any] = []
        if self.labels:
            wanted = (state_table.c.labels.contains(f" {label} ", autoescape=True) for label in self.labels)
            conditions.append(or_(*wanted))
        if self.reviewer:
            conditions.append(self._decided_by(self.reviewer))
        if self.not_decided_by:
            conditions.append(~self._decided_by(self.not_decided_by))
        return conditions

    def conditions(self) -> list[Any]:
        skipped = [state_table.c.sentence_id.not_in(list(self.skip))] if self.skip else []
        return [*self.ranged(), *self.scanned(), *skipped]

    def matches(self, corpus_id: int, status: str, confidence: float | None) -> bool:
        """Whether a state with these columns passes the index-range filters."""
        if corpus_id != self.corpus_id or status not in self.statuses:
            return False
        low, high = self.min_confidence, self.max_confidence
        if low is None and high is None:
            return True
        return confidence is not None and (low is None or confidence >= low) and (high is None or confidence <= high)

    def _decided_by(self, reviewer: str) -> ColumnElement[bool]:
        return exists(
            select(event_table.c.id).where(
                event_table.c.sentence_id == state_table.c.sentence_id,
                event_table.c.reviewer == reviewer,
                event_table.c.action.in_(list(self.decisions)),
            )
        )


def queue_remaining(session: Session, queue: QueueFilter, progress: Mapping[str, int], *, cap: int) -> tuple[int, bool]:
    """How many items match ``queue``: exact when the index answers it (``progress``: the corpus's counts per
    status); with row-checked filters, counted up to ``cap`` (and then not exact) so that a count never reads a
    whole corpus row by row."""
    status = or_(*(and_(*partition) for partition in queue.partitions()))
    if queue.scanned():
        matching = select(state_table.c.sentence_id).where(*queue.conditions(), status).limit(cap + 1)
        count = session.scalar(select(func.count()).select_from(matching.subquery())) or 0
        return min(count, cap), count <= cap
    if queue.min_confidence is None and queue.max_confidence is None:
        total = sum(progress.get(name, 0) for name in queue.statuses)
    else:
        total = session.scalar(select(func.count()).select_from(state_table).where(*queue.ranged(), status)) or 0
    if queue.skip:  # fetched by primary key and checked here: a filtered count would scan the corpus
        rows = session.execute(
            select(state_table.c.corpus_id, state_table.c.status, state_table.c.confidence).where(
                state_table.c.sentence_id.in_(list(queue.skip))
            )
        )
        total -= sum(queue.matches(*row) for row in rows)
    return total, True


def first_in_queue(
    session: Session,
    queue: QueueFilter,
    order: str,
    *,
    corpus_name: str,
    after: int | None = None,
    room_for: tuple[str, int, datetime] | None = None,
    lock: bool = False,
) -> int | None:
    """The first sentence in queue order (``order``: ``confidence`` ascending or ``disagreement`` descending, ties
    by sentence id the same way): one index-ordered ``LIMIT 1`` read per partition (a status, or a status and vote
    count), the best of them.

    Args:
        corpus_name: names the corpus in the error for an ``after`` outside the queue.
        after: continue after this sentence id, in queue order.
        room_for: (reviewer, overlap, now): only items whose votes and other reviewers' live leases leave room
            for this reviewer (:func:`xner.store.queries.leases.has_room`).
        lock: (PostgreSQL, in a write): each read locks the row it returns and passes over rows other
            transactions have locked (``FOR UPDATE SKIP LOCKED``).
    """
    key = state_table.c.confidence if order == "confidence" else state_table.c.disagreement
    descending = order == "disagreement"
    conditions = [*queue.conditions(), *([has_room(*room_for)] if room_for is not None else [])]
    keyset: list[Any] = []
    if after is not None:
        start = session.execute(
            select(key, state_table.c.sentence_id).where(
                state_table.c.sentence_id == after, state_table.c.corpus_id == queue.corpus_id
            )
        ).one_or_none()
        if start is None:
            raise XnerError(f"sentence {after} is not in the review queue of corpus {corpus_name!r}")
        position = tuple_(key, state_table.c.sentence_id)
        keyset.append(position < tuple_(*start) if descending else position > tuple_(*start))
    ordering = (key.desc(), state_table.c.sentence_id.desc()) if descending else (key, state_table.c.sentence_id)
    found = []
    for partition in queue.partitions():
        query: Select[Any] = (
            select(key, state_table.c.sentence_id).where(*conditions, *keyset, *partition).order_by(*ordering).limit(1)
        )
        if lock:
            query = query.with_for_update(skip_locked=True, of=state_table)
        row = session.execute(query).one_or_none()
        if row is not None:
            found.append(tuple(row))
    if not found:
        return None
    best = max(found) if descending else min(found)
    return best[1]


def run_pair_count(session: Session, run_id: int) -> int:
    """The pairs projection run ``run_id`` has a row for."""
    return session.scalar(select(func.count()).where(Projection.run_id == run_id)) or 0


def run_queue_page(session: Session, run_id: int, *, after: int) -> Sequence[AnyRow]:
    """One page of the projections of run ``run_id`` after pair id ``after``, by pair id: ``pair_id``, ``spans``
    (stored records), ``confidence`` and the pair's ``tgt_sentence_id``."""
    query = (
        select(Projection.pair_id, Projection.spans, Projection.confidence, PairRow.tgt_sentence_id)
        .join(Projection.pair)
        .where(Projection.run_id == run_id)
    )
    return keyset_page(session, query, Projection.pair_id, after=after)


def run_methods(session: Session, corpus_id: int) -> dict[int, str]:
    """The projection runs of corpus ``corpus_id``: run id -> method."""
    query = select(ProjectionRun.id, ProjectionRun.method).where(ProjectionRun.corpus_id == corpus_id)
    return {run_id: method for run_id, method in session.execute(query)}


def projection_runs(session: Session, corpus_id: int) -> Sequence[AnyRow]:
    """The projection runs of corpus ``corpus_id``, oldest first: ``id``, ``method``, ``alignment_run_id``,
    ``created_at``, ``created_by``."""
    return session.execute(
        select(
            ProjectionRun.id,
            ProjectionRun.method,
            ProjectionRun.alignment_run_id,
            ProjectionRun.created_at,
            ProjectionRun.created_by,
        )
        .where(ProjectionRun.corpus_id == corpus_id)
        .order_by(ProjectionRun.id)
    ).all()
