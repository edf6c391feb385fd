"""Project use case: project the source entities of a parallel corpus onto its targets, stored as a run.

A run is written like an import (:mod:`xner.store.staging`): every :data:`WRITE_BATCH` projected pairs are their own
short committed transaction under a hidden staging corpus, so reviewers can save while a long projection runs, and
the finished run is handed to its corpus in one short final transaction; until then no reader sees it, and a failed
or killed run leaves nothing visible.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from xner.engine.project import PROJECTORS, Projector
from xner.engine.project.base import no_cycle_collection
from xner.errors import XnerError
from xner.learning import Tagger, load_tagger
from xner.learning.taggers import read_manifest
from xner.options import describe
from xner.services.corpora import get_corpus
from xner.services.executing import (
    Executor,
    LocalExecutor,
    in_shard_order,
    shards_read_through,
    worker_store,
    write_shard,
)
from xner.services.pairs import count_pairs, get_alignment_run, pair_ranges, read_pair_range, require_parallel
from xner.services.refining import Refinement, refine_with
from xner.store.columns import projected_to_record
from xner.store.db import Session, Store, sqlite_file
from xner.store.models import Corpus, ProjectionRun
from xner.store.queries.projections import insert_projections, replace_shard_projections
from xner.store.queries.runs import projection_run
from xner.store.staging import Stage, add_row, move_runs, staged, sweep_abandoned
from xner.types import ProgressFn, Sentence

BATCH = 2000  # pairs projected at a time (a tagger or translator works on a whole batch)
WRITE_BATCH = 500  # projections per committed transaction: a short hold of the write lock


@dataclass
class ProjectReport:
    corpus: str
    run_id: int
    method: str
    alignment_run: int | None  # None for methods that use no alignment (model-transfer)
    pairs: int
    entities: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    params: dict[str, Any] = field(default_factory=dict)
    refined_from: int | None = None  # the direct alignment run, when the projection used a refined one
    workers: int = 1  # processes that projected (1: this one)


def project_corpus(
    store: Store,
    corpus: str,
    *,
    method: str = "heuristic",
    options: Mapping[str, Any] | None = None,
    alignment_run: int | None = None,
    splits: Collection[str] | None = None,
    source_tagger: str | Path | None = None,
    refine: Refinement | None = None,
    created_by: str = "",
    executor: Executor | None = None,
    on_progress: ProgressFn | None = None,
    on_refine_progress: ProgressFn | None = None,
) -> ProjectReport:
    """Project the source entities of ``corpus`` with ``method`` over ``alignment_run`` (default: newest).

    The source entities are the gold ones, or those a source-side tagger (a directory saved by ``xner train``)
    predicts when ``source_tagger`` is given. The ``model`` method loads the target-side tagger of its ``model``
    option. With ``refine``, ``alignment_run`` is first refined through the pivot sentences of ``refine.via``
    (:func:`xner.services.refining.refine_with`, stored as its own alignment run) and the projection uses the
    refined run. Each stored run is invisible until complete (see the module docstring): a failure leaves no
    partial run.

    The pairs are projected in shards of :data:`BATCH` pairs (pair-id ranges) through ``executor`` (default: one
    shard after the other, in this process; :mod:`xner.services.executing`): each worker reads its shards, tags their
    sources with ``source_tagger`` (loaded once per worker process) and projects them. On SQLite this process writes
    the results, in shard order; on a server database (PostgreSQL) each shard writes its own rows in one
    transaction that replaces whatever an earlier try of that shard wrote, so a shard re-run after its worker died
    duplicates nothing. Either way the stored run is the same whatever the executor and its workers. Methods with a
    tagger or a translator, and an in-memory database, run in this process.
    """
    projector: Projector = PROJECTORS.create(method, options)
    aligned = projector.needs_alignment
    if not aligned and (refine is not None or alignment_run is not None):
        raise XnerError(f"the {method} method uses no alignment: drop --alignment-run and --refine")
    method_tagger = load_tagger(projector.tagger_folder()) if projector.needs_tagger else None
    if source_tagger:
        read_manifest(source_tagger)  # a folder without a saved tagger fails now; the workers load it
    started = time.perf_counter()
    refined_from = None
    if refine is not None:
        refined = refine_with(
            store, corpus, refine, alignment_run=alignment_run, created_by=created_by, on_progress=on_refine_progress
        )
        refined_from, alignment_run = refined.params["base_run"], refined.run_id
    with store.session() as session:
        found = get_corpus(session, corpus)
        require_parallel(found)
        alignment_id = get_alignment_run(session, found, alignment_run).id if aligned else None
    # the one binding step: the corpus's languages (for a method that translates) and the method's tagger
    projector.bind(src_lang=found.src_lang, tgt_lang=found.tgt_lang or "", tagger=method_tagger)
    params = {**describe(projector), "source": f"tagger:{source_tagger}" if source_tagger else "gold"}
    if source_tagger:
        params["source_tagger"] = tagger_summary(source_tagger)
    if splits:
        params["splits"] = sorted(splits)
    report = ProjectReport(corpus, 0, method, alignment_id, 0, params=params, refined_from=refined_from)
    sweep_abandoned(store)
    what = f"projection run ({method}) of {corpus!r}"
    languages = {"kind": found.kind, "src_lang": found.src_lang, "tgt_lang": found.tgt_lang}
    executor = _usable_executor(executor or LocalExecutor(), store, projector)
    report.workers = executor.workers
    tagger_folder = str(source_tagger) if source_tagger else None
    with staged(store, what=what, **languages) as stage:
        run = {"method": method, "alignment_run_id": alignment_id, "params": params, "created_by": created_by}
        report.run_id = stage.write(partial(add_row, ProjectionRun, {"corpus_id": stage.id, **run}))
        plan = _ShardPlan(found, projector, tagger_folder, alignment_id, splits)
        _project_pairs(store, stage, plan, report, executor, on_progress)
        stage.publish(partial(move_runs, from_id=stage.id, to_id=found.id))
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _usable_executor(executor: Executor, store: Store, projector: Projector) -> Executor:
    """``executor``, or one that runs in this process where shards cannot leave it: a method's model (tagger,
    translator) loaded here, or an in-memory SQLite database that other processes cannot open."""
    if executor.workers == 1:
        return executor
    in_memory = store.engine.dialect.name == "sqlite" and sqlite_file(store.url) is None
    if in_memory or projector.needs_tagger or projector.needs_languages:
        return LocalExecutor(workers=1)
    return executor


def tagger_summary(folder: str | Path) -> dict[str, Any]:
    """What a run records about the saved tagger in ``folder``: its kind, labels and training (corpus, side,
    splits, training run) as its manifest says."""
    manifest = read_manifest(folder)
    info = manifest.get("info") or {}
    summary = {"kind": manifest["kind"], "labels": list(manifest.get("labels") or [])}
    summary.update(
        {key: info[key] for key in ("corpus", "side", "splits", "run_id", "base_model", "titled_copies") if key in info}
    )
    return summary


def check_projection(method: str, options: Mapping[str, Any] | None, source_tagger: str | Path | None = None) -> None:
    """Fail now, not after a long translation or alignment, on an unknown method, a bad option or a folder that
    holds no saved tagger (the method's ``model``, ``source_tagger``). Loads no model."""
    projector: Projector = PROJECTORS.create(method, options)
    if projector.needs_tagger:
        read_manifest(projector.tagger_folder())
    if source_tagger:
        read_manifest(source_tagger)


@dataclass(frozen=True)
class ProjectShard:
    """One shard of a projection: the pairs of a corpus with ids in ``[first_id, last_id]``, and how to project
    them. Picklable: a pool worker or another machine runs it (when its projector holds no model)."""

    db: str  # the store's URL: a worker opens its own connection
    corpus_id: int
    first_id: int
    last_id: int
    splits: tuple[str, ...] | None
    alignment_run: int | None
    projector: Projector
    source_tagger: str | None = None  # folder of a saved tagger that tags the sources (then gold is not read)
    write_run: int | None = None  # the shard writes its rows into this run itself (replacing an earlier try's)


ShardRow = tuple[int, str, float]  # pair id, its projection records as JSON text, their lowest confidence


@dataclass
class ShardResult:
    pairs: int
    labels: Counter[str]
    rows: list[ShardRow]  # empty when the shard wrote them itself


def project_shard(shard: ProjectShard) -> ShardResult:
    """Read and project one shard through this process's connection to ``shard.db``: its rows (pair id order) and
    the labels projected; with ``shard.write_run`` the shard stores the rows itself and returns none."""
    store = worker_store(shard.db)
    with no_cycle_collection():  # reading a shard allocates ~100 objects a pair, none in a cycle
        rows, labels = _project_shard(shard, store)
    if shard.write_run is None:
        return ShardResult(len(rows), labels, rows)
    write_shard(
        store,
        replace_shard_projections,
        run_id=shard.write_run,
        first_id=shard.first_id,
        last_id=shard.last_id,
        rows=rows,
        what="projections",
    )
    return ShardResult(len(rows), labels, [])


def _project_shard(shard: ProjectShard, store: Store) -> tuple[list[ShardRow], Counter[str]]:
    with store.session() as session:
        pairs = read_pair_range(
            session,
            shard.corpus_id,
            shard.first_id,
            shard.last_id,
            splits=shard.splits,
            alignment_run=shard.alignment_run,
            with_spans=shard.source_tagger is None,
        )
    sources = [source for _, source, _, _ in pairs]
    if shard.source_tagger is not None:
        predicted = _tagger(shard.source_tagger).predict([source.tokens for source in sources])
        sources = [Sentence(s.tokens, tuple(spans)) for s, spans in zip(sources, predicted, strict=True)]
    projected = shard.projector.project_batch(sources, [tgt for _, _, tgt, _ in pairs], [k for *_, k in pairs])
    labels: Counter[str] = Counter()
    rows: list[ShardRow] = []
    for (pair_id, *_), spans in zip(pairs, projected, strict=True):
        records = [projected_to_record(p) for p in spans]
        labels.update(p.span.label for p in spans)
        confidence = min((record["confidence"] for record in records), default=1.0)
        rows.append((pair_id, json.dumps(records), confidence))  # encoded here: in the worker, not the writer
    return rows, labels


_TAGGERS: dict[tuple[int, str], Tagger] = {}


def _tagger(folder: str) -> Tagger:
    """The saved tagger in ``folder``, loaded once per process (each worker loads its own copy)."""
    key = (os.getpid(), folder)
    if key not in _TAGGERS:
        _TAGGERS[key] = load_tagger(folder)
    return _TAGGERS[key]


@dataclass(frozen=True)
class _ShardPlan:
    """What every shard of one projection shares."""

    corpus: Corpus
    projector: Projector
    source_tagger: str | None
    alignment_run: int | None
    splits: Collection[str] | None


def _project_pairs(
    store: Store,
    stage: Stage,
    plan: _ShardPlan,
    report: ProjectReport,
    executor: Executor,
    on_progress: ProgressFn | None,
) -> None:
    """Project every pair in shards of :data:`BATCH` pairs through ``executor``. On SQLite the results are written
    here in shard order (so the stored rows are the same whatever the number of workers) through ``stage``; on a
    server database with more than one worker the shards write their own rows."""
    splits = plan.splits
    with store.session() as session:
        ranges = pair_ranges(session, plan.corpus, splits=splits, size=BATCH)
        total = count_pairs(session, plan.corpus, splits)
    shards_write = executor.workers > 1 and store.engine.dialect.name != "sqlite"
    shards = (
        ProjectShard(
            store.url,
            plan.corpus.id,
            first,
            last,
            tuple(sorted(splits)) if splits else None,
            plan.alignment_run,
            plan.projector,
            plan.source_tagger,
            report.run_id if shards_write else None,
        )
        for first, last in ranges
    )
    entities: Counter[str] = Counter()
    with shards_read_through(store):
        for result in in_shard_order(executor.map_unordered(project_shard, shards)):
            entities.update(result.labels)
            for start in range(0, len(result.rows), WRITE_BATCH):
                batch = result.rows[start : start + WRITE_BATCH]
                stage.write(partial(insert_projections, run_id=report.run_id, rows=batch))
            report.pairs += result.pairs
            if on_progress:
                on_progress(report.pairs, total)
    if on_progress and not report.pairs:
        on_progress(0, total)
    report.entities = dict(sorted(entities.items()))


def get_projection_run(session: Session, corpus: Corpus, run_id: int | None) -> ProjectionRun:
    """Projection run ``run_id`` of ``corpus``, or its newest one when None."""
    run = projection_run(session, corpus.id, run_id)
    if run is None:
        wanted = f"projection run {run_id}" if run_id is not None else "projection runs"
        raise XnerError(f"corpus {corpus.name!r} has no {wanted}: run `xner project` first")
    return run
