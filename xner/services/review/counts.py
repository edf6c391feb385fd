"""A corpus's review counts, kept until its review revision changes.

The progress the Review page shows on every run (the reviewable sentences per status, the queue's unreviewed
items) is two counts over every pair and every review state of the corpus: ~10 ms at 100k pairs, a quarter of a
page run. The counts only change through the writes that raise the corpus's review revision in their own
transaction (``xner.store.queries.review_states.raise_review_revision``: queueing, decisions, undo, publishing
appended pairs), so they are kept per store and corpus with the revision they
were counted at, and a page run reads one row to know whether they still hold.

Why this is never older than the data: the revision is read before the counts, and both writes land in one
commit; counts read after the revision include at least every write up to it. A write committed in between makes
the counts newer than their revision, which only costs one count more when the next reader sees the new revision.

A decision changes one state's status, and raises the revision by one under the revision row's lock: when the kept
counts are those of the revision just before, the decision's own change is applied to them (:func:`note_decision`,
after its commit), so the page run after an accept counts nothing either. Any other gap (somebody else's write in
between) drops them, and the next reader counts.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from xner.store.db import Session, Store, after_commit
from xner.store.models import Corpus
from xner.store.queries.review import queued_count, review_progress
from xner.store.queries.review_states import review_revision
from xner.types import ReviewStatus

KEPT_CORPORA = 256  # per store, least recently used dropped first


@dataclass(frozen=True, slots=True)
class ReviewCounts:
    """A corpus's review counts at one review revision."""

    progress: dict[str, int]  # reviewable sentences per status (xner.store.queries.review.review_progress)
    queued: int  # unreviewed items in the review queue (xner.store.queries.review.queued_count)

    @property
    def status_counts(self) -> dict[str, int]:
        """The review states per status as ``xner.store.queries.review.status_counts`` counts them."""
        return {**self.progress, ReviewStatus.UNREVIEWED.value: self.queued}


_Key = tuple[int, datetime | None]  # the corpus id and creation time (an id may be given again after a deletion)
# per database engine (a Store is a dataclass, not hashable; its engine is, and goes when the store is disposed of)
_kept: weakref.WeakKeyDictionary[Any, OrderedDict[_Key, tuple[int, ReviewCounts]]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def review_counts(store: Store, session: Session, corpus: Corpus) -> ReviewCounts:
    """The review counts of ``corpus`` (a visible corpus of ``store``, read in ``session``): the kept ones while its
    review revision is unchanged, else counted now and kept."""
    key = (corpus.id, corpus.created_at)
    revision = review_revision(session, corpus.id)
    with _lock:
        kept = _kept.get(store.engine)
        found = kept.get(key) if kept is not None else None
        if kept is not None and found is not None and found[0] == revision:
            kept.move_to_end(key)
            return found[1]
    counts = ReviewCounts(
        review_progress(session, corpus.id, parallel=corpus.kind == "parallel"), queued_count(session, corpus.id)
    )
    with _lock:
        kept = _kept.setdefault(store.engine, OrderedDict())
        kept[key] = (revision, counts)
        kept.move_to_end(key)
        while len(kept) > KEPT_CORPORA:
            kept.popitem(last=False)
    return counts


def note_decision(session: Session, corpus: Corpus, revision: int, before: str | None, after: str) -> None:
    """Once ``session``'s transaction commits, move the kept counts of ``corpus`` from ``revision - 1`` to
    ``revision``, the revision a decision that changed one state's status from ``before`` (None: the state did not
    exist) to ``after`` raised it to."""
    engine = session.get_bind()
    key = (corpus.id, corpus.created_at)

    def apply() -> None:
        with _lock:
            kept = _kept.get(engine)
            found = kept.get(key) if kept is not None else None
            if kept is None or found is None:
                return
            if found[0] != revision - 1:  # another write came between: count afresh next time
                del kept[key]
                return
            kept[key] = (revision, _changed(found[1], before, after))

    after_commit(session, apply)


def _changed(counts: ReviewCounts, before: str | None, after: str) -> ReviewCounts:
    """``counts`` with one state moved from status ``before`` (None: a new state) to ``after``."""
    unreviewed = ReviewStatus.UNREVIEWED.value
    total = sum(counts.progress.values())
    progress, queued = dict(counts.progress), counts.queued
    for status, step in ((before, -1), (after, 1)):
        if status == unreviewed:
            queued += step
        elif status is not None:
            progress[status] += step
    progress[unreviewed] = total - sum(n for status, n in progress.items() if status != unreviewed)
    return ReviewCounts(progress, queued)
