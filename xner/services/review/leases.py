"""Work distribution: the item a reviewer is shown is leased (claimed) to them, so concurrent reviewers of one queue
get different items, and a queue's overlap says how many distinct reviewers decide each item.

- :func:`claim` leases an item for the queue's lease length (default 5 minutes) when it still has room: its
  standing votes plus the other reviewers' live leases are fewer than the overlap. ``next_item(..., claim_for=me)``
  serves only items with room and claims the one it returns.
- The page renews the lease while the item stays open (:func:`renew`), and a decision, a skip or leaving the item
  releases it (:func:`release`); a closed browser tab simply lets it expire. An expired lease is ignored everywhere
  and replaced by the next claim.
- Overlap 1 (the default): one reviewer per item. Overlap N: the item is served to N distinct reviewers, each of
  whom sees the projection's suggestion (independent reviews); the first decision is the item's state, the others
  are votes beside it, compared on the Agreement page and adjudicated where they differ.

Claiming is race-free on SQLite and PostgreSQL alike: the claim's first statement updates the item's state row,
which takes SQLite's write lock (so the counts that follow read the newest data) and PostgreSQL's row lock (so a
concurrent claim of the same item waits for this one and then sees its lease).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from xner.errors import XnerError
from xner.services.corpora import get_corpus
from xner.services.review.records import as_utc, check_reviewer
from xner.store.db import Store
from xner.store.models import utcnow
from xner.store.queries.leases import (
    delete_expired_leases,
    delete_lease,
    live_leases,
    lock_state,
    other_leases,
    save_lease,
    save_settings,
    settings_row,
    state_votes,
)

if TYPE_CHECKING:
    from xner.store.db import Session

DEFAULT_OVERLAP = 1
DEFAULT_LEASE_SECONDS = 300
MAX_OVERLAP = 20
MIN_LEASE_SECONDS = 30


@dataclass(frozen=True, slots=True)
class QueueSettings:
    """A corpus's queue settings: distinct reviewers per item, and how long a shown item stays claimed."""

    corpus: str
    overlap: int = DEFAULT_OVERLAP
    lease_seconds: int = DEFAULT_LEASE_SECONDS
    updated_by: str = ""
    updated_at: datetime | None = None


def load_settings(session: Session, corpus_id: int, name: str = "") -> QueueSettings:
    """The queue settings of corpus ``corpus_id`` (the defaults when none were set)."""
    row = settings_row(session, corpus_id)
    if row is None:
        return QueueSettings(name)
    return QueueSettings(name, row.overlap, row.lease_seconds, row.updated_by, as_utc(row.updated_at))


def queue_settings(store: Store, corpus: str) -> QueueSettings:
    """The queue settings of ``corpus``.

    Raises:
        XnerError: unknown corpus.
    """
    with store.session() as session:
        found = get_corpus(session, corpus)
        return load_settings(session, found.id, found.name)


def set_queue_settings(
    store: Store, corpus: str, *, by: str, overlap: int | None = None, lease_seconds: int | None = None
) -> QueueSettings:
    """Change the overlap and/or lease length of ``corpus``'s queue (the others keep their value).

    Raising the overlap serves decided items to more reviewers; lowering it stops serving them (votes already
    given stay in the history).

    Raises:
        XnerError: unknown corpus, an overlap outside 1..20 or a lease shorter than 30 seconds.
    """
    by = check_reviewer(by)
    if overlap is not None and not (isinstance(overlap, int) and 1 <= overlap <= MAX_OVERLAP):
        raise XnerError(f"the overlap is the number of reviewers per item, 1 to {MAX_OVERLAP}; got {overlap!r}")
    if lease_seconds is not None and not (isinstance(lease_seconds, int) and lease_seconds >= MIN_LEASE_SECONDS):
        raise XnerError(f"a lease lasts at least {MIN_LEASE_SECONDS} seconds; got {lease_seconds!r}")

    def save(session: Session) -> QueueSettings:
        found = get_corpus(session, corpus)
        old = load_settings(session, found.id, found.name)
        values = {
            "overlap": old.overlap if overlap is None else overlap,
            "lease_seconds": old.lease_seconds if lease_seconds is None else lease_seconds,
            "updated_by": by,
            "updated_at": utcnow(),
        }
        save_settings(session, found.id, values)
        return load_settings(session, found.id, found.name)

    return store.write(save, what="saving the queue settings")


def claim(store: Store, sentence_id: int, reviewer: str) -> bool:
    """Lease item ``sentence_id`` to ``reviewer`` (or extend their lease) when it has room; True when leased.

    No room: an adjudication settled it, or its standing votes and the other reviewers' live leases already reach
    the queue's overlap. An item never queued (no review state) is not leased.
    """
    reviewer = check_reviewer(reviewer)
    return store.write(lambda session: claim_in(session, sentence_id, reviewer), what="reserving the item")


def claim_in(session: Session, sentence_id: int, reviewer: str) -> bool:
    """:func:`claim` inside the caller's transaction (which must not have read anything before)."""
    if not lock_state(session, sentence_id):
        return False
    row = state_votes(session, sentence_id)
    settings = load_settings(session, row.corpus_id)
    now = utcnow()
    delete_expired_leases(session, sentence_id, now)
    others = other_leases(session, sentence_id, reviewer)
    if row.final or row.votes + others >= settings.overlap:
        return False
    save_lease(session, sentence_id, reviewer, row.corpus_id, now + timedelta(seconds=settings.lease_seconds))
    return True


def renew(store: Store, sentence_id: int, reviewer: str) -> bool:
    """Extend ``reviewer``'s lease on the item while it stays open (claiming it again when it expired meanwhile
    and still has room); True when they hold it now."""
    return claim(store, sentence_id, reviewer)


def release(store: Store, sentence_id: int, reviewer: str) -> None:
    """End ``reviewer``'s lease on the item (skip, next, leaving it); nothing happens when they hold none."""
    reviewer = check_reviewer(reviewer)
    store.write(lambda session: release_in(session, sentence_id, reviewer), what="releasing the item")


def release_in(session: Session, sentence_id: int, reviewer: str) -> None:
    """:func:`release` inside the caller's transaction (a decision releases the lease with its write)."""
    delete_lease(session, sentence_id, reviewer)


@dataclass(frozen=True, slots=True)
class LeaseView:
    sentence_id: int
    reviewer: str
    expires_at: datetime


def active_leases(store: Store, corpus: str) -> list[LeaseView]:
    """The live leases of ``corpus``'s items (who has which item open), by sentence."""
    with store.session() as session:
        found = get_corpus(session, corpus)
        rows = live_leases(session, found.id, utcnow())
    return [LeaseView(sentence_id, reviewer, as_utc(expires) or expires) for sentence_id, reviewer, expires in rows]
