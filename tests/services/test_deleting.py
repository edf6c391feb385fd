"""Deleting corpora and runs (``xner.services.deleting``, ``xner delete``) on SQLite and PostgreSQL: what a delete
removes (all of its own rows, in hidden batches) and what it leaves (every row of the other corpora, their review
history included), the refusal while something is being reviewed, forcing, and the append-only deletion log.

The store holds the demo project (a queued projection run) and the real Europarl EN-DE NER gold, aligned with
eflomal, projected, queued and partly reviewed."""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

import xner.store.staging as staging
from tests.conftest import import_europarl, snapshot
from xner.cli import app
from xner.errors import CorpusImportingError, XnerError
from xner.services import review
from xner.services.aligning import align_corpus
from xner.services.corpora import corpus_stats, list_corpus_info
from xner.services.deleting import (
    delete_corpus,
    delete_run,
    deletion_log,
    plan_corpus_delete,
    plan_run_delete,
)
from xner.services.demo import DEMO_CORPUS, load_demo
from xner.services.projecting import project_corpus
from xner.services.runs import list_alignment_runs, list_projection_runs
from xner.store.db import Store, open_store
from xner.store.models import (
    Alignment,
    AlignmentRun,
    Base,
    Corpus,
    Projection,
    ProjectionRun,
    ReviewState,
    SpotCheck,
    SpotCheckItem,
)

pytest_plugins = ["tests.pg"]
pytestmark = pytest.mark.slow


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    url = f"sqlite:///{tmp_path / 'delete.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    store = open_store(url)
    yield store
    store.dispose()


def decide(store: Store, corpus: str, reviewer: str, count: int) -> list[int]:
    """``reviewer`` accepts the first ``count`` items of ``corpus``'s queue; returns their sentence ids."""
    decided = []
    for _ in range(count):
        item = review.next_item(store, corpus, claim_for=reviewer)
        assert item is not None
        review.record_decision(
            store, item.sentence_id, reviewer=reviewer, action="accept", expected_version=item.state.version
        )
        decided.append(item.sentence_id)
    return decided


def build_project(store: Store) -> None:
    """The demo corpus (projection run 1 queued; 3 decisions) and Europarl EN-DE (eflomal, heuristic run queued;
    2 decisions, one item open on a reviewer's screen)."""
    load_demo(store)
    decide(store, DEMO_CORPUS, "amina", 3)
    import_europarl(store, "de", "ep")
    quick = {"model": 1, "n_samplers": 1, "rel_iterations": 0.2}  # IBM1, a short schedule: ~1 s, links enough here
    aligned = align_corpus(store, "ep", aligner="eflomal", options=quick, created_by="bola")
    projected = project_corpus(store, "ep", method="heuristic", alignment_run=aligned.run_id, created_by="bola")
    review.queue_projection(store, "ep", projected.run_id, created_by="bola")
    decide(store, "ep", "bola", 2)
    assert review.next_item(store, "ep", claim_for="bola") is not None  # an item open now


def corpus_id(store: Store, name: str) -> int:
    with store.session() as session:
        return session.scalar(select(Corpus.id).where(Corpus.name == name))


def owned_rows(store: Store, cid: int) -> dict[str, set[str]]:
    """Every row that belongs to corpus ``cid``, by table: those with its corpus id, and the links, projections and
    spot-check items of its runs and checks (each row as its ``repr``, as JSON columns hold lists)."""
    owned: dict[str, set[str]] = {}
    with store.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            if table.name == "corpus":
                condition = table.c.id == cid
            elif "corpus_id" in table.c:
                condition = table.c.corpus_id == cid
            elif table.name == Alignment.__tablename__:
                condition = table.c.run_id.in_(select(AlignmentRun.id).where(AlignmentRun.corpus_id == cid))
            elif table.name == Projection.__tablename__:
                condition = table.c.run_id.in_(select(ProjectionRun.id).where(ProjectionRun.corpus_id == cid))
            elif table.name == SpotCheckItem.__tablename__:
                condition = table.c.check_id.in_(select(SpotCheck.id).where(SpotCheck.corpus_id == cid))
            else:
                continue
            owned[table.name] = {repr(tuple(row)) for row in connection.execute(select(table).where(condition))}
    return owned


def test_a_corpus_being_reviewed_is_refused_with_the_reason_and_nothing_changes(any_store: Store) -> None:
    build_project(any_store)
    before = snapshot(any_store)

    plan = plan_corpus_delete(any_store, "ep")
    with pytest.raises(XnerError) as refused:
        delete_corpus(any_store, "ep", deleted_by="amina")

    message = str(refused.value)
    assert "\n" not in message and message.startswith("corpus 'ep' is being reviewed (")
    assert "queued items not yet reviewed" in message and "1 item open on a reviewer's screen now" in message
    assert "2 review decisions" in message and message == plan.refusal
    assert snapshot(any_store) == before
    assert plan.counts["pairs"] == 799 and plan.counts["sentences"] == 2 * 799
    assert plan.counts["review states"] == corpus_stats(any_store, "ep").pairs  # every pair queued


def test_a_forced_corpus_delete_removes_its_rows_in_hidden_batches_and_leaves_the_others(
    any_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_project(any_store)
    doomed = corpus_id(any_store, "ep")
    before = snapshot(any_store)
    owned = owned_rows(any_store, doomed)
    assert owned["review_event"] and owned["review_lease"] and owned["alignment"] and owned["projection"]
    plan = plan_corpus_delete(any_store, "ep")
    visible_during: list[set[str]] = []
    batch = staging._delete_batch

    def watched(*args, **kwargs) -> int:  # what a reader sees between the batches
        removed = batch(*args, **kwargs)
        visible_during.append({c.name for c in list_corpus_info(any_store)})
        if len(visible_during) == 1:  # a reader asking for it by name is told it is going
            with pytest.raises(CorpusImportingError, match=r"corpus 'ep' is being removed \(deleted, or"):
                corpus_stats(any_store, "ep")
        return removed

    monkeypatch.setattr(staging, "DELETE_BATCH", 200)
    monkeypatch.setattr(staging, "_delete_batch", watched)

    report = delete_corpus(any_store, "ep", deleted_by="amina", force=True)

    assert report.forced and report.plan.counts == plan.counts
    assert len(visible_during) > 10 and all(names == {DEMO_CORPUS} for names in visible_during)
    after = snapshot(any_store)
    for table, rows in before.items():
        if table == "deletion_log":
            continue
        kept = sorted(set(map(repr, rows)) - owned.get(table, set()))
        assert sorted(map(repr, after[table])) == kept, table  # the others' rows, unchanged
    assert all(not rows for rows in owned_rows(any_store, doomed).values())
    [record] = deletion_log(any_store)
    assert (record.kind, record.name, record.corpus, record.deleted_by, record.forced) == (
        "corpus",
        "ep",
        "ep",
        "amina",
        True,
    )
    assert record.counts == plan.counts and record.reasons == plan.blockers
    assert len(review.reviewer_history(any_store, DEMO_CORPUS, "amina")) == 3  # the demo's decisions stand


def test_a_projection_run_in_review_is_refused_then_forced_keeping_the_review_states(any_store: Store) -> None:
    build_project(any_store)
    [queued, other] = list_projection_runs(any_store, DEMO_CORPUS)
    with any_store.session() as session:
        states = {
            s.sentence_id: (s.status, s.spans, s.version)
            for s in session.scalars(select(ReviewState).where(ReviewState.run_id == queued.id))
        }
    assert len(states) == 100

    refusal = (
        r"projection run 1 \(heuristic over alignment run 2\) of corpus 'demo-en-es' is being reviewed "
        r"\(97 queued items not yet reviewed; 3 decisions on its suggestions\)"
    )
    with pytest.raises(XnerError, match=refusal):
        delete_run(any_store, queued.id, kind="projection", deleted_by="amina")

    report = delete_run(any_store, queued.id, kind="projection", deleted_by="amina", force=True)

    assert report.plan.counts == {"projections": 100, "spot checks": 0, "review states unlinked": 100}
    assert [r.id for r in list_projection_runs(any_store, DEMO_CORPUS)] == [other.id]
    with any_store.session() as session:
        kept = {s.sentence_id: (s.status, s.spans, s.version) for s in session.scalars(select(ReviewState))}
        assert session.scalar(select(Projection.id).where(Projection.run_id == queued.id)) is None
        assert not session.scalars(select(Corpus).where(Corpus.import_state.is_not(None))).all()  # nothing hidden
    assert all(kept[sid] == state for sid, state in states.items())


def test_runs_not_in_review_delete_without_force_and_ids_of_both_kinds_must_be_told(any_store: Store) -> None:
    build_project(any_store)
    gold, simulated = list_alignment_runs(any_store, DEMO_CORPUS)
    unqueued = list_projection_runs(any_store, DEMO_CORPUS)[1]

    with pytest.raises(XnerError, match=r"1 is both an alignment run .* and a projection run"):
        plan_run_delete(any_store, 1)
    with pytest.raises(XnerError, match="being reviewed"):  # the queued projection run is over it
        delete_run(any_store, simulated.id, kind="alignment", deleted_by="amina")

    report = delete_run(any_store, unqueued.id, kind="projection", deleted_by="amina")
    assert not report.forced and report.plan.counts["projections"] == 100
    report = delete_run(any_store, gold.id, kind="alignment", deleted_by="amina")
    assert report.plan.counts == {"alignments": 100, "projection runs unlinked": 0}
    assert [r.id for r in list_alignment_runs(any_store, DEMO_CORPUS)] == [simulated.id]
    assert [r.kind for r in deletion_log(any_store)] == ["alignment run", "projection run"]  # newest first
    with pytest.raises(XnerError, match="there is no projection run 99"):
        delete_run(any_store, 99, kind="projection", deleted_by="amina")


def test_a_deletion_needs_who_deletes(store: Store) -> None:
    load_demo(store)
    with pytest.raises(XnerError, match="needs the name of who deletes"):
        delete_corpus(store, DEMO_CORPUS, deleted_by=" ", force=True)
    assert [c.name for c in list_corpus_info(store)] == [DEMO_CORPUS]


# --- the command line -----------------------------------------------------------------------------------------


def test_cli_delete_refuses_then_forces_and_logs(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.db")
    runner = CliRunner()
    assert runner.invoke(app, ["demo", "--db", db]).exit_code == 0

    refused = runner.invoke(app, ["delete", "corpus", DEMO_CORPUS, "--db", db])
    assert refused.exit_code == 1
    assert refused.stderr.startswith("error: corpus 'demo-en-es' is being reviewed (100 queued items not yet reviewed)")

    dry = json.loads(runner.invoke(app, ["delete", "corpus", DEMO_CORPUS, "--dry-run", "--json", "--db", db]).stdout)
    assert dry["counts"]["pairs"] == 100 and dry["reasons"] == ["100 queued items not yet reviewed"]

    result = runner.invoke(app, ["delete", "run", "2", "--kind", "projection", "--json", "--db", db])
    assert result.exit_code == 0, result.output
    deleted = json.loads(result.stdout)
    assert (deleted["deleted"], deleted["name"], deleted["deleted_by"]) == ("projection run", "2", getpass.getuser())

    result = runner.invoke(app, ["delete", "corpus", DEMO_CORPUS, "--force", "--by", "amina", "--db", db])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Deleted corpus 'demo-en-es': 100 pairs, 200 sentences, ")
    assert "forced although it was being reviewed: 100 queued items not yet reviewed" in result.stdout

    log = json.loads(runner.invoke(app, ["delete", "log", "--json", "--db", db]).stdout)
    assert [(r["kind"], r["name"], r["deleted_by"], r["forced"]) for r in log] == [
        ("corpus", DEMO_CORPUS, "amina", True),
        ("projection run", "2", getpass.getuser(), False),
    ]
    text = runner.invoke(app, ["delete", "log", "--db", db]).stdout
    assert "amina: corpus demo-en-es: 100 pairs" in text
    assert runner.invoke(app, ["corpora", "--db", db, "--json"]).stdout.strip() == "[]"
