"""Project use case: project the source entities of a parallel corpus onto its targets, stored as a run.

A run is written like an import (:mod:`xner.store.staging`): every :data:`WRITE_BATCH` projected pairs are their own
short committed transaction under a hidden staging corpus, so reviewers can save while a long projection runs, and
the finished run is handed to its corpus in one short final transaction; until then no reader sees it, and a failed
or killed run leaves nothing visible.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from functools import partial
from itertools import islice
from pathlib import Path
from typing import Any

from xner.engine.project import PROJECTORS, Projector
from xner.errors import XnerError
from xner.learning import Tagger, load_tagger
from xner.learning.taggers import read_manifest
from xner.options import describe
from xner.services.corpora import get_corpus
from xner.services.pairs import PairRecord, count_pairs, get_alignment_run, iter_pairs, require_parallel
from xner.services.refining import Refinement, refine_with
from xner.store.columns import projected_to_record
from xner.store.db import Session, Store
from xner.store.models import Corpus, Projection, ProjectionRun
from xner.store.queries.runs import projection_run
from xner.store.staging import Stage, add_row, insert_rows, move_runs, staged, sweep_abandoned
from xner.types import ProgressFn, ProjectedSpan, Sentence

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
    with staged(store, what=what, **languages) as stage, store.session() as reading:
        run = {"method": method, "alignment_run_id": alignment_id, "params": params, "created_by": created_by}
        report.run_id = stage.write(partial(add_row, ProjectionRun, {"corpus_id": stage.id, **run}))
        _project_pairs(reading, stage, found, projector, tagger, alignment_id, splits, report, on_progress)
        stage.publish(partial(move_runs, from_id=stage.id, to_id=found.id))
    report.seconds = round(time.perf_counter() - started, 3)
    return report


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


def _project_pairs(
    session: Session,
    stage: Stage,
    corpus: Corpus,
    projector: Projector,
    source_tagger: Tagger | None,
    alignment_run: int | None,
    splits: Collection[str] | None,
    report: ProjectReport,
    on_progress: ProgressFn | None,
) -> None:
    total = count_pairs(session, corpus, splits)
    entities: Counter[str] = Counter()
    pairs = iter_pairs(session, corpus, splits=splits, alignment_run=alignment_run, with_spans=source_tagger is None)
    while batch := list(islice(pairs, BATCH)):
        if source_tagger is None:
            sources = [Sentence(pair.src_tokens, pair.src_spans) for pair in batch]
        else:
            predicted = source_tagger.predict([pair.src_tokens for pair in batch])
            sources = [Sentence(pair.src_tokens, tuple(spans)) for pair, spans in zip(batch, predicted, strict=True)]
        rows = []
        for pair, projected in zip(batch, _project_batch(projector, sources, batch), strict=True):
            entities.update(p.span.label for p in projected)
            records = [projected_to_record(p) for p in projected]
            confidence = min((record["confidence"] for record in records), default=1.0)
            rows.append({"run_id": report.run_id, "pair_id": pair.pair_id, "spans": records, "confidence": confidence})
        for start in range(0, len(rows), WRITE_BATCH):
            stage.write(partial(insert_rows, Projection, rows[start : start + WRITE_BATCH]))
        report.pairs += len(rows)
        if on_progress:
            on_progress(report.pairs, total)
    if on_progress and not report.pairs:
        on_progress(0, total)
    report.entities = dict(sorted(entities.items()))


def _project_batch(projector: Projector, sources: list[Sentence], pairs: list[PairRecord]) -> list[list[ProjectedSpan]]:
    """Each pair's projection, in one call (a tagger or a translator works on the whole batch)."""
    links = [pair.alignment.links if pair.alignment is not None else frozenset() for pair in pairs]
    return projector.project_batch(sources, [pair.tgt_tokens for pair in pairs], links)


def get_projection_run(session: Session, corpus: Corpus, run_id: int | None) -> ProjectionRun:
    """Projection run ``run_id`` of ``corpus``, or its newest one when None."""
    run = projection_run(session, corpus.id, run_id)
    if run is None:
        wanted = f"projection run {run_id}" if run_id is not None else "projection runs"
        raise XnerError(f"corpus {corpus.name!r} has no {wanted}: run `xner project` first")
    return run
