"""Align → project → evaluate through the services and the command line, on the demo corpus and on real data."""

from __future__ import annotations

import json

import pytest
from seqeval.metrics import f1_score
from sqlalchemy import func, select
from typer.testing import CliRunner

from tests.conftest import import_europarl, shared
from xner.cli import app
from xner.engine.project import PROJECTORS
from xner.evaluation import score_spans
from xner.formats.conll import read_conll
from xner.formats.parallel import SideOptions
from xner.learning import TAGGERS
from xner.schemes import spans_to_tags
from xner.services import projecting
from xner.services.aligning import align_corpus, read_extra_text
from xner.services.corpora import get_corpus
from xner.services.demo import load_demo
from xner.services.evaluating import evaluate_alignment, evaluate_projection
from xner.services.executing import LocalExecutor
from xner.services.importing import import_alignments, import_parallel
from xner.services.pairs import iter_pairs
from xner.services.projecting import project_corpus
from xner.store.columns import projected_to_record
from xner.store.models import Alignment, Projection, ProjectionRun
from xner.types import Sentence

DEMO = "demo-en-es"


@pytest.fixture
def demo(store):
    load_demo(store, ready_to_review=False)
    return store


def test_heuristic_over_gold_alignments_recovers_the_demo_gold_exactly(demo):
    # the demo's hand-made alignments link every entity token: projection must reproduce the Spanish gold
    report = project_corpus(demo, DEMO, method="heuristic")
    assert report.pairs == 100
    assert report.entities == {"DATE": 47, "LOC": 87, "ORG": 54, "PER": 29}
    result = evaluate_projection(demo, DEMO, run_id=report.run_id)
    assert result.scores["overall"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 217}


def test_projection_rows_carry_spans_confidence_and_links(demo):
    report = project_corpus(demo, DEMO, method="ngram", options={"matching": "optimal"})
    with demo.session() as session:
        run = session.get(ProjectionRun, report.run_id)
        assert (run.method, run.params["matching"], run.params["source"]) == ("ngram", "optimal", "gold")
        rows = session.execute(select(Projection.spans, Projection.confidence).where(Projection.run_id == run.id)).all()
    assert len(rows) == 100
    for spans, confidence in rows:
        assert confidence == min((s["confidence"] for s in spans), default=1.0)
        for span in spans:
            assert 0 < span["confidence"] <= 1 and span["links"]
            assert all(
                span["src_start"] <= i < span["src_end"] and span["start"] <= j < span["end"] for i, j in span["links"]
            )


def test_eflomal_on_the_demo_is_stored_as_a_run_and_scored_against_gold(demo):
    report = align_corpus(demo, DEMO, aligner="eflomal", options={"symmetrization": "intersection"})
    assert report.pairs == 100 and report.links > 500
    with demo.session() as session:
        assert session.scalar(select(func.count()).where(Alignment.run_id == report.run_id)) == 100
        from xner.services.corpora import get_corpus

        for pair in iter_pairs(session, get_corpus(session, DEMO), alignment_run=report.run_id):
            assert all(i < len(pair.src_tokens) and j < len(pair.tgt_tokens) for i, j in pair.alignment.links)
    gold_run = 1  # load_demo imports the gold alignments first
    scores = evaluate_alignment(demo, DEMO, run_id=None, gold_run_id=gold_run).scores
    # statistical alignment of 100 sentences: precise (intersection) but far from perfect
    assert scores["precision"] > 0.8 and 0.4 < scores["recall"] < 0.95
    projected = evaluate_projection(demo, DEMO, run_id=project_corpus(demo, DEMO, method="ngram").run_id)
    assert projected.scores["overall"]["f1"] > 0.8


def test_cli_align_project_eval_with_json(tmp_path):
    runner = CliRunner()
    db = ["--db", str(tmp_path / "x.db")]
    assert runner.invoke(app, ["demo", *db]).exit_code == 0
    aligned = runner.invoke(app, ["align", "--corpus", DEMO, "-o", "symmetrization=grow-diag-final-and", "--json", *db])
    assert aligned.exit_code == 0, aligned.output
    run = json.loads(aligned.stdout)
    assert run["params"]["symmetrization"] == "grow-diag-final-and" and run["pairs"] == 100
    projected = runner.invoke(
        app, ["project", "--corpus", DEMO, "--method", "ngram", "--run", str(run["run_id"]), "--json", *db]
    )
    assert projected.exit_code == 0, projected.output
    assert json.loads(projected.stdout)["alignment_run"] == run["run_id"]
    scored = runner.invoke(app, ["eval", "projection", "--corpus", DEMO, "--labels", "PER,LOC", "--json", *db])
    assert scored.exit_code == 0, scored.output
    scores = json.loads(scored.stdout)["scores"]
    assert set(scores) == {"overall", "PER", "LOC"}
    assert scores["overall"]["support"] == 29 + 87
    bad = runner.invoke(app, ["project", "--corpus", DEMO, "-o", "merge_distanse=2", *db])
    assert bad.exit_code == 1 and "merge_distance" in bad.stderr
    missing = runner.invoke(app, ["eval", "alignment", "--corpus", DEMO, "--gold", "99", *db])
    assert missing.exit_code == 1 and "no alignment run 99" in missing.stderr


def test_extra_text_files_of_different_lengths_are_an_error(tmp_path):
    (tmp_path / "a.en").write_text("one\ntwo\n", encoding="utf-8")
    (tmp_path / "a.de").write_text("eins\n", encoding="utf-8")
    with pytest.raises(Exception, match=r"a\.en:2: .*a\.de has only 1 lines"):
        read_extra_text(tmp_path / "a.en", tmp_path / "a.de")


@pytest.fixture(scope="module")
def europarl_de(tmp_path_factory):
    """Europarl EN-DE parallel NER gold (799 pairs) aligned by eflomal on the pairs alone, both symmetrisations."""
    from xner.store.db import open_store

    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('ep') / 'ep.db'}")
    import_europarl(store)
    runs = {
        sym: align_corpus(store, "ep", options={"symmetrization": sym}).run_id
        for sym in ("intersection", "grow-diag-final-and")
    }
    yield store, runs
    store.dispose()


@pytest.mark.slow  # Europarl aligned twice by eflomal (the module's fixture, ~80 s on 2 loaded cores)
def test_europarl_ngram_beats_the_reference_heuristic_on_the_same_alignment(europarl_de):
    store, runs = europarl_de
    for run in runs.values():
        heuristic = evaluate_projection(store, "ep", run_id=project_corpus(store, "ep", alignment_run=run).run_id)
        ngram = evaluate_projection(
            store, "ep", run_id=project_corpus(store, "ep", method="ngram", alignment_run=run).run_id
        )
        # the published bar with the 799 pairs alone is 0.775 (gdfa) / 0.815 (intersection) for the heuristic
        assert heuristic.scores["overall"]["f1"] > 0.7
        assert ngram.scores["overall"]["f1"] > heuristic.scores["overall"]["f1"]
        assert heuristic.scores["overall"]["support"] == 693


@pytest.mark.slow  # the Europarl fixture above
def test_span_scores_equal_seqeval_on_real_projections(europarl_de):
    store, runs = europarl_de
    run_id = project_corpus(store, "ep", alignment_run=runs["grow-diag-final-and"]).run_id
    ours = evaluate_projection(store, "ep", run_id=run_id).scores["overall"]["f1"]
    from xner.services.corpora import get_corpus
    from xner.store.queries.projections import projected_spans

    gold_tags, predicted_tags = [], []
    with store.session() as session:
        pairs = list(iter_pairs(session, get_corpus(session, "ep")))
        predicted = projected_spans(session, run_id, [p.pair_id for p in pairs])
    for pair in pairs:
        gold_tags.append(spans_to_tags(pair.tgt_spans, len(pair.tgt_tokens)))
        predicted_tags.append(spans_to_tags(predicted.get(pair.pair_id, []), len(pair.tgt_tokens)))
    assert ours == pytest.approx(f1_score(gold_tags, predicted_tags), abs=1e-4)


@pytest.mark.slow  # eflomal on a real gold set (~25 s)
def test_eflomal_alignment_error_rate_on_gold_en_fr(store):
    pairs = shared("alignment_gold_awesome", "enfr.src-tgt")
    gold = shared("alignment_gold_awesome", "enfr.gold")
    import_parallel(
        store,
        pairs,
        None,
        corpus="enfr",
        src=SideOptions("en", pretokenized=True),
        tgt=SideOptions("fr", pretokenized=True),
    )
    gold_run = import_alignments(store, gold, corpus="enfr", aligner="gold", index_base=1).run_id
    align_corpus(store, "enfr", options={"symmetrization": "intersection"})
    scores = evaluate_alignment(store, "enfr", run_id=None, gold_run_id=gold_run).scores
    # 447 Hansards sentences alone: eflomal's AER is in the high teens (published eflomal figures on the full
    # Hansards are near 0.09); a broken reader or off-by-one index would push it far above 0.5
    assert scores["aer"] < 0.25 and scores["precision"] > 0.85


def _held_out_f1(store, run_id: int, first: int) -> float:
    """Span F1 of projection run ``run_id`` on the pairs from position ``first`` on."""
    from xner.services.corpora import get_corpus
    from xner.store.queries.projections import projected_spans

    with store.session() as session:
        pairs = [p for p in iter_pairs(session, get_corpus(session, "ep")) if p.position >= first]
        predicted = projected_spans(session, run_id, [p.pair_id for p in pairs])
    return score_spans([predicted.get(p.pair_id, []) for p in pairs], [p.tgt_spans for p in pairs]).f1()


@pytest.mark.slow  # the Europarl fixture and a CRF (~17 s)
def test_europarl_model_method_with_a_crf_trained_on_reviewed_german(europarl_de, tmp_path):
    """A German CRF trained on the first 400 gold sentences (standing in for reviewed ones) proposes candidates
    for the other 399; matched through the alignment, its spans do at least as well as the n-grams alone there."""
    store, runs = europarl_de
    german = list(read_conll(shared("europarl_ner_ixa", "de-europarl.test.conll02")))
    tagger = TAGGERS.create("crf", {"max_iterations": "60"})
    tagger.fit(german[:400])
    folder = tagger.save(tmp_path / "de-crf")
    run = runs["intersection"]
    ngram = _held_out_f1(store, project_corpus(store, "ep", method="ngram", alignment_run=run).run_id, 400)
    report = project_corpus(store, "ep", method="model", options={"model": str(folder)}, alignment_run=run)
    model = _held_out_f1(store, report.run_id, 400)
    assert report.params["model"] == str(folder) and report.params["candidates"] == "model+ngram"
    # eflomal samples without a seed: over 3 runs of the benchmark model+ngram gains 0 to 3 points here
    assert model >= ngram - 0.01 and model > 0.8, (model, ngram)
    # tagger candidates only: every projected span is one the tagger predicted on that target sentence
    only = project_corpus(
        store, "ep", method="model", options={"model": str(folder), "candidates": "model"}, alignment_run=run
    )
    from xner.services.corpora import get_corpus
    from xner.store.queries.projections import projected_spans

    with store.session() as session:
        pairs = list(iter_pairs(session, get_corpus(session, "ep")))
        projected = projected_spans(session, only.run_id, [p.pair_id for p in pairs])
    predicted = tagger.predict([p.tgt_tokens for p in pairs])
    spans = [(span.start, span.end) for pair in pairs for span in projected.get(pair.pair_id, [])]
    allowed = {(k, s.start, s.end) for k, sentence in enumerate(predicted) for s in sentence}
    assert len(spans) > 300
    assert all((k, s.start, s.end) in allowed for k, pair in enumerate(pairs) for s in projected.get(pair.pair_id, []))


@pytest.mark.slow  # the Europarl fixture and a CRF (~19 s)
def test_europarl_source_entities_from_an_english_tagger(europarl_de, tmp_path):
    """Without English gold, a CRF trained on CoNLL-2003 news finds the source entities and projection carries
    them over: the projected German is about as good as the tagger's English (parliament text is off its domain)."""
    store, runs = europarl_de
    english = list(read_conll(shared("conll2003_en", "train.txt")))[:3000]
    tagger = TAGGERS.create("crf", {"max_iterations": "60"})
    tagger.fit(english)
    folder = tagger.save(tmp_path / "en-crf")
    europarl_english = list(read_conll(shared("europarl_ner_ixa", "en-europarl.test.conll02")))
    pol = {"PER", "ORG", "LOC"}
    tagged = tagger.predict([s.tokens for s in europarl_english])
    english_f1 = score_spans(tagged, [s.spans for s in europarl_english], pol).f1()
    run = runs["intersection"]
    report = project_corpus(store, "ep", alignment_run=run, source_tagger=folder)
    assert report.params["source"] == f"tagger:{folder}"
    projected_f1 = evaluate_projection(store, "ep", run_id=report.run_id, labels=pol).scores["overall"]["f1"]
    gold = project_corpus(store, "ep", alignment_run=run).run_id
    gold_f1 = evaluate_projection(store, "ep", run_id=gold, labels=pol).scores["overall"]["f1"]
    assert 0.25 < english_f1 < gold_f1
    assert 0.8 * english_f1 < projected_f1 < gold_f1, (english_f1, projected_f1, gold_f1)


@pytest.mark.slow  # the module's eflomal fixture
def test_europarl_runs_in_shards_over_two_workers_store_what_the_engine_projects(europarl_de, monkeypatch):
    store, runs = europarl_de
    run = runs["grow-diag-final-and"]
    monkeypatch.setattr(projecting, "BATCH", 97)  # 799 pairs: 9 shards
    with store.session() as session:
        pairs = list(iter_pairs(session, get_corpus(session, "ep"), alignment_run=run))
    for method in ("heuristic", "ngram"):
        # the reference: every pair read as core types (links as parsed sets), projected in one batch
        expected = PROJECTORS.create(method).project_batch(
            [Sentence(p.src_tokens, p.src_spans) for p in pairs],
            [p.tgt_tokens for p in pairs],
            [p.alignment.links for p in pairs],
        )
        reference = [
            (p.pair_id, [projected_to_record(s) for s in spans]) for p, spans in zip(pairs, expected, strict=True)
        ]
        assert sum(len(records) for _, records in reference) > 600
        for workers in (1, 2):
            executor = LocalExecutor(workers=workers)
            report = project_corpus(store, "ep", method=method, alignment_run=run, executor=executor)
            assert report.workers == workers
            with store.session() as session:
                query = select(Projection.pair_id, Projection.spans).where(Projection.run_id == report.run_id)
                assert [tuple(row) for row in session.execute(query.order_by(Projection.id))] == reference
