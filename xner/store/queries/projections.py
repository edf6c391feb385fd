"""Projection rows: the spans a projection run proposed, read as core types (records through
:mod:`xner.store.columns`)."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Sequence
from typing import cast

from sqlalchemy import Table, insert, select
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


def iter_run_spans(session: Session, run_id: int) -> Iterator[tuple[int, int, Span, float]]:
    """Every span of projection run ``run_id`` as (pair id, index in the pair's spans, span, confidence), by pair
    id, a page of pairs at a time."""
    query = select(Projection.pair_id, Projection.spans).where(Projection.run_id == run_id)
    for rows in keyset_pages(session, query, Projection.pair_id):
        for pair_id, records in rows:
            for index, record in enumerate(records):
                yield pair_id, index, record_to_span(record), record_confidence(record)


def run_has_spans(session: Session, run_id: int) -> bool:
    """Whether some pair of projection run ``run_id`` has a span: reads until the first one (cheap for the usual
    run, one pass for an empty one)."""
    rows = session.execute(
        select(Projection.spans).where(Projection.run_id == run_id).execution_options(yield_per=PAGE_SIZE)
    )
    return any(records for (records,) in rows)


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
