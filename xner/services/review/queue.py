"""The review queue: making a projection run the suggestions (:func:`queue_projection`) and serving the next item
after the filters (:func:`next_item`), along the queue indexes.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from xner.errors import UnknownNameError, XnerError
from xner.services.corpora import get_corpus
from xner.services.pairs import require_parallel
from xner.services.projecting import get_projection_run
from xner.services.review.counts import review_counts
from xner.services.review.items import ReviewItem, load_item
from xner.services.review.leases import claim, claim_in, load_settings
from xner.services.review.records import DECISIONS, ORDERS, check_reviewer, labels_text, new_state_values
from xner.stats import span_disagreement
from xner.store.columns import record_to_span
from xner.store.db import Store
from xner.store.models import utcnow
from xner.store.queries.projections import projected_spans, run_has_spans
from xner.store.queries.review_queue import (
    QueueFilter,
    first_in_queue,
    queue_remaining,
    run_methods,
    run_pair_count,
    run_queue_page,
)
from xner.store.queries.review_states import (
    insert_missing_states,
    raise_review_revision,
    requeue_states,
    state_statuses,
)
from xner.types import ReviewStatus

if TYPE_CHECKING:
    from xner.store.db import Session
    from xner.store.models import Corpus, ProjectionRun
    from xner.store.paging import AnyRow

CLAIM_TRIES = 20  # items passed over when others claimed them between the read and the claim
REMAINING_CAP = 1000  # queues with row-checked filters count their items up to this


@dataclass
class QueueReport:
    corpus: str
    run_id: int
    method: str
    compared_runs: dict[int, str] = field(default_factory=dict)  # run id -> method, for the disagreement
    queued: int = 0  # new states
    updated: int = 0  # unreviewed states given the run's suggestion
    kept: int = 0  # reviewed states left as they are


class EmptyRunError(XnerError):
    """A projection run with no entities at all, queued without ``allow_empty``: every item would suggest nothing.

    ``reason`` says why the run is empty (one line, for a confirmation prompt); ``pairs`` is how many items it
    would queue.
    """

    def __init__(self, run_id: int, pairs: int, reason: str) -> None:
        self.run_id, self.pairs, self.reason = run_id, pairs, reason
        super().__init__(
            f"projection run {run_id} has no entities ({reason}): queueing it would give {pairs} items with "
            "nothing suggested; project with source entities (a source tagger), or confirm to queue it anyway"
        )


def empty_run_reason(store: Store, corpus: str, run_id: int | None = None) -> str | None:
    """Why projection run ``run_id`` of ``corpus`` (default: the newest) suggests no entity at all, or None when
    some pair of it has one. The reason names where its source entities came from (run parameter ``source``).

    Reads spans until the first non-empty one: cheap for the usual run, one pass for an empty one.
    """
    with store.session() as session:
        found = get_corpus(session, corpus)
        run = get_projection_run(session, found, run_id)
        if run_has_spans(session, run.id):
            return None
        source = str((run.params or {}).get("source", "gold"))
    if source == "gold":
        return f"the source side of {corpus!r} has no gold entities"
    tagger = source.removeprefix("tagger:")
    return f"the source tagger {Path(tagger).name!r} found no entities"


def queue_projection(
    store: Store,
    corpus: str,
    run_id: int | None = None,
    *,
    methods_runs: Collection[int] | None = None,
    created_by: str = "",
    allow_empty: bool = False,
) -> QueueReport:
    """Make projection run ``run_id`` (default: the newest) the review suggestions of ``corpus``.

    Every target sentence the run covers and nobody has reviewed gets the run's spans, its pair confidence and a
    disagreement score: 1 − the mean pairwise span F1 between the compared runs, which are ``methods_runs`` when
    given, else this run and the newest run of each other method (0 when only one method ran). Reviewed
    sentences keep their state. A state whose suggesting run changes gets a new version, so a page still showing
    the old suggestion cannot accept it unseen.

    Each page of :data:`~xner.store.paging.PAGE_SIZE` pairs is its own short write (retried while the database is
    busy), so reviewers are never blocked for long: the items of a page are queued together, and a queue cut short
    is completed by queueing again (already queued items are updated, reviewed ones kept).

    A run without a single entity (plain source text projected with no source entities) is refused unless
    ``allow_empty`` confirms it: see :func:`empty_run_reason`.

    Raises:
        EmptyRunError: the run has no entities and ``allow_empty`` is False; nothing is queued.
        XnerError: unknown corpus or run, a monolingual corpus, or a compared run of another corpus.
    """
    with store.session() as session:
        found = get_corpus(session, corpus)
        require_parallel(found)
        run = get_projection_run(session, found, run_id)
        compared = _compared_runs(session, found, run, methods_runs)
        pairs = run_pair_count(session, run.id)
    if not allow_empty:
        reason = empty_run_reason(store, corpus, run.id)
        if reason is not None:
            raise EmptyRunError(run.id, pairs, reason)
    report = QueueReport(corpus, run.id, run.method, compared_runs=compared)
    last: int | None = 0
    while last is not None:
        page = QueueReport(corpus, run.id, run.method)  # this page's counts: a retried write counts once

        def queue_page(session: Session, after: int = last, page: QueueReport = page) -> int | None:
            page.queued = page.updated = page.kept = 0
            rows = run_queue_page(session, run.id, after=after)
            if rows:
                _queue_page(session, found, run, compared, rows, page, created_by)
            return rows[-1].pair_id if rows else None

        last = store.write(queue_page, what="queueing the projection run")
        report.queued += page.queued
        report.updated += page.updated
        report.kept += page.kept
    return report


def _compared_runs(
    session: Session, corpus: Corpus, run: ProjectionRun, wanted: Collection[int] | None
) -> dict[int, str]:
    runs = run_methods(session, corpus.id)
    if wanted is not None:
        unknown = sorted(set(wanted) - set(runs))
        if unknown:
            raise XnerError(
                f"corpus {corpus.name!r} has no projection run {', '.join(map(str, unknown))}; "
                f"its runs: {', '.join(map(str, sorted(runs))) or 'none'}"
            )
        return {run_id: runs[run_id] for run_id in sorted({run.id, *wanted})}
    newest: dict[str, int] = {}
    for run_id, method in sorted(runs.items()):
        newest[method] = run_id
    newest[run.method] = run.id
    return {run_id: method for method, run_id in sorted(newest.items(), key=lambda item: item[1])}


def _queue_page(
    session: Session,
    corpus: Corpus,
    run: ProjectionRun,
    compared: Mapping[int, str],
    rows: Sequence[AnyRow],
    report: QueueReport,
    created_by: str,
) -> None:
    pair_ids = [row.pair_id for row in rows]
    others = {other: projected_spans(session, other, pair_ids) for other in compared if other != run.id}
    existing = state_statuses(session, [row.tgt_sentence_id for row in rows])
    now = utcnow()
    new, changed = [], []
    for row in rows:
        spans = sorted(record_to_span(record) for record in row.spans)
        versions = [spans, *(found[row.pair_id] for found in others.values() if row.pair_id in found)]
        values = {
            "b_id": row.tgt_sentence_id,
            "b_spans": spans,
            "b_labels": labels_text(spans),
            "b_confidence": row.confidence,
            "b_disagreement": round(span_disagreement(versions), 4),
            "b_run": run.id,
            "b_by": created_by,
            "b_at": now,
        }
        status = existing.get(row.tgt_sentence_id)
        if status is None:
            new.append(values)
        elif status == ReviewStatus.UNREVIEWED.value:
            changed.append(values)
        else:
            report.kept += 1
    if new:
        insert_missing_states(session, [new_state_values(corpus.id, values) for values in new])
        report.queued += len(new)
    if changed:
        requeue_states(session, changed)
        report.updated += len(changed)
    if new or changed:
        raise_review_revision(session, corpus.id)


def next_item(
    store: Store,
    corpus: str,
    *,
    order: str = "confidence",
    statuses: Collection[ReviewStatus | str] = (ReviewStatus.UNREVIEWED,),
    labels: Collection[str] | None = None,
    min_confidence: float | None = None,
    max_confidence: float | None = None,
    reviewer: str | None = None,
    not_decided_by: str | None = None,
    skip: Collection[int] = (),
    after: int | None = None,
    claim_for: str | None = None,
    counts: Mapping[str, int] | None = None,
) -> ReviewItem | None:
    """The first item of the review queue of ``corpus`` after the filters, or None when none is left.

    Args:
        order: ``confidence`` (least confident first) or ``disagreement`` (most disagreed-on first).
        statuses: only items in these statuses (default: unreviewed; :data:`~xner.types.REVIEWED_STATUSES` for a
            second review).
        labels: only items whose current spans have one of these labels.
        min_confidence, max_confidence: only items whose suggestion confidence is in this closed range.
        reviewer: only items this reviewer decided (any event of theirs, undo included: their own work).
        not_decided_by: only items without any event of this reviewer (a second reviewer's queue).
        skip: sentence ids to leave out (those skipped in this session).
        after: continue after this sentence id, in queue order (browse without deciding).
        claim_for: the reviewer the item is for: it is leased to them (:mod:`.leases`), and items other reviewers
            hold are passed over. In the queue of unreviewed items of a corpus whose overlap is N > 1, this also
            serves decided items that fewer than N reviewers decided, and not this one (``item.independent``).
        counts: the corpus's review states per status (``QueueOverview.status_counts``) when the caller has just
            counted them, so that they are not counted again (a count along the index costs ~5 ms at 100k items).

    Returns:
        The item with its counts: ``remaining`` matches the filters (this item included); with ``labels`` or a
        reviewer filter it is counted up to :data:`REMAINING_CAP` (``remaining_exact`` False beyond).
    """
    wanted = _parse_statuses(statuses)
    if order not in ORDERS:
        raise UnknownNameError("queue order", order, ORDERS)
    claim_for = check_reviewer(claim_for) if claim_for is not None else None
    passed = set(skip)

    def pick(session: Session, lock: bool = False) -> tuple[Corpus, QueueFilter, bool, int | None]:
        found = get_corpus(session, corpus)
        settings = load_settings(session, found.id, found.name)
        extended = claim_for is not None and wanted == [ReviewStatus.UNREVIEWED.value] and settings.overlap > 1
        queue = QueueFilter(
            found.id,
            wanted,
            labels,
            min_confidence,
            max_confidence,
            reviewer,
            claim_for if extended else not_decided_by,
            frozenset(passed),
            settings.overlap if extended else 1,
            decisions=DECISIONS,
        )
        room = (claim_for, settings.overlap, utcnow()) if claim_for else None
        first = first_in_queue(session, queue, order, corpus_name=found.name, after=after, room_for=room, lock=lock)
        return found, queue, extended, first

    def pick_and_claim(session: Session) -> tuple[tuple[Corpus, QueueFilter, bool, int | None], bool]:
        picked = pick(session, lock=True)
        first = picked[3]
        return picked, first is not None and claim_in(session, first, claim_for)

    for _ in range(CLAIM_TRIES):
        if claim_for is not None and store.engine.dialect.name == "postgresql":
            # one transaction: the first item no other claim has locked (SKIP LOCKED), leased at once; reviewers
            # who press together are not all served the same item to race for (measured: a burst of 8 presses)
            (found, queue, extended, first), claimed = store.write(pick_and_claim, what="reserving the next item")
        else:
            with store.session() as session:
                found, queue, extended, first = pick(session)
            claimed = first is not None and (claim_for is None or claim(store, first, claim_for))
        if first is None:
            return None
        if claimed:
            break
        passed.add(first)  # taken by somebody else since the read: try the next one
    with store.session() as session:
        progress = dict(counts) if counts is not None else review_counts(store, session, found).status_counts
        remaining, exact = queue_remaining(session, queue, progress, cap=REMAINING_CAP)
        item = load_item(session, found, first, progress=progress, remaining=remaining, exact=exact)
    independent = extended and item.state.status != ReviewStatus.UNREVIEWED
    return replace(item, leased=claim_for is not None, independent=independent)


def _parse_statuses(statuses: Collection[ReviewStatus | str]) -> list[str]:
    wanted = sorted({ReviewStatus.parse(str(status)).value for status in statuses})
    if not wanted:
        raise XnerError("the review queue needs at least one status to show")
    return wanted
