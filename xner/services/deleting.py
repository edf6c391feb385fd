"""Deleting a corpus or one of its runs (``xner delete``, the Home page), each recorded in the append-only
``deletion_log`` (who, what, when, the counts removed).

First :func:`plan_corpus_delete` / :func:`plan_run_delete` say what a delete would remove (the confirmation step
shows it) and whether the corpus or run is being reviewed: review states queued and not yet reviewed, items open on
a reviewer's screen (an active lease), or review decisions made (for a run: on its suggestions). A delete of
something being reviewed is refused with that reason unless forced.

A delete is one short transaction that checks again, records the deletion and hides what goes; the rows are then
removed :data:`xner.store.staging.DELETE_BATCH` at a time, hidden meanwhile, like a failed import
(:func:`xner.store.staging.discard_corpus`): no reader ever sees half a corpus, reviewers are never locked out
for long, and a delete whose process dies is finished by the next import, align or project run
(:func:`xner.store.staging.sweep_abandoned`).

- A **corpus** is hidden as itself (its ``import_state`` set to ``discarding``); everything under it goes: its
  sentences, entities, pairs, runs, review states and history, leases, queue settings and spot checks. Other
  corpora, their review history included, are untouched.
- A **run** is moved under a hidden staging corpus, which is then removed like a corpus. Review states suggested
  by a projection run keep their spans and status (they lose the link to the run), its spot checks go with it;
  projection runs over an alignment run keep their spans (they lose the link to the alignment). A refinement
  (back-translation) run is an alignment run.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from xner.errors import UnknownNameError, XnerError
from xner.services.corpora import get_corpus
from xner.store.db import Store
from xner.store.models import (
    Alignment,
    AlignmentRun,
    Corpus,
    DeletionLog,
    Entity,
    Projection,
    ProjectionRun,
    ReviewEvent,
    ReviewLease,
    ReviewState,
    Sentence,
    SentencePair,
    SpotCheck,
    utcnow,
)
from xner.store.queries.review import is_reviewed
from xner.store.staging import DISCARDING, STAGING_PREFIX, discard_corpus, process_owner
from xner.types import ReviewStatus

RUN_KINDS = ("alignment", "projection")
UNREVIEWED = ReviewStatus.UNREVIEWED.value


@dataclass(frozen=True)
class DeletePlan:
    """What deleting a corpus or run removes, and why it may be refused.

    ``kind`` is ``"corpus"``, ``"alignment run"`` or ``"projection run"``; ``name`` the corpus name or the run id;
    ``counts`` what goes (for a run, also what only loses its link to it: ``"review states unlinked"``,
    ``"projection runs unlinked"``); ``blockers`` the review use that refuses a delete unless forced.
    """

    kind: str
    name: str
    corpus: str
    detail: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    blockers: list[str] = field(default_factory=list)

    @property
    def target(self) -> str:
        """``corpus 'yor'`` or ``projection run 4 (ngram) of corpus 'ep'``."""
        if self.kind == "corpus":
            return f"corpus {self.name!r}"
        return f"{self.kind} {self.name} ({self.detail}) of corpus {self.corpus!r}"

    @property
    def removes(self) -> str:
        """The counts as one phrase: ``799 pairs, 1598 sentences, ...``."""
        return ", ".join(f"{n} {what}" for what, n in self.counts.items()) or "nothing else"

    @property
    def refusal(self) -> str:
        """The one-line reason a delete without force is refused ("" when it is not)."""
        if not self.blockers:
            return ""
        return f"{self.target} is being reviewed ({'; '.join(self.blockers)}): force the delete to remove it anyway"


@dataclass(frozen=True)
class DeleteReport:
    """A deletion done: its plan (as checked in the deleting transaction), whether it was forced, its log id."""

    plan: DeletePlan
    forced: bool
    log_id: int
    deleted_by: str
    seconds: float


@dataclass(frozen=True)
class DeletionRecord:
    """One row of the deletion log."""

    id: int
    deleted_at: datetime
    deleted_by: str
    kind: str
    name: str
    corpus: str
    detail: str
    counts: dict[str, int]
    forced: bool
    reasons: list[str]


# --- plans ----------------------------------------------------------------------------------------------------------


def _count(session: Session, model: type, *conditions: ColumnElement[bool]) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0


def _review_use(session: Session, states: ColumnElement[bool], *, decided: int, decided_what: str) -> list[str]:
    """The review use of the review states matching ``states``: queued unreviewed items, items open on a
    reviewer's screen now, and ``decided`` decisions (the caller counts them)."""
    queued = _count(session, ReviewState, states, ReviewState.status == UNREVIEWED)
    open_now = session.scalar(
        select(func.count(func.distinct(ReviewLease.sentence_id)))
        .join(ReviewState, ReviewState.sentence_id == ReviewLease.sentence_id)
        .where(states, ReviewLease.expires_at > utcnow())
    )
    blockers = []
    if queued:
        blockers.append(f"{queued} queued {_plural(queued, 'item')} not yet reviewed")
    if open_now:
        blockers.append(f"{open_now} {_plural(open_now, 'item')} open on a reviewer's screen now")
    if decided:
        blockers.append(f"{decided} {_plural(decided, decided_what)}")
    return blockers


def _plural(count: int, noun: str) -> str:
    """``noun`` (its first word) in the plural unless ``count`` is 1: ``decision on its suggestions`` →
    ``decisions on its suggestions``.

    >>> _plural(1, "item"), _plural(3, "review decision"), _plural(2, "decision on its suggestions")
    ('item', 'review decisions', 'decisions on its suggestions')
    """
    if count == 1:
        return noun
    words = noun.split(" ")
    index = 1 if words[0] == "review" else 0
    words[index] += "s"
    return " ".join(words)


def _corpus_plan(session: Session, corpus: Corpus) -> DeletePlan:
    alignment_runs = select(AlignmentRun.id).where(AlignmentRun.corpus_id == corpus.id)
    projection_runs = select(ProjectionRun.id).where(ProjectionRun.corpus_id == corpus.id)
    counts = {
        "pairs": _count(session, SentencePair, SentencePair.corpus_id == corpus.id),
        "sentences": _count(session, Sentence, Sentence.corpus_id == corpus.id),
        "entities": _count(session, Entity, Entity.corpus_id == corpus.id),
        "alignment runs": _count(session, AlignmentRun, AlignmentRun.corpus_id == corpus.id),
        "alignments": _count(session, Alignment, Alignment.run_id.in_(alignment_runs)),
        "projection runs": _count(session, ProjectionRun, ProjectionRun.corpus_id == corpus.id),
        "projections": _count(session, Projection, Projection.run_id.in_(projection_runs)),
        "review states": _count(session, ReviewState, ReviewState.corpus_id == corpus.id),
        "review events": _count(session, ReviewEvent, ReviewEvent.corpus_id == corpus.id),
        "spot checks": _count(session, SpotCheck, SpotCheck.corpus_id == corpus.id),
    }
    blockers = _review_use(
        session,
        ReviewState.corpus_id == corpus.id,
        decided=counts["review events"],
        decided_what="review decision",
    )
    return DeletePlan("corpus", corpus.name, corpus.name, corpus.kind, counts, blockers)


def _decided_on(session: Session, states: ColumnElement[bool]) -> int:
    return _count(session, ReviewState, states, is_reviewed())


def _run_plan(session: Session, run: AlignmentRun | ProjectionRun, corpus: Corpus) -> DeletePlan:
    if isinstance(run, AlignmentRun):
        over = select(ProjectionRun.id).where(ProjectionRun.alignment_run_id == run.id)
        counts = {
            "alignments": _count(session, Alignment, Alignment.run_id == run.id),
            "projection runs unlinked": _count(session, ProjectionRun, ProjectionRun.alignment_run_id == run.id),
        }
        states = ReviewState.run_id.in_(over)
        what, detail = "decision on the suggestions of projection runs over it", run.aligner
    else:
        states = ReviewState.run_id == run.id
        counts = {
            "projections": _count(session, Projection, Projection.run_id == run.id),
            "spot checks": _count(session, SpotCheck, SpotCheck.run_id == run.id),
            "review states unlinked": _count(session, ReviewState, states),
        }
        what = "decision on its suggestions"
        detail = run.method + (f" over alignment run {run.alignment_run_id}" if run.alignment_run_id else "")
    blockers = _review_use(session, states, decided=_decided_on(session, states), decided_what=what)
    kind = "alignment run" if isinstance(run, AlignmentRun) else "projection run"
    return DeletePlan(kind, str(run.id), corpus.name, detail, counts, blockers)


def _find_run(session: Session, run_id: int, kind: str | None) -> tuple[AlignmentRun | ProjectionRun, Corpus]:
    """Run ``run_id`` of ``kind`` (``alignment``/``projection``; None: whichever exists, refused when both do) and
    its visible corpus."""
    if kind is not None and kind not in RUN_KINDS:
        raise UnknownNameError("run kind", kind, RUN_KINDS)
    found: list[tuple[AlignmentRun | ProjectionRun, Corpus]] = []
    for name, model in (("alignment", AlignmentRun), ("projection", ProjectionRun)):
        if kind not in (None, name):
            continue
        run = session.get(model, run_id)
        corpus = session.get(Corpus, run.corpus_id) if run is not None else None
        if run is not None and corpus is not None and corpus.import_state is None:
            found.append((run, corpus))
    if not found:
        what = f"{kind} run" if kind else "alignment or projection run"
        raise XnerError(f"there is no {what} {run_id}")
    if len(found) > 1:
        raise XnerError(
            f"{run_id} is both an alignment run (corpus {found[0][1].name!r}) and a projection run (corpus "
            f"{found[1][1].name!r}): say which (--kind alignment or --kind projection)"
        )
    return found[0]


def plan_corpus_delete(store: Store, name: str) -> DeletePlan:
    """What deleting corpus ``name`` would remove, and its review use (see the module docstring).

    Raises:
        UnknownNameError: no corpus ``name`` (the message lists the corpora).
    """
    with store.session() as session:
        return _corpus_plan(session, get_corpus(session, name))


def plan_run_delete(store: Store, run_id: int, *, kind: str | None = None) -> DeletePlan:
    """What deleting alignment or projection run ``run_id`` would remove, and its review use.

    Args:
        store: the open store.
        run_id: the run's id.
        kind: ``alignment`` or ``projection``; None finds the run among both (an id both have must be told).

    Raises:
        XnerError: no such run, or an id both kinds have and no ``kind``.
    """
    with store.session() as session:
        return _run_plan(session, *_find_run(session, run_id, kind))


# --- deleting -------------------------------------------------------------------------------------------------------


def delete_corpus(store: Store, name: str, *, deleted_by: str, force: bool = False) -> DeleteReport:
    """Delete corpus ``name`` with everything under it, and record it in the deletion log.

    Args:
        store: the open store.
        name: the corpus.
        deleted_by: who deletes (the reviewer name in the app, the OS user or ``--by`` in the CLI).
        force: delete even while the corpus is being reviewed.

    Returns:
        The report: the plan as checked when the delete began, and the log id.

    Raises:
        XnerError: no such corpus, no ``deleted_by``, or the corpus is being reviewed and ``force`` is False
            (nothing is deleted then).
    """

    def hide(session: Session, me: str) -> tuple[DeletePlan, int, int]:
        corpus = get_corpus(session, name)
        plan = _checked(_corpus_plan(session, corpus), force)
        _hide_corpus(session, corpus.id, me)
        return plan, corpus.id, _log(session, plan, deleted_by, force)

    return _delete(store, hide, deleted_by)


def delete_run(
    store: Store, run_id: int, *, kind: str | None = None, deleted_by: str, force: bool = False
) -> DeleteReport:
    """Delete alignment or projection run ``run_id`` (its links or spans, a projection run's spot checks), and
    record it in the deletion log; see :func:`plan_run_delete` for ``kind`` and :func:`delete_corpus` for the
    rest.

    Raises:
        XnerError: no such run, no ``deleted_by``, or the run is being reviewed and ``force`` is False.
    """

    def hide(session: Session, me: str) -> tuple[DeletePlan, int, int]:
        run, corpus = _find_run(session, run_id, kind)
        plan = _checked(_run_plan(session, run, corpus), force)
        staging = _staging_corpus(session, corpus, me, plan)
        if isinstance(run, AlignmentRun):
            session.execute(
                update(ProjectionRun).where(ProjectionRun.alignment_run_id == run.id).values(alignment_run_id=None)
            )
            session.execute(update(AlignmentRun).where(AlignmentRun.id == run.id).values(corpus_id=staging))
        else:
            session.execute(update(ReviewState).where(ReviewState.run_id == run.id).values(run_id=None))
            session.execute(update(SpotCheck).where(SpotCheck.run_id == run.id).values(corpus_id=staging))
            session.execute(update(ProjectionRun).where(ProjectionRun.id == run.id).values(corpus_id=staging))
        return plan, staging, _log(session, plan, deleted_by, force)

    return _delete(store, hide, deleted_by)


def _delete(store: Store, hide: Callable[[Session, str], tuple[DeletePlan, int, int]], deleted_by: str) -> DeleteReport:
    """Run ``hide`` (check, hide, log: one transaction), then remove the hidden rows in batches."""
    if not deleted_by.strip():
        raise XnerError("a deletion needs the name of who deletes (the reviewer name in the app, --by in the CLI)")
    started = time.perf_counter()
    me = process_owner()  # the owner of the hidden rows: another process's sweep leaves them alone while we live
    plan, hidden_id, log_id = store.write(partial(hide, me=me), what="recording the deletion")
    discard_corpus(store, hidden_id, owner=me)
    return DeleteReport(plan, bool(plan.blockers), log_id, deleted_by, time.perf_counter() - started)


def _checked(plan: DeletePlan, force: bool) -> DeletePlan:
    if plan.blockers and not force:
        raise XnerError(plan.refusal)
    return plan


def _hide_corpus(session: Session, corpus_id: int, me: str) -> None:
    now = utcnow()
    hidden = session.execute(
        update(Corpus)
        .where(Corpus.id == corpus_id, Corpus.import_state.is_(None))
        .values(import_state=DISCARDING, import_owner=me, import_started_at=now, import_heartbeat_at=now)
    )
    if hidden.rowcount != 1:
        raise XnerError("the corpus was deleted or hidden by another process a moment ago: nothing was deleted")


def _staging_corpus(session: Session, corpus: Corpus, me: str, plan: DeletePlan) -> int:
    """A hidden staging corpus (being removed) that takes the run to delete out of sight."""
    now = utcnow()
    staging = Corpus(
        name=f"{STAGING_PREFIX}{uuid.uuid4().hex}",
        kind=corpus.kind,
        src_lang=corpus.src_lang,
        tgt_lang=corpus.tgt_lang,
        labels=[],
        description=f"deletion of {plan.target}",
        import_state=DISCARDING,
        import_owner=me,
        import_started_at=now,
        import_heartbeat_at=now,
    )
    session.add(staging)
    session.flush()
    return staging.id


def _log(session: Session, plan: DeletePlan, deleted_by: str, force: bool) -> int:
    row = DeletionLog(
        deleted_at=utcnow(),
        deleted_by=deleted_by.strip(),
        kind=plan.kind,
        name=plan.name,
        corpus=plan.corpus,
        detail=plan.detail,
        counts=dict(plan.counts),
        forced=force and bool(plan.blockers),
        reasons=list(plan.blockers),
    )
    session.add(row)
    session.flush()
    return row.id


# --- the log --------------------------------------------------------------------------------------------------------


def deletion_log(store: Store, *, limit: int = 200) -> list[DeletionRecord]:
    """The newest ``limit`` deletions, newest first."""
    with store.session() as session:
        rows = session.scalars(select(DeletionLog).order_by(DeletionLog.id.desc()).limit(limit))
        return [
            DeletionRecord(
                r.id,
                r.deleted_at,
                r.deleted_by,
                r.kind,
                r.name,
                r.corpus,
                r.detail,
                dict(r.counts),
                r.forced,
                list(r.reasons),
            )
            for r in rows
        ]


def report_summary(report: DeleteReport) -> str:
    """One line for a deletion done: ``Deleted corpus 'ep': 799 pairs, ... (forced past: ...).``"""
    forced = f" (forced although it was being reviewed: {'; '.join(report.plan.blockers)})" if report.forced else ""
    return f"Deleted {report.plan.target}: {report.plan.removes}{forced}."


def as_dict(report: DeleteReport) -> dict[str, Any]:
    """A report as plain JSON data (the CLI's ``--json``)."""
    plan = report.plan
    return {
        "deleted": plan.kind,
        "name": plan.name,
        "corpus": plan.corpus,
        "detail": plan.detail,
        "counts": plan.counts,
        "forced": report.forced,
        "reasons": plan.blockers,
        "deleted_by": report.deleted_by,
        "log_id": report.log_id,
        "seconds": round(report.seconds, 3),
    }
