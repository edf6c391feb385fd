"""Project use case: project the source entities of a parallel corpus onto its targets, stored as a run."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from xner.engine.project import PROJECTORS
from xner.errors import XnerError
from xner.options import describe
from xner.services.corpora import get_corpus
from xner.services.pairs import count_pairs, get_alignment_run, iter_pairs, require_parallel
from xner.store.db import Store
from xner.store.models import Corpus, Projection, ProjectionRun
from xner.types import ProjectedSpan, Sentence, Span

BATCH = 2000


@dataclass
class ProjectReport:
    corpus: str
    run_id: int
    method: str
    alignment_run: int
    pairs: int
    entities: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    params: dict[str, Any] = field(default_factory=dict)


def span_record(projected: ProjectedSpan) -> dict[str, Any]:
    """A projected span as stored in ``projection.spans``."""
    record: dict[str, Any] = {
        "start": projected.span.start,
        "end": projected.span.end,
        "label": projected.span.label,
        "confidence": round(projected.confidence, 4),
        "links": [list(link) for link in projected.links],
    }
    if projected.src_span is not None:
        record.update(src_start=projected.src_span.start, src_end=projected.src_span.end)
    return record


def project_corpus(
    store: Store,
    corpus: str,
    *,
    method: str = "heuristic",
    options: Mapping[str, Any] | None = None,
    alignment_run: int | None = None,
    splits: Collection[str] | None = None,
    created_by: str = "",
    on_progress: Callable[[int, int], None] | None = None,
) -> ProjectReport:
    """Project the gold source entities of ``corpus`` with ``method`` over ``alignment_run`` (default: newest).

    One transaction: a failure leaves no partial run.
    """
    projector = PROJECTORS.create(method, options)
    started = time.perf_counter()
    with store.transaction() as session:
        found = get_corpus(session, corpus)
        require_parallel(found)
        alignment = get_alignment_run(session, found, alignment_run)
        params = {**describe(projector), "source": "gold"}
        if splits:
            params["splits"] = sorted(splits)
        run = ProjectionRun(
            corpus_id=found.id, method=method, alignment_run_id=alignment.id, params=params, created_by=created_by
        )
        session.add(run)
        session.flush()
        report = ProjectReport(corpus, run.id, method, alignment.id, 0, params=params)
        _project_pairs(session, found, projector, run.id, alignment.id, splits, report, on_progress)
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _project_pairs(
    session: Session,
    corpus: Corpus,
    projector: Any,
    run_id: int,
    alignment_run: int,
    splits: Collection[str] | None,
    report: ProjectReport,
    on_progress: Callable[[int, int], None] | None,
) -> None:
    total = count_pairs(session, corpus, splits)
    entities: Counter[str] = Counter()
    rows: list[dict[str, Any]] = []
    for pair in iter_pairs(session, corpus, splits=splits, alignment_run=alignment_run):
        assert pair.alignment is not None
        projected = projector.project(Sentence(pair.src_tokens, pair.src_spans), pair.tgt_tokens, pair.alignment.links)
        entities.update(p.span.label for p in projected)
        spans = [span_record(p) for p in projected]
        confidence = min((span["confidence"] for span in spans), default=1.0)
        rows.append({"run_id": run_id, "pair_id": pair.pair_id, "spans": spans, "confidence": confidence})
        if len(rows) == BATCH:
            session.execute(insert(Projection), rows)
            report.pairs += len(rows)
            rows = []
            if on_progress:
                on_progress(report.pairs, total)
    if rows:
        session.execute(insert(Projection), rows)
        report.pairs += len(rows)
    if on_progress:
        on_progress(report.pairs, total)
    report.entities = dict(sorted(entities.items()))


def get_projection_run(session: Session, corpus: Corpus, run_id: int | None) -> ProjectionRun:
    """Projection run ``run_id`` of ``corpus``, or its newest one when None."""
    query = select(ProjectionRun).where(ProjectionRun.corpus_id == corpus.id)
    if run_id is not None:
        query = query.where(ProjectionRun.id == run_id)
    run = session.scalars(query.order_by(ProjectionRun.id.desc()).limit(1)).one_or_none()
    if run is None:
        wanted = f"projection run {run_id}" if run_id is not None else "projection runs"
        raise XnerError(f"corpus {corpus.name!r} has no {wanted}: run `xner project` first")
    return run


def projected_spans(session: Session, run_id: int, pair_ids: list[int]) -> dict[int, list[Span]]:
    """The projected target spans of ``pair_ids`` in run ``run_id``."""
    rows = session.execute(
        select(Projection.pair_id, Projection.spans).where(
            Projection.run_id == run_id, Projection.pair_id.in_(pair_ids)
        )
    )
    return {pair_id: [Span(s["start"], s["end"], s["label"]) for s in spans] for pair_id, spans in rows}
