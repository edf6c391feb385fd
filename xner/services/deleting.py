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
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from xner.errors import UnknownNameError, XnerError
from xner.services.corpora import get_corpus
from xner.store.db import Session, Store
from xner.store.models import AlignmentRun, ProjectionRun
from xner.store.queries import deletions
from xner.store.staging import discard_corpus, process_owner

if TYPE_CHECKING:
    from xner.store.models import Corpus

RUN_KINDS = ("alignment", "projection")


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


def _blockers(queued: int, open_now: int, decided: int, decided_what: str) -> list[str]:
    """The review use that refuses a delete: queued unreviewed items, items open on a reviewer's screen now, and
    ``decided`` decisions."""
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
    counts = deletions.corpus_counts(session, corpus.id)
    queued, open_now = deletions.queued_and_open(session, corpus_id=corpus.id)
    blockers = _blockers(queued, open_now, counts["review events"], "review decision")
    return DeletePlan("corpus", corpus.name, corpus.name, corpus.kind, counts, blockers)


def _run_plan(session: Session, run: AlignmentRun | ProjectionRun, corpus: Corpus) -> DeletePlan:
    if isinstance(run, AlignmentRun):
        counts = deletions.alignment_run_counts(session, run.id)
        of_run = {"alignment_run_id": run.id}
        what, detail = "decision on the suggestions of projection runs over it", run.aligner
    else:
        counts = deletions.projection_run_counts(session, run.id)
        of_run = {"projection_run_id": run.id}
        what = "decision on its suggestions"
        detail = run.method + (f" over alignment run {run.alignment_run_id}" if run.alignment_run_id else "")
    decided = deletions.decided_count(session, **of_run)
    queued, open_now = deletions.queued_and_open(session, **of_run)
    kind = "alignment run" if isinstance(run, AlignmentRun) else "projection run"
    return DeletePlan(kind, str(run.id), corpus.name, detail, counts, _blockers(queued, open_now, decided, what))


def _find_run(session: Session, run_id: int, kind: str | None) -> tuple[AlignmentRun | ProjectionRun, Corpus]:
    """Run ``run_id`` of ``kind`` (``alignment``/``projection``; None: whichever exists, refused when both do) and
    its visible corpus."""
    if kind is not None and kind not in RUN_KINDS:
        raise UnknownNameError("run kind", kind, RUN_KINDS)
    found: list[tuple[AlignmentRun | ProjectionRun, Corpus]] = []
    for name, model in (("alignment", AlignmentRun), ("projection", ProjectionRun)):
        if kind not in (None, name):
            continue
        visible = deletions.visible_run(session, model, run_id)
        if visible is not None:
            found.append(visible)
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
        if not deletions.hide_corpus(session, corpus.id, me):
            raise XnerError("the corpus was deleted or hidden by another process a moment ago: nothing was deleted")
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
        staging = deletions.add_staging_corpus(session, corpus, me, f"deletion of {plan.target}")
        if isinstance(run, AlignmentRun):
            deletions.hide_alignment_run(session, run.id, staging)
        else:
            deletions.hide_projection_run(session, run.id, staging)
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


def _log(session: Session, plan: DeletePlan, deleted_by: str, force: bool) -> int:
    return deletions.log_deletion(
        session,
        deleted_by=deleted_by.strip(),
        kind=plan.kind,
        name=plan.name,
        corpus=plan.corpus,
        detail=plan.detail,
        counts=dict(plan.counts),
        forced=force and bool(plan.blockers),
        reasons=list(plan.blockers),
    )


# --- the log --------------------------------------------------------------------------------------------------------


def deletion_log(store: Store, *, limit: int = 200) -> list[DeletionRecord]:
    """The newest ``limit`` deletions, newest first."""
    with store.session() as session:
        rows = deletions.deletion_log(session, limit)
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
