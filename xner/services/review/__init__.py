"""Review use cases: the queue of projected suggestions, decisions with optimistic concurrency, undo, history,
agreement between reviewers and adjudication. The review pages call only these.

The package has one module per concern: :mod:`.queue` (queue writes and the next item), :mod:`.items` (what the
page shows for one item), :mod:`.decisions` (decide, adjudicate, undo), :mod:`.history`, :mod:`.agreement`,
:mod:`.alignment` (reviewer-corrected links), :mod:`.overview` (the page's overview), :mod:`.leases` (who has
which item open, the queue's overlap), :mod:`.navigation` (going to an item by number or by a word),
:mod:`.preferences` (each reviewer's queue choices), with the shared records in :mod:`.records`. Import from
the package: ``from xner.services import review; review.next_item(...)``.

The data (``xner.store.models``):

- ``review_state``: one row per target sentence: its status, current spans, the confidence of its suggestion, the
  projection run that suggested it (``run_id``), the methods' ``disagreement`` on it, and a ``version`` that
  every write increments. :func:`queue_projection` writes the suggestions of unreviewed sentences; reviewed
  ones are never touched by it.
- ``review_event``: append-only, one row per decision (accept, reject, correct, adjudicate, undo) with the status
  and spans before and after, the version it produced, the reviewer, the time and whether it was applied to the
  state or recorded as a vote beside it.

Decisions are optimistic: the page sends the version it showed; the write is one conditional
``UPDATE ... WHERE version = expected``. The first decision on an item is its state; a later decision of another
reviewer (who loaded the item before it was decided, or reviews it again in a queue with overlap) is recorded as a
vote beside it and sent to adjudication where it differs, never over it (:mod:`.decisions`). When the item changed
in a way a decision cannot stand beside (a new suggestion was queued), nothing is written and
:class:`xner.errors.ConflictError` carries the change. The state and its event are written in one transaction, so
no decision is ever lost or half-recorded.

Work distribution (:mod:`.leases`): ``next_item(..., claim_for=me)`` leases the item it serves to ``me`` and passes
over items other reviewers hold, so concurrent reviewers of one queue get different items; the page renews the
lease while the item is open, and a decision, skip or leaving releases it. A corpus's queue overlap (default 1)
serves each item to that many distinct reviewers for agreement.

The queue is read one status at a time along an index, ``(corpus, status, confidence, sentence)`` or
``(corpus, status, disagreement, sentence)``, taking the first row after the filters: never a full-table read.
Least confident first; most disagreed-on first (ties: newest sentence id first). Skipping writes nothing: the
page keeps the sentences skipped in its session and passes them as ``skip``. A second, independent review of an
item is ``next_item(statuses=REVIEWED_STATUSES, not_decided_by=me)``; its page should show the projection suggestion
(``item.suggestion``) rather than the first reviewer's spans (``item.state``), and send the spans it shows with
the decision, to keep the reviews independent.

Status meanings: ``accepted``: the spans are right as they are; ``corrected``: the reviewer changed them (added,
deleted, moved or relabelled entities); ``rejected``: the sentence is unusable (bad translation or alignment) and
is left out of training data; its spans stay as they were, for the record.
"""

from xner.services.review.agreement import AgreementReport, Disagreement, PairAgreement, agreement, disagreements
from xner.services.review.alignment import MANUAL_ALIGNER, fix_alignment
from xner.services.review.decisions import adjudicate, check_spans, record_decision, undo
from xner.services.review.history import history, reviewer_history
from xner.services.review.items import ReviewItem, Suggestion, get_item
from xner.services.review.leases import (
    LeaseView,
    QueueSettings,
    active_leases,
    queue_settings,
    set_queue_settings,
)
from xner.services.review.leases import claim as claim_item
from xner.services.review.leases import release as release_lease
from xner.services.review.leases import renew as renew_lease
from xner.services.review.navigation import (
    MAX_QUERY,
    SEARCH_LIMIT,
    SIDES,
    SearchHit,
    find_sentence,
    open_item,
    search_tokens,
)
from xner.services.review.overview import QueuedRunInfo, QueueOverview, queue_overview
from xner.services.review.preferences import QueuePreferences, queue_preferences, save_queue_preferences
from xner.services.review.queue import (
    REMAINING_CAP,
    EmptyRunError,
    QueueReport,
    empty_run_reason,
    next_item,
    queue_projection,
)
from xner.services.review.records import (
    ACTIONS,
    DECISIONS,
    ORDERS,
    VOTES,
    EventView,
    StateView,
    as_utc,
    labels_text,
)

__all__ = [
    "ACTIONS",
    "DECISIONS",
    "MANUAL_ALIGNER",
    "MAX_QUERY",
    "ORDERS",
    "REMAINING_CAP",
    "SEARCH_LIMIT",
    "SIDES",
    "VOTES",
    "AgreementReport",
    "Disagreement",
    "EmptyRunError",
    "EventView",
    "LeaseView",
    "PairAgreement",
    "QueueOverview",
    "QueuePreferences",
    "QueueReport",
    "QueueSettings",
    "QueuedRunInfo",
    "ReviewItem",
    "SearchHit",
    "StateView",
    "Suggestion",
    "active_leases",
    "adjudicate",
    "agreement",
    "as_utc",
    "check_spans",
    "claim_item",
    "disagreements",
    "empty_run_reason",
    "find_sentence",
    "fix_alignment",
    "get_item",
    "history",
    "labels_text",
    "next_item",
    "open_item",
    "queue_overview",
    "queue_preferences",
    "queue_projection",
    "queue_settings",
    "record_decision",
    "release_lease",
    "renew_lease",
    "reviewer_history",
    "save_queue_preferences",
    "search_tokens",
    "set_queue_settings",
    "undo",
]
