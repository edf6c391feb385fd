"""Hybrid strategies and sample-efficiency sweeps on real data: a miniature of the study (English CRF → tag the
English side of MAFAND-MT en-yor → eflomal → project → Yoruba CRFs trained on k MasakhaNER 2.0 sentences with
and without the projected ones → scored on MasakhaNER sentences held out)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import shared
from xner.errors import XnerError
from xner.formats.conll import ConllOptions, read_conll
from xner.formats.parallel import SideOptions
from xner.learning.strategies import Example, Strategy, TrainingPlan, fit_plan, repeated
from xner.services.aligning import align_corpus
from xner.services.executing import closing_executor, executor_for
from xner.services.experiments import (
    ALL,
    ExperimentConfig,
    Point,
    learning_curves,
    load_pools,
    run_experiment,
    sample_gold,
    train_point,
)
from xner.services.importing import import_corpus, import_parallel
from xner.services.projecting import project_corpus
from xner.services.training import train_tagger
from xner.store.db import Store, open_store
from xner.store.models import ExperimentRun, RunMetric, TrainingRun
from xner.types import Sentence, Span

pytest_plugins = ["tests.dask_cluster"]

NO_DATE = ConllOptions(label_map={"DATE": "O"}, normal_form="NFC")


def head_conll(source: Path, target: Path, sentences: int) -> Path:
    """The first ``sentences`` sentences of a CoNLL file."""
    blocks = source.read_text(encoding="utf-8").strip().split("\n\n")[:sentences]
    target.write_text("\n\n".join(blocks) + "\n\n", encoding="utf-8")
    return target


def head_lines(source: Path, target: Path, lines: int) -> Path:
    with source.open(encoding="utf-8") as handle:
        target.write_text("".join(next(handle) for _ in range(lines)), encoding="utf-8")
    return target


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, Path]:
    """A store with Yoruba gold (300 train, 200 test sentences) and 400 MAFAND pairs projected from an English CRF."""
    folder = tmp_path_factory.mktemp("study")
    yor, mafand = shared("masakhaner2", "yor"), shared("mafand_mt", "en-yor")
    english = shared("conll2003_en", "train.txt")
    store = open_store(f"sqlite:///{folder / 'study.db'}")
    for split, count in (("train", 300), ("test", 200)):
        path = head_conll(yor / f"{'train' if split == 'train' else 'dev'}.txt", folder / f"{split}.txt", count)
        import_corpus(store, path, corpus="yor", lang="yor", split=split, options=NO_DATE)
    import_corpus(store, head_conll(english, folder / "en.txt", 1500), corpus="en", lang="en", split="train")
    tagger = folder / "en-crf"
    train_tagger(store, "en", out=tagger, options={"max_iterations": 40})
    src = head_lines(mafand / "train.en", folder / "m.en", 400)
    tgt = head_lines(mafand / "train.yor", folder / "m.yor", 400)
    import_parallel(store, src, tgt, corpus="mafand", src=SideOptions("en", "text"), tgt=SideOptions("yor", "text"))
    align_corpus(store, "mafand")
    project_corpus(store, "mafand", method="ngram", source_tagger=tagger)
    yield store, folder
    store.dispose()


def config(**changes: object) -> ExperimentConfig:
    raw = {
        "name": "mini",
        "tagger": "crf",
        "tagger_options": {"max_iterations": 30},
        "languages": {"yor": {"gold": {"corpus": "yor"}, "test": {"corpus": "yor"}, "projected": "mafand"}},
        "ks": [0, 20, 60],
        "seeds": [0, 1],
        "strategies": {
            "gold": {"mix": "gold"},
            "projected": {"mix": "projected"},
            "hybrid": {"mix": "gold+projected", "gold_weight": "balance"},
        },
        **changes,
    }
    return ExperimentConfig.from_mapping(raw)


# --- strategies ------------------------------------------------------------------------------------------------


def test_pools_hold_the_projected_target_sentences_with_their_confidence(study) -> None:
    store, _ = study
    pools = load_pools(store, config().languages["yor"])
    assert (len(pools.gold), len(pools.test)) == (300, 200)
    assert len(pools.projected) == 400 and pools.projection_run is not None
    with_entities = [e for e in pools.projected if e.sentence.spans]
    assert len(with_entities) > 100  # the English CRF finds entities in most news sentences
    assert all(e.status == "unreviewed" and 0.0 <= (e.confidence or 0.0) <= 1.0 for e in pools.projected)
    assert {span.label for e in with_entities for span in e.sentence.spans} <= {"PER", "ORG", "LOC"}


def test_gold_samples_are_nested_and_seeded(study) -> None:
    store, _ = study
    gold = load_pools(store, config().languages["yor"]).gold
    assert [e.sentence for e in sample_gold(gold, 20, 3)] == [e.sentence for e in sample_gold(gold, 60, 3)[:20]]
    assert sample_gold(gold, 20, 3) != sample_gold(gold, 20, 4)
    assert len(sample_gold(gold, ALL, 0)) == len(gold)


def test_strategy_selection_weights_and_curriculum(study) -> None:
    store, _ = study
    pools = load_pools(store, config().languages["yor"])
    gold = sample_gold(pools.gold, 20, 0)
    strict = Strategy(mix="gold+projected", projected_min_confidence=0.9).plan(gold, pools.projected, seed=0)
    kept = [e for e in strict.examples if e.origin == "projected"]
    assert kept and all(e.sentence.spans and e.confidence >= 0.9 for e in kept)
    capped = Strategy(mix="gold+projected", projected_ratio=2).plan(gold, pools.projected, seed=0)
    assert capped.sizes()["projected"]["sentences"] == 40
    balanced = Strategy(mix="gold+projected", gold_weight="balance").plan(gold, pools.projected, seed=0)
    sizes = balanced.sizes()
    assert sizes["gold"]["weight"] == pytest.approx(sizes["projected"]["weight"], rel=0.01)
    staged = Strategy(mix="gold+projected", curriculum=True).plan(gold, pools.projected, seed=0)
    assert [{e.origin for e in stage} for stage in staged.stages] == [{"projected"}, {"gold"}]
    reviewed = Example(Sentence(("Ade",), (Span(0, 1, "PER"),)), "projected", confidence=0.2, status="accepted")
    chosen = Strategy(mix="projected", projected_min_confidence=0.9).select_projected(
        [reviewed], 0, __import__("random").Random(0)
    )
    assert chosen[0].weight == 2.0  # reviewed ones pass any confidence bar and weigh more
    with pytest.raises(XnerError, match="unknown strategy mix"):
        Strategy(mix="gold+magic")
    with pytest.raises(XnerError, match="unknown strategy option"):
        Strategy.from_options({"mix": "gold", "gold_wieght": 2})
    with pytest.raises(XnerError, match="needs an augmenter"):
        Strategy(mix="gold+synthetic").plan(gold, (), seed=0)


def test_repetition_stands_in_for_weights_with_a_crf(study) -> None:
    store, _ = study
    pools = load_pools(store, config().languages["yor"])
    gold = sample_gold(pools.gold, 20, 0)
    plan = Strategy(mix="gold+projected", gold_weight=3.0).plan(gold, pools.projected[:50], seed=0)
    sentences = repeated(plan.examples)
    kept = plan.sizes()["projected"]["sentences"]  # those with entities (projected_empty_share=0)
    assert 0 < kept < 50 and len(sentences) == 3 * 20 + kept
    from xner.learning import TAGGERS

    tagger = TAGGERS.create("crf", {"max_iterations": 20})
    fit_plan(tagger, plan)
    assert tagger.info["sentences"] == len(sentences)


def test_synthetic_mix_uses_the_augmenter(study) -> None:
    store, _ = study
    pools = load_pools(store, config().languages["yor"])
    gold = sample_gold(pools.gold, 20, 0)
    from xner.services.experiments import make_augment

    plan = Strategy(mix="gold+synthetic", synthetic_per_gold=1.0).plan(
        gold, (), seed=0, augment=make_augment("mention_replacement", {})
    )
    synthetic = [e for e in plan.examples if e.origin == "synthetic"]
    assert 0 < len(synthetic) <= 20
    mentions = {tuple(s.tokens(e.sentence.tokens)) for e in gold for s in e.sentence.spans}
    assert all(tuple(s.tokens(e.sentence.tokens)) in mentions for e in synthetic for s in e.sentence.spans)

    # gold contexts with projected names: the swapped-in mentions may now come from the projected sentences
    with_names = Strategy(mix="gold+projected+synthetic", synthetic_per_gold=3.0, synthetic_names="projected").plan(
        gold, pools.projected, seed=0, augment=make_augment("mention_replacement", {})
    )
    projected_mentions = {
        tuple(s.tokens(e.sentence.tokens))
        for e in with_names.examples
        if e.origin == "projected"
        for s in e.sentence.spans
    }
    swapped = {
        tuple(s.tokens(e.sentence.tokens))
        for e in with_names.examples
        if e.origin == "synthetic"
        for s in e.sentence.spans
    }
    assert swapped <= mentions | projected_mentions and swapped & (projected_mentions - mentions)
    with pytest.raises(XnerError, match="synthetic_names must be one of gold, projected"):
        Strategy(synthetic_names="wiki")


# --- sweeps ----------------------------------------------------------------------------------------------------


def test_a_sweep_records_every_point_resumes_and_draws_curves(study, tmp_path: Path) -> None:
    store, _ = study
    sweep = config()
    report = run_experiment(store, sweep, workers=1)
    # 3 strategies × 3 ks × 2 seeds = 18 points; gold-only at k=0 is skipped (both seeds); projected-only is one
    # run per seed whatever k
    assert report.points == 18 and report.skipped == ["yor gold k=0: the strategy needs gold sentences"]
    assert report.trained == 2 * 2 + 2 + 3 * 2  # gold k=20,60; projected once per seed; hybrid at every k
    with store.session() as session:
        links = session.scalar(select(func.count()).select_from(ExperimentRun))
        done = session.scalars(select(TrainingRun).where(TrainingRun.status == "done")).all()
        runs = [run for run in done if run.config.get("kind") == "experiment-point"]  # not the English CRF's
        f1s = session.scalars(select(RunMetric.value).where(RunMetric.name == "f1", RunMetric.label == "")).all()
    assert links == 16 and len(runs) == report.trained
    assert all(0.0 <= value <= 1.0 for value in f1s)
    hybrid = [run for run in runs if run.config["strategy"].get("gold_weight") == "balance" and run.config["k"]]
    sizes = hybrid[0].data_sizes
    assert sizes["gold"]["sentences"] in (20, 60) and sizes["projected"]["sentences"] > 0

    again = run_experiment(store, sweep, workers=1)  # everything cached: nothing is trained twice
    assert again.trained == 0 and again.cached == 16

    curves = learning_curves(store, "mini")
    by_key = {(p.strategy, p.k): p for p in curves}
    assert (("gold", 0) not in by_key) and by_key[("gold", 60)].n == 2
    gold60 = by_key[("gold", 60)]
    assert gold60.low <= gold60.mean <= gold60.high
    assert by_key[("gold", 60)].mean > by_key[("gold", 20)].mean  # more gold sentences, better Yoruba tagger
    assert by_key[("projected", 0)].mean > 0.05  # the projected sentences alone teach something real

    from xner.cli.experiment_cmd import write_curves

    write_curves(store, "mini", tmp_path / "curves")
    table = json.loads((tmp_path / "curves" / "curves.json").read_text(encoding="utf-8"))
    assert {row["strategy"] for row in table} == {"gold", "projected", "hybrid"}
    assert (tmp_path / "curves" / "curves.png").read_bytes()[:4] == b"\x89PNG"
    assert "plotly" in (tmp_path / "curves" / "curves.html").read_text(encoding="utf-8")[:5000].lower()


@pytest.mark.slow
def test_a_sweep_on_a_dask_cluster_scores_as_the_local_one(study, dask_executor: str) -> None:
    store, _ = study
    sweep = config(name="on-dask", ks=[20], seeds=[0, 1], tagger_options={"max_iterations": 25})
    with closing_executor(executor_for(dask_executor)) as executor:
        report = run_experiment(store, sweep, executor=executor)
    assert report.trained == 2 * 3 and not report.missing  # gold, projected, hybrid at k=20, two seeds
    pools = {"yor": load_pools(store, sweep.languages["yor"])}
    on_dask = {(p.strategy, p.k): p.mean for p in learning_curves(store, "on-dask")}
    for (strategy, k), mean in on_dask.items():
        here = [train_point(sweep, Point("yor", strategy, k, seed), pools["yor"]) for seed in (0, 1)]
        assert mean == pytest.approx(sum(run["scores"]["overall"]["f1"] for run in here) / 2, abs=1e-9)


def test_config_errors_name_the_file_and_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nlanguages: {yor: {gold: yor}}\nstrategies: {g: {mix: gold}}\nks: [10]\n", "utf-8")
    with pytest.raises(XnerError, match=r"bad.yaml: language 'yor' needs 'gold' and 'test'"):
        ExperimentConfig.load(bad)
    bad.write_text("name: x\nlanguages: {yor: {gold: a, test: b}}\nstrategies: {g: {mix: gold}}\nks: [ten]\n", "utf-8")
    with pytest.raises(XnerError, match=r"bad.yaml: k must be a whole number or 'all', got 'ten'"):
        ExperimentConfig.load(bad)
    bad.write_text("name: x\nlanguages: {yor: {gold: a, test: b}}\nstrategies: {g: {mix: gold}}\nks: [1]\nk: 2\n")
    with pytest.raises(XnerError, match=r"unknown key\(s\) k"):
        ExperimentConfig.load(bad)
    bad.write_text("name: [unclosed\n", "utf-8")
    with pytest.raises(XnerError, match=r"bad.yaml: not valid YAML"):
        ExperimentConfig.load(bad)
    with pytest.raises(XnerError, match=r"strategy 'g': unknown strategy mix"):
        ExperimentConfig.from_mapping(
            {"name": "x", "languages": {"y": {"gold": "a", "test": "b"}}, "strategies": {"g": {"mix": "?"}}, "ks": [1]}
        )


def test_spans_scores_match_seqeval(study) -> None:
    """The recorded precision/recall/F1 are seqeval's (exact entity match over IOB2)."""
    from seqeval.metrics import f1_score, precision_score, recall_score

    from xner.learning import TAGGERS
    from xner.schemes import spans_to_tags
    from xner.services.training import evaluate_tagger

    store, _ = study
    pools = load_pools(store, config().languages["yor"])
    tagger = TAGGERS.create("crf", {"max_iterations": 30})
    tagger.fit(list(pools.gold))
    scores = evaluate_tagger(tagger, list(pools.test)).as_dict()["overall"]
    predicted = tagger.predict([s.tokens for s in pools.test])
    true = [spans_to_tags(s.spans, len(s.tokens)) for s in pools.test]
    pred = [spans_to_tags(p, len(s.tokens)) for p, s in zip(predicted, pools.test, strict=True)]
    assert scores["f1"] == pytest.approx(f1_score(true, pred), abs=1e-4)
    assert scores["precision"] == pytest.approx(precision_score(true, pred), abs=1e-4)
    assert scores["recall"] == pytest.approx(recall_score(true, pred), abs=1e-4)


def test_yoruba_reader_drops_date(study) -> None:
    sentences = list(read_conll(shared("masakhaner2", "yor", "dev.txt"), NO_DATE))
    assert sentences and all(span.label != "DATE" for s in sentences for span in s.spans)


# --- the study's hybrid: domain feature copies and source-language sentences -------------------------------------


def source_config(**strategy: object) -> ExperimentConfig:
    return config(
        source={"corpus": "en", "split": "train"},
        strategies={"hybrid": {"mix": "gold+projected", "domain_features": True, "source_sentences": 200, **strategy}},
    )


def test_pools_carry_the_source_sentences_named_once_for_every_language(study) -> None:
    store, _ = study
    sweep = source_config()
    assert sweep.languages["yor"].source is not None and sweep.languages["yor"].source.corpus == "en"
    pools = load_pools(store, sweep.languages["yor"])
    assert len(pools.source) == 1500 and pools.fingerprint()["source"] == 1500
    assert load_pools(store, config().languages["yor"]).source == ()
    sources: dict = {}  # languages naming the same source corpus read it once and share it
    first, second = (load_pools(store, sweep.languages["yor"], sources=sources) for _ in range(2))
    assert first.source is second.source and len(sources) == 1


def test_the_hybrid_plan_draws_source_sentences_and_trains_domain_copies(study, tmp_path: Path) -> None:
    from xner.learning import TAGGERS, load_tagger

    store, _ = study
    sweep = source_config()
    pools = load_pools(store, sweep.languages["yor"])
    gold = sample_gold(pools.gold, 30, 0)
    strategy = Strategy.from_options(sweep.strategies["hybrid"])
    plan = strategy.plan(gold, pools.projected, seed=0, source=pools.source)
    sizes = plan.sizes()
    assert plan.domain_features and sizes["source"]["sentences"] == 200 and sizes["gold"]["sentences"] == 30
    english = {e.sentence for e in plan.examples if e.origin == "source"}
    assert english <= set(pools.source) and all(s.spans for s in english)  # English sentences with entities
    assert english != {
        e.sentence
        for e in strategy.plan(gold, pools.projected, seed=1, source=pools.source).examples
        if e.origin == "source"
    }  # drawn with the run's seed

    tagger = TAGGERS.create("crf", {"max_iterations": 30})
    fit_plan(tagger, plan)
    assert tagger.info["domains"] == {"gold": 30, "projected": sizes["projected"]["sentences"], "source": 200}
    assert tagger.info["target_domain"] == "gold"
    words = ("Ọba", "Adéyẹmí", "lọ", "sí", "Èkó")
    features = tagger.features(words, "gold")
    assert "gold|w=èkó" in features[4] and "w=èkó" in features[4]  # the shared copy and the gold copy
    predicted = tagger.predict([s.tokens for s in pools.test[:50]])
    tagger.save(tmp_path / "hybrid")
    again = load_tagger(tmp_path / "hybrid")
    assert again.info["target_domain"] == "gold"
    assert again.predict([s.tokens for s in pools.test[:50]]) == predicted  # tags with the gold copies after loading

    with pytest.raises(XnerError, match="give one per sentence"):
        TAGGERS.create("crf", {}).fit([e.sentence for e in gold], domains=["gold"])
    with pytest.raises(XnerError, match="no source sentences"):
        strategy.plan(gold, pools.projected, seed=0)


def test_without_gold_sentences_the_crf_tags_with_the_projected_copies(study) -> None:
    from xner.learning import TAGGERS

    store, _ = study
    pools = load_pools(store, source_config().languages["yor"])
    plan = Strategy(mix="projected", domain_features=True, source_sentences=100).plan(
        [], pools.projected, seed=0, source=pools.source
    )
    tagger = TAGGERS.create("crf", {"max_iterations": 20})
    fit_plan(tagger, plan)
    assert tagger.info["target_domain"] == "projected" and tagger.info["domains"].keys() == {"projected", "source"}
    english = Strategy(mix="gold", domain_features=True, source_sentences=100).select_source(
        pools.source, __import__("random").Random(0)
    )
    only_english = TAGGERS.create("crf", {"max_iterations": 20})
    fit_plan(only_english, TrainingPlan((tuple(english),), domain_features=True))
    assert only_english.info["target_domain"] is None  # no target-language text: the shared copies alone
    assert all("|" not in feature for feature in only_english.features(("Èkó",), None)[0])
