"""Hidden staging corpora: long writes that stay invisible until they are done, without holding the write lock.

An import, an alignment run or a projection run may write hundreds of thousands of rows. In one transaction they
would hold SQLite's write lock for minutes, and every reviewer's save would fail with "database is locked". Here
they are written a batch at a time, each batch its own short committed transaction (:meth:`Stage.write`), under a
corpus row whose ``import_state`` is set. Readers never see such a corpus: they find corpora through
:func:`xner.services.corpora.find_corpus` / ``get_corpus`` and list them through ``list_corpus_info`` /
``list_corpora``, the one place where the rule ``import_state IS NULL`` lives, and every other query selects by the
id of a corpus found that way (or by a run of such a corpus). One short final transaction (:meth:`Stage.publish`)
then makes the write visible:

- a **new corpus** is written as itself, hidden; publishing clears its ``import_state``: one row;
- rows for an **existing corpus** (a new split, ``--append``) go under a hidden *staging corpus*; publishing moves
  them with :func:`move_corpus_rows` (``UPDATE sentence / entity / sentence_pair SET corpus_id = target``, positions
  shifted past the split's last one, found through the staging corpus's index), then deletes the empty staging row;
- a **new alignment or projection run** hangs under a hidden staging corpus (its rows point at the run, and at pairs
  of the target corpus); publishing points the run row at the target corpus (:func:`move_runs`): one row.

Why a staging corpus and not an import id on every row: with an id, every query on sentences, pairs, entities,
alignments and projections (dozens, the review queue's among them) would need one more condition to stay right,
and one forgotten condition would leak half an import. With a staging corpus the rule lives in the corpus look-up
alone. The price is that publishing an append rewrites the appended rows' corpus id and position: pure index
work, linear in the rows appended and independent of the corpus's size. Measured on SQLite (2 cores shared with
other jobs, load average 9): publishing 10,000 appended parallel pairs (20,000 sentences, 43,400 entities) took
0.29 s, 100,000 pairs 7.2 s; a new corpus publishes in 0.01 s at either size, and a new run in one row. Big imports
are nearly always new corpora; a very large append holds the lock for seconds once, instead of for its whole import.

A failed write removes its own rows, a batch per transaction (:meth:`Stage.discard`), hidden meanwhile (state
``discarding``). A write whose process died (kill -9, a power cut) leaves its hidden corpus behind, never visible:
the **next staged write** (any import, align or project run) removes it before it starts (:func:`sweep_abandoned`).
A hidden corpus is abandoned when its owner process, on this host, is gone (pid and process start time), or, when
it was written from another host (a shared PostgreSQL server), when its heartbeat, refreshed by every committed
batch, is older than :data:`STALE_AFTER_S`.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, Table, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from xner.errors import XnerError
from xner.store.bulk import insert_dicts
from xner.store.db import Store
from xner.store.models import (
    Alignment,
    AlignmentRun,
    Corpus,
    Entity,
    Projection,
    ProjectionRun,
    Sentence,
    SentencePair,
    utcnow,
)

T = TypeVar("T")
log = logging.getLogger(__name__)

IMPORTING = "importing"  # being written
DISCARDING = (
    "discarding"  # a failed or abandoned write, or a deleted corpus or run (xner.services.deleting), being removed
)
STAGING_PREFIX = "xner-staging:"  # the name of a staging corpus: the prefix and a random hex id
DELETE_BATCH = 5000  # rows deleted per transaction when a hidden corpus is removed
STALE_AFTER_S = 30 * 60  # a hidden corpus of another host without a heartbeat for this long is abandoned
WRITER_WAIT_S = 60.0  # a batch of a long write retries this long on a busy database before the write fails


# --- owners and liveness -----------------------------------------------------------------------------------------


def process_owner(pid: int | None = None) -> str:
    """``host:pid:start`` of process ``pid`` (default: this one); ``start`` is its start time in clock ticks since
    boot (Linux), empty where unknown: with it, a pid reused by a later process is not taken for the owner."""
    pid = os.getpid() if pid is None else pid
    return f"{socket.gethostname()}:{pid}:{_start_ticks(pid)}"


def _start_ticks(pid: int) -> str:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    fields = stat.rsplit(")", 1)[-1].split()  # after "pid (command)": state is field 3, starttime field 22
    return fields[19] if len(fields) > 19 else ""


def _is_running(pid: int, start: str) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        pass
    return not start or _start_ticks(pid) in ("", start)


def as_utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC time (SQLite hands back naive times; xner stores UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def is_abandoned(
    owner: str | None, heartbeat: datetime | None, *, now: datetime | None = None, stale_after_s: float = STALE_AFTER_S
) -> bool:
    """Whether a hidden corpus written by ``owner`` (see :func:`process_owner`) was left behind: its owner process,
    on this host, is gone; or, for an owner elsewhere, its last ``heartbeat`` is older than ``stale_after_s``.

    >>> is_abandoned(process_owner(), None)
    False
    >>> is_abandoned("elsewhere:1:", datetime(2020, 1, 1, tzinfo=UTC))
    True
    """
    host, _, rest = (owner or "").partition(":")
    pid, _, start = rest.partition(":")
    if host == socket.gethostname() and pid.isdigit():
        return not _is_running(int(pid), start)
    if heartbeat is None:
        return True
    return ((now or utcnow()) - as_utc(heartbeat)).total_seconds() > stale_after_s


# --- a staged write ------------------------------------------------------------------------------------------------


@dataclass
class Stage:
    """One staged write: its hidden corpus (a detached row: ``id``, ``name``, kind and languages) and its owner.

    ``is_new``: the hidden corpus is the new corpus itself (publishing reveals it); otherwise it is a staging
    corpus whose rows or runs publishing moves to their corpus, and which it then deletes.
    """

    store: Store
    corpus: Corpus
    owner: str
    is_new: bool
    what: str
    done: bool = False

    @property
    def id(self) -> int:
        return self.corpus.id

    def write(self, fn: Callable[[Session], T]) -> T:
        """``fn(session)`` as one committed batch of the stage (retried while the database is busy), with a
        heartbeat. Raises :class:`XnerError` when the stage was removed meanwhile (taken for abandoned)."""
        return self.store.write(partial(self._batch, fn), what=self.what, max_wait_s=WRITER_WAIT_S)

    def publish(self, fn: Callable[[Session], T] | None = None) -> T | None:
        """Make the stage visible in one transaction: ``fn(session)`` first (move the rows or runs to their corpus,
        final checks; raising leaves everything hidden), then reveal the new corpus or delete the staging one."""
        result = self.store.write(partial(self._publish, fn), what=self.what, max_wait_s=WRITER_WAIT_S)
        self.done = True
        return result

    def discard(self) -> None:
        """Remove the stage's rows, a batch per transaction, and then its corpus row (hidden all along)."""
        self.done = True
        discard_corpus(self.store, self.id, owner=self.owner)

    def _batch(self, fn: Callable[[Session], T], session: Session) -> T:
        self._touch(session)
        return fn(session)

    def _publish(self, fn: Callable[[Session], T] | None, session: Session) -> T | None:
        self._touch(session)
        result = fn(session) if fn is not None else None
        if self.is_new:
            session.execute(
                update(Corpus)
                .where(Corpus.id == self.id)
                .values(import_state=None, import_owner=None, import_started_at=None, import_heartbeat_at=None)
            )
        else:
            session.execute(delete(Corpus).where(Corpus.id == self.id))
        return result

    def _touch(self, session: Session) -> None:
        touched = session.execute(
            update(Corpus)
            .where(Corpus.id == self.id, Corpus.import_state == IMPORTING, Corpus.import_owner == self.owner)
            .values(import_heartbeat_at=utcnow())
        )
        if touched.rowcount != 1:
            raise XnerError(
                f"{self.what} was stopped: another process took it for abandoned and removed its unfinished rows; "
                "run it again"
            )


def begin_stage(
    store: Store,
    *,
    what: str,
    kind: str,
    src_lang: str,
    tgt_lang: str | None = None,
    name: str | None = None,
    labels: Collection[str] = (),
    description: str = "",
) -> Stage:
    """Create the hidden corpus of a staged write (committed at once) and return its :class:`Stage`.

    Args:
        what: what the write is, for messages (``"import of train.txt into 'yor'"``).
        kind, src_lang, tgt_lang: the corpus's kind and languages (a staging corpus copies its target's).
        name: the name of a new corpus, written as itself; None for a staging corpus (named
            :data:`STAGING_PREFIX` + a random id).
        labels, description: of a new corpus.

    Raises:
        XnerError: ``name`` was taken by another import a moment ago.
    """
    owner = process_owner()

    def add(session: Session) -> Corpus:
        now = utcnow()
        corpus = Corpus(
            name=name if name is not None else f"{STAGING_PREFIX}{uuid.uuid4().hex}",
            kind=kind,
            src_lang=src_lang,
            tgt_lang=tgt_lang,
            labels=sorted(labels),
            description=description if name is not None else what,
            import_state=IMPORTING,
            import_owner=owner,
            import_started_at=now,
            import_heartbeat_at=now,
        )
        session.add(corpus)
        session.flush()
        return corpus

    try:
        corpus = store.write(add, what=what, max_wait_s=WRITER_WAIT_S)
    except IntegrityError:
        raise XnerError(
            f"corpus {name!r} was created by another import a moment ago: wait for it, or choose another name"
        ) from None
    return Stage(store, corpus, owner, is_new=name is not None, what=what)


@contextmanager
def staged(store: Store, **settings) -> Iterator[Stage]:
    """:func:`begin_stage` (same arguments) as a block: the stage is discarded when the block raises (the error
    then propagates) or ends without :meth:`Stage.publish`. A discard that itself fails leaves the hidden rows to
    :func:`sweep_abandoned`."""
    stage = begin_stage(store, **settings)
    try:
        yield stage
    except BaseException:
        if not stage.done:
            _discard_quietly(stage)
        raise
    if not stage.done:
        stage.discard()


def _discard_quietly(stage: Stage) -> None:
    try:
        stage.discard()
    except Exception as error:  # the original error matters more; the rows stay hidden until the next sweep
        log.warning("could not remove the unfinished rows of %s now (the next import will): %s", stage.what, error)


# --- batches and publication ---------------------------------------------------------------------------------------


def add_row(model: type, values: dict[str, Any], session: Session) -> int:
    """Add one ``model`` row with ``values`` (e.g. a run under the stage's corpus); returns its id."""
    row = model(**values)
    session.add(row)
    session.flush()
    return row.id


def insert_rows(model: type, rows: list[dict[str, Any]], session: Session) -> None:
    """Insert ``rows`` into ``model``'s table in one statement (:func:`xner.store.bulk.insert_dicts`): a batch for
    :meth:`Stage.write`."""
    insert_dicts(session, cast(Table, model.__table__), rows)  # type: ignore[attr-defined]


# --- moving rows and runs at publication ---------------------------------------------------------------------------


def move_corpus_rows(session: Session, from_id: int, to_id: int, *, position_offset: int = 0) -> None:
    """Move the sentences, entities and sentence pairs of corpus ``from_id`` to corpus ``to_id``, adding
    ``position_offset`` to their positions (sentences and pairs of one split share their positions)."""
    session.execute(
        update(Sentence)
        .where(Sentence.corpus_id == from_id)
        .values(corpus_id=to_id, position=Sentence.position + position_offset)
    )
    session.execute(update(Entity).where(Entity.corpus_id == from_id).values(corpus_id=to_id))
    session.execute(
        update(SentencePair)
        .where(SentencePair.corpus_id == from_id)
        .values(corpus_id=to_id, position=SentencePair.position + position_offset)
    )


def move_runs(session: Session, from_id: int, to_id: int) -> None:
    """Point the alignment and projection runs of corpus ``from_id`` at corpus ``to_id`` (their rows follow)."""
    session.execute(update(AlignmentRun).where(AlignmentRun.corpus_id == from_id).values(corpus_id=to_id))
    session.execute(update(ProjectionRun).where(ProjectionRun.corpus_id == from_id).values(corpus_id=to_id))


# --- removing hidden corpora ------------------------------------------------------------------------------------


def discard_corpus(store: Store, corpus_id: int, *, owner: str | None = None) -> bool:
    """Remove hidden corpus ``corpus_id`` and every row under it, :data:`DELETE_BATCH` rows per transaction, so no
    reader or writer waits long; the corpus stays hidden (``discarding``) until its last row is gone. A visible
    corpus is never touched. Returns False when there was nothing to remove."""
    owner = owner or process_owner()
    marked = store.write(partial(_mark_discarding, corpus_id, owner), what="removing an unfinished import")
    if not marked:
        return False
    for table, condition in _rows_under(corpus_id):
        while store.write(partial(_delete_batch, table, condition), what="removing an unfinished import"):
            pass
    store.write(
        lambda session: session.execute(
            delete(Corpus).where(Corpus.id == corpus_id, Corpus.import_state == DISCARDING)
        ),
        what="removing an unfinished import",
    )
    return True


def _mark_discarding(corpus_id: int, owner: str, session: Session) -> bool:
    marked = session.execute(
        update(Corpus)
        .where(Corpus.id == corpus_id, Corpus.import_state.is_not(None))
        .values(import_state=DISCARDING, import_owner=owner, import_heartbeat_at=utcnow())
    )
    return marked.rowcount == 1


def _rows_under(corpus_id: int) -> list[tuple[Table, ColumnElement[bool]]]:
    """Each table with the condition of the rows under ``corpus_id``, children before parents: a batch of parents
    then cascades to nothing, and every foreign-key check on the way is an index look-up."""
    alignment_runs = select(AlignmentRun.id).where(AlignmentRun.corpus_id == corpus_id)
    projection_runs = select(ProjectionRun.id).where(ProjectionRun.corpus_id == corpus_id)
    tables = (Alignment, Projection, Entity, SentencePair, Sentence)
    conditions = (
        Alignment.run_id.in_(alignment_runs),
        Projection.run_id.in_(projection_runs),
        Entity.corpus_id == corpus_id,
        SentencePair.corpus_id == corpus_id,
        Sentence.corpus_id == corpus_id,
    )
    return [(model.__table__, condition) for model, condition in zip(tables, conditions, strict=True)]


def _delete_batch(table: Table, condition: ColumnElement[bool], session: Session) -> int:
    batch = select(table.c.id).where(condition).limit(DELETE_BATCH).scalar_subquery()
    return session.execute(delete(table).where(table.c.id.in_(batch))).rowcount


def sweep_abandoned(store: Store, *, stale_after_s: float = STALE_AFTER_S) -> list[str]:
    """Remove every hidden corpus whose write was abandoned (see :func:`is_abandoned`); returns the names of the
    corpora whose imports were removed (staging corpora give the name of their target's write, in their
    description). Hidden corpora of live writes, this process's included, are left alone. Two processes sweeping
    at once do not both remove the same corpus: each claims it first (owner compare-and-set)."""
    me = process_owner()
    with store.session() as session:
        hidden = session.execute(
            select(Corpus.id, Corpus.name, Corpus.description, Corpus.import_owner, Corpus.import_heartbeat_at).where(
                Corpus.import_state.is_not(None)
            )
        ).all()
    removed = []
    for row in hidden:
        mine = row.import_owner == me
        if mine or not is_abandoned(row.import_owner, row.import_heartbeat_at, stale_after_s=stale_after_s):
            continue
        if not store.write(partial(_claim, row.id, row.import_owner, me), what="removing an abandoned import"):
            continue  # another process claimed it first
        discard_corpus(store, row.id, owner=me)
        removed.append(row.description if row.name.startswith(STAGING_PREFIX) else f"corpus {row.name!r}")
    return removed


def _claim(corpus_id: int, owner: str | None, me: str, session: Session) -> bool:
    claimed = session.execute(
        update(Corpus)
        .where(Corpus.id == corpus_id, Corpus.import_state.is_not(None), Corpus.import_owner == owner)
        .values(import_state=DISCARDING, import_owner=me, import_heartbeat_at=utcnow())
    )
    return claimed.rowcount == 1
