"""Review state and event rows: reading an item's state and history, queueing suggestions, and the conditional
writes of a decision (optimistic concurrency: ``UPDATE ... WHERE version = expected``).

The service (:mod:`xner.services.review`) turns the rows into its views and decides what to write; these functions
only read and write rows, in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, cast

from sqlalchemy import CursorResult, Table, bindparam, case, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from xner.store.models import Corpus, ReviewEvent, ReviewRevision, ReviewState, Sentence
from xner.store.paging import AnyRow
from xner.types import ReviewStatus

state_table = cast(Table, ReviewState.__table__)
event_table = cast(Table, ReviewEvent.__table__)
revision_table = cast(Table, ReviewRevision.__table__)


class SentenceRow(NamedTuple):
    """The columns of a sentence a review item needs."""

    id: int
    corpus_id: int
    side: str
    split: str
    position: int
    tokens: list[str]


def sentence_row(session: Session, sentence_id: int) -> SentenceRow | None:
    """Sentence ``sentence_id`` (None when the store has none)."""
    row = session.execute(
        select(
            Sentence.id, Sentence.corpus_id, Sentence.side, Sentence.split, Sentence.position, Sentence.tokens
        ).where(Sentence.id == sentence_id)
    ).one_or_none()
    return SentenceRow(*row) if row is not None else None


def corpus_by_id(session: Session, corpus_id: int) -> Corpus | None:
    """The corpus row ``corpus_id`` (for the service's own use: never handed to callers)."""
    return session.get(Corpus, corpus_id)


def conflict_insert(session: Session, table: Table) -> Any:
    """An INSERT on ``table`` that takes ``ON CONFLICT`` clauses (SQLite's or PostgreSQL's), or None on other
    databases."""
    make = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}.get(session.get_bind().dialect.name)
    return make(table) if make is not None else None


def upsert(session: Session, table: Table, row: dict[str, Any], key: list[str], values: dict[str, Any]) -> None:
    """Insert ``row``, or update ``values`` of the row with the same ``key`` columns (one statement)."""
    statement = conflict_insert(session, table)
    if statement is not None:
        session.execute(statement.values(row).on_conflict_do_update(index_elements=key, set_=values))
        return
    where = [table.c[name] == row[name] for name in key]
    if not cast(CursorResult[Any], session.execute(update(table).where(*where).values(values))).rowcount:
        session.execute(insert(table).values(row))


def review_revision(session: Session, corpus_id: int) -> int:
    """The review revision of corpus ``corpus_id`` (0 before its first counted write)."""
    return session.scalar(select(revision_table.c.revision).where(revision_table.c.corpus_id == corpus_id)) or 0


def raise_review_revision(session: Session, corpus_id: int) -> int:
    """Raise the review revision of corpus ``corpus_id``, in the caller's transaction, and return the new one: every
    write that changes what the corpus's review counts count calls it. Call it last before the commit: on
    PostgreSQL the row stays locked until then, and other writers of the corpus wait for it."""
    values = {"revision": revision_table.c.revision + 1}
    upsert(session, revision_table, {"corpus_id": corpus_id, "revision": 1}, ["corpus_id"], values)
    return review_revision(session, corpus_id)


def state_row(session: Session, sentence_id: int) -> AnyRow | None:
    """The review state row of ``sentence_id`` (every column), or None when none was written."""
    return session.execute(select(state_table).where(state_table.c.sentence_id == sentence_id)).one_or_none()


def insert_missing_states(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert state rows, leaving alone any that a concurrent writer created first."""
    statement = conflict_insert(session, state_table)
    if statement is None:
        session.execute(insert(state_table), rows)
    else:
        session.execute(statement.on_conflict_do_nothing(index_elements=["sentence_id"]), rows)


def state_statuses(session: Session, sentence_ids: Sequence[int]) -> dict[int, str]:
    """The stored status of each of ``sentence_ids`` that has a state, by sentence id."""
    rows = session.execute(
        select(ReviewState.sentence_id, ReviewState.status).where(ReviewState.sentence_id.in_(list(sentence_ids)))
    )
    return {sentence_id: status for sentence_id, status in rows}


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


def requeue_states(session: Session, values: list[dict[str, Any]]) -> None:
    """Give unreviewed states a new suggestion, one executemany over ``values`` (parameters ``b_id``, ``b_spans``,
    ``b_labels``, ``b_confidence``, ``b_disagreement``, ``b_run``, ``b_by``, ``b_at``): a state whose suggesting run
    changes gets a new version; reviewed states are left as they are."""
    session.execute(_requeue, values)


def update_state(session: Session, sentence_id: int, expected_version: int, values: Mapping[str, Any]) -> bool:
    """Write ``values`` to the state of ``sentence_id`` only if its version is still ``expected_version`` (one
    conditional UPDATE); False when another write changed it first (nothing written)."""
    result = session.execute(
        update(state_table)
        .where(state_table.c.sentence_id == sentence_id, state_table.c.version == expected_version)
        .values(dict(values))
    )
    return cast(CursorResult[Any], result).rowcount == 1


def insert_event(session: Session, values: Mapping[str, Any]) -> None:
    """Append one row (``values``: its columns) to the review history."""
    session.execute(insert(event_table).values(dict(values)))


def event_rows(
    session: Session,
    *,
    sentence_id: int | None = None,
    corpus_id: int | None = None,
    reviewer: str | None = None,
    newest_first: bool = False,
    limit: int | None = None,
) -> list[ReviewEvent]:
    """The review events of a sentence, a corpus and/or a reviewer (the filters given), by id (oldest first, or
    ``newest_first``), at most ``limit``."""
    conditions = []
    if reviewer is not None:
        conditions.append(ReviewEvent.reviewer == reviewer)
    if sentence_id is not None:
        conditions.append(ReviewEvent.sentence_id == sentence_id)
    if corpus_id is not None:
        conditions.append(ReviewEvent.corpus_id == corpus_id)
    query = select(ReviewEvent).where(*conditions)
    query = query.order_by(ReviewEvent.id.desc() if newest_first else ReviewEvent.id)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def queued_run(session: Session, corpus_id: int) -> int | None:
    """The projection run that suggests the first unreviewed item of corpus ``corpus_id`` (least confident), else
    the run of any queued item when every one is reviewed; None when nothing was queued."""
    suggested = select(state_table.c.run_id).where(
        state_table.c.corpus_id == corpus_id, state_table.c.run_id.is_not(None)
    )
    unreviewed = suggested.where(state_table.c.status == ReviewStatus.UNREVIEWED.value)
    found = session.scalar(unreviewed.order_by(state_table.c.confidence).limit(1))
    if found is None:  # every queued item is reviewed
        found = session.scalar(suggested.limit(1))
    return found
