"""eflomal in shards: priors learnt once, shards aligned by a local pool or a Dask cluster; on the Hansards gold the
error rate stays near one run's; on PostgreSQL a worker killed in a shard has it aligned again, every pair once."""

from __future__ import annotations

import os
import signal
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import FAST_EFLOMAL, shared
from xner.engine.align import ALIGNERS
from xner.engine.align.eflomal_aligner import EflomalAligner
from xner.formats.parallel import SideOptions
from xner.services.aligning import AlignShard, align_corpus, align_shard
from xner.services.demo import DEMO_CORPUS
from xner.services.evaluating import evaluate_alignment
from xner.services.executing import LocalExecutor, closing_executor, executor_for
from xner.services.importing import import_alignments, import_parallel
from xner.store.db import Store
from xner.store.models import Alignment, AlignmentRun, SentencePair

pytest_plugins = ["tests.pg", "tests.dask_cluster"]


@dataclass
class DiesOnceEflomal(EflomalAligner):
    """eflomal, whose first shard anywhere kills the process aligning it (once: ``marker`` remembers)."""

    marker: str = ""

    @contextmanager
    def aligned_links(self, pairs, *, extra=(), priors=None, on_phase=None):  # type: ignore[no-untyped-def,override]
        if self.marker and priors and not os.path.exists(self.marker):  # a shard (the priors run has none)
            Path(self.marker).touch()
            os.kill(os.getpid(), signal.SIGKILL)
        with super().aligned_links(pairs, extra=extra, priors=priors, on_phase=on_phase) as links:
            yield links


def rows_of(store: Store, run: int) -> list[tuple[int, str, str | None, str | None]]:
    with store.session() as session:
        query = select(Alignment.pair_id, Alignment.links, Alignment.forward, Alignment.reverse)
        return sorted(tuple(row) for row in session.execute(query.where(Alignment.run_id == run)))


@pytest.mark.slow  # eflomal twice on a real gold set (~30 s)
def test_shards_with_shared_priors_align_about_as_well_as_one_run(store: Store) -> None:
    pairs = shared("alignment_gold_awesome", "enfr.src-tgt")
    sides = {"src": SideOptions("en", pretokenized=True), "tgt": SideOptions("fr", pretokenized=True)}
    import_parallel(store, pairs, None, corpus="enfr", **sides)
    gold = import_alignments(
        store, shared("alignment_gold_awesome", "enfr.gold"), corpus="enfr", aligner="gold", index_base=1
    ).run_id
    options = {"symmetrization": "intersection"}
    one = align_corpus(store, "enfr", options=options)
    sharded = align_corpus(
        store, "enfr", options=options, executor=LocalExecutor(workers=2), shard_pairs=150, priors_pairs=447
    )
    assert sharded.params["sharded"] == {"shards": 3, "shard_pairs": 150, "priors_pairs": 447}
    rows = rows_of(store, sharded.run_id)
    assert len(rows) == len({pair for pair, *_ in rows}) == one.pairs == 447
    assert all(forward is not None and reverse is not None for _, _, forward, reverse in rows)
    aer_one = evaluate_alignment(store, "enfr", run_id=one.run_id, gold_run_id=gold).scores["aer"]
    aer_sharded = evaluate_alignment(store, "enfr", run_id=sharded.run_id, gold_run_id=gold).scores["aer"]
    # three shards of 150 sentences, guided by priors from all 447: about one run's error rate (~0.18)
    assert aer_sharded < min(0.25, aer_one + 0.05), (aer_one, aer_sharded)


@pytest.mark.slow
@pytest.mark.postgres
def test_a_killed_worker_s_shard_is_aligned_again_and_every_pair_stored_once(
    pg_demo: Store, dask_executor: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(ALIGNERS, "eflomal-dies-once", DiesOnceEflomal)
    marker = str(tmp_path / "killed")
    options = {**FAST_EFLOMAL, "marker": marker}
    with closing_executor(executor_for(dask_executor)) as executor:
        report = align_corpus(
            pg_demo, DEMO_CORPUS, aligner="eflomal-dies-once", options=options, executor=executor, shard_pairs=25
        )
    assert os.path.exists(marker) and report.params["sharded"]["shards"] == 4
    rows = rows_of(pg_demo, report.run_id)
    assert len(rows) == len({pair for pair, *_ in rows}) == report.pairs == 100
    assert sum(1 for _, links, *_ in rows if links) > 90  # the demo's pairs get links


@pytest.mark.slow
@pytest.mark.postgres
def test_a_shard_aligned_twice_replaces_its_own_rows(pg_demo: Store) -> None:
    report = align_corpus(pg_demo, DEMO_CORPUS, options=FAST_EFLOMAL)
    with pg_demo.session() as session:
        corpus_id, first = session.execute(
            select(SentencePair.corpus_id, func.min(SentencePair.id)).group_by(SentencePair.corpus_id)
        ).one()
        assert session.scalar(select(func.count()).select_from(AlignmentRun)) >= 2
    engine = EflomalAligner(**FAST_EFLOMAL)
    shard = AlignShard(pg_demo.url, corpus_id, first, first + 39, None, engine, "", report.run_id)
    for _ in range(2):  # a shard whose worker died after its commit runs again
        assert align_shard(shard).pairs == 40
    rows = rows_of(pg_demo, report.run_id)
    assert len(rows) == len({pair for pair, *_ in rows}) == 100
