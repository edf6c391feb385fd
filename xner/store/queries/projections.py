"""Projection rows: the spans a projection run proposed, read as core types (records through
:mod:`xner.store.columns`)."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Sequence
from typing import cast

from sqlalchemy import Table, delete, func, insert, select
from sqlalchemy.orm import Session

from xner.store.columns import record_confidence, record_to_projected, record_to_span
from xner.store.models import Projection, ProjectionRun, SentencePair
from xner.store.paging import PAGE_SIZE, keyset_pages
from xner.types import ProjectedSpan, Span


def insert_projections(session: Session, *, run_id: int, rows: Sequence[tuple[int, str, float]]) -> None:
    """Add the rows ``(pair id, span records as JSON text, confidence)`` to projection run ``run_id`` in one
    executemany. The records come encoded (``json.dumps``, as the JSON column writes them) so the encoding is done
    by whoever made them; SQLite stores that text as is, other databases get the records decoded."""
    if session.get_bind().dialect.name == "sqlite":
        session.connection().exec_driver_sql(
            "INSERT INTO projection (run_id, pair_id, spans, confidence) VALUES (?, ?, ?, ?)",
            [(run_id, pair_id, spans, confidence) for pair_id, spans, confidence in rows],
        )
        return
    session.execute(
        insert(cast(Table, Projection.__table__)),
        [{"run_id": run_id, "pair_id": p, "spans": json.loads(spans), "confidence": c} for p, spans, c in rows],
    )


def replace_shard_projections(
    session: Session, *, run_id: int, first_id: int, last_id: int, rows: Sequence[tuple[int, str, float]]
) -> None:
    """Make ``rows`` the rows of projection run ``run_id`` for the pairs with ids in ``[first_id, last_id]``: what an
    earlier try of the same shard wrote is removed first, in the same transaction, so a shard run again (a worker
    lost after its commit) neither duplicates nor loses a row."""
    session.execute(
        delete(Projection).where(
            Projection.run_id == run_id, Projection.pair_id >= first_id, Projection.pair_id <= last_id
        )
    )
    insert_projections(session, run_id=run_id, rows=rows)


def projected_spans(session: Session, run_id: int, pair_ids: Collection[int]) -> dict[int, list[Span]]:
    """The projected target spans of ``pair_ids`` in run ``run_id``, by pair id (pairs the run has no row for are
    left out)."""
    rows = session.execute(
        select(Projection.pair_id, Projection.spans).where(
            Projection.run_id == run_id, Projection.pair_id.in_(list(pair_ids))
        )
    )
    return {pair_id: [record_to_span(record) for record in records] for pair_id, records in rows}


def projected_details(session: Session, run_id: int, pair_ids: Collection[int]) -> dict[int, list[ProjectedSpan]]:
    """The projected spans of ``pair_ids`` in run ``run_id`` with their confidence, source span and links, in stored
    order (a spot-check item points at its span by index), by pair id."""
    method = session.scalar(select(ProjectionRun.method).where(ProjectionRun.id == run_id)) or ""
    rows = session.execute(
        select(Projection.pair_id, Projection.spans).where(
            Projection.run_id == run_id, Projection.pair_id.in_(list(pair_ids))
        )
    )
    return {pair_id: [record_to_projected(record, method) for record in records] for pair_id, records in rows}


def run_spans_and_confidence(session: Session, run_id: int) -> dict[int, tuple[list[Span], float]]:
    """Every pair of projection run ``run_id`` with its projected spans (sorted) and the run's confidence."""
    rows = session.execute(
        select(Projection.pair_id, Projection.spans, Projection.confidence).where(Projection.run_id == run_id)
    )
    return {
        pair_id: (sorted(record_to_span(record) for record in records), confidence)
        for pair_id, records, confidence in rows
    }


def iter_run_spans(
    session: Session, run_id: int, pair_range: tuple[int, int] | None = None
) -> Iterator[tuple[int, int, Span, float]]:
    """Every span of projection run ``run_id`` (of its pairs with ``low <= id < high`` when ``pair_range`` is
    given) as (pair id, index in the pair's spans, span, confidence), by pair id, a page of pairs at a time."""
    query = select(Projection.pair_id, Projection.spans).where(Projection.run_id == run_id)
    if pair_range is not None:
        query = query.where(Projection.pair_id >= pair_range[0], Projection.pair_id < pair_range[1])
    for rows in keyset_pages(session, query, Projection.pair_id):
        for pair_id, records in rows:
            for index, record in enumerate(records):
                yield pair_id, index, record_to_span(record), record_confidence(record)


def run_pair_bounds(session: Session, run_id: int) -> tuple[int, int] | None:
    """The lowest and highest pair id that projection run ``run_id`` covers, or None for an empty run."""
    low, high = session.execute(
        select(func.min(Projection.pair_id), func.max(Projection.pair_id)).where(Projection.run_id == run_id)
    ).one()
    return None if low is None else (low, high)


def run_has_spans(session: Session, run_id: int) -> bool:
    """Whether some pair of projection run ``run_id`` has a span: the database reads until the first one (a few
    rows for the usual run, one pass in SQL for an empty one; no JSON reaches Python). The review page asks on
    every run, so this must stay cheap: decoding a page of span lists took 16 ms at 100k pairs."""
    nonempty = func.json_array_length(Projection.spans) > 0  # SQLite's JSON1 and PostgreSQL's json alike
    return session.scalar(select(Projection.id).where(Projection.run_id == run_id, nonempty).limit(1)) is not None


def suggested_labels(session: Session, tgt_sentence_id: int) -> set[str]:
    """Every label the projections of every run suggest for target sentence ``tgt_sentence_id``."""
    query = select(Projection.spans).join(Projection.pair).where(SentencePair.tgt_sentence_id == tgt_sentence_id)
    return {record_to_span(record).label for records in session.scalars(query) for record in records}


def run_labels(session: Session, run_id: int) -> set[str]:
    """Every label the spans of projection run ``run_id`` use (one streamed pass over the run)."""
    labels: set[str] = set()
    query = select(Projection.spans).where(Projection.run_id == run_id)
    for records in session.scalars(query.execution_options(yield_per=PAGE_SIZE)):
        labels.update(record_to_span(record).label for record in records or ())
    return labels
