"""A reviewer's queue choices per corpus (order, items, labels, confidence range), kept in ``review_preference`` so
the Review page restores them in the reviewer's next session.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from xner.errors import UnknownNameError, XnerError
from xner.services.corpora import get_corpus
from xner.services.review.records import ORDERS, check_reviewer
from xner.store.db import Store
from xner.store.models import utcnow
from xner.store.queries.leases import preference_row, save_preferences

if TYPE_CHECKING:
    from xner.store.db import Session


@dataclass(frozen=True, slots=True)
class QueuePreferences:
    """What a reviewer last chose for a corpus's queue. ``status`` is the page's item choice, kept as the page
    names it (the page ignores one it no longer offers)."""

    order: str = "confidence"
    status: str = "unreviewed"
    labels: tuple[str, ...] = ()
    confidence: tuple[float, float] = (0.0, 1.0)


def queue_preferences(store: Store, corpus: str, reviewer: str) -> QueuePreferences | None:
    """The queue choices ``reviewer`` last saved for ``corpus``, or None when they saved none.

    Raises:
        XnerError: unknown corpus or an empty reviewer name.
    """
    reviewer = check_reviewer(reviewer)
    with store.session() as session:
        found = get_corpus(session, corpus)
        row = preference_row(session, reviewer, found.id)
    if row is None:
        return None
    return QueuePreferences(
        row.queue_order, row.status, tuple(row.labels or ()), (row.min_confidence, row.max_confidence)
    )


def save_queue_preferences(store: Store, corpus: str, reviewer: str, preferences: QueuePreferences) -> None:
    """Remember ``preferences`` as ``reviewer``'s queue choices for ``corpus`` (one upsert).

    Raises:
        XnerError: unknown corpus, an empty reviewer name, an unknown order or a confidence range outside 0..1.
    """
    reviewer = check_reviewer(reviewer)
    if preferences.order not in ORDERS:
        raise UnknownNameError("queue order", preferences.order, ORDERS)
    low, high = preferences.confidence
    if not 0.0 <= low <= high <= 1.0:
        raise XnerError(f"a confidence range lies within 0..1, low before high; got {low!r}..{high!r}")
    labels: Sequence[str] = sorted(set(preferences.labels))

    def save(session: Session) -> None:
        found = get_corpus(session, corpus)
        values = {
            "queue_order": preferences.order,
            "status": preferences.status,
            "labels": list(labels),
            "min_confidence": float(low),
            "max_confidence": float(high),
            "updated_at": utcnow(),
        }
        save_preferences(session, reviewer, found.id, values)

    store.write(save, what="saving your queue choices")
