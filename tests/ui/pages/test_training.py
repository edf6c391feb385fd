"""The training page (pages/5_Training.py) with AppTest on a temporary database: training a CRF from the page on
the demo's hand-written Spanish NER sentences (70 to train on, 30 held out), the runs table, comparisons of runs,
the learning curves of a small sweep, empty states and errors; plus the services behind it
(xner.services.training_view)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from tests.apptest import load, open_page, seen
from tests.conftest import DEMO
from xner.figures.training import curve_rows, curves_html, curves_png, f1_bars
from xner.learning import read_manifest
from xner.services.demo import DEMO_CORPUS, load_demo
from xner.services.experiments import ExperimentConfig, learning_curves, run_experiment
from xner.services.importing import import_corpus
from xner.services.training import default_model_name, train_tagger
from xner.services.training_view import (
    STATUS_CHOICES,
    TRAINED_RUNS,
    compare_runs,
    experiment_curves,
    experiment_labels,
    list_experiments,
    list_training_runs,
    run_rows,
    tagger_options,
)
from xner.store.db import Store, open_store
from xner.store.models import RunMetric, TrainingRun

PAGE = "5_Training"
CORPUS = "es-ner"  # the Spanish side of the demo as a monolingual corpus: splits train (70) and test (30)


def split_conll(source: Path, folder: Path, train: int) -> tuple[Path, Path]:
    """The first ``train`` sentences of a CoNLL file as train.conll, the others as test.conll."""
    blocks = source.read_text(encoding="utf-8").strip().split("\n\n")
    paths = folder / "train.conll", folder / "test.conll"
    for path, part in zip(paths, (blocks[:train], blocks[train:]), strict=True):
        path.write_text("\n\n".join(part) + "\n\n", encoding="utf-8")
    return paths


@pytest.fixture
def project(db: str, tmp_path: Path) -> Iterator[Store]:
    """The demo project plus corpus es-ner: the 100 Spanish demo sentences, 70 in split train and 30 in test."""
    store = open_store(db)
    assert load_demo(store)
    train, test = split_conll(DEMO / "es.conll", tmp_path, 70)
    import_corpus(store, train, corpus=CORPUS, lang="es", split="train")
    import_corpus(store, test, corpus=CORPUS, lang="es", split="test")
    yield store
    store.dispose()


def sweep(store: Store) -> ExperimentConfig:
    """A miniature study on es-ner: gold-only and projected-only CRFs (the demo's ngram projection run), k 0/20."""
    config = ExperimentConfig.from_mapping(
        {
            "name": "mini",
            "tagger_options": {"max_iterations": 10},
            "languages": {"es": {"gold": {"corpus": CORPUS}, "test": {"corpus": CORPUS}, "projected": DEMO_CORPUS}},
            "strategies": {"gold": {"mix": "gold"}, "projected": {"mix": "projected"}},
            "ks": [0, 20],
            "seeds": [0, 1],
            "workers": 1,
        }
    )
    run_experiment(store, config)
    return config


def page() -> AppTest:
    return open_page(PAGE)


TABLES = {  # a table of the page by a column only it has (AppTest does not report st.dataframe keys)
    "entities": "entities",
    "scores": "support",
    "runs": "trained on",
    "differing": "setting",
    "f1": "label",
    "curves": "strategy",
}


def frame(at: AppTest, name: str):
    """The page's table ``name`` (see TABLES) as a DataFrame."""
    found = [f.value for f in at.dataframe if TABLES[name] in f.value.columns]
    assert found, f"no {name} table; tables: {[list(f.value.columns) for f in at.dataframe]}"
    return found[0] if name != "f1" else found[-1]


def choose_corpus(at: AppTest) -> AppTest:
    at.selectbox(key="training_corpus").set_value(CORPUS).run()
    at.number_input(key="training_crf_max_iterations").set_value(30).run()
    return at


def train(at: AppTest) -> AppTest:
    at = at.button(key="training_train").click().run()
    assert not at.exception, at.exception
    return at


# --- the page -----------------------------------------------------------------------------------------------------


def test_an_empty_database_explains_what_to_do(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("xner.ui.support.load_demo", lambda store: False)  # no demo: a truly empty database
    at = page()

    assert not at.exception
    infos = [seen(info.value) for info in at.info]
    assert len(infos) == 3
    assert "No corpora yet" in infos[0]
    assert "No training runs here yet" in infos[1]
    assert "xner experiment CONFIG --out DIR" in infos[2]


def test_defaults_on_the_demo(db: str) -> None:
    at = page()  # the demo is loaded into the new database

    assert not at.exception
    assert at.selectbox(key="training_corpus").value == DEMO_CORPUS
    assert at.segmented_control(key="training_side_parallel").value == "tgt"
    assert at.multiselect(key=f"training_splits_{DEMO_CORPUS}_tgt").value == ["train"]
    assert at.multiselect(key=f"training_eval_{DEMO_CORPUS}_tgt").value == []  # the demo has no test split
    assert at.radio(key="training_statuses").value == "unreviewed, accepted and corrected"
    assert at.selectbox(key="training_tagger").value == "crf"
    assert at.number_input(key="training_crf_c1").value == 0.1
    name = at.text_input(key=f"training_name_{DEMO_CORPUS}_crf").value  # a name in the managed folder, not a path
    assert re.fullmatch(r"crf-demo-en-es-all-\d{8}-\d{4}", name), name
    assert "No training runs here yet" in seen(at.info[0].value)
    assert "No experiments yet" in seen(at.info[1].value)


def test_training_a_crf_from_the_page_records_a_scored_run(project: Store, xner_home: Path) -> None:
    at = page()
    at.sidebar.text_input(key="xner_reviewer").set_value("amina").run()
    at = choose_corpus(at)
    at.text_input(key=f"training_name_{CORPUS}_crf").set_value("es-ner-crf").run()
    assert at.segmented_control(key="training_side_mono").value == "mono"
    assert at.multiselect(key=f"training_eval_{CORPUS}_mono").value == ["test"]
    at = train(at)

    assert not at.error and not at.get("progress")  # the progress bar is gone once done
    with project.session() as session:
        run = session.scalars(select(TrainingRun)).one()
        metrics = {(m.label, m.name): m.value for m in session.scalars(select(RunMetric))}
    assert run.status == "done" and run.config["corpus"] == CORPUS and run.config["options"]["max_iterations"] == 30
    assert run.data_sizes["sentences"] == 70 and run.data_sizes["eval"]["sentences"] == 30
    out = xner_home / "models" / "es-ner-crf"  # the managed folder's models/NAME
    assert run.model_path == str(out) and read_manifest(out)["info"]["created_by"] == "amina"
    assert 0.3 < metrics[("", "f1")] <= 1.0  # a CRF on 70 news sentences finds many of the 30 held-out ones' names

    assert f"run {run.id}" in seen(at.success[0].value)
    sizes = [f"{run.data_sizes['tokens']:,}", str(sum(run.data_sizes["entities"].values()))]
    assert [m.value for m in at.metric][:3] == ["70", *sizes]
    entities = frame(at, "entities")
    assert dict(zip(entities["label"], entities["entities"], strict=True)) == run.data_sizes["entities"]
    scores = frame(at, "scores")
    assert list(scores["label"]) == ["overall", "DATE", "LOC", "ORG", "PER"]
    assert scores["f1"][0] == pytest.approx(metrics[("", "f1")])
    assert scores["support"][0] == sum(run.data_sizes["eval"]["entities"].values())

    runs = frame(at, "runs")  # the Runs tab lists it, drawn after the training
    assert list(runs["id"]) == [run.id] and runs["F1"][0] == pytest.approx(metrics[("", "f1")])
    assert runs["trained on"][0] == "es-ner: train" and runs["sentences"][0] == 70 and runs["status"][0] == "done"


def test_two_runs_compared_side_by_side(project: Store) -> None:
    at = train(choose_corpus(page()))
    at.number_input(key="training_crf_c1").set_value(0.5).run()
    at = train(at)
    runs = frame(at, "runs")
    assert len(runs) == 2

    at.multiselect(key="training_compare").set_value(list(runs["id"])).run()
    assert not at.exception
    columns = [f"run {run_id}" for run_id in runs["id"]]
    differing = frame(at, "differing")
    assert list(differing["setting"]) == ["options.c1"]
    assert list(differing.iloc[0][columns]) == ["0.5", "0.1"]
    f1 = frame(at, "f1")
    assert list(f1["label"]) == ["overall", "DATE", "LOC", "ORG", "PER"] and list(f1.columns) == ["label", *columns]
    chart = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert [bar["name"] for bar in chart["data"]] == columns
    assert chart["data"][0]["x"] == ["overall", "DATE", "LOC", "ORG", "PER"]


def test_a_training_error_names_the_reason(project: Store) -> None:
    at = choose_corpus(page())
    at.radio(key="training_statuses").set_value("reviewed only (accepted and corrected)").run()
    at = train(at)

    assert "Training failed: nothing to train on" in seen(at.error[0].value)
    assert "accepted, corrected" in seen(at.error[0].value)
    assert not at.success
    with project.session() as session:
        assert session.scalars(select(TrainingRun)).all() == []


def test_the_learning_curves_of_an_experiment(project: Store) -> None:
    sweep(project)
    at = page()

    assert not at.exception
    assert at.selectbox(key="training_experiment").value == "mini"
    chart = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert {trace["name"] for trace in chart["data"] if trace.get("mode") == "lines+markers"} == {"gold", "projected"}
    points = learning_curves(project, "mini")
    curves = frame(at, "curves")
    assert list(zip(curves["strategy"], curves["k"], curves["seeds"], strict=True)) == [
        ("gold", 20, 2),
        ("projected", 0, 2),
        ("projected", 20, 2),
    ]
    assert list(curves["f1"]) == [round(p.mean, 4) for p in points]
    assert at.download_button(key="training_curves_png").proto.label == "Download PNG"
    assert at.download_button(key="training_curves_html")

    at.segmented_control(key="training_curve_metric").set_value("precision")
    at.selectbox(key="training_curve_label_mini").set_value("PER").run()
    curves = frame(at, "curves")
    per = learning_curves(project, "mini", metric="precision", label="PER")
    assert list(curves["precision"]) == [round(p.mean, 4) for p in per]
    title = json.loads(at.get("plotly_chart")[0].proto.spec)["layout"]["yaxis"]["title"]["text"]
    assert title == "entity precision (PER) (test)"

    at.selectbox(key="training_runs_filter").set_value(("experiment", "mini")).run()
    assert len(frame(at, "runs")) == 4  # 2 gold + 2 projected (one run per seed for both ks)
    at.selectbox(key="training_runs_filter").set_value((TRAINED_RUNS, "")).run()
    assert "No training runs here yet" in seen(at.info[0].value)


def tree(folder: Path) -> set[Path]:
    return {path for path in folder.rglob("*") if "xner-home" not in path.parts or path.is_file()}


@pytest.mark.parametrize("name", ["../../escape", "/tmp/escape", "..", "a/b", "~x", ".hidden"])
def test_a_model_name_that_is_not_safe_is_refused_and_nothing_is_written(
    project: Store, tmp_path: Path, xner_home: Path, name: str
) -> None:
    at = choose_corpus(page())
    at.text_input(key=f"training_name_{CORPUS}_crf").set_value(name).run()
    before = tree(tmp_path.parent)
    at = at.button(key="training_train").click().run()

    assert not at.exception
    [error] = [seen(e.value) for e in at.error]
    assert error.startswith(f"Training failed: model name {name!r} is not allowed: use one name of letters")
    assert "\n" not in error and str(tmp_path) not in error  # one line, no server path
    assert tree(tmp_path.parent) == before  # nothing written anywhere (the managed folder not even created)
    with project.session() as session:
        assert session.scalars(select(TrainingRun)).all() == []


def test_a_trained_model_is_listed_and_downloadable(project: Store, xner_home: Path) -> None:
    at = page()
    assert "None yet in models/." in [c.value for c in at.caption]
    at = choose_corpus(at)
    at.text_input(key=f"training_name_{CORPUS}_crf").set_value("crf-es").run()
    at = train(at)

    assert "model saved as models/crf-es (see Files)" in seen(at.success[0].value)
    assert (xner_home / "models" / "crf-es" / "xner-tagger.json").is_file()
    files = next(f.value for f in at.dataframe if "modified" in f.value.columns)
    assert list(files["name"]) == ["crf-es"] and list(files["kind"]) == ["folder"]
    assert at.selectbox(key="training_files_models_pick").value == "crf-es"
    assert "Download crf-es.zip" in [seen(b.proto.label) for b in at.get("download_button")]
    (xner_home / "exports").mkdir()
    (xner_home / "exports" / "es.conll").write_text("Ada B-PER\n")
    at.run()
    assert "A saved model has this name: training replaces it." in [c.value for c in at.caption]
    assert at.selectbox(key="training_files_exports_pick").value == "es.conll"


def test_the_app_navigates_to_the_training_page(db: str) -> None:
    at = load("app").run()
    at.switch_page("pages/5_Training.py").run()

    assert not at.exception
    assert at.title[0].value == "Training"
    assert at.button(key="training_train")


def test_names_from_the_data_show_as_text(project: Store, tmp_path: Path) -> None:
    xss = "<script>alert(1)</script>"
    train_file, _ = split_conll(DEMO / "es.conll", tmp_path, 40)
    import_corpus(project, train_file, corpus=xss, lang='"><img src=x onerror=alert(1)>', split="train")
    at = page()
    at.selectbox(key="training_corpus").set_value(xss).run()
    at.text_input(key=f"training_name_{xss}_crf").set_value("xss-model").run()
    at = train(at)
    at.radio(key="training_statuses").set_value("reviewed only (accepted and corrected)").run()
    at = train(at)  # an error naming the corpus

    kinds = ("markdown", "caption", "title", "error", "warning", "info", "success")
    bodies = [str(element.value) for kind in kinds for element in getattr(at, kind)]
    assert any("alert" in body for body in bodies)  # the name is shown...
    assert not any("<script" in body or "<img" in body for body in bodies)  # ...never as markup
    assert seen(at.error[0].value).startswith(f"Training failed: nothing to train on: the sentences of corpus '{xss}'")
    assert frame(at, "runs")["trained on"][0] == f"{xss}: train"


# --- the services -------------------------------------------------------------------------------------------------


def test_runs_carry_their_scores_points_and_sources(project: Store, tmp_path: Path) -> None:
    report = train_tagger(
        project, CORPUS, out=tmp_path / "m", eval_splits=["test"], options={"max_iterations": 20}, created_by="t"
    )
    sweep(project)

    runs = list_training_runs(project)
    assert len(runs) == 5 and runs[-1].id == report.run_id  # newest first
    trained = list_training_runs(project, show=TRAINED_RUNS)
    assert [r.id for r in trained] == [report.run_id] and not trained[0].from_experiment
    assert trained[0].score("f1") == report.f1 and trained[0].labels == ["DATE", "LOC", "ORG", "PER"]
    points = list_training_runs(project, experiment="mini")
    assert len(points) == 4 and all(r.from_experiment and r.status == "done" for r in points)
    shared = next(r for r in points if r.config["strategy"] == {"mix": "projected"})
    assert len(shared.points) == 2 and shared.describe().endswith("(+1 more)")  # trained once for k=0 and k=20
    gold = next(r for r in points if r.config["strategy"] == {"mix": "gold"})
    assert gold.sentences == 20 and gold.describe().startswith("mini: es gold k=20 seed ")
    rows = run_rows(runs)
    assert rows[-1]["source"] == "train" and rows[-1]["F1"] == report.f1 and rows[-1]["sentences"] == 70

    comparison = compare_runs([trained[0], gold])
    assert {row["setting"] for row in comparison.differing} >= {"corpus", "kind", "k", "training sentences"}
    assert next(r for r in comparison.settings if r["setting"] == "corpus")[f"run {gold.id}"] == "—"
    assert [trace.name for trace in f1_bars(comparison).data] == comparison.columns

    assert [(e.name, e.languages, e.strategies, e.points) for e in list_experiments(project)] == [
        ("mini", ["es"], ["gold", "projected"], 6)
    ]
    assert experiment_labels(project, "mini") == ["DATE", "LOC", "ORG", "PER"]


def test_curve_downloads_and_table(project: Store) -> None:
    sweep(project)
    curves = experiment_curves(project, "mini", metric="recall", languages=["es"])
    assert curves.file_stem() == "mini-recall" and len(curves.points) == 3
    assert experiment_curves(project, "mini", languages=["yor"]).points == []
    rows = curve_rows(curves)
    assert set(rows[0]) == {"language", "strategy", "k", "seeds", "recall", "ci95 low", "ci95 high", "values"}
    assert rows[0]["ci95 low"] <= rows[0]["recall"] <= rows[0]["ci95 high"]
    assert curves_png(curves).startswith(b"\x89PNG\r\n\x1a\n")
    page_html = curves_html(curves)
    assert b"<html>" in page_html[:100] and b"entity recall (test)" in page_html


def test_default_model_name_and_tagger_options() -> None:
    when = datetime(2026, 12, 7, 14, 12)
    assert default_model_name("../<b>yor</b>", "crf", when=when) == "crf-b-yor-b-all-20261207-1412"
    reviewed = STATUS_CHOICES["reviewed only (accepted and corrected)"]
    assert default_model_name("yor", "crf", reviewed, when=when) == "crf-yor-reviewed-20261207-1412"
    assert [o.name for o in tagger_options("transformer")][:2] == ["model", "epochs"]
    assert [s.value for s in STATUS_CHOICES["reviewed only (accepted and corrected)"]] == ["accepted", "corrected"]
    with pytest.raises(Exception, match="unknown tagger 'bert'"):
        tagger_options("bert")
