"""A partial sweep is reported as partial: the study's results table (benchmarks/study.py) claims the hybrid's
advantage only at the ks that have results, names the missing points and gives the seeds behind each mean; config
overrides; data checked before any preparation.

The sweep runs on the demo project (data/demo): Spanish gold sentences (es.conll imported as a ``train`` pool and a
``dev`` evaluation split) and the demo corpus's ngram projection run as the projected sentences; a 5-iteration CRF.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.study import main as study_main
from benchmarks.study import missing_files, results_markdown
from tests.conftest import DEMO, SHARED_DATA
from xner.errors import XnerError
from xner.services.demo import load_demo
from xner.services.experiments import ExperimentConfig, learning_curves, run_experiment, sweep_gaps
from xner.services.importing import import_corpus
from xner.store.db import Store, open_store

RAW = {
    "name": "partial",
    "tagger": "crf",
    "tagger_options": {"max_iterations": 5},
    "languages": {"es": {"gold": "es-gold", "test": {"corpus": "es-gold", "split": "dev"}, "projected": "demo-en-es"}},
    "ks": [0, 10, 20, 40, "all"],
    "seeds": [0, 1, 2],
    "strategies": {"gold": {"mix": "gold"}, "hybrid": {"mix": "gold+projected", "domain_features": True}},
}


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = open_store(f"sqlite:///{tmp_path / 'sweep.db'}")
    load_demo(store)
    for split in ("train", "dev"):
        import_corpus(store, DEMO / "es.conll", corpus="es-gold", lang="es", split=split)
    yield store
    store.dispose()


def test_a_partial_sweep_claims_nothing_for_the_points_it_lacks(store: Store, tmp_path: Path) -> None:
    full = ExperimentConfig.from_mapping(RAW)
    # the partial run: k = 10 with 2 seeds, k = 20 with one; k = 40 and all never ran
    run_experiment(store, full.override(ks=[10], seeds=[0, 1]))
    run_experiment(store, full.override(ks=[20], seeds=[0]))
    gaps = [gap.describe() for gap in sweep_gaps(store, full)]
    assert gaps == [
        "es gold k=10: 2 of 3 seeds (missing 2)",
        "es gold k=20: 1 of 3 seeds (missing 1, 2)",
        "es gold k=40: no result (seeds 0, 1, 2)",
        "es gold k=all: no result (seeds 0, 1, 2)",
        "es hybrid k=0: no result (seeds 0, 1, 2)",
        "es hybrid k=10: 2 of 3 seeds (missing 2)",
        "es hybrid k=20: 1 of 3 seeds (missing 1, 2)",
        "es hybrid k=40: no result (seeds 0, 1, 2)",
        "es hybrid k=all: no result (seeds 0, 1, 2)",
    ]
    curves = learning_curves(store, "partial")
    text = results_markdown(store, full, curves, tmp_path / "partial.yaml")
    summary = next(line for line in text.splitlines() if line.startswith("| es |"))
    cells = [cell.strip() for cell in summary.strip("|").split("|")]
    assert cells[0] == "es" and cells[-1] == "1–2"  # the seeds behind the means, not the config's 3
    # each claim is either refuted at a k that has results, or limited to those ks with the missing ones named
    assert cells[1].startswith("no (k = ") or cells[1] == "yes at k = 10, 20; no result at k = 40"
    for claim in cells[2:4]:  # interval claims: k = 20 has one seed, so no interval to judge it by
        assert claim.startswith("no (k = 10)") or claim == "yes at k = 10; no result at k = 40; one seed at k = 20"
    assert "## Missing points" in text and "- es hybrid k=40: no result (seeds 0, 1, 2)" in text
    assert "n=2" in text and "n=1 (no interval)" in text  # means that stand on fewer seeds than the config's

    # the rest of the sweep: every point there, and the report says so
    run_experiment(store, full)
    assert sweep_gaps(store, full) == []
    text = results_markdown(store, full, learning_curves(store, "partial"), tmp_path / "partial.yaml")
    assert "Every point of the sweep has a result for each of its 3 seeds." in text
    assert " n=" not in text and "no result" not in text


def test_overrides_make_their_own_experiment_and_reject_unknown_languages() -> None:
    config = ExperimentConfig.from_mapping(RAW)
    test_split = config.override(eval_split="test")
    assert test_split.name == "partial-test" and test_split.languages["es"].test.split == "test"
    assert config.override(eval_split="dev").name == "partial"  # the config's own split: the same experiment
    with pytest.raises(XnerError, match=r"has no language 'yor'; its languages: es"):
        config.override(languages=["yor"])
    with pytest.raises(XnerError, match=r"k must not be negative"):
        config.override(ks=[-5])


def test_a_missing_evaluation_split_stops_the_study_before_any_preparation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    (data / "masakhaner2" / "yor").mkdir(parents=True)
    for split in ("train", "dev"):
        (data / "masakhaner2" / "yor" / f"{split}.txt").write_text("Ade B-PER\n\n", encoding="utf-8")
    (data / "mafand_mt" / "en-yor").mkdir(parents=True)
    for name in ("train.en", "train.yor"):
        (data / "mafand_mt" / "en-yor" / name).write_text("x\n", encoding="utf-8")
    db = tmp_path / "study" / "study.db"
    code = study_main(["--data", str(data), "--db", str(db), "--langs", "yor", "--ks", "50", "--seeds", "0-1"])
    assert code == 2 and not db.exists()  # nothing imported, trained or aligned
    error = capsys.readouterr().err
    assert (
        f"yor: the evaluation split 'test' is missing: no {data}/masakhaner2/yor/test.txt (splits there: dev, train)"
        in error
    )
    config = ExperimentConfig.load(Path(__file__).resolve().parents[2] / "docs" / "study" / "study.yaml")
    assert missing_files(data, config.override(languages=["yor"], eval_split="dev")) == [
        f"English: no CoNLL-2003 file {data}/conll2003_en/train.txt (the English tagger's training and test data)",
        f"English: no CoNLL-2003 file {data}/conll2003_en/test.txt (the English tagger's training and test data)",
    ]


def test_the_real_study_checks_the_split_of_every_language_first(tmp_path: Path, capsys) -> None:
    if not (SHARED_DATA / "masakhaner2" / "lug").exists():
        pytest.skip(f"real data not available: {SHARED_DATA}/masakhaner2/lug is missing")
    db = tmp_path / "study.db"
    code = study_main(["--data", str(SHARED_DATA), "--db", str(db), "--langs", "yor,lug,luo", "--eval-split", "test"])
    assert code == 2 and not db.exists()
    error = capsys.readouterr().err
    assert "lug: the evaluation split 'test' is missing" in error and "luo: the evaluation split 'test'" in error
    assert "yor:" not in error  # yor has its test split
