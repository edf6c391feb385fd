"""The review page's overview of a corpus: its projection runs, the queued run, the progress."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from xner.services.corpora import get_corpus
from xner.services.review.counts import review_counts
from xner.services.review.records import as_utc
from xner.store.db import Store
from xner.store.queries.review import curated_count, reviewed_count
from xner.store.queries.review_queue import projection_runs
from xner.store.queries.review_states import queued_run
from xner.types import ReviewStatus


@dataclass(frozen=True, slots=True)
class QueuedRunInfo:
    """One projection run of a corpus, as the review page lists it."""

    id: int
    method: str
    alignment_run_id: int | None
    created_at: datetime | None
    created_by: str = ""


@dataclass(frozen=True, slots=True)
class QueueOverview:
    """What the review page needs besides the item: the corpus's runs, whether a run is queued, the progress."""

    corpus: str
    labels: tuple[str, ...]
    runs: tuple[QueuedRunInfo, ...]  # oldest first
    queued_run: int | None  # the run suggesting the first unreviewed item (None: nothing queued yet)
    progress: dict[str, int]  # reviewable sentences per status (xner.store.queries.review.review_progress)
    total: int  # reviewable (target) sentences
    queued: int = 0  # unreviewed items in the review queue (sentences with a queued suggestion)

    @property
    def status_counts(self) -> dict[str, int]:
        """The corpus's review states per status, as :func:`xner.store.queries.review.status_counts` counts them
        (``unreviewed``: the queued items), for :func:`~xner.services.review.next_item` to reuse."""
        return {**self.progress, ReviewStatus.UNREVIEWED.value: self.queued}

    @property
    def reviewed(self) -> int:
        """The reviewable sentences a reviewer decided (:mod:`xner.store.queries.review`)."""
        return reviewed_count(self.progress)

    @property
    def curated(self) -> int:
        """The reviewable sentences accepted or corrected (:mod:`xner.store.queries.review`)."""
        return curated_count(self.progress)


def queue_overview(store: Store, corpus: str) -> QueueOverview:
    """The projection runs, the queued run and the review progress of ``corpus``: index reads, and counts only when
    the corpus's review revision changed since they were last counted (:mod:`.counts`).

    Raises:
        XnerError: unknown corpus.
    """
    with store.session() as session:
        found = get_corpus(session, corpus)
        runs = projection_runs(session, found.id)
        queued = queued_run(session, found.id)
        counts = review_counts(store, session, found)
        return QueueOverview(
            found.name,
            tuple(sorted(found.labels)),
            tuple(QueuedRunInfo(r.id, r.method, r.alignment_run_id, as_utc(r.created_at), r.created_by) for r in runs),
            queued,
            dict(counts.progress),
            sum(counts.progress.values()),
            counts.queued,
        )
