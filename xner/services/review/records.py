"""Review records shared by the review modules: the state and event views, the
reviewable target sentence and its current state, the event history, and the status groups.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from xner.errors import CorpusImportingError, XnerError
from xner.store.models import Corpus, ReviewEvent
from xner.store.queries.review_states import corpus_by_id, event_rows, sentence_row, state_row
from xner.store.queries.sentences import entity_spans
from xner.store.staging import DISCARDING
from xner.types import ReviewStatus, Span

if TYPE_CHECKING:
    from xner.store.db import Session
    from xner.store.queries.review_states import SentenceRow

ORDERS = ("confidence", "disagreement")
ACTIONS = ("accept", "reject", "correct", "adjudicate", "skip")
VOTES = ("accept", "reject", "correct")  # a reviewer's own judgment: what agreement compares
DECISIONS = (*VOTES, "adjudicate", "undo")  # every action that writes an event


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
    votes: int = 0  # distinct reviewers whose own decision on the item stands
    final: bool = False  # settled by an adjudication


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
    applied: bool = True  # False: a vote beside a state another reviewer had decided (for adjudication)

    @property
    def entities(self) -> tuple[Span, ...]:
        """The entities the decision leaves: none for a reject (the sentence is unusable; the spans it had are
        kept in ``spans_after`` for the record only, and are not to be shown as its entities)."""
        return () if self.status_after == ReviewStatus.REJECTED else self.spans_after


def as_utc(moment: datetime | None) -> datetime | None:
    """``moment`` as an aware UTC time (SQLite hands back naive ones; every stored time is UTC)."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def labels_text(spans: Iterable[Span]) -> str:
    """The ``review_state.labels`` value: sorted distinct labels between spaces (``" LOC PER "``), or ``""``."""
    labels = sorted({span.label for span in spans})
    return f" {' '.join(labels)} " if labels else ""


def new_state_values(corpus_id: int, values: Mapping[str, Any]) -> dict[str, Any]:
    """The columns of a new (unreviewed, version 0) state row from a suggestion's ``b_*`` values."""
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


def target_sentence(session: Session, sentence_id: int) -> tuple[SentenceRow, Corpus]:
    """The reviewable sentence ``sentence_id`` and its corpus; an unknown or source sentence is an error."""
    row = sentence_row(session, sentence_id)
    if row is None:
        raise XnerError(f"no sentence {sentence_id} in the store")
    corpus = corpus_by_id(session, row.corpus_id)
    assert corpus is not None
    if corpus.import_state is not None:  # an import still being written (or removed): not reviewable yet
        raise CorpusImportingError(
            corpus.name, as_utc(corpus.import_started_at), removing=corpus.import_state == DISCARDING
        )
    if row.side == "src":
        raise XnerError(
            f"sentence {sentence_id} is a source sentence of corpus {corpus.name!r}: review works on target sentences"
        )
    return row, corpus


def load_state(session: Session, sentence_id: int) -> StateView | None:
    row = state_row(session, sentence_id)
    if row is None:
        return None
    return StateView(
        row.sentence_id,
        ReviewStatus(row.status),
        tuple(row.spans),
        row.confidence,
        row.version,
        row.updated_by,
        as_utc(row.updated_at),
        row.run_id,
        row.disagreement,
        row.votes,
        bool(row.final),
    )


def current_state(session: Session, sentence_id: int) -> StateView:
    """The stored state, else the unwritten default: unreviewed, with the sentence's gold entities."""
    state = load_state(session, sentence_id)
    if state is not None:
        return state
    gold = entity_spans(session, [sentence_id]).get(sentence_id, [])
    return StateView(sentence_id, ReviewStatus.UNREVIEWED, tuple(sorted(gold)), 1.0, 0)


def load_events(
    session: Session,
    *,
    sentence_id: int | None = None,
    corpus_id: int | None = None,
    reviewer: str | None = None,
    newest_first: bool = False,
    limit: int | None = None,
) -> list[EventView]:
    """The review events of a sentence, a corpus and/or a reviewer, oldest first (or ``newest_first``)."""
    rows = event_rows(
        session,
        sentence_id=sentence_id,
        corpus_id=corpus_id,
        reviewer=reviewer,
        newest_first=newest_first,
        limit=limit,
    )
    return [event_view(row) for row in rows]


def event_view(row: ReviewEvent) -> EventView:
    return EventView(
        row.id,
        row.sentence_id,
        row.reviewer,
        row.action,
        ReviewStatus(row.status_before),
        ReviewStatus(row.status_after),
        tuple(row.spans_before),
        tuple(row.spans_after),
        row.version,
        as_utc(row.created_at),
        row.note,
        row.undoes,
        bool(row.applied),
    )


def standing_events(events: Sequence[EventView]) -> list[EventView]:
    """The decisions that stand: undo events and the events they undid are left out."""
    undone = {event.undoes for event in events if event.undoes is not None}
    return [event for event in events if event.action != "undo" and event.id not in undone]


def voters(events: Sequence[EventView]) -> set[str]:
    """The reviewers whose own decision (accept, reject, correct) on the item stands."""
    return {event.reviewer for event in standing_events(events) if event.action in VOTES}


def check_reviewer(reviewer: str) -> str:
    name = (reviewer or "").strip()
    if not name:
        raise XnerError("a review decision needs the reviewer's name")
    return name
