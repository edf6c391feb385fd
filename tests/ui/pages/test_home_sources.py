"""The Home page's Align & project tab on real plain English (MAFAND-MT en-yor, no entities), driven with AppTest:
eflomal with an imported corpus as extra text, the source entities (gold, train now, then the saved tagger),
and the confirmation an empty run needs before it is queued, there and on the Review page."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.apptest import load, messages, open_page
from tests.conftest import DEMO, import_mafand
from xner.services.aligning import align_corpus
from xner.services.importing import import_corpus
from xner.services.review import queue_overview
from xner.services.runs import list_alignment_runs, list_projection_runs
from xner.services.sources import GOLD, SAVED, TRAIN
from xner.store.db import Store, open_store

pytestmark = pytest.mark.slow  # each drives the page through real alignment, training and projection


@pytest.fixture
def app_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    monkeypatch.setenv("XNER_DB", url)
    return open_store(url)


def open_mafand(app_store: Store, tmp_path: Path, *, extra: bool = False, aligned: bool = False) -> AppTest:
    """The page (the demo loaded), MAFAND en-yor (300 dev pairs; with ``extra``, 1,000 train pairs as another
    corpus), the demo's English gold as a labelled corpus, and MAFAND chosen under Align & project."""
    at = open_page("app")  # the home page
    import_mafand(app_store, tmp_path)
    if extra:
        import_mafand(app_store, tmp_path, "train", "mafand-train", limit=1000)
    import_corpus(app_store, DEMO / "en.conll", corpus="en", lang="en", split="train")
    if aligned:
        align_corpus(app_store, "mafand", options={"symmetrization": "intersection", "rel_iterations": "0.3"})
    at.run()
    at.selectbox(key="home_corpus").set_value("mafand").run()
    assert not at.exception
    return at


def test_align_with_extra_text_then_an_empty_gold_run_needs_a_confirmation(app_store: Store, tmp_path: Path) -> None:
    at = open_mafand(app_store, tmp_path, extra=True)
    assert at.selectbox(key="home_align_extra_mafand").options == ["(none)", "mafand-train"]
    at.selectbox(key="home_align_eflomal_symmetrization").set_value("intersection")
    at.selectbox(key="home_align_extra_mafand").set_value("mafand-train")

    at = at.button(key="home_align").click().run()

    assert not at.error, messages(at, "error")
    assert messages(at, "success")[0].startswith("Aligned 300 pairs of mafand with eflomal (")
    assert "1,000 extra pairs of mafand-train" in messages(at, "success")[0]
    [run] = list_alignment_runs(app_store, "mafand")
    assert run.params["extra_text"] == ["corpus:mafand-train"] and run.params["extra_pairs"] == 1000

    source = at.segmented_control(key="home_source_mafand")
    assert source.value == TRAIN  # no gold entities and no saved tagger: training one is offered first
    source.set_value(GOLD).run()
    assert any("The source side has no entities" in text for text in messages(at, "warning"))
    at = at.button(key="home_project").click().run()

    [projected] = list_projection_runs(app_store, "mafand")
    assert projected.params["source"] == "gold"
    flashed = next(text for text in messages(at, "warning") if text.startswith("Projected"))  # beside its form
    assert flashed.startswith(f"Projected 300 pairs of mafand with heuristic over alignment run {run.id}")
    assert "(entities: none). Without entities, its review items suggest nothing." in flashed
    assert at.button(key="home_queue").disabled
    assert any(
        f"Projection run {projected.id} has no entities: the source side of 'mafand' has no gold entities" in text
        for text in messages(at, "warning")
    )

    at.checkbox(key=f"home_queue_empty_{projected.id}").check().run()
    at = at.button(key="home_queue").click().run()

    assert messages(at, "success")[0].startswith(f"Queued projection run {projected.id} of mafand: 300 new")
    assert queue_overview(app_store, "mafand").queued_run == projected.id


def test_train_a_source_tagger_now_then_it_is_the_saved_one_offered(
    app_store: Store, tmp_path: Path, xner_home: Path
) -> None:
    at = open_mafand(app_store, tmp_path, aligned=True)
    assert at.segmented_control(key="home_source_mafand").value == TRAIN
    assert at.selectbox(key="home_source_train_corpus").options == [  # the English sides with entities
        "demo-en-es (217 entities; splits train)",
        "en (217 entities; splits train)",
    ]
    at.selectbox(key="home_source_train_corpus").set_value("en")
    assert at.selectbox(key="home_source_train_kind").value == "crf"
    at.number_input(key="home_source_train_crf_max_iterations").set_value(20)

    at = at.button(key="home_project").click().run()

    assert not at.error, messages(at, "error")
    [model] = (xner_home / "models").iterdir()
    assert messages(at, "success")[0] == f"Trained source tagger {model.name} on en."
    [projected] = list_projection_runs(app_store, "mafand")
    assert projected.params["source"] == f"tagger:{model}"
    assert projected.params["source_tagger"]["corpus"] == "en"
    assert projected.params["source_tagger"]["titled_copies"] > 0  # English: titled names by default
    assert messages(at, "success")[1].startswith("Projected 300 pairs of mafand with heuristic")
    assert "Queue it for review below." in messages(at, "success")[1]
    assert not at.button(key="home_queue").disabled  # it has entities: no confirmation

    assert at.segmented_control(key="home_source_mafand").value == TRAIN  # the choice made stays
    at.segmented_control(key="home_source_mafand").set_value(SAVED).run()
    assert at.selectbox(key="home_source_tagger").value == model.name
    at = at.button(key="home_project").click().run()

    assert not at.error, messages(at, "error")
    runs = list_projection_runs(app_store, "mafand")
    assert len(runs) == 2 and runs[-1].params["source"] == f"tagger:{model}"


def test_the_review_page_queues_an_empty_run_only_when_confirmed(app_store: Store, tmp_path: Path) -> None:
    from xner.services.projecting import project_corpus

    open_mafand(app_store, tmp_path, aligned=True)
    run = project_corpus(app_store, "mafand").run_id
    at = load("1_Review").run()
    at.text_input(key="xner_reviewer").input("ana").run()
    at.selectbox(key="review_corpus").set_value("mafand").run()

    assert at.button(key="review_queue").disabled
    assert any("the source side of 'mafand' has no gold entities" in text for text in messages(at, "warning"))
    at.checkbox(key=f"review_queue_empty_{run}").check().run()
    at.button(key="review_queue").click().run()

    assert not at.exception
    assert queue_overview(app_store, "mafand").queued_run == run
