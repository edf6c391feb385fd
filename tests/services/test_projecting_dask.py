"""Projection on a Dask cluster over PostgreSQL: the shards run on two worker processes and write their own rows;
a worker killed in the middle of a shard has that shard run again, and the stored run is exactly the local one —
every pair once, nothing lost, nothing duplicated — with gold sources and with a source tagger on the workers."""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from xner.engine.project import PROJECTORS
from xner.engine.project.heuristic import HeuristicProjector
from xner.services import projecting
from xner.services.demo import DEMO_CORPUS
from xner.services.executing import LocalExecutor, closing_executor, executor_for
from xner.services.projecting import ProjectShard, project_corpus, project_shard
from xner.services.training import train_tagger
from xner.store.db import Store
from xner.store.models import Projection, SentencePair

pytest_plugins = ["tests.pg", "tests.dask_cluster"]
pytestmark = [pytest.mark.slow, pytest.mark.postgres]


@dataclass
class DiesOnceProjector(HeuristicProjector):
    """The heuristic, whose first batch anywhere kills the process projecting it (once: ``marker`` remembers)."""

    marker: str = ""

    def project_batch(self, sources, targets, links):  # type: ignore[no-untyped-def]
        if self.marker and not os.path.exists(self.marker):
            Path(self.marker).touch()
            os.kill(os.getpid(), signal.SIGKILL)  # a worker lost mid-shard: read, not yet written
        return super().project_batch(sources, targets, links)


def rows_of(store: Store, run_id: int) -> list[tuple[int, list[dict], float]]:
    with store.session() as session:
        query = select(Projection.pair_id, Projection.spans, Projection.confidence).where(Projection.run_id == run_id)
        return sorted(tuple(row) for row in session.execute(query))


def test_a_killed_worker_s_shard_is_run_again_and_the_run_is_the_local_one(
    pg_demo: Store, dask_executor: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(projecting, "BATCH", 10)  # the demo's 100 pairs in 10 shards
    monkeypatch.setitem(PROJECTORS, "heuristic-dies-once", DiesOnceProjector)  # workers unpickle the class itself
    local = project_corpus(pg_demo, DEMO_CORPUS, method="heuristic", executor=LocalExecutor(workers=1))
    marker = str(tmp_path / "killed")
    with closing_executor(executor_for(dask_executor)) as executor:
        report = project_corpus(
            pg_demo, DEMO_CORPUS, method="heuristic-dies-once", options={"marker": marker}, executor=executor
        )
    assert os.path.exists(marker)  # a worker did die in a shard
    assert (report.pairs, report.workers, report.entities) == (100, 2, local.entities)
    on_dask = rows_of(pg_demo, report.run_id)
    assert len(on_dask) == len({pair for pair, *_ in on_dask}) == 100  # every pair once
    assert on_dask == rows_of(pg_demo, local.run_id)


def test_the_source_side_tagged_on_the_workers_as_here(pg_demo: Store, dask_executor: str, tmp_path: Path) -> None:
    folder = tmp_path / "en-crf"
    train_tagger(pg_demo, DEMO_CORPUS, out=folder, side="src", options={"max_iterations": 10})
    local = project_corpus(pg_demo, DEMO_CORPUS, source_tagger=folder, executor=LocalExecutor(workers=1))
    with closing_executor(executor_for(dask_executor)) as executor:
        on_dask = project_corpus(pg_demo, DEMO_CORPUS, source_tagger=folder, executor=executor)
    assert on_dask.entities == local.entities and sum(local.entities.values()) > 0
    assert rows_of(pg_demo, on_dask.run_id) == rows_of(pg_demo, local.run_id)


def test_a_shard_written_twice_replaces_its_own_rows(pg_demo: Store) -> None:
    with pg_demo.session() as session:
        first = session.scalar(select(func.min(SentencePair.id)))
    local = project_corpus(pg_demo, DEMO_CORPUS)
    run = project_corpus(pg_demo, DEMO_CORPUS, method="ngram").run_id
    links = local.alignment_run
    shard = ProjectShard(
        pg_demo.url, _corpus_id(pg_demo), first, first + 29, None, links, HeuristicProjector(), None, run
    )
    for _ in range(2):  # a shard whose worker died after its commit runs again
        assert project_shard(shard).pairs == 30
    rows = rows_of(pg_demo, run)
    assert len(rows) == 100 and len({pair for pair, *_ in rows}) == 100
    heuristic = {pair: spans for pair, spans, _ in rows_of(pg_demo, local.run_id)}
    assert all(spans == heuristic[pair] for pair, spans, _ in rows if pair <= first + 29)  # replaced by the shard


def _corpus_id(store: Store) -> int:
    with store.session() as session:
        return session.scalar(select(SentencePair.corpus_id).limit(1))
