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
from xner.services.executing import Executor, LocalExecutor
from xner.services.pairs import count_pairs, get_alignment_run, pair_ranges, read_pair_range, require_parallel
from xner.services.refining import Refinement, refine_with
from xner.store.columns import projected_to_record
from xner.store.db import Session, Store, open_store, sqlite_file
from xner.store.models import Corpus, ProjectionRun
from xner.store.queries.projections import insert_projections
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
    shard after the other, in this process); with a pool, each worker reads and projects its shards and this process
    writes the results, in shard order: the stored run is the same whatever the number of workers. Methods with a
    tagger or a translator, a source tagger, and an in-memory database run in this process.
    """
    projector: Projector = PROJECTORS.create(method, options)
    aligned = projector.needs_alignment
    if not aligned and (refine is not None or alignment_run is not None):
        raise XnerError(f"the {method} method uses no alignment: drop --alignment-run and --refine")
    method_tagger = load_tagger(projector.tagger_folder()) if projector.needs_tagger else None
    tagger = load_tagger(source_tagger) if source_tagger else None
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
    executor = _usable_executor(executor or LocalExecutor(), store, projector, tagger)
    report.workers = executor.workers
    with staged(store, what=what, **languages) as stage:
        run = {"method": method, "alignment_run_id": alignment_id, "params": params, "created_by": created_by}
        report.run_id = stage.write(partial(add_row, ProjectionRun, {"corpus_id": stage.id, **run}))
        _project_pairs(store, stage, found, projector, tagger, alignment_id, splits, report, executor, on_progress)
        stage.publish(partial(move_runs, from_id=stage.id, to_id=found.id))
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _usable_executor(executor: Executor, store: Store, projector: Projector, tagger: Tagger | None) -> Executor:
    """``executor``, or one that runs in this process where shards cannot leave it: a model (tagger, translator)
    loaded here, or an in-memory SQLite database that other processes cannot open."""
    if executor.workers == 1:
        return executor
    in_memory = store.engine.dialect.name == "sqlite" and sqlite_file(store.url) is None
    if in_memory or tagger is not None or projector.needs_tagger or projector.needs_languages:
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
    them. Picklable (a pool worker or another machine runs it) when its projector is and it has no tagger."""

    db: str  # the store's URL: a worker opens its own connection
    corpus_id: int
    first_id: int
    last_id: int
    splits: tuple[str, ...] | None
    alignment_run: int | None
    projector: Projector
    source_tagger: Tagger | None = None  # tags the sources (then the gold entities are not read)


ShardRow = tuple[int, str, float]  # pair id, its projection records as JSON text, their lowest confidence


def project_shard(shard: ProjectShard, store: Store | None = None) -> tuple[list[ShardRow], Counter[str]]:
    """Read and project one shard: a row per pair (id order) and the labels projected. Reads through ``store``, else
    through this process's own connection to ``shard.db``; writes nothing."""
    with no_cycle_collection():  # reading a shard allocates ~100 objects a pair, none in a cycle
        return _project_shard(shard, store or _worker_store(shard.db))


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
        predicted = shard.source_tagger.predict([source.tokens for source in sources])
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


_STORES: dict[tuple[int, str], Store] = {}


def _worker_store(url: str) -> Store:
    """This process's store for ``url``, opened once (a forked worker never uses its parent's connections)."""
    key = (os.getpid(), url)
    if key not in _STORES:
        _STORES[key] = open_store(url, upgrade=False)
    return _STORES[key]


def _project_pairs(
    store: Store,
    stage: Stage,
    corpus: Corpus,
    projector: Projector,
    source_tagger: Tagger | None,
    alignment_run: int | None,
    splits: Collection[str] | None,
    report: ProjectReport,
    executor: Executor,
    on_progress: ProgressFn | None,
) -> None:
    """Project every pair in shards of :data:`BATCH` pairs through ``executor``, writing the results in shard order
    (so the stored rows are the same whatever the number of workers) through ``stage``."""
    with store.session() as session:
        ranges = pair_ranges(session, corpus, splits=splits, size=BATCH)
        total = count_pairs(session, corpus, splits)
    shards = (
        ProjectShard(
            store.url,
            corpus.id,
            first,
            last,
            tuple(sorted(splits)) if splits else None,
            alignment_run,
            projector,
            source_tagger,
        )
        for first, last in ranges
    )
    fn = partial(project_shard, store=store) if executor.workers == 1 else project_shard
    entities: Counter[str] = Counter()
    waiting: dict[int, list[ShardRow]] = {}
    next_shard = 0
    for k, (rows, labels) in executor.map_unordered(fn, shards):
        entities.update(labels)
        waiting[k] = rows
        while next_shard in waiting:
            rows = waiting.pop(next_shard)
            next_shard += 1
            for start in range(0, len(rows), WRITE_BATCH):
                stage.write(partial(insert_projections, run_id=report.run_id, rows=rows[start : start + WRITE_BATCH]))
            report.pairs += len(rows)
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
