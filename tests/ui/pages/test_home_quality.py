"""The home page's projection quality (pages/0_Home.py, *Align & project*, with AppTest) shows exactly what
``xner eval projection`` computes, run by run and label by label, on the Europarl en-de gold; the run pickers name
runs with ``run_label``; the corpus charts are shares of each corpus (``xner.ui.home``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from tests.apptest import open_page
from tests.conftest import FAST_EFLOMAL, import_europarl, write
from xner.cli import app as cli
from xner.formats.parallel import SideOptions
from xner.services.aligning import align_corpus
from xner.services.corpora import list_corpora
from xner.services.demo import load_demo
from xner.services.importing import import_alignments, import_corpus, import_parallel
from xner.services.projecting import project_corpus
from xner.services.runs import list_alignment_runs, list_projection_runs, run_label
from xner.store.db import Store, open_store
from xner.ui.home import label_shares, review_shares


@pytest.fixture(scope="module")
def europarl(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Europarl en-de (799 pairs, gold on both sides) aligned with eflomal and projected twice: heuristic and
    ngram. Built once for the module; the tests only read it."""
    url = f"sqlite:///{tmp_path_factory.mktemp('quality') / 'ep.db'}"
    store = open_store(url)
    import_europarl(store, "de", corpus="ep")
    alignment = align_corpus(store, "ep", aligner="eflomal", options=FAST_EFLOMAL)
    for method in ("heuristic", "ngram"):
        project_corpus(store, "ep", method=method, alignment_run=alignment.run_id, created_by="ana")
    store.dispose()
    return url


@pytest.fixture
def app_db(europarl: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("XNER_DB", europarl)
    return europarl


def home() -> AppTest:
    return open_page("app")


def cli_scores(db: str, run_id: int, labels: str | None) -> dict:
    args = ["eval", "projection", "--corpus", "ep", "--run", str(run_id), "--db", db, "--json"]
    result = CliRunner().invoke(cli, [*args, *(["--labels", labels] if labels else [])])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["scores"]


def quality(at: AppTest):
    return next(frame.value for frame in at.dataframe if "F1" in frame.value.columns)


@pytest.mark.slow
@pytest.mark.parametrize("labels", [None, "PER,ORG,LOC"])
def test_the_page_shows_the_numbers_of_xner_eval_projection(app_db: str, labels: str | None) -> None:
    store = open_store(app_db)
    runs = list_projection_runs(store, "ep")
    store.dispose()
    at = home()
    if labels:
        at.multiselect(key="home_quality_labels_ep").set_value(labels.split(",")).run()

    assert not at.exception and not at.error
    shown = quality(at)
    expected_rows = []
    for run in reversed(runs):  # newest first, as the picker lists them
        for label, scores in cli_scores(app_db, run.id, labels).items():
            expected_rows.append(
                (run_label(run), label, scores["precision"], scores["recall"], scores["f1"], scores["support"])
            )
    rows = [
        tuple(row) for row in shown[["run", "label", "precision", "recall", "F1", "support"]].itertuples(index=False)
    ]
    assert rows == expected_rows
    assert all(row[4] > 0 for row in rows if row[1] == "overall")  # real scores, not two empty tables alike
    assert {row[1] for row in rows} == (
        {"overall", *labels.split(",")} if labels else {"overall", "PER", "ORG", "LOC", "MISC"}
    )
    assert len(at.get("vega_lite_chart")) == 3  # review progress, entities per label, F1 per label and run


@pytest.mark.slow
def test_the_run_pickers_show_run_labels(app_db: str) -> None:
    store = open_store(app_db)
    alignment = list_alignment_runs(store, "ep")
    projection = list_projection_runs(store, "ep")
    store.dispose()
    at = home()

    assert at.selectbox(key="home_alignment_run").options == [run_label(r) for r in reversed(alignment)]
    assert at.selectbox(key="home_queue_run").options == [run_label(r) for r in reversed(projection)]
    assert at.multiselect(key="home_quality_runs_ep").options == [run_label(r) for r in reversed(projection)]
    assert run_label(projection[-1]).startswith(f"run {projection[-1].id} · ngram over alignment {alignment[-1].id} · ")
    assert run_label(projection[-1]).endswith(" · by ana")


def test_a_target_side_without_gold_is_not_scored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'plain.db'}"
    monkeypatch.setenv("XNER_DB", url)
    store = open_store(url)
    src = write(tmp_path / "en.conll", "Angela B-PER\nMerkel I-PER\nvisited O\nParis B-LOC\n\n")
    tgt = write(tmp_path / "de.txt", "Angela Merkel besuchte Paris\n")
    import_parallel(store, src, tgt, corpus="plain", src=SideOptions("en"), tgt=SideOptions("de", pretokenized=True))
    import_alignments(store, write(tmp_path / "a.align", "0-0 1-1 2-2 3-3\n"), corpus="plain", aligner="gold")
    project_corpus(store, "plain", method="heuristic")
    store.dispose()

    at = home()

    assert not at.exception
    assert any(c.value.startswith("The target side has no gold entities") for c in at.caption)
    assert not [frame for frame in at.dataframe if "F1" in frame.value.columns]


def test_chart_shares_are_per_cent_of_each_corpus(store: Store, tmp_path: Path) -> None:
    assert load_demo(store)
    small = tmp_path / "train.txt"
    small.write_text("Amina B-PER\nlọ O\nsí O\nKano B-LOC\n\nAbuja B-LOC\n\n", encoding="utf-8")
    import_corpus(store, small, corpus="yor", lang="yor")
    corpora = list_corpora(store)

    progress = review_shares(corpora)
    for corpus in corpora:
        total = sum(corpus.review.values())
        for status, count in corpus.review.items():
            assert progress.loc[corpus.name, status] == pytest.approx(100 * count / total if total else 0)
    assert progress.loc["demo-en-es"].sum() == pytest.approx(100)
    labels = label_shares(corpora)
    for corpus in corpora:
        mine = labels[labels["corpus"] == corpus.name]
        assert dict(zip(mine["label"], mine["count"], strict=True)) == corpus.entities
        assert mine["share"].sum() == pytest.approx(100)
    yor = labels[labels["corpus"] == "yor"].set_index("label")["share"]
    assert yor["LOC"] == pytest.approx(200 / 3)  # 2 of its 3 entities, readable beside the demo's 434
