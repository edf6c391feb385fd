"""The review queue: making a projection run the suggestions (:func:`queue_projection`) and serving the next item
after the filters (:func:`next_item`), along the queue indexes.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Row,
    Select,
    and_,
    bindparam,
    case,
    exists,
    func,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.orm import Session

from xner.errors import UnknownNameError, XnerError
from xner.services.corpora import get_corpus
from xner.services.pairs import require_parallel
from xner.services.projecting import get_projection_run
from xner.services.review.items import ReviewItem, load_item
from xner.services.review.leases import claim, claim_in, load_settings, room_condition
from xner.services.review.records import (
    DECISIONS,
    ORDERS,
    check_reviewer,
    event_table,
    insert_missing_states,
    labels_text,
    state_row,
    state_table,
)
from xner.stats import span_disagreement
from xner.store.columns import record_to_span
from xner.store.db import Store
from xner.store.models import (
    Corpus,
    Projection,
    ProjectionRun,
    ReviewState,
    utcnow,
)
from xner.store.models import SentencePair as PairRow
from xner.store.paging import keyset_page
from xner.store.queries.projections import projected_spans, run_has_spans
from xner.store.queries.review import status_counts
from xner.types import REVIEWED_STATUSES, ReviewStatus

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
        pairs = session.scalar(select(func.count()).where(Projection.run_id == run.id)) or 0
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
            query = (
                select(Projection.pair_id, Projection.spans, Projection.confidence, PairRow.tgt_sentence_id)
                .join(Projection.pair)
                .where(Projection.run_id == run.id)
            )
            rows = keyset_page(session, query, Projection.pair_id, after=after)
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
    query = select(ProjectionRun.id, ProjectionRun.method).where(ProjectionRun.corpus_id == corpus.id)
    runs: dict[int, str] = {run_id: method for run_id, method in session.execute(query)}
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
    rows: Sequence[Row],
    report: QueueReport,
    created_by: str,
) -> None:
    pair_ids = [row.pair_id for row in rows]
    others = {other: projected_spans(session, other, pair_ids) for other in compared if other != run.id}
    existing = dict(
        session.execute(
            select(ReviewState.sentence_id, ReviewState.status).where(
                ReviewState.sentence_id.in_([row.tgt_sentence_id for row in rows])
            )
        ).all()
    )
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
        insert_missing_states(session, [state_row(corpus.id, values) for values in new])
        report.queued += len(new)
    if changed:
        session.execute(_requeue, changed)
        report.updated += len(changed)


_requeue = (
    update(state_table)
    .where(state_table.c.sentence_id == bindparam("b_id"), state_table.c.status == ReviewStatus.UNREVIEWED.value)
    .values(
        spans=bindparam("b_spans"),
        labels=bindparam("b_labels"),
        confidence=bindparam("b_confidence"),
        disagreement=bindparam("b_disagreement"),
        version=case(
            (state_table.c.run_id.is_distinct_from(bindparam("b_run")), state_table.c.version + 1),
            else_=state_table.c.version,
        ),
        run_id=bindparam("b_run"),
        updated_by=bindparam("b_by"),
        updated_at=bindparam("b_at"),
    )
)


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

    Returns:
        The item with its counts: ``remaining`` matches the filters (this item included); with ``labels`` or a
        reviewer filter it is counted up to :data:`REMAINING_CAP` (``remaining_exact`` False beyond).
    """
    wanted = _parse_statuses(statuses)
    if order not in ORDERS:
        raise UnknownNameError("queue order", order, ORDERS)
    claim_for = check_reviewer(claim_for) if claim_for is not None else None
    passed = set(skip)

    def pick(session: Session, lock: bool = False) -> tuple[Corpus, _Queue, bool, int | None]:
        found = get_corpus(session, corpus)
        settings = load_settings(session, found.id, found.name)
        extended = claim_for is not None and wanted == [ReviewStatus.UNREVIEWED.value] and settings.overlap > 1
        queue = _Queue(
            found,
            wanted,
            labels,
            min_confidence,
            max_confidence,
            reviewer,
            claim_for if extended else not_decided_by,
            frozenset(passed),
            settings.overlap if extended else 1,
        )
        room = [room_condition(claim_for, settings.overlap, utcnow())] if claim_for else []
        conditions = [*queue.conditions(), *room]
        first = _first_in_queue(session, found, order, queue.partitions(), conditions, after, lock)
        return found, queue, extended, first

    def pick_and_claim(session: Session) -> tuple[tuple[Corpus, _Queue, bool, int | None], bool]:
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
        progress = status_counts(session, found.id)
        remaining, exact = queue.remaining(session, progress)
        item = load_item(session, found, first, progress=progress, remaining=remaining, exact=exact)
    independent = extended and item.state.status != ReviewStatus.UNREVIEWED
    return replace(item, leased=claim_for is not None, independent=independent)


def _parse_statuses(statuses: Collection[ReviewStatus | str]) -> list[str]:
    wanted = sorted({ReviewStatus.parse(str(status)).value for status in statuses})
    if not wanted:
        raise XnerError("the review queue needs at least one status to show")
    return wanted


@dataclass(frozen=True)
class _Queue:
    """The filters of a queue, split into those an index range answers (corpus, status, confidence range) and
    those checked row by row (labels, reviewers), plus the skipped sentences."""

    corpus: Corpus
    statuses: list[str]
    labels: Collection[str] | None
    min_confidence: float | None
    max_confidence: float | None
    reviewer: str | None
    not_decided_by: str | None
    skip: Collection[int]
    overlap: int = 1  # > 1: decided items still short of this many reviewers are in the queue too

    def partitions(self) -> list[list[Any]]:
        """The index ranges the queue reads, one ``LIMIT 1`` each: a status each, and with an overlap of N, each
        reviewed status with each vote count below N (items not settled by an adjudication)."""
        state = state_table.c
        ranges = [[state.status == status] for status in self.statuses]
        for status in REVIEWED_STATUSES if self.overlap > 1 else ():
            for votes in range(1, self.overlap):
                ranges.append([state.status == status.value, state.votes == votes, state.final.is_(False)])
        return ranges

    def ranged(self) -> list[Any]:
        conditions: list[Any] = [state_table.c.corpus_id == self.corpus.id]
        if self.min_confidence is not None:
            conditions.append(state_table.c.confidence >= self.min_confidence)
        if self.max_confidence is not None:
            conditions.append(state_table.c.confidence <= self.max_confidence)
        return conditions

    def scanned(self) -> list[Any]:
        conditions: list[Any] = []
        if self.labels:
            wanted = (state_table.c.labels.contains(f" {label} ", autoescape=True) for label in self.labels)
            conditions.append(or_(*wanted))
        if self.reviewer:
            conditions.append(_decided_by(self.reviewer))
        if self.not_decided_by:
            conditions.append(~_decided_by(self.not_decided_by))
        return conditions

    def conditions(self) -> list[Any]:
        skipped = [state_table.c.sentence_id.not_in(list(self.skip))] if self.skip else []
        return [*self.ranged(), *self.scanned(), *skipped]

    def remaining(self, session: Session, progress: Mapping[str, int]) -> tuple[int, bool]:
        """How many items match: exact when the index answers it; with row-checked filters, counted up to
        :data:`REMAINING_CAP` (and then not exact) so that a count never reads a whole corpus row by row."""
        status = or_(*(and_(*partition) for partition in self.partitions()))
        if self.scanned():
            matching = select(state_table.c.sentence_id).where(*self.conditions(), status).limit(REMAINING_CAP + 1)
            count = session.scalar(select(func.count()).select_from(matching.subquery())) or 0
            return min(count, REMAINING_CAP), count <= REMAINING_CAP
        if self.min_confidence is None and self.max_confidence is None:
            total = sum(progress.get(name, 0) for name in self.statuses)
        else:
            total = session.scalar(select(func.count()).select_from(state_table).where(*self.ranged(), status)) or 0
        if self.skip:  # fetched by primary key and checked here: a filtered count would scan the corpus
            rows = session.execute(
                select(state_table.c.corpus_id, state_table.c.status, state_table.c.confidence).where(
                    state_table.c.sentence_id.in_(list(self.skip))
                )
            )
            total -= sum(self._matches(*row) for row in rows)
        return total, True

    def _matches(self, corpus_id: int, status: str, confidence: float | None) -> bool:
        if corpus_id != self.corpus.id or status not in self.statuses:
            return False
        low, high = self.min_confidence, self.max_confidence
        if low is None and high is None:
            return True
        return confidence is not None and (low is None or confidence >= low) and (high is None or confidence <= high)


def _decided_by(reviewer: str) -> Any:
    return exists(
        select(event_table.c.id).where(
            event_table.c.sentence_id == state_table.c.sentence_id,
            event_table.c.reviewer == reviewer,
            event_table.c.action.in_(DECISIONS),
        )
    )


def _first_in_queue(
    session: Session,
    corpus: Corpus,
    order: str,
    partitions: list[list[Any]],
    conditions: list[Any],
    after: int | None,
    lock: bool = False,
) -> int | None:
    """The first sentence in queue order: one index-ordered ``LIMIT 1`` read per partition (a status, or a status
    and vote count), the best of them. ``lock`` (PostgreSQL, in a write): each read locks the row it returns and
    passes over rows other transactions have locked (``FOR UPDATE SKIP LOCKED``)."""
    key = state_table.c.confidence if order == "confidence" else state_table.c.disagreement
    descending = order == "disagreement"
    keyset: list[Any] = []
    if after is not None:
        start = session.execute(
            select(key, state_table.c.sentence_id).where(
                state_table.c.sentence_id == after, state_table.c.corpus_id == corpus.id
            )
        ).one_or_none()
        if start is None:
            raise XnerError(f"sentence {after} is not in the review queue of corpus {corpus.name!r}")
        position = tuple_(key, state_table.c.sentence_id)
        keyset.append(position < tuple_(*start) if descending else position > tuple_(*start))
    ordering = (key.desc(), state_table.c.sentence_id.desc()) if descending else (key, state_table.c.sentence_id)
    found = []
    for partition in partitions:
        query: Select = (
            select(key, state_table.c.sentence_id).where(*conditions, *keyset, *partition).order_by(*ordering).limit(1)
        )
        if lock:
            query = query.with_for_update(skip_locked=True, of=state_table)
        row = session.execute(query).one_or_none()
        if row is not None:
            found.append(tuple(row))
    if not found:
        return None
    best = max(found) if descending else min(found)
    return best[1]
