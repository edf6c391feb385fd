"""Deleting a corpus or a run: what it would remove, its review use, hiding it (as itself or under a staging
corpus, both being removed), and the append-only deletion log. The rows are removed by
:func:`xner.store.staging.discard_corpus`."""

from __future__ import annotations

import uuid
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, func, select, update
from sqlalchemy.orm import Session

from xner.store.models import (
    Alignment,
    AlignmentRun,
    Corpus,
    DeletionLog,
    Entity,
    Projection,
    ProjectionRun,
    ReviewEvent,
    ReviewLease,
    ReviewState,
    Sentence,
    SentencePair,
    SpotCheck,
    utcnow,
)
from xner.store.queries.review import is_reviewed
from xner.store.staging import DISCARDING, STAGING_PREFIX
from xner.types import ReviewStatus

UNREVIEWED = ReviewStatus.UNREVIEWED.value


def _count(session: Session, model: type, *conditions: ColumnElement[bool]) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0


def _states(
    *, corpus_id: int | None = None, alignment_run_id: int | None = None, projection_run_id: int | None = None
) -> ColumnElement[bool]:
    """The review states of a corpus, of the projection runs over an alignment run, or of a projection run."""
    if corpus_id is not None:
        return ReviewState.corpus_id == corpus_id
    if alignment_run_id is not None:
        return ReviewState.run_id.in_(
            select(ProjectionRun.id).where(ProjectionRun.alignment_run_id == alignment_run_id)
        )
    return ReviewState.run_id == projection_run_id


def corpus_counts(session: Session, corpus_id: int) -> dict[str, int]:
    """What deleting the corpus removes, by what it is (in the order a plan shows them)."""
    alignment_runs = select(AlignmentRun.id).where(AlignmentRun.corpus_id == corpus_id)
    projection_runs = select(ProjectionRun.id).where(ProjectionRun.corpus_id == corpus_id)
    return {
        "pairs": _count(session, SentencePair, SentencePair.corpus_id == corpus_id),
        "sentences": _count(session, Sentence, Sentence.corpus_id == corpus_id),
        "entities": _count(session, Entity, Entity.corpus_id == corpus_id),
        "alignment runs": _count(session, AlignmentRun, AlignmentRun.corpus_id == corpus_id),
        "alignments": _count(session, Alignment, Alignment.run_id.in_(alignment_runs)),
        "projection runs": _count(session, ProjectionRun, ProjectionRun.corpus_id == corpus_id),
        "projections": _count(session, Projection, Projection.run_id.in_(projection_runs)),
        "review states": _count(session, ReviewState, ReviewState.corpus_id == corpus_id),
        "review events": _count(session, ReviewEvent, ReviewEvent.corpus_id == corpus_id),
        "spot checks": _count(session, SpotCheck, SpotCheck.corpus_id == corpus_id),
    }


def alignment_run_counts(session: Session, run_id: int) -> dict[str, int]:
    """What deleting the alignment run removes (its links), and the projection runs that lose their link to it."""
    return {
        "alignments": _count(session, Alignment, Alignment.run_id == run_id),
        "projection runs unlinked": _count(session, ProjectionRun, ProjectionRun.alignment_run_id == run_id),
    }


def projection_run_counts(session: Session, run_id: int) -> dict[str, int]:
    """What deleting the projection run removes (its spans, its spot checks), and the review states that lose
    their link to it."""
    return {
        "projections": _count(session, Projection, Projection.run_id == run_id),
        "spot checks": _count(session, SpotCheck, SpotCheck.run_id == run_id),
        "review states unlinked": _count(session, ReviewState, _states(projection_run_id=run_id)),
    }


def decided_count(
    session: Session, *, alignment_run_id: int | None = None, projection_run_id: int | None = None
) -> int:
    """The reviewed states suggested by the projection run (or by the projection runs over the alignment run)."""
    states = _states(alignment_run_id=alignment_run_id, projection_run_id=projection_run_id)
    return _count(session, ReviewState, states, is_reviewed())


def queued_and_open(
    session: Session,
    *,
    corpus_id: int | None = None,
    alignment_run_id: int | None = None,
    projection_run_id: int | None = None,
) -> tuple[int, int]:
    """Of the review states of a corpus or a run (see :func:`decided_count`): how many are queued unreviewed, and
    how many are open on a reviewer's screen now (an active lease)."""
    states = _states(corpus_id=corpus_id, alignment_run_id=alignment_run_id, projection_run_id=projection_run_id)
    queued = _count(session, ReviewState, states, ReviewState.status == UNREVIEWED)
    open_now = session.scalar(
        select(func.count(func.distinct(ReviewLease.sentence_id)))
        .join(ReviewState, ReviewState.sentence_id == ReviewLease.sentence_id)
        .where(states, ReviewLease.expires_at > utcnow())
    )
    return queued, open_now or 0


def visible_run(
    session: Session, model: type[AlignmentRun] | type[ProjectionRun], run_id: int
) -> tuple[AlignmentRun | ProjectionRun, Corpus] | None:
    """Run ``run_id`` of ``model`` and its corpus, when both exist and the corpus is visible."""
    run = cast(AlignmentRun | ProjectionRun | None, session.get(model, run_id))
    corpus = session.get(Corpus, run.corpus_id) if run is not None else None
    if run is not None and corpus is not None and corpus.import_state is None:
        return run, corpus
    return None


def hide_corpus(session: Session, corpus_id: int, owner: str) -> bool:
    """Hide the visible corpus as being removed by ``owner``; False when it is gone or hidden already."""
    now = utcnow()
    hidden = cast(
        CursorResult[Any],
        session.execute(
            update(Corpus)
            .where(Corpus.id == corpus_id, Corpus.import_state.is_(None))
            .values(import_state=DISCARDING, import_owner=owner, import_started_at=now, import_heartbeat_at=now)
        ),
    )
    return hidden.rowcount == 1


def add_staging_corpus(session: Session, corpus: Corpus, owner: str, description: str) -> int:
    """A hidden staging corpus (being removed by ``owner``) like ``corpus``, to take a run out of sight; its id."""
    now = utcnow()
    staging = Corpus(
        name=f"{STAGING_PREFIX}{uuid.uuid4().hex}",
        kind=corpus.kind,
        src_lang=corpus.src_lang,
        tgt_lang=corpus.tgt_lang,
        labels=[],
        description=description,
        import_state=DISCARDING,
        import_owner=owner,
        import_started_at=now,
        import_heartbeat_at=now,
    )
    session.add(staging)
    session.flush()
    return staging.id


def hide_alignment_run(session: Session, run_id: int, staging_id: int) -> None:
    """Move the alignment run under the staging corpus; the projection runs over it lose their link to it."""
    session.execute(update(ProjectionRun).where(ProjectionRun.alignment_run_id == run_id).values(alignment_run_id=None))
    session.execute(update(AlignmentRun).where(AlignmentRun.id == run_id).values(corpus_id=staging_id))


def hide_projection_run(session: Session, run_id: int, staging_id: int) -> None:
    """Move the projection run and its spot checks under the staging corpus; the review states it suggested lose
    their link to it."""
    session.execute(update(ReviewState).where(ReviewState.run_id == run_id).values(run_id=None))
    session.execute(update(SpotCheck).where(SpotCheck.run_id == run_id).values(corpus_id=staging_id))
    session.execute(update(ProjectionRun).where(ProjectionRun.id == run_id).values(corpus_id=staging_id))


def log_deletion(session: Session, **values: Any) -> int:
    """Append a row to the deletion log (``deleted_by``, ``kind``, ``name``, ``corpus``, ``detail``, ``counts``,
    ``forced``, ``reasons``), stamped now; its id."""
    row = DeletionLog(deleted_at=utcnow(), **values)
    session.add(row)
    session.flush()
    return row.id


def deletion_log(session: Session, limit: int) -> list[DeletionLog]:
    """The newest ``limit`` rows of the deletion log, newest first."""
    return list(session.scalars(select(DeletionLog).order_by(DeletionLog.id.desc()).limit(limit)))
