"""Review states: the one definition of each group of review statuses, as SQL conditions and as counts.

- *reviewed*: a reviewer decided the sentence: :data:`~xner.types.REVIEWED_STATUSES` (accepted, corrected,
  rejected);
- *curated*: reviewed and usable as data: :data:`~xner.types.CURATED_STATUSES` (accepted, corrected);
- *unreviewed*: every other reviewable sentence (the target of a pair, or a sentence of a monolingual corpus),
  whether the review queue holds a suggestion for it (a state in status ``unreviewed``) or not (no state yet);
- *queued*: the unreviewed sentences the queue holds, the queue's own count (:func:`queued_count`).

:func:`review_progress` is what every page and command shows as review progress (Home, Review, ``xner stats``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import QueryableAttribute, Session

from xner.store.models import ReviewState, Sentence, SentencePair
from xner.store.paging import PAGE_SIZE
from xner.types import CURATED_STATUSES, REVIEWED_STATUSES, ReviewStatus, Span


def is_reviewed(status: ColumnElement[Any] | QueryableAttribute[Any] = ReviewState.status) -> ColumnElement[bool]:
    """The SQL condition "``status`` is a reviewed status" (accepted, corrected or rejected)."""
    return status.in_([s.value for s in REVIEWED_STATUSES])


def is_curated(status: ColumnElement[Any] | QueryableAttribute[Any] = ReviewState.status) -> ColumnElement[bool]:
    """The SQL condition "``status`` is a curated status" (accepted or corrected)."""
    return status.in_([s.value for s in CURATED_STATUSES])


def status_is_reviewed(status: str | None) -> bool:
    """Whether a stored status (None: no state yet) is a reviewed one.

    >>> [status_is_reviewed(s) for s in (None, "unreviewed", "accepted", "rejected")]
    [False, False, True, True]
    """
    return status is not None and ReviewStatus(status).is_reviewed


def status_counts(session: Session, corpus_id: int, statuses: Iterable[ReviewStatus] = ReviewStatus) -> dict[str, int]:
    """The review states of corpus ``corpus_id`` in each of ``statuses`` (for ``unreviewed``: the queued items),
    one count per status, each along the review-state index (cheaper than a GROUP BY pass over the corpus)."""
    counts = {}
    for status in statuses:
        query = select(func.count()).where(ReviewState.corpus_id == corpus_id, ReviewState.status == status.value)
        counts[status.value] = session.scalar(query) or 0
    return counts


def corpus_review_states(session: Session, corpus_id: int) -> dict[int, tuple[str, tuple[Span, ...] | None]]:
    """The review status and curated spans (None where none were saved) of every reviewed sentence of the corpus,
    by sentence id."""
    rows = session.execute(
        select(ReviewState.sentence_id, ReviewState.status, ReviewState.spans).where(ReviewState.corpus_id == corpus_id)
    )
    return {sentence_id: (status, spans) for sentence_id, status, spans in rows}


def curated_labels(session: Session, corpus_id: int) -> set[str]:
    """Every label a curator used in the corpus's review states (one streamed pass)."""
    labels: set[str] = set()
    curated = select(ReviewState.spans).where(ReviewState.corpus_id == corpus_id)
    for spans in session.scalars(curated.execution_options(yield_per=PAGE_SIZE)):
        labels.update(span.label for span in spans or ())
    return labels


def queued_count(session: Session, corpus_id: int) -> int:
    """The unreviewed items of corpus ``corpus_id`` in its review queue (states with a suggestion, undecided)."""
    return status_counts(session, corpus_id, [ReviewStatus.UNREVIEWED])[ReviewStatus.UNREVIEWED.value]


def reviewable_count(session: Session, corpus_id: int, *, parallel: bool) -> int:
    """The reviewable sentences of corpus ``corpus_id``: the targets of its pairs, or (``parallel`` False) its
    monolingual sentences."""
    if parallel:
        query = select(func.count()).where(SentencePair.corpus_id == corpus_id)
    else:
        query = select(func.count()).where(Sentence.corpus_id == corpus_id, Sentence.side == "mono")
    return session.scalar(query) or 0


def review_progress(session: Session, corpus_id: int, *, parallel: bool) -> dict[str, int]:
    """The reviewable sentences of corpus ``corpus_id`` per review status, by the definitions above: each reviewed
    status counted, ``unreviewed`` the rest (queued or not). The counts add up to :func:`reviewable_count`."""
    progress = status_counts(session, corpus_id, REVIEWED_STATUSES)
    reviewable = reviewable_count(session, corpus_id, parallel=parallel)
    return {ReviewStatus.UNREVIEWED.value: reviewable - sum(progress.values()), **progress}


def reviewed_count(progress: Mapping[str, int]) -> int:
    """The reviewed sentences of a :func:`review_progress` (or :func:`status_counts`) result.

    >>> reviewed_count({"unreviewed": 5, "accepted": 2, "corrected": 1, "rejected": 1})
    4
    """
    return sum(progress.get(status.value, 0) for status in REVIEWED_STATUSES)


def curated_count(progress: Mapping[str, int]) -> int:
    """The curated sentences of a :func:`review_progress` (or :func:`status_counts`) result.

    >>> curated_count({"unreviewed": 5, "accepted": 2, "corrected": 1, "rejected": 1})
    3
    """
    return sum(progress.get(status.value, 0) for status in CURATED_STATUSES)
