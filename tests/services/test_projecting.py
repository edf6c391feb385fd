"""Projection in shards: the same stored run with one process or a pool, failures leave nothing, fallbacks."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from xner.cli import app
from xner.errors import XnerError
from xner.formats.pharaoh import LinkError, parse_pharaoh_line
from xner.services import projecting
from xner.services.demo import load_demo
from xner.services.executing import LocalExecutor
from xner.services.pairs import stored_links
from xner.services.projecting import ProjectShard, project_corpus, project_shard
from xner.store.db import Store, open_store
from xner.store.models import Corpus, Projection, ProjectionRun, SentencePair

DEMO = "demo-en-es"


@pytest.fixture
def demo(store: Store) -> Store:
    load_demo(store, ready_to_review=False)
    return store


def stored(store: Store, run_id: int) -> list[tuple[int, list[dict], float]]:
    """The rows of projection run ``run_id`` in the order they were written."""
    with store.session() as session:
        query = select(Projection.pair_id, Projection.spans, Projection.confidence).where(Projection.run_id == run_id)
        return [tuple(row) for row in session.execute(query.order_by(Projection.id))]


@pytest.mark.parametrize(
    ("method", "options"), [("heuristic", {}), ("ngram", {}), ("ngram", {"matching": "optimal", "lexical": "all"})]
)
def test_one_and_two_workers_store_identical_projections(demo: Store, monkeypatch, method, options) -> None:
    monkeypatch.setattr(projecting, "BATCH", 7)  # 100 demo pairs: 15 shards, finishing out of order in the pool
    one = project_corpus(demo, DEMO, method=method, options=options, executor=LocalExecutor(workers=1))
    two = project_corpus(demo, DEMO, method=method, options=options, executor=LocalExecutor(workers=2))
    assert (one.workers, two.workers) == (1, 2)
    assert one.pairs == two.pairs == 100 and one.entities == two.entities
    rows = stored(demo, one.run_id)
    assert len(rows) == 100 and sum(len(spans) for _, spans, _ in rows) == sum(one.entities.values())
    assert rows == stored(demo, two.run_id)


def test_progress_is_reported_per_shard_with_a_pool(demo: Store, monkeypatch) -> None:
    monkeypatch.setattr(projecting, "BATCH", 30)
    seen: list[tuple[int, int]] = []
    project_corpus(
        demo, DEMO, executor=LocalExecutor(workers=2), on_progress=lambda done, total: seen.append((done, total))
    )
    assert seen == [(30, 100), (60, 100), (90, 100), (100, 100)]


FAIL_FROM = {"pair_id": 0}  # pair id from which failing_shard fails (set before the pool forks)


def failing_shard(shard: ProjectShard):
    """project_shard, failing on the shards past FAIL_FROM (module level: a pool worker runs it)."""
    if shard.first_id >= FAIL_FROM["pair_id"]:
        raise XnerError("the projector broke in a worker")
    return project_shard(shard)


def test_a_failing_shard_in_the_pool_leaves_no_run(demo: Store, monkeypatch) -> None:
    monkeypatch.setattr(projecting, "BATCH", 10)
    with demo.session() as session:
        first = session.scalar(select(func.min(SentencePair.id)))
    monkeypatch.setitem(FAIL_FROM, "pair_id", first + 60)  # shards before it were written (hidden) when it fails
    monkeypatch.setattr(projecting, "project_shard", failing_shard)
    with pytest.raises(XnerError, match="broke in a worker"):
        project_corpus(demo, DEMO, executor=LocalExecutor(workers=2))
    with demo.session() as session:
        assert session.scalars(select(ProjectionRun.id)).all() == []
        assert session.scalars(select(Projection.id)).all() == []
        assert session.scalars(select(Corpus.name)).all() == [DEMO]


def test_an_in_memory_database_projects_in_this_process() -> None:
    store = open_store("sqlite://")
    load_demo(store, ready_to_review=False)
    report = project_corpus(store, DEMO, executor=LocalExecutor(workers=2))
    assert (report.workers, report.pairs) == (1, 100)


def test_cli_workers_and_executor(demo: Store) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["project", "--corpus", DEMO, "--workers", "2", "--db", demo.url, "--json"])
    assert result.exit_code == 0, result.output
    assert '"workers": 2' in result.output
    result = runner.invoke(app, ["project", "--corpus", DEMO, "--executor", "ray://head:6379", "--db", demo.url])
    assert result.exit_code != 0
    assert "unknown executor 'ray://head:6379': use local or dask://HOST:PORT" in result.output
    result = runner.invoke(app, ["project", "--corpus", DEMO, "--workers", "0", "--db", demo.url])
    assert result.exit_code != 0


@pytest.mark.parametrize("line", ["0-0", "0-1 1-0 2-2 10-12", "0-0 1p1", "3?4 0-1", " 0-0  1-1 ", "12-3"])
def test_stored_links_are_the_parsed_links(line: str) -> None:
    assert sorted(stored_links(line)) == sorted(parse_pharaoh_line(line).links)
    assert len(stored_links(line)) == len(set(stored_links(line)))


def test_a_malformed_stored_line_is_an_error_naming_the_link() -> None:
    with pytest.raises(LinkError, match="malformed link '1-x'"):
        stored_links("0-0 1-x")
