"""Review use cases: the queue of projected suggestions, decisions with optimistic concurrency, undo, history,
agreement between reviewers and adjudication. The review pages call only these.

The data (``xner.store.models``):

- ``review_state``: one row per target sentence: its status, current spans, the confidence of its suggestion, the
  projection run that suggested it (``run_id``), the methods' ``disagreement`` on it, and a ``version`` that
  every write increments. :func:`queue_projection` writes the suggestions of unreviewed sentences; reviewed
  ones are never touched by it.
- ``review_event``: append-only, one row per decision (accept, reject, correct, adjudicate, undo) with the status
  and spans before and after, the version it produced, the reviewer and the time.

Decisions are optimistic: the page sends the version it showed; the write is one conditional
``UPDATE ... WHERE version = expected`` and, when somebody saved first, nothing is written and
:class:`xner.errors.ConflictError` carries that other decision. The state and its event are written in one
transaction, so no decision is ever lost or half-recorded.

The queue is read one status at a time along an index, ``(corpus, status, confidence, sentence)`` or
``(corpus, status, disagreement, sentence)``, taking the first row after the filters: never a full-table read.
Least confident first; most disagreed-on first (ties: newest sentence id first). Skipping writes nothing: the
page keeps the sentences skipped in its session and passes them as ``skip``. A second, independent review of an
item is ``next_item(statuses=REVIEWED, not_decided_by=me)``; its page should show the projection suggestion
(``item.suggestion``) rather than the first reviewer's spans (``item.state``), and send the spans it shows with
the decision, to keep the reviews independent.

Status meanings: ``accepted``: the spans are right as they are; ``corrected``: the reviewer changed them (added,
deleted, moved or relabelled entities); ``rejected``: the sentence is unusable (bad translation or alignment) and
is left out of training data; its spans stay as they were, for the record.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

from sqlalchemy import (
    Row,
    Select,
    bindparam,
    case,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from xner.errors import ConflictError, UnknownNameError, XnerError
from xner.formats.pharaoh import parse_pharaoh_line
from xner.services.corpora import entity_spans, get_corpus
from xner.services.pairs import count_pairs, require_parallel
from xner.services.projecting import get_projection_run, projected_spans
from xner.stats import cohen_kappa, span_disagreement
from xner.store.db import Store
from xner.store.models import (
    Alignment,
    AlignmentRun,
    Corpus,
    Projection,
    ProjectionRun,
    ReviewEvent,
    ReviewState,
    Sentence,
    utcnow,
)
from xner.store.models import SentencePair as PairRow
from xner.types import Alignment as Links
from xner.types import Link, ProjectedSpan, ReviewStatus, Span

ORDERS = ("confidence", "disagreement")
ACTIONS = ("accept", "reject", "correct", "adjudicate", "skip")
VOTES = ("accept", "reject", "correct")  # a reviewer's own judgment: what agreement compares
DECISIONS = (*VOTES, "adjudicate", "undo")  # every action that writes an event
REVIEWED = (ReviewStatus.ACCEPTED, ReviewStatus.CORRECTED, ReviewStatus.REJECTED)
MANUAL_ALIGNER = "manual"  # the alignment run that holds reviewer-corrected links
REMAINING_CAP = 1000  # queues with row-checked filters count their items up to this
PAGE = 2000

_state = ReviewState.__table__
_event = ReviewEvent.__table__


# --- what the pages get --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StateView:
    """The current review state of a target sentence (``version`` 0: never written)."""

    sentence_id: int
    status: ReviewStatus
    spans: tuple[Span, ...]
    confidence: float | None
    version: int
    updated_by: str = ""
    updated_at: datetime | None = None
    run_id: int | None = None
    disagreement: float = 0.0


@dataclass(frozen=True, slots=True)
class EventView:
    """One row of the append-only review history."""

    id: int
    sentence_id: int
    reviewer: str
    action: str
    status_before: ReviewStatus
    status_after: ReviewStatus
    spans_before: tuple[Span, ...]
    spans_after: tuple[Span, ...]
    version: int
    at: datetime
    note: str = ""
    undoes: int | None = None


@dataclass(frozen=True, slots=True)
class Suggestion:
    """What one projection run proposes for the item: spans with confidence, source span and justifying links."""

    run_id: int
    method: str
    alignment_run_id: int | None
    confidence: float
    spans: tuple[ProjectedSpan, ...]
    queued: bool = False  # the run whose spans were queued as this item's suggestion


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """Everything the review page shows for one target sentence."""

    sentence_id: int
    corpus: str
    src_lang: str
    tgt_lang: str | None
    split: str
    position: int
    pair_id: int | None
    tgt_tokens: tuple[str, ...]
    src_tokens: tuple[str, ...]
    src_spans: tuple[Span, ...]  # gold source entities (a tagger-sourced run carries its own in its suggestion)
    tgt_gold: tuple[Span, ...]  # gold target entities, when the corpus has any
    state: StateView
    suggestions: tuple[Suggestion, ...]  # one per projection run that covers the pair, oldest run first
    links: tuple[Link, ...]  # the alignment behind the queued suggestion (empty when none was queued)
    labels: tuple[str, ...]  # the labels a decision may use
    remaining: int = 0  # items matching the queue filters, this one included
    remaining_exact: bool = True  # False: at least ``remaining`` (label or reviewer filters count up to a cap)
    reviewed: int = 0  # reviewed sentences of the corpus
    manual_links: tuple[Link, ...] | None = None  # the corpus's reviewer-corrected alignment, when it has one
    possible_links: tuple[Link, ...] = ()  # those of ``links`` that the alignment marks possible (not sure)

    @property
    def suggestion(self) -> Suggestion | None:
        """The queued suggestion (what the reviewer accepts or corrects), if any."""
        return next((s for s in self.suggestions if s.queued), None)


@dataclass
class QueueReport:
    corpus: str
    run_id: int
    method: str
    compared_runs: dict[int, str] = field(default_factory=dict)  # run id -> method, for the disagreement
    queued: int = 0  # new states
    updated: int = 0  # unreviewed states given the run's suggestion
    kept: int = 0  # reviewed states left as they are


# --- queueing ------------------------------------------------------------------------------------------------


def queue_projection(
    store: Store,
    corpus: str,
    run_id: int | None = None,
    *,
    methods_runs: Collection[int] | None = None,
    created_by: str = "",
) -> QueueReport:
    """Make projection run ``run_id`` (default: the newest) the review suggestions of ``corpus``.

    Every target sentence the run covers and nobody has reviewed gets the run's spans, its pair confidence and a
    disagreement score: 1 − the mean pairwise span F1 between the compared runs, which are ``methods_runs`` when
    given, else this run and the newest run of each other method (0 when only one method ran). Reviewed
    sentences keep their state. A state whose suggesting run changes gets a new version, so a page still showing
    the old suggestion cannot accept it unseen.

    Raises:
        XnerError: unknown corpus or run, a monolingual corpus, or a compared run of another corpus.
    """
    with store.transaction() as session:
        found = get_corpus(session, corpus)
        require_parallel(found)
        run = get_projection_run(session, found, run_id)
        compared = _compared_runs(session, found, run, methods_runs)
        report = QueueReport(corpus, run.id, run.method, compared_runs=compared)
        last = 0
        while True:
            rows = session.execute(
                select(Projection.pair_id, Projection.spans, Projection.confidence, PairRow.tgt_sentence_id)
                .join(PairRow, PairRow.id == Projection.pair_id)
                .where(Projection.run_id == run.id, Projection.pair_id > last)
                .order_by(Projection.pair_id)
                .limit(PAGE)
            ).all()
            if not rows:
                break
            _queue_page(session, found, run, compared, rows, report, created_by)
            last = rows[-1].pair_id
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
        spans = sorted(Span(s["start"], s["end"], s["label"]) for s in row.spans)
        versions = [spans, *(found[row.pair_id] for found in others.values() if row.pair_id in found)]
        values = {
            "b_id": row.tgt_sentence_id,
            "b_spans": spans_to_records(spans),
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
        _insert_missing(session, [_state_row(corpus.id, values) for values in new])
        report.queued += len(new)
    if changed:
        session.execute(_requeue, changed)
        report.updated += len(changed)


_requeue = (
    update(_state)
    .where(_state.c.sentence_id == bindparam("b_id"), _state.c.status == ReviewStatus.UNREVIEWED.value)
    .values(
        spans=bindparam("b_spans"),
        labels=bindparam("b_labels"),
        confidence=bindparam("b_confidence"),
        disagreement=bindparam("b_disagreement"),
        version=case(
            (_state.c.run_id.is_distinct_from(bindparam("b_run")), _state.c.version + 1), else_=_state.c.version
        ),
        run_id=bindparam("b_run"),
        updated_by=bindparam("b_by"),
        updated_at=bindparam("b_at"),
    )
)


def _state_row(corpus_id: int, values: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "sentence_id": values["b_id"],
        "corpus_id": corpus_id,
        "status": ReviewStatus.UNREVIEWED.value,
        "spans": values["b_spans"],
        "labels": values["b_labels"],
        "confidence": values["b_confidence"],
        "disagreement": values["b_disagreement"],
        "run_id": values["b_run"],
        "version": 0,
        "updated_by": values["b_by"],
        "updated_at": values["b_at"],
    }


def _insert_missing(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert state rows, leaving alone any that a concurrent writer created first."""
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        session.execute(sqlite.insert(_state).on_conflict_do_nothing(index_elements=["sentence_id"]), rows)
    elif dialect == "postgresql":
        session.execute(postgresql.insert(_state).on_conflict_do_nothing(index_elements=["sentence_id"]), rows)
    else:
        session.execute(insert(_state), rows)


def as_utc(moment: datetime | None) -> datetime | None:
    """``moment`` as an aware UTC time (SQLite hands back naive ones; every stored time is UTC)."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def spans_to_records(spans: Iterable[Span]) -> list[dict[str, Any]]:
    """Spans as stored in ``review_state.spans`` / ``review_event``: sorted ``{"start", "end", "label"}``."""
    return [{"start": s.start, "end": s.end, "label": s.label} for s in sorted(spans)]


def records_to_spans(records: Iterable[Mapping[str, Any]] | None) -> tuple[Span, ...]:
    return tuple(sorted(Span(int(r["start"]), int(r["end"]), str(r["label"])) for r in records or ()))


def labels_text(spans: Iterable[Span]) -> str:
    """The ``review_state.labels`` value: sorted distinct labels between spaces (``" LOC PER "``), or ``""``."""
    labels = sorted({span.label for span in spans})
    return f" {' '.join(labels)} " if labels else ""


# --- the queue -----------------------------------------------------------------------------------------------


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
) -> ReviewItem | None:
    """The first item of the review queue of ``corpus`` after the filters, or None when none is left.

    Args:
        order: ``confidence`` (least confident first) or ``disagreement`` (most disagreed-on first).
        statuses: only items in these statuses (default: unreviewed; :data:`REVIEWED` for a second review).
        labels: only items whose current spans have one of these labels.
        min_confidence, max_confidence: only items whose suggestion confidence is in this closed range.
        reviewer: only items this reviewer decided (any event of theirs, undo included: their own work).
        not_decided_by: only items without any event of this reviewer (a second reviewer's queue).
        skip: sentence ids to leave out (those skipped in this session).
        after: continue after this sentence id, in queue order (browse without deciding).

    Returns:
        The item with its counts: ``remaining`` matches the filters (this item included); with ``labels`` or a
        reviewer filter it is counted up to :data:`REMAINING_CAP` (``remaining_exact`` False beyond).
    """
    wanted = _parse_statuses(statuses)
    if order not in ORDERS:
        raise UnknownNameError("queue order", order, ORDERS)
    with store.session() as session:
        found = get_corpus(session, corpus)
        queue = _Queue(found, wanted, labels, min_confidence, max_confidence, reviewer, not_decided_by, skip)
        first = _first_in_queue(session, found, order, wanted, queue.conditions(), after)
        if first is None:
            return None
        progress = _progress(session, found)
        remaining, exact = queue.remaining(session, progress)
        return _load_item(session, found, first, progress=progress, remaining=remaining, exact=exact)


def get_item(store: Store, sentence_id: int) -> ReviewItem:
    """The review item of target sentence ``sentence_id`` (``remaining``: the unreviewed items of its corpus)."""
    with store.session() as session:
        corpus = _target(session, sentence_id)[1]
        progress = _progress(session, corpus)
        remaining = progress.get(ReviewStatus.UNREVIEWED.value, 0)
        return _load_item(session, corpus, sentence_id, progress=progress, remaining=remaining, exact=True)


def _parse_statuses(statuses: Collection[ReviewStatus | str]) -> list[str]:
    wanted = sorted({ReviewStatus.parse(str(status)).value for status in statuses})
    if not wanted:
        raise XnerError("the review queue needs at least one status to show")
    return wanted


def _progress(session: Session, corpus: Corpus) -> dict[str, int]:
    """The corpus's review states per status, counted along the queue index."""
    counts = {}
    for status in ReviewStatus:  # one count per status reads its index range (cheaper than a GROUP BY pass)
        query = select(func.count()).where(_state.c.corpus_id == corpus.id, _state.c.status == status.value)
        counts[status.value] = session.scalar(query.select_from(_state)) or 0
    return counts


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

    def ranged(self) -> list[Any]:
        conditions: list[Any] = [_state.c.corpus_id == self.corpus.id]
        if self.min_confidence is not None:
            conditions.append(_state.c.confidence >= self.min_confidence)
        if self.max_confidence is not None:
            conditions.append(_state.c.confidence <= self.max_confidence)
        return conditions

    def scanned(self) -> list[Any]:
        conditions: list[Any] = []
        if self.labels:
            wanted = (_state.c.labels.contains(f" {label} ", autoescape=True) for label in self.labels)
            conditions.append(or_(*wanted))
        if self.reviewer:
            conditions.append(_decided_by(self.reviewer))
        if self.not_decided_by:
            conditions.append(~_decided_by(self.not_decided_by))
        return conditions

    def conditions(self) -> list[Any]:
        skipped = [_state.c.sentence_id.not_in(list(self.skip))] if self.skip else []
        return [*self.ranged(), *self.scanned(), *skipped]

    def remaining(self, session: Session, progress: Mapping[str, int]) -> tuple[int, bool]:
        """How many items match: exact when the index answers it; with row-checked filters, counted up to
        :data:`REMAINING_CAP` (and then not exact) so that a count never reads a whole corpus row by row."""
        status = _state.c.status.in_(self.statuses)
        if self.scanned():
            matching = select(_state.c.sentence_id).where(*self.conditions(), status).limit(REMAINING_CAP + 1)
            count = session.scalar(select(func.count()).select_from(matching.subquery())) or 0
            return min(count, REMAINING_CAP), count <= REMAINING_CAP
        if self.min_confidence is None and self.max_confidence is None:
            total = sum(progress.get(name, 0) for name in self.statuses)
        else:
            total = session.scalar(select(func.count()).select_from(_state).where(*self.ranged(), status)) or 0
        if self.skip:  # fetched by primary key and checked here: a filtered count would scan the corpus
            rows = session.execute(
                select(_state.c.corpus_id, _state.c.status, _state.c.confidence).where(
                    _state.c.sentence_id.in_(list(self.skip))
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
        select(_event.c.id).where(
            _event.c.sentence_id == _state.c.sentence_id,
            _event.c.reviewer == reviewer,
            _event.c.action.in_(DECISIONS),
        )
    )


def _first_in_queue(
    session: Session, corpus: Corpus, order: str, statuses: list[str], conditions: list[Any], after: int | None
) -> int | None:
    """The first sentence in queue order: one index-ordered ``LIMIT 1`` read per status, the best of them."""
    key = _state.c.confidence if order == "confidence" else _state.c.disagreement
    descending = order == "disagreement"
    keyset: list[Any] = []
    if after is not None:
        start = session.execute(
            select(key, _state.c.sentence_id).where(_state.c.sentence_id == after, _state.c.corpus_id == corpus.id)
        ).one_or_none()
        if start is None:
            raise XnerError(f"sentence {after} is not in the review queue of corpus {corpus.name!r}")
        position = tuple_(key, _state.c.sentence_id)
        keyset.append(position < tuple_(*start) if descending else position > tuple_(*start))
    ordering = (key.desc(), _state.c.sentence_id.desc()) if descending else (key, _state.c.sentence_id)
    found = []
    for status in statuses:
        query: Select = (
            select(key, _state.c.sentence_id)
            .where(*conditions, *keyset, _state.c.status == status)
            .order_by(*ordering)
            .limit(1)
        )
        row = session.execute(query).one_or_none()
        if row is not None:
            found.append(tuple(row))
    if not found:
        return None
    best = max(found) if descending else min(found)
    return best[1]


def _target(session: Session, sentence_id: int) -> tuple[Row, Corpus]:
    """The reviewable sentence ``sentence_id`` and its corpus; an unknown or source sentence is an error."""
    row = session.execute(
        select(
            Sentence.id, Sentence.corpus_id, Sentence.side, Sentence.split, Sentence.position, Sentence.tokens
        ).where(Sentence.id == sentence_id)
    ).one_or_none()
    if row is None:
        raise XnerError(f"no sentence {sentence_id} in the store")
    corpus = session.get(Corpus, row.corpus_id)
    assert corpus is not None
    if row.side == "src":
        raise XnerError(
            f"sentence {sentence_id} is a source sentence of corpus {corpus.name!r}: review works on target sentences"
        )
    return row, corpus


def _load_state(session: Session, sentence_id: int) -> StateView | None:
    row = session.execute(select(_state).where(_state.c.sentence_id == sentence_id)).one_or_none()
    if row is None:
        return None
    return StateView(
        row.sentence_id,
        ReviewStatus(row.status),
        records_to_spans(row.spans),
        row.confidence,
        row.version,
        row.updated_by,
        as_utc(row.updated_at),
        row.run_id,
        row.disagreement,
    )


def _current_state(session: Session, sentence_id: int) -> StateView:
    """The stored state, else the unwritten default: unreviewed, with the sentence's gold entities."""
    state = _load_state(session, sentence_id)
    if state is not None:
        return state
    gold = entity_spans(session, [sentence_id]).get(sentence_id, [])
    return StateView(sentence_id, ReviewStatus.UNREVIEWED, tuple(sorted(gold)), 1.0, 0)


def _load_item(
    session: Session, corpus: Corpus, sentence_id: int, *, progress: Mapping[str, int], remaining: int, exact: bool
) -> ReviewItem:
    target, _ = _target(session, sentence_id)
    state = _current_state(session, sentence_id)
    pair = session.execute(
        select(PairRow.id, PairRow.src_sentence_id).where(PairRow.tgt_sentence_id == sentence_id)
    ).one_or_none()
    src_tokens: tuple[str, ...] = ()
    suggestions: list[Suggestion] = []
    links: tuple[Link, ...] = ()
    possible: tuple[Link, ...] = ()
    manual: tuple[Link, ...] | None = None
    gold = entity_spans(session, [sentence_id] + ([pair.src_sentence_id] if pair else []))
    if pair is not None:
        src_tokens = tuple(session.scalar(select(Sentence.tokens).where(Sentence.id == pair.src_sentence_id)) or ())
        suggestions = _suggestions(session, pair.id, state.run_id)
        queued_alignment = _queued_alignment(session, pair.id, suggestions)
        links = tuple(sorted(queued_alignment.links))
        possible = tuple(sorted(queued_alignment.possible - queued_alignment.sure))
        manual = _manual_links(session, corpus, pair.id)
    labels = set(corpus.labels) | {s.label for s in state.spans}
    labels |= {p.span.label for suggestion in suggestions for p in suggestion.spans}
    return ReviewItem(
        sentence_id=sentence_id,
        corpus=corpus.name,
        src_lang=corpus.src_lang,
        tgt_lang=corpus.tgt_lang,
        split=target.split,
        position=target.position,
        pair_id=pair.id if pair else None,
        tgt_tokens=tuple(target.tokens),
        src_tokens=src_tokens,
        src_spans=tuple(sorted(gold.get(pair.src_sentence_id, ()))) if pair else (),
        tgt_gold=tuple(sorted(gold.get(sentence_id, ()))),
        state=state,
        suggestions=tuple(suggestions),
        links=links,
        labels=tuple(sorted(labels)),
        remaining=remaining,
        remaining_exact=exact,
        reviewed=sum(progress.get(status.value, 0) for status in REVIEWED),
        manual_links=manual,
        possible_links=possible,
    )


def _suggestions(session: Session, pair_id: int, queued_run: int | None) -> list[Suggestion]:
    rows = session.execute(
        select(
            Projection.run_id,
            Projection.spans,
            Projection.confidence,
            ProjectionRun.method,
            ProjectionRun.alignment_run_id,
        )
        .join(ProjectionRun, ProjectionRun.id == Projection.run_id)
        .where(Projection.pair_id == pair_id)
        .order_by(Projection.run_id)
    ).all()
    return [
        Suggestion(
            row.run_id,
            row.method,
            row.alignment_run_id,
            row.confidence,
            tuple(_projected(record, row.method) for record in row.spans),
            queued=row.run_id == queued_run,
        )
        for row in rows
    ]


def _projected(record: Mapping[str, Any], method: str) -> ProjectedSpan:
    span = Span(record["start"], record["end"], record["label"])
    source = None
    if record.get("src_start") is not None:
        source = Span(record["src_start"], record["src_end"], record["label"])
    links = tuple((int(i), int(j)) for i, j in record.get("links", ()))
    return ProjectedSpan(span, method, float(record.get("confidence", 1.0)), source, links)


def _queued_alignment(session: Session, pair_id: int, suggestions: Sequence[Suggestion]) -> Links:
    """The links (sure and possible) of the alignment behind the queued suggestion; empty when none."""
    queued = next((s for s in suggestions if s.queued), None)
    if queued is None or queued.alignment_run_id is None:
        return Links()
    text = session.scalar(
        select(Alignment.links).where(Alignment.run_id == queued.alignment_run_id, Alignment.pair_id == pair_id)
    )
    return parse_pharaoh_line(text) if text is not None else Links()


def _manual_links(session: Session, corpus: Corpus, pair_id: int) -> tuple[Link, ...] | None:
    run_id = _manual_run(session, corpus)
    if run_id is None:
        return None
    text = session.scalar(select(Alignment.links).where(Alignment.run_id == run_id, Alignment.pair_id == pair_id))
    return tuple(sorted(parse_pharaoh_line(text).links)) if text is not None else ()


def _manual_run(session: Session, corpus: Corpus) -> int | None:
    return session.scalar(
        select(AlignmentRun.id)
        .where(AlignmentRun.corpus_id == corpus.id, AlignmentRun.aligner == MANUAL_ALIGNER)
        .order_by(AlignmentRun.id)
        .limit(1)
    )


def fix_alignment(
    store: Store, pair_id: int, links: Iterable[Link], *, reviewer: str, base_run: int | None = None
) -> int:
    """Store ``reviewer``'s corrected word alignment of pair ``pair_id``; returns the corpus's manual run id.

    A corpus has one alignment run named ``manual``: made on the first correction as a copy of ``base_run``
    (default: the alignment behind the pair's queued suggestion, else the corpus's newest run), so it is a
    whole alignment that ``xner project --run`` can use, with each correction replacing its pair's links.
    Links are ``(src_idx, tgt_idx)``, 0-based, stored as sure links.

    Raises:
        XnerError: unknown pair or base run, or a link beyond either sentence.
    """
    reviewer = _check_reviewer(reviewer)
    with store.transaction() as session:
        pair = session.get(PairRow, pair_id)
        if pair is None:
            raise XnerError(f"no sentence pair {pair_id} in the store")
        corpus = session.get(Corpus, pair.corpus_id)
        assert corpus is not None
        sizes = dict(
            session.execute(
                select(Sentence.id, Sentence.n_tokens).where(
                    Sentence.id.in_([pair.src_sentence_id, pair.tgt_sentence_id])
                )
            ).all()
        )
        checked = _check_links(links, sizes[pair.src_sentence_id], sizes[pair.tgt_sentence_id], pair_id)
        run_id = _manual_run(session, corpus)
        if run_id is None:
            run_id = _new_manual_run(session, corpus, pair, base_run, reviewer)
        text = Links(sure=frozenset(checked)).to_pharaoh()
        row = session.scalars(
            select(Alignment).where(Alignment.run_id == run_id, Alignment.pair_id == pair_id)
        ).one_or_none()
        if row is None:
            session.add(Alignment(run_id=run_id, pair_id=pair_id, links=text))
        else:
            row.links = text
        return run_id


def _check_links(links: Iterable[Link], n_src: int, n_tgt: int, pair_id: int) -> list[Link]:
    checked = set()
    for link in links:
        try:
            i, j = (int(x) for x in link)
        except (TypeError, ValueError):
            raise XnerError(f"pair {pair_id}: a link is a (source index, target index) pair, got {link!r}") from None
        if not (0 <= i < n_src and 0 <= j < n_tgt):
            raise XnerError(
                f"pair {pair_id}: link {i}-{j} is beyond the sentences ({n_src} source, {n_tgt} target tokens)"
            )
        checked.add((i, j))
    return sorted(checked)


def _new_manual_run(session: Session, corpus: Corpus, pair: PairRow, base_run: int | None, reviewer: str) -> int:
    runs = set(session.scalars(select(AlignmentRun.id).where(AlignmentRun.corpus_id == corpus.id)))
    if base_run is not None and base_run not in runs:
        known = ", ".join(map(str, sorted(runs))) or "none"
        raise XnerError(f"corpus {corpus.name!r} has no alignment run {base_run}; its runs: {known}")
    if base_run is None:
        base_run = session.scalar(
            select(ProjectionRun.alignment_run_id)
            .join(ReviewState, ReviewState.run_id == ProjectionRun.id)
            .where(ReviewState.sentence_id == pair.tgt_sentence_id)
        )
    if base_run is None and runs:
        base_run = max(runs)
    run = AlignmentRun(corpus_id=corpus.id, aligner=MANUAL_ALIGNER, params={"base_run": base_run}, created_by=reviewer)
    session.add(run)
    session.flush()
    if base_run is not None:
        copied = select(literal(run.id), Alignment.pair_id, Alignment.links).where(Alignment.run_id == base_run)
        session.execute(insert(Alignment).from_select(["run_id", "pair_id", "links"], copied))
    return run.id


# --- decisions -----------------------------------------------------------------------------------------------


def record_decision(
    store: Store,
    sentence_id: int,
    *,
    reviewer: str,
    action: str,
    expected_version: int,
    spans: Iterable[Span | Mapping[str, Any]] | None = None,
    status: ReviewStatus | str | None = None,
    note: str = "",
) -> StateView:
    """Record ``reviewer``'s decision on target sentence ``sentence_id`` and return the new state.

    Args:
        action: ``accept`` (the spans are right: ``spans`` when given, else the current ones), ``correct``
            (``spans`` replace the current ones; adding or deleting an entity is a correction, ``[]`` removes
            all), ``reject`` (the sentence is unusable; spans kept), ``adjudicate`` (a final decision on a
            disagreement: ``status`` and optionally ``spans``) or ``skip`` (writes nothing and returns the
            current state; the page remembers the skip for its session).
        expected_version: the ``state.version`` the reviewer saw.
        spans: :class:`Span` objects or ``{"start", "end", "label"}`` mappings over the target tokens.
        status: the adjudicated status (only with ``adjudicate``).

    Raises:
        ConflictError: somebody changed the item since ``expected_version``; ``error.current`` is the state now
            and ``error.decision`` the decision that made it (nothing is written).
        XnerError: unknown sentence, action or status, or spans out of range, overlapping or with an unknown
            label.
    """
    action = _check_action(action)
    reviewer = _check_reviewer(reviewer)
    with store.transaction() as session:
        target, corpus = _target(session, sentence_id)
        current = _current_state(session, sentence_id)
        if action == "skip":
            return current
        new_status, new_spans = _decide(session, target, corpus, current, action, spans, status)
        return _write(session, corpus, current, new_status, new_spans, reviewer, action, expected_version, note)


def adjudicate(
    store: Store,
    sentence_id: int,
    *,
    reviewer: str,
    status: ReviewStatus | str,
    expected_version: int,
    spans: Iterable[Span | Mapping[str, Any]] | None = None,
    note: str = "",
) -> StateView:
    """The final decision on an item reviewers disagree on (:func:`record_decision` with ``adjudicate``)."""
    return record_decision(
        store,
        sentence_id,
        reviewer=reviewer,
        action="adjudicate",
        expected_version=expected_version,
        spans=spans,
        status=status,
        note=note,
    )


def undo(store: Store, sentence_id: int, *, reviewer: str, expected_version: int) -> StateView:
    """Revert ``reviewer``'s last (not yet undone) decision on the item, as a new ``undo`` event.

    The state goes back to what it was before that decision. History stays append-only: the undone event stays,
    and the undo event names it (``undoes``); undoing again reverts the reviewer's decision before that.

    Raises:
        ConflictError: the item changed since ``expected_version``, or somebody else decided it after the
            reviewer (undoing would discard their decision).
        XnerError: the reviewer has no decision on the item to undo.
    """
    reviewer = _check_reviewer(reviewer)
    with store.transaction() as session:
        _, corpus = _target(session, sentence_id)
        current = _current_state(session, sentence_id)
        events = _events(session, ReviewEvent.sentence_id == sentence_id)
        effective = _effective(events)
        mine = [event for event in effective if event.reviewer == reviewer]
        if not mine:
            raise XnerError(f"sentence {sentence_id}: {reviewer!r} has no decision on it to undo")
        last = mine[-1]
        later = [event for event in effective if event.id > last.id]
        if later:
            other = later[-1]
            raise ConflictError(
                f"sentence {sentence_id}: {other.reviewer!r} decided it ({other.status_after}) after your "
                f"decision; undoing yours would discard theirs",
                current=current,
                decision=other,
            )
        return _write(
            session,
            corpus,
            current,
            last.status_before,
            last.spans_before,
            reviewer,
            "undo",
            expected_version,
            f"undo of event {last.id}",
            undoes=last.id,
        )


def _check_action(action: str) -> str:
    if action not in ACTIONS:
        raise UnknownNameError("review action", action, ACTIONS)
    return action


def _check_reviewer(reviewer: str) -> str:
    name = (reviewer or "").strip()
    if not name:
        raise XnerError("a review decision needs the reviewer's name")
    return name


def _decide(
    session: Session,
    target: Row,
    corpus: Corpus,
    current: StateView,
    action: str,
    spans: Iterable[Span | Mapping[str, Any]] | None,
    status: ReviewStatus | str | None,
) -> tuple[ReviewStatus, tuple[Span, ...]]:
    if action == "correct" and spans is None:
        raise XnerError(
            f"sentence {target.id}: a correction needs the corrected spans (an empty list removes every entity)"
        )
    if action == "reject" and spans is not None:
        raise XnerError(f"sentence {target.id}: a rejection keeps the spans; correct the item to change them")
    if action != "adjudicate" and status is not None:
        raise XnerError(f"sentence {target.id}: only an adjudication sets the status directly, not {action!r}")
    new_spans = current.spans
    if spans is not None:
        new_spans = check_spans(
            spans, n_tokens=len(target.tokens), labels=_known_labels(session, corpus, target.id), where=target.id
        )
    if action == "adjudicate":
        if status is None:
            raise XnerError(f"sentence {target.id}: an adjudication needs the final status")
        decided = ReviewStatus.parse(str(status))
        if decided == ReviewStatus.UNREVIEWED:
            raise XnerError(f"sentence {target.id}: an adjudication decides accepted, corrected or rejected")
        return decided, new_spans
    return {"accept": ReviewStatus.ACCEPTED, "correct": ReviewStatus.CORRECTED}.get(
        action, ReviewStatus.REJECTED
    ), new_spans


def _known_labels(session: Session, corpus: Corpus, sentence_id: int) -> frozenset[str]:
    """The corpus's labels and those the projections of this sentence's pair use."""
    labels = set(corpus.labels)
    rows = session.scalars(
        select(Projection.spans)
        .join(PairRow, PairRow.id == Projection.pair_id)
        .where(PairRow.tgt_sentence_id == sentence_id)
    )
    for records in rows:
        labels.update(record["label"] for record in records)
    return frozenset(labels)


def check_spans(
    spans: Iterable[Span | Mapping[str, Any]], *, n_tokens: int, labels: Collection[str], where: object
) -> tuple[Span, ...]:
    """``spans`` as sorted :class:`Span` objects, checked: inside the sentence, not overlapping, known labels
    (any label when ``labels`` is empty). ``where`` names the sentence in messages.

    >>> check_spans([{"start": 2, "end": 3, "label": "LOC"}], n_tokens=3, labels={"LOC"}, where=7)
    (Span(start=2, end=3, label='LOC'),)
    >>> check_spans([Span(1, 4, "LOC")], n_tokens=3, labels={"LOC"}, where=7)
    Traceback (most recent call last):
    ...
    xner.errors.XnerError: sentence 7: span [1, 4) 'LOC' is beyond the sentence's 3 tokens
    """
    result = []
    for item in spans:
        try:
            span = item if isinstance(item, Span) else Span(int(item["start"]), int(item["end"]), str(item["label"]))
        except (KeyError, TypeError, ValueError) as error:
            raise XnerError(
                f"sentence {where}: a span needs integer start and end and a label, got {item!r}"
            ) from error
        except XnerError as error:
            raise XnerError(f"sentence {where}: {error}") from None
        if span.end > n_tokens:
            raise XnerError(
                f"sentence {where}: span [{span.start}, {span.end}) {span.label!r} is beyond the sentence's "
                f"{n_tokens} tokens"
            )
        if not span.label or span.label != span.label.strip() or " " in span.label:
            raise XnerError(f"sentence {where}: invalid label {span.label!r}: a label is one word")
        if labels and span.label not in labels:
            known = ", ".join(sorted(labels))
            raise XnerError(f"sentence {where}: unknown label {span.label!r}; known: {known}")
        result.append(span)
    ordered = sorted(result)
    for first, second in pairwise(ordered):
        if first.overlaps(second):
            raise XnerError(
                f"sentence {where}: spans [{first.start}, {first.end}) {first.label!r} and "
                f"[{second.start}, {second.end}) {second.label!r} overlap"
            )
    return tuple(ordered)


def _write(
    session: Session,
    corpus: Corpus,
    current: StateView,
    status: ReviewStatus,
    spans: tuple[Span, ...],
    reviewer: str,
    action: str,
    expected_version: int,
    note: str,
    *,
    undoes: int | None = None,
) -> StateView:
    """One conditional UPDATE of the state (only at ``expected_version``) and its event, in the caller's
    transaction; a stale version raises :class:`ConflictError` and writes nothing."""
    sentence_id = current.sentence_id
    if not isinstance(expected_version, int) or expected_version < 0:
        raise XnerError(f"sentence {sentence_id}: expected_version must be a version number, got {expected_version!r}")
    if current.version != expected_version:
        raise _conflict(session, sentence_id, expected_version)
    if current.version == 0 and current.updated_at is None:  # never written: create the default row first
        default = {
            "b_id": sentence_id,
            "b_spans": spans_to_records(current.spans),
            "b_labels": labels_text(current.spans),
            "b_confidence": current.confidence,
            "b_disagreement": 0.0,
            "b_run": None,
            "b_by": "",
            "b_at": utcnow(),
        }
        _insert_missing(session, [_state_row(corpus.id, default)])
    now = utcnow()
    version = expected_version + 1
    result = session.execute(
        update(_state)
        .where(_state.c.sentence_id == sentence_id, _state.c.version == expected_version)
        .values(
            status=status.value,
            spans=spans_to_records(spans),
            labels=labels_text(spans),
            version=version,
            updated_by=reviewer,
            updated_at=now,
        )
    )
    if result.rowcount != 1:
        raise _conflict(session, sentence_id, expected_version)
    session.execute(
        insert(_event).values(
            sentence_id=sentence_id,
            corpus_id=corpus.id,
            reviewer=reviewer,
            action=action,
            status_before=current.status.value,
            status_after=status.value,
            spans_before=spans_to_records(current.spans),
            spans_after=spans_to_records(spans),
            version=version,
            created_at=now,
            note=note,
            undoes=undoes,
        )
    )
    return StateView(
        sentence_id, status, spans, current.confidence, version, reviewer, now, current.run_id, current.disagreement
    )


def _conflict(session: Session, sentence_id: int, expected_version: int) -> ConflictError:
    current = _current_state(session, sentence_id)
    events = _events(session, ReviewEvent.sentence_id == sentence_id, newest_first=True, limit=1)
    decision = events[0] if events and events[0].version == current.version else None
    if decision is not None:
        by = f"{decision.reviewer!r} ({decision.action}: {decision.status_after}, {len(decision.spans_after)} spans)"
        when = f" at {decision.at:%Y-%m-%d %H:%M:%S}"
    else:
        by = "a new projection queue" + (f" by {current.updated_by!r}" if current.updated_by else "")
        when = ""
    return ConflictError(
        f"sentence {sentence_id} was changed by {by}{when} after you loaded version {expected_version} "
        f"(now version {current.version}): reload it and decide again",
        current=current,
        decision=decision,
    )


# --- history -------------------------------------------------------------------------------------------------


def history(store: Store, sentence_id: int) -> list[EventView]:
    """Every decision on target sentence ``sentence_id``, oldest first."""
    with store.session() as session:
        _target(session, sentence_id)
        return _events(session, ReviewEvent.sentence_id == sentence_id)


def reviewer_history(store: Store, corpus: str, reviewer: str, *, limit: int = 50) -> list[EventView]:
    """``reviewer``'s latest ``limit`` decisions in ``corpus``, newest first."""
    with store.session() as session:
        found = get_corpus(session, corpus)
        return _events(
            session,
            ReviewEvent.reviewer == reviewer,
            ReviewEvent.corpus_id == found.id,
            newest_first=True,
            limit=limit,
        )


def _events(
    session: Session, *conditions: Any, newest_first: bool = False, limit: int | None = None
) -> list[EventView]:
    query = select(ReviewEvent).where(*conditions)
    query = query.order_by(ReviewEvent.id.desc() if newest_first else ReviewEvent.id)
    if limit is not None:
        query = query.limit(limit)
    return [_event_view(row) for row in session.scalars(query)]


def _event_view(row: ReviewEvent) -> EventView:
    return EventView(
        row.id,
        row.sentence_id,
        row.reviewer,
        row.action,
        ReviewStatus(row.status_before),
        ReviewStatus(row.status_after),
        records_to_spans(row.spans_before),
        records_to_spans(row.spans_after),
        row.version,
        as_utc(row.created_at),
        row.note,
        row.undoes,
    )


def _effective(events: Sequence[EventView]) -> list[EventView]:
    """The decisions that stand: undo events and the events they undid are left out."""
    undone = {event.undoes for event in events if event.undoes is not None}
    return [event for event in events if event.action != "undo" and event.id not in undone]


# --- agreement and adjudication ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PairAgreement:
    """How two reviewers agree on the items both decided."""

    first: str
    second: str
    items: int
    observed: float  # share of items with the same status
    kappa: float  # Cohen's kappa on the status
    span_items: int  # items neither rejected: the base of span_f1
    span_f1: float  # micro F1 of exact span matches between their spans (1.0 when no entity on either side)


@dataclass(frozen=True, slots=True)
class AgreementReport:
    corpus: str
    items: int  # items decided by two or more reviewers
    reviewers: tuple[str, ...]
    pairs: tuple[PairAgreement, ...]
    observed: float  # over every reviewer pair's items pooled
    kappa: float | None  # Cohen's kappa over the pooled pairs of decisions; None without any
    span_f1: float | None


@dataclass(frozen=True, slots=True)
class Disagreement:
    """An item whose reviewers differ, with each one's standing decision, for adjudication."""

    sentence_id: int
    votes: tuple[EventView, ...]  # one per reviewer, by reviewer name
    adjudication: EventView | None  # the latest adjudication, when one came after the votes


def agreement(store: Store, corpus: str) -> AgreementReport:
    """Inter-reviewer agreement on ``corpus``: each reviewer's standing decision per item (their latest accept,
    reject or correct that was not undone), compared on items decided by two or more reviewers."""
    with store.session() as session:
        found = get_corpus(session, corpus)
        votes, _ = _votes(session, found)
    shared = {sid: by for sid, by in votes.items() if len(by) >= 2}
    comparisons: dict[tuple[str, str], list[tuple[EventView, EventView]]] = {}
    for by in shared.values():
        names = sorted(by)
        for i, first in enumerate(names):
            for second in names[i + 1 :]:
                comparisons.setdefault((first, second), []).append((by[first], by[second]))
    pairs = tuple(_pair_agreement(a, b, items) for (a, b), items in sorted(comparisons.items()))
    pooled = [item for items in comparisons.values() for item in items]
    return AgreementReport(
        corpus,
        len(shared),
        tuple(sorted({name for by in shared.values() for name in by})),
        pairs,
        _observed(pooled),
        cohen_kappa((a.status_after, b.status_after) for a, b in pooled) if pooled else None,
        _span_f1(pooled) if pooled else None,
    )


def disagreements(store: Store, corpus: str, *, include_adjudicated: bool = False) -> list[Disagreement]:
    """Items of ``corpus`` where reviewers' standing decisions differ (status, or spans unless both rejected),
    by sentence id; adjudicated ones (an adjudication after the last vote) only with ``include_adjudicated``."""
    with store.session() as session:
        found = get_corpus(session, corpus)
        votes, adjudications = _votes(session, found)
    result = []
    for sentence_id, by in sorted(votes.items()):
        if len(by) < 2 or not _differ(list(by.values())):
            continue
        ruling = adjudications.get(sentence_id)
        if ruling is not None and ruling.id < max(vote.id for vote in by.values()):
            ruling = None
        if ruling is not None and not include_adjudicated:
            continue
        result.append(Disagreement(sentence_id, tuple(by[name] for name in sorted(by)), ruling))
    return result


def _votes(session: Session, corpus: Corpus) -> tuple[dict[int, dict[str, EventView]], dict[int, EventView]]:
    """Each reviewer's standing vote per sentence, and each sentence's latest standing adjudication."""
    events = _events(session, ReviewEvent.corpus_id == corpus.id)
    votes: dict[int, dict[str, EventView]] = {}
    adjudications: dict[int, EventView] = {}
    for event in _effective(events):
        if event.action in VOTES:
            votes.setdefault(event.sentence_id, {})[event.reviewer] = event
        elif event.action == "adjudicate":
            adjudications[event.sentence_id] = event
    return votes, adjudications


def _differ(votes: Sequence[EventView]) -> bool:
    if len({vote.status_after for vote in votes}) > 1:
        return True
    if votes[0].status_after == ReviewStatus.REJECTED:
        return False
    return len({vote.spans_after for vote in votes}) > 1


def _pair_agreement(first: str, second: str, items: list[tuple[EventView, EventView]]) -> PairAgreement:
    spans = [(a, b) for a, b in items if ReviewStatus.REJECTED not in (a.status_after, b.status_after)]
    return PairAgreement(
        first,
        second,
        len(items),
        _observed(items),
        cohen_kappa((a.status_after, b.status_after) for a, b in items),
        len(spans),
        _span_f1(items),
    )


def _observed(items: Sequence[tuple[EventView, EventView]]) -> float:
    return sum(a.status_after == b.status_after for a, b in items) / len(items) if items else 0.0


def _span_f1(items: Sequence[tuple[EventView, EventView]]) -> float:
    """Micro F1 of exact span matches over the items neither reviewer rejected (1.0 when no spans at all)."""
    matched = total = 0
    for a, b in items:
        if ReviewStatus.REJECTED in (a.status_after, b.status_after):
            continue
        matched += len(set(a.spans_after) & set(b.spans_after))
        total += len(a.spans_after) + len(b.spans_after)
    return 2 * matched / total if total else 1.0


# --- the review page's overview ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RunInfo:
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
    runs: tuple[RunInfo, ...]  # oldest first
    queued_run: int | None  # the run suggesting the first unreviewed item (None: nothing queued yet)
    progress: dict[str, int]  # review states per status
    total: int  # reviewable (target) sentences

    @property
    def reviewed(self) -> int:
        return sum(self.progress.get(status.value, 0) for status in REVIEWED)


def queue_overview(store: Store, corpus: str) -> QueueOverview:
    """The projection runs, the queued run and the review progress of ``corpus``: index reads and counts only.

    Raises:
        XnerError: unknown corpus.
    """
    with store.session() as session:
        found = get_corpus(session, corpus)
        runs = session.execute(
            select(
                ProjectionRun.id,
                ProjectionRun.method,
                ProjectionRun.alignment_run_id,
                ProjectionRun.created_at,
                ProjectionRun.created_by,
            )
            .where(ProjectionRun.corpus_id == found.id)
            .order_by(ProjectionRun.id)
        ).all()
        suggested = select(_state.c.run_id).where(_state.c.corpus_id == found.id, _state.c.run_id.is_not(None))
        unreviewed = suggested.where(_state.c.status == ReviewStatus.UNREVIEWED.value)
        queued = session.scalar(unreviewed.order_by(_state.c.confidence).limit(1))
        if queued is None:  # every queued item is reviewed
            queued = session.scalar(suggested.limit(1))
        return QueueOverview(
            found.name,
            tuple(sorted(found.labels)),
            tuple(RunInfo(r.id, r.method, r.alignment_run_id, as_utc(r.created_at), r.created_by) for r in runs),
            queued,
            _progress(session, found),
            count_pairs(session, found),
        )
