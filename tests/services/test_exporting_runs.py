"""Exports of a projection run's spans (``xner export --spans run|reviewed|gold --run ID``): the file read back
(CoNLL, JSONL, spaCy DocBin) equals the spans stored for the run, on the demo and on Europarl en-de; curated
sentences keep their curation beside a run's spans for the others; wrong combinations are one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tests.conftest import FAST_EFLOMAL, import_europarl
from xner.cli import app as cli
from xner.errors import XnerError
from xner.formats.conll import read_conll
from xner.formats.docbin import read_docbin
from xner.formats.jsonl import read_jsonl
from xner.services import review
from xner.services.aligning import align_corpus
from xner.services.demo import DEMO_CORPUS, load_demo
from xner.services.exporting import export_corpus
from xner.services.projecting import project_corpus
from xner.services.runs import list_projection_runs
from xner.store.db import Store, open_store
from xner.store.models import Corpus, Entity, Projection, ReviewState, Sentence, SentencePair
from xner.types import ReviewStatus, Span

pytest_plugins = ["tests.pg"]
READERS = {"conll": read_conll, "jsonl": read_jsonl, "spacy": read_docbin}
Rows = list[tuple[tuple[str, ...], tuple[Span, ...]]]


def stored_run_spans(store: Store, corpus: str, run_id: int) -> Rows:
    """(target tokens, the run's spans sorted) of every pair of ``corpus``, in split and position order, straight
    from the projection table (a pair the run has no row for has no spans)."""
    with store.session() as session:
        rows = session.execute(
            select(Sentence.tokens, Projection.spans)
            .join(SentencePair, SentencePair.tgt_sentence_id == Sentence.id)
            .join(Corpus, Corpus.id == Sentence.corpus_id)
            .outerjoin(Projection, (Projection.pair_id == SentencePair.id) & (Projection.run_id == run_id))
            .where(Corpus.name == corpus)
            .order_by(Sentence.id)
        ).all()
    return [
        (tuple(tokens), tuple(sorted(Span(s["start"], s["end"], s["label"]) for s in spans or ())))
        for tokens, spans in rows
    ]


def read_back(path: Path, fmt: str) -> Rows:
    return [(tuple(sentence.tokens), tuple(sorted(sentence.spans))) for sentence in READERS[fmt](path)]


def cli_export(store: Store, out: Path, *args: str) -> dict:
    result = CliRunner().invoke(cli, ["export", str(out), "--db", store.url, "--json", *args])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def demo(store: Store) -> Store:
    """The demo as the app loads it: projection runs 1 (heuristic, queued for review) and 2 (ngram)."""
    assert load_demo(store)
    return store


@pytest.mark.parametrize("fmt", ["conll", "jsonl", pytest.param("spacy", marks=pytest.mark.slow)])
def test_a_run_exported_whole_reads_back_as_its_stored_spans(demo: Store, tmp_path: Path, fmt: str) -> None:
    runs = list_projection_runs(demo, DEMO_CORPUS)
    assert len(runs) >= 2
    for run in runs:
        out = tmp_path / f"run{run.id}.{fmt}"
        report = cli_export(demo, out, "--corpus", DEMO_CORPUS, "--format", fmt, "--spans", "run", "--run", str(run.id))

        expected = stored_run_spans(demo, DEMO_CORPUS, run.id)
        assert read_back(out, fmt) == expected
        assert (report["spans"], report["run_id"]) == ("run", run.id)
        assert report["sentences"] == len(expected) == run.pairs
        assert report["entities"] == sum(len(spans) for _, spans in expected) > 0
    assert stored_run_spans(demo, DEMO_CORPUS, runs[0].id) != stored_run_spans(demo, DEMO_CORPUS, runs[1].id)


@pytest.mark.slow
def test_a_run_exported_as_a_hf_dataset_reads_back_as_its_stored_spans(demo: Store, tmp_path: Path) -> None:
    import datasets
    from seqeval.metrics.sequence_labeling import get_entities

    export_corpus(demo, DEMO_CORPUS, tmp_path / "hf", fmt="hf", spans="run", run_id=2)

    train = datasets.load_from_disk(str(tmp_path / "hf"))["train"]
    names = train.features["ner_tags"].feature.names
    rows = [
        (
            tuple(row["tokens"]),
            tuple(sorted(Span(s, e + 1, label) for label, s, e in get_entities([names[i] for i in row["ner_tags"]]))),
        )
        for row in train
    ]
    assert rows == stored_run_spans(demo, DEMO_CORPUS, 2)


def test_spans_run_defaults_to_the_newest_run_and_marks_it_in_the_jsonl_meta(demo: Store, tmp_path: Path) -> None:
    newest = list_projection_runs(demo, DEMO_CORPUS)[-1].id
    report = export_corpus(demo, DEMO_CORPUS, tmp_path / "out.jsonl", fmt="jsonl", spans="run")

    assert report.run_id == newest
    records = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {record["meta"]["projection_run"] for record in records} == {newest}


def test_reviewed_sentences_keep_their_curation_beside_a_runs_spans(demo: Store, tmp_path: Path) -> None:
    """``--spans reviewed --run 2``: decided sentences carry their decision, the others run 2's spans, not gold."""
    decided: dict[int, tuple[Span, ...]] = {}
    for spans in ([Span(0, 1, "PER")], None):  # a correction, then an accept of the queued run-1 suggestion
        item = review.next_item(demo, DEMO_CORPUS)
        assert item is not None
        action = "correct" if spans else "accept"
        state = review.record_decision(
            demo, item.sentence_id, reviewer="ana", action=action, spans=spans, expected_version=item.state.version
        )
        decided[item.sentence_id] = tuple(sorted(state.spans))
    out = tmp_path / "mixed.jsonl"
    cli_export(demo, out, "--corpus", DEMO_CORPUS, "--format", "jsonl", "--run", "2")

    with demo.session() as session:
        positions = dict(session.execute(select(Sentence.id, Sentence.position).where(Sentence.id.in_(decided))).all())
    by_position = {positions[sid]: spans for sid, spans in decided.items()}
    run_spans = stored_run_spans(demo, DEMO_CORPUS, 2)
    exported = read_back(out, "jsonl")
    metas = [json.loads(line)["meta"] for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(exported) == len(run_spans) == 100
    for position, ((tokens, spans), meta) in enumerate(zip(exported, metas, strict=True)):
        if position in by_position:
            assert spans == by_position[position] and "projection_run" not in meta
        else:
            assert (tokens, spans) == run_spans[position] and meta["projection_run"] == 2
    export_corpus(demo, DEMO_CORPUS, tmp_path / "gold.jsonl", fmt="jsonl")  # no run: the unreviewed carry gold
    gold = read_back(tmp_path / "gold.jsonl", "jsonl")
    assert any(gold[i] != exported[i] for i in range(len(gold)) if i not in by_position)  # the run is not the gold


def test_spans_gold_ignores_the_reviews(demo: Store, tmp_path: Path) -> None:
    item = review.next_item(demo, DEMO_CORPUS)
    assert item is not None
    review.record_decision(
        demo, item.sentence_id, reviewer="ana", action="correct", spans=[], expected_version=item.state.version
    )
    export_corpus(demo, DEMO_CORPUS, tmp_path / "gold.conll", spans="gold")
    export_corpus(demo, DEMO_CORPUS, tmp_path / "curated.conll")

    with demo.session() as session:
        gold = session.execute(
            select(Entity.start, Entity.end, Entity.label).where(Entity.sentence_id == item.sentence_id)
        ).all()
        position = session.get(Sentence, item.sentence_id).position
        assert session.scalars(select(ReviewState.status).where(ReviewState.sentence_id == item.sentence_id)).one() == (
            ReviewStatus.CORRECTED.value
        )
    assert gold
    assert read_back(tmp_path / "gold.conll", "conll")[position][1] == tuple(sorted(Span(*row) for row in gold))
    assert read_back(tmp_path / "curated.conll", "conll")[position][1] == ()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"spans": "gold", "run_id": 1}, "a projection run goes with spans 'run' or 'reviewed', not 'gold'"),
        ({"spans": "run", "side": "src"}, "projection runs label the target side"),
        ({"spans": "run", "run_id": 99}, "has no projection run 99"),
        ({"spans": "projected"}, "unknown span source 'projected'; known: gold, reviewed, run"),
    ],
)
def test_wrong_span_choices_are_one_line_errors(demo: Store, tmp_path: Path, kwargs: dict, message: str) -> None:
    with pytest.raises(XnerError, match=message.replace("(", r"\(")) as caught:
        export_corpus(demo, DEMO_CORPUS, tmp_path / "out.conll", **kwargs)
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "out.conll").exists()


def test_the_cli_reports_a_wrong_run_on_stderr(demo: Store, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "export",
            str(tmp_path / "x.conll"),
            "--db",
            demo.url,
            "--corpus",
            DEMO_CORPUS,
            "--spans",
            "run",
            "--run",
            "42",
        ],
    )
    assert result.exit_code == 1
    assert "has no projection run 42" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
def test_europarl_en_de_run_exported_whole_equals_its_stored_spans(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'ep.db'}")
    import_europarl(store, "de", corpus="ep")
    alignment = align_corpus(store, "ep", aligner="eflomal", options=FAST_EFLOMAL)
    run = project_corpus(store, "ep", method="heuristic", alignment_run=alignment.run_id)
    expected = stored_run_spans(store, "ep", run.run_id)
    assert len(expected) == 799 and sum(len(spans) for _, spans in expected) > 500

    for fmt in READERS:
        out = tmp_path / f"ep.{fmt}"
        args = ["--corpus", "ep", "--format", fmt, "--spans", "run", "--run", str(run.run_id)]
        report = cli_export(store, out, *args)

        assert read_back(out, fmt) == expected, fmt
        assert report["sentences"] == 799 and report["entities"] == sum(len(spans) for _, spans in expected)
    store.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("spans", ["run", "reviewed"])
def test_a_run_export_on_postgresql_equals_the_sqlite_one(demo: Store, pg_url: str, tmp_path: Path, spans: str) -> None:
    pg = open_store(pg_url)
    try:
        assert load_demo(pg)
        for name, source in (("sqlite", demo), ("postgresql", pg)):
            export_corpus(source, DEMO_CORPUS, tmp_path / f"{name}.jsonl", fmt="jsonl", spans=spans, run_id=2)
    finally:
        pg.dispose()
    exported = (tmp_path / "sqlite.jsonl").read_bytes()
    assert exported == (tmp_path / "postgresql.jsonl").read_bytes() and b'"projection_run": 2' in exported
