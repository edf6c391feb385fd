"""Alignment and projection runs of a corpus: finding them, listing them with their sizes, writing one.

Runs are returned as rows for the services' own use; services hand callers plain data made from them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from xner.store.models import Alignment, AlignmentRun, Corpus, Projection, ProjectionRun, ReviewState
from xner.store.queries.corpora import is_visible

# --- alignment runs ----------------------------------------------------------------------------------------------


def alignment_run(session: Session, corpus_id: int, run_id: int, *, exclude: int | None = None) -> AlignmentRun | None:
    """Alignment run ``run_id`` of corpus ``corpus_id`` (None when it has none, or when it is ``exclude``)."""
    query = select(AlignmentRun).where(AlignmentRun.corpus_id == corpus_id)
    if exclude is not None:
        query = query.where(AlignmentRun.id != exclude)
    return session.scalars(query.where(AlignmentRun.id == run_id)).one_or_none()


def newest_alignment_run(session: Session, corpus_id: int, *, exclude: int | None = None) -> AlignmentRun | None:
    """The newest alignment run of corpus ``corpus_id`` other than ``exclude`` (None when it has none)."""
    query = select(AlignmentRun).where(AlignmentRun.corpus_id == corpus_id)
    if exclude is not None:
        query = query.where(AlignmentRun.id != exclude)
    return session.scalars(query.order_by(AlignmentRun.id.desc()).limit(1)).one_or_none()


def alignment_run_ids(session: Session, corpus_id: int) -> list[int]:
    """The ids of the alignment runs of corpus ``corpus_id``."""
    return list(session.scalars(select(AlignmentRun.id).where(AlignmentRun.corpus_id == corpus_id)))


def alignment_runs(
    session: Session, corpus_id: int, *, aligner: str | None = None, newest_first: bool = False
) -> Iterable[AlignmentRun]:
    """The alignment runs of corpus ``corpus_id`` (of ``aligner`` only, when given), oldest first (or newest)."""
    query = select(AlignmentRun).where(AlignmentRun.corpus_id == corpus_id)
    if aligner is not None:
        query = query.where(AlignmentRun.aligner == aligner)
    return session.scalars(query.order_by(AlignmentRun.id.desc() if newest_first else AlignmentRun.id))


def alignment_pair_counts(session: Session, corpus_id: int) -> dict[int, int]:
    """How many pairs each alignment run of corpus ``corpus_id`` has links for, by run id (runs without rows are
    left out)."""
    rows = session.execute(
        select(Alignment.run_id, func.count())
        .join(AlignmentRun, AlignmentRun.id == Alignment.run_id)
        .where(AlignmentRun.corpus_id == corpus_id)
        .group_by(Alignment.run_id)
    )
    return {run_id: count for run_id, count in rows}


def visible_alignment_run(session: Session, run_id: int) -> tuple[AlignmentRun, Corpus] | None:
    """Alignment run ``run_id`` with its corpus, whatever the corpus (None when there is no such run, or its corpus
    is not visible: still being imported or removed)."""
    row = session.execute(
        select(AlignmentRun, Corpus)
        .join(Corpus, Corpus.id == AlignmentRun.corpus_id)
        .where(AlignmentRun.id == run_id, is_visible())
    ).one_or_none()
    return None if row is None else (row[0], row[1])


def visible_alignment_runs(session: Session) -> list[tuple[int, str, str]]:
    """Every alignment run of a visible corpus as ``(run id, aligner, corpus name)``, oldest first."""
    rows = session.execute(
        select(AlignmentRun.id, AlignmentRun.aligner, Corpus.name)
        .join(Corpus, Corpus.id == AlignmentRun.corpus_id)
        .where(is_visible())
        .order_by(AlignmentRun.id)
    )
    return [(run_id, aligner, name) for run_id, aligner, name in rows]


# --- projection runs ---------------------------------------------------------------------------------------------


def projection_run(session: Session, corpus_id: int, run_id: int | None) -> ProjectionRun | None:
    """Projection run ``run_id`` of corpus ``corpus_id``, or its newest one when ``run_id`` is None (None when there
    is no such run)."""
    query = select(ProjectionRun).where(ProjectionRun.corpus_id == corpus_id)
    if run_id is not None:
        query = query.where(ProjectionRun.id == run_id)
    return session.scalars(query.order_by(ProjectionRun.id.desc()).limit(1)).one_or_none()


def projection_runs(session: Session, corpus_id: int) -> Iterable[ProjectionRun]:
    """The projection runs of corpus ``corpus_id``, oldest first."""
    return session.scalars(select(ProjectionRun).where(ProjectionRun.corpus_id == corpus_id).order_by(ProjectionRun.id))


def projection_pair_counts(session: Session, corpus_id: int) -> dict[int, int]:
    """How many pairs each projection run of corpus ``corpus_id`` has a row for, by run id (runs without rows are
    left out)."""
    rows = session.execute(
        select(Projection.run_id, func.count())
        .join(ProjectionRun, ProjectionRun.id == Projection.run_id)
        .where(ProjectionRun.corpus_id == corpus_id)
        .group_by(Projection.run_id)
    )
    return {run_id: count for run_id, count in rows}


def suggestion_counts(session: Session, corpus_id: int) -> dict[int, int]:
    """How many review states of corpus ``corpus_id`` take their suggestion from each projection run, by run id."""
    rows = session.execute(
        select(ReviewState.run_id, func.count())
        .where(ReviewState.corpus_id == corpus_id, ReviewState.run_id.is_not(None))
        .group_by(ReviewState.run_id)
    )
    return {run_id: count for run_id, count in rows if run_id is not None}  # none is: the filter; for the checker


def add_projection_run(
    session: Session,
    corpus_id: int,
    *,
    method: str,
    alignment_run_id: int | None,
    params: Mapping[str, Any],
    created_by: str,
) -> int:
    """A new projection run of corpus ``corpus_id`` in this transaction; returns its id."""
    run = ProjectionRun(corpus_id=corpus_id, method=method, alignment_run_id=alignment_run_id, created_by=created_by)
    run.params = dict(params)
    session.add(run)
    session.flush()
    return run.id


def insert_projections(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert projection rows (``run_id``, ``pair_id``, ``spans`` records, ``confidence``) in one Core statement."""
    session.execute(insert(Projection), rows)
