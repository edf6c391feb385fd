"""The Translate page (pages/6_Translate.py) with AppTest on a temporary database holding the demo and its two sides
as monolingual corpora ("en": the 100 English demo sentences, "es": their 100 Spanish translations, both with gold
entities): translating with an uploaded file of translations and with a tiny random NLLB model, the language
feedback, the translate-test evaluation with the English gold as the translations, and the model-transfer baseline
of an English CRF on the Spanish; plus the upload helpers behind the page (xner.ui.uploads)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.apptest import click, load, messages, open_page
from tests.conftest import DEMO, snapshot
from tests.tiny_models import build_tiny_nllb, one_torch_thread
from xner.errors import InputError
from xner.formats.conll import read_conll
from xner.services.corpora import corpus_stats, list_corpus_info
from xner.services.demo import load_demo
from xner.services.importing import import_corpus
from xner.services.runs import list_alignment_runs, list_projection_runs
from xner.services.training import train_tagger
from xner.store.db import Store, open_store
from xner.text import detokenize
from xner.ui.uploads import Upload, upload_translations

PAGE = "6_Translate"
EN_CONLL = (DEMO / "en.conll").read_bytes()
ES_CONLL = (DEMO / "es.conll").read_bytes()


@pytest.fixture
def project(db: str) -> Iterator[Store]:
    """The demo project plus the monolingual corpora "en" and "es" (the demo's sides, split train)."""
    store = open_store(db)
    assert load_demo(store)
    import_corpus(store, DEMO / "en.conll", corpus="en", lang="en", split="train")
    import_corpus(store, DEMO / "es.conll", corpus="es", lang="es", split="train")
    yield store
    store.dispose()


@pytest.fixture(scope="module")
def tiny_nllb(tmp_path_factory: pytest.TempPathFactory) -> str:
    texts = [detokenize(s.tokens) for name in ("en", "es") for s in read_conll(DEMO / f"{name}.conll")]
    with one_torch_thread():
        return build_tiny_nllb(tmp_path_factory.mktemp("nllb"), texts)


@pytest.fixture(scope="module")
def english_crf(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A CRF trained on the 100 English demo sentences (saved once for the module)."""
    folder = tmp_path_factory.mktemp("crf")
    store = open_store(f"sqlite:///{folder / 'crf.db'}")
    import_corpus(store, DEMO / "en.conll", corpus="en", lang="en", split="train")
    train_tagger(store, "en", out=folder / "en-crf", options={"max_iterations": "20"})
    store.dispose()
    return str(folder / "en-crf")


def marked_spanish() -> bytes:
    """The Spanish demo sentences as EasyProject output: each capitalised word after the first marked [ ... ]."""
    lines = [
        " ".join(f"[ {t} ]" if t[0].isupper() and i > 0 else t for i, t in enumerate(s.tokens))
        for s in read_conll(DEMO / "es.conll")
    ]
    return ("\n".join(lines) + "\n").encode()


def page() -> AppTest:
    return open_page(PAGE)


def note(at: AppTest) -> str:
    """The caption under the translate-test scores: what was translated, aligned and projected."""
    return next(text for text in messages(at, "caption") if text.startswith("Translations: "))


def scores(at: AppTest, key: str):
    """The scores table (its columns: label, precision, recall, f1, support), indexed by label."""
    found = [f.value for f in at.dataframe if "support" in f.value.columns]
    assert found, f"no scores table ({key}); errors: {messages(at, 'error')}"
    return found[0].set_index("label")


def translate_from(at: AppTest, corpus: str, to_lang: str) -> AppTest:
    at.selectbox(key="translate_corpus").set_value(corpus).run()
    at.text_input(key=f"translate_to_train_{corpus}").input(to_lang).run()
    return at


# --- translate a corpus -------------------------------------------------------------------------------------------


def test_translate_train_with_an_uploaded_file_of_translations(project: Store) -> None:
    at = translate_from(page(), "en", "es")
    at.segmented_control(key="translate_source").set_value("File of translations").run()
    assert "100 sentences to translate" in " ".join(messages(at, "caption"))
    assert at.button(key="translate_run").disabled  # no file yet
    assert at.text_input(key="translate_new_train_en_es").value == "en-es-mt"
    at.file_uploader(key="translate_file").set_value(("es.conll", ES_CONLL, "text/plain")).run()
    at = click(at, "translate_run")

    assert not at.error, messages(at, "error")
    success = messages(at, "success")[0]
    assert success.startswith("Translated 100 sentences of en (translate-train) into the new parallel corpus en-es-mt")
    assert "en → es, by imported (splits: train 100" in success
    assert not at.get("progress")
    stats = corpus_stats(project, "en-es-mt")
    assert (stats.kind, stats.src_lang, stats.tgt_lang, stats.pairs) == ("parallel", "en", "es", 100)
    gold = corpus_stats(project, "en").entities
    assert stats.entities == {label: 2 * n for label, n in gold.items()}  # the CoNLL file's entities are kept
    assert "en-es-mt" in [c.name for c in list_corpus_info(project)]
    assert at.selectbox(key="translate_test_corpus").options  # the page was drawn again with the new corpus
    assert "en-es-mt (en → es)" in at.selectbox(key="translate_transfer_corpus").options


def test_translate_train_then_align_project_and_queue(project: Store) -> None:
    from xner.services.review import queue_overview

    at = translate_from(page(), "en", "es")
    at.segmented_control(key="translate_source").set_value("File of translations").run()
    at.checkbox(key="translate_queue").check().run()
    at.file_uploader(key="translate_file").set_value(("es.conll", ES_CONLL, "text/plain")).run()
    at = click(at, "translate_run")
    assert not at.error, messages(at, "error")
    assert not at.get("progress")  # the stage bars are gone
    text = " ".join(messages(at, "markdown"))
    overview = queue_overview(project, "en-es-mt")
    assert overview.queued_run is not None and overview.total == 100
    assert f"Projection run {overview.queued_run} over alignment run" in text and "100 sentences queued" in text


def test_a_short_file_of_translations_names_the_upload_and_line(project: Store) -> None:
    short = "\n".join(detokenize(s.tokens) for s in list(read_conll(DEMO / "es.conll"))[:98]) + "\n"
    at = translate_from(page(), "en", "es")
    at.segmented_control(key="translate_source").set_value("File of translations").run()
    at.file_uploader(key="translate_file").set_value(("short.txt", short.encode(), "text/plain")).run()
    before = snapshot(project)
    at = click(at, "translate_run")

    assert messages(at, "error") == [
        "Translation failed: short.txt:98: only 98 translations for 100 sentences: the file needs one per sentence, "
        "in corpus order (split by split)"
    ]
    assert not at.success and snapshot(project) == before


def test_translate_train_with_markers_from_a_file(project: Store) -> None:
    at = translate_from(page(), "en", "es")
    at.segmented_control(key="translate_source").set_value("File of translations").run()
    at.checkbox(key="translate_markers").check().run()
    at.number_input(key="translate_file_easyproject_slack").set_value(1)
    at.file_uploader(key="translate_file").set_value(("marked.txt", marked_spanish(), "text/plain")).run()
    at = click(at, "translate_run")

    assert not at.error, messages(at, "error")
    assert "by imported+markers" in messages(at, "success")[0]
    [run] = list_projection_runs(project, "en-es-mt")
    assert (run.method, run.alignment_run_id, run.pairs, run.params["slack"]) == ("easyproject", None, 100, 1)
    assert f"Entities read from the markers: projection run {run.id} (entities: " in " ".join(messages(at, "markdown"))


@pytest.mark.slow  # builds a tiny NLLB model (~17 s)
def test_translate_train_with_a_tiny_nllb_model(project: Store, tiny_nllb: str, xner_home: Path) -> None:
    shutil.copytree(tiny_nllb, xner_home / "models" / "tiny-nllb")  # a model the app offers: a saved one
    at = translate_from(page(), "en", "es")
    assert "NLLB-200 codes: en → `eng_Latn`, es → `spa_Latn`" in messages(at, "caption")
    assert at.selectbox(key="translate_nllb_model_saved").value == "(a model hub name)"  # the default: nllb-600m
    assert at.text_input(key="translate_nllb_model").value == "nllb-600m"
    at.selectbox(key="translate_nllb_model_saved").set_value("tiny-nllb")
    at.text_input(key="translate_nllb_device").input("cpu")
    at.number_input(key="translate_nllb_num_beams").set_value(1)
    at.number_input(key="translate_nllb_max_length").set_value(12)
    at.text_input(key="translate_new_train_en_es").input("en-es-nllb").run()
    with one_torch_thread():
        at = click(at, "translate_run")

    assert not at.error, messages(at, "error")
    assert messages(at, "success")[0].startswith("Translated 100 sentences of en (translate-train) into the new")
    assert "by nllb" in messages(at, "success")[0]
    stats = corpus_stats(project, "en-es-nllb")
    assert (stats.pairs, stats.sentences) == (100, {"train/src": 100, "train/tgt": 100})
    assert stats.entities == corpus_stats(project, "en").entities  # the source keeps its gold, the target has none


@pytest.mark.parametrize("path", ["/srv/models/nllb", "../nllb", "./nllb", "~/nllb", "C:\\nllb"])
def test_a_translation_model_is_never_a_server_path(project: Store, path: str) -> None:
    at = translate_from(page(), "en", "es")
    assert not at.button(key="translate_run").disabled  # the default: nllb-600m by hub name
    at.text_input(key="translate_nllb_model").input(path).run()

    assert messages(at, "error") == [
        f"{path!r} is not a model hub name: give a name such as xlm-roberta-base or "
        "org/name (not a path), or choose a saved model"
    ]
    assert at.button(key="translate_run").disabled  # never the default in its place


def test_the_target_language_is_checked_as_it_is_typed(project: Store) -> None:
    at = page()  # the demo corpus (parallel): translate-train from its English side
    assert at.button(key="translate_run").disabled  # no target language yet
    at.text_input(key="translate_to_train_demo-en-es").input("xx").run()
    assert "'xx' is not a known language code" in messages(at, "error")[0]
    assert at.button(key="translate_run").disabled

    at.text_input(key="translate_to_train_demo-en-es").input("pcm").run()
    assert "pcm (Nigerian Pidgin) is not one of NLLB-200's languages" in messages(at, "error")[0]
    assert at.button(key="translate_run").disabled
    assert at.text_input(key="translate_new_train_demo-en-es_pcm").value == "demo-en-es-pcm-mt"

    at.segmented_control(key="translate_source").set_value("File of translations").run()  # pcm from a file: fine
    assert not at.error
    assert "no NLLB code is needed for a file of translations" in messages(at, "info")[0]
    at.file_uploader(key="translate_file").set_value(("pcm.txt", b"Hello .\n", "text/plain")).run()
    assert not at.button(key="translate_run").disabled

    at.radio(key="translate_mode_parallel").set_value("pivot").run()  # back into the source language by default
    assert at.text_input(key="translate_to_pivot_demo-en-es").value == "en"
    assert at.text_input(key="translate_new_pivot_demo-en-es_en").value == "demo-en-es-bt"
    assert "translate_markers" not in [box.key for box in at.checkbox]  # markers go with translate-train only


# --- translate-test and model transfer ----------------------------------------------------------------------------


def test_translate_test_with_the_english_gold_as_translations(project: Store) -> None:
    at = page()
    at.selectbox(key="translate_test_corpus").set_value("es").run()
    assert at.multiselect(key="translate_test_labels_es").value == ["LOC", "ORG", "PER"]
    at.segmented_control(key="translate_test_source").set_value("File of translations").run()
    at.file_uploader(key="translate_test_file").set_value(("en.conll", EN_CONLL, "text/plain")).run()
    assert not at.button(key="translate_test_run").disabled  # no tagger: the file's English gold is used
    at = click(at, "translate_test_run")

    assert not at.error, messages(at, "error")
    table = scores(at, "translate_test_scores")
    assert list(table.index) == ["overall", "LOC", "ORG", "PER"]
    assert table.loc["overall", "f1"] > 0.5 and table.loc["overall", "support"] == 170  # 217 gold less 47 DATE
    assert not at.get("progress")
    [aligned] = list_alignment_runs(project, "es.translate-test.en")
    [projected] = list_projection_runs(project, "es.translate-test.en")
    assert (aligned.aligner, projected.method, projected.alignment_run_id) == ("eflomal", "ngram", aligned.id)
    assert note(at) == (
        f"Translations: es.translate-test.en (translated now); alignment run {aligned.id} (aligned now); "
        f"projection run {projected.id}; scored on LOC, ORG, PER."
    )

    at.run()  # the result stays on a rerun
    assert scores(at, "translate_test_scores").loc["overall", "f1"] == table.loc["overall", "f1"]
    assert "es.translate-test.en exists: its translations are reused (train: read from 'en.conll')." in messages(
        at, "caption"
    )

    at.selectbox(key="translate_test_method").set_value("heuristic").run()  # another method: all reused
    at = click(at, "translate_test_run")
    runs = list_projection_runs(project, "es.translate-test.en")
    assert [r.method for r in runs] == ["ngram", "heuristic"]
    assert note(at).startswith(
        f"Translations: es.translate-test.en (reused); alignment run {aligned.id} (reused); "
        f"projection run {runs[-1].id};"
    )


def test_model_transfer_of_an_english_crf_on_the_spanish(project: Store, english_crf: str, xner_home: Path) -> None:
    shutil.copytree(english_crf, xner_home / "models" / "en-crf")
    (xner_home / "models" / "broken").mkdir()  # a saved model that is no tagger
    at = page()
    at.selectbox(key="translate_transfer_corpus").set_value("es").run()
    assert at.segmented_control(key="translate_transfer_side_mono").value == "mono"
    assert at.button(key="translate_transfer_run").disabled  # no tagger yet
    assert at.selectbox(key="translate_transfer_tagger_saved").options == ["(none)", "broken", "en-crf"]
    at.selectbox(key="translate_transfer_tagger_saved").set_value("en-crf").run()
    at = click(at, "translate_transfer_run")

    assert not at.error, messages(at, "error")
    table = scores(at, "translate_transfer_scores")
    assert list(table.index) == ["overall", "LOC", "ORG", "PER"] and table.loc["overall", "support"] == 170
    assert 0.0 <= table.loc["overall", "f1"] <= 1.0
    assert "Model transfer: models/en-crf on es (train, 100 sentences)" in messages(at, "success")[0]

    at.selectbox(key="translate_transfer_tagger_saved").set_value("broken").run()
    at = click(at, "translate_transfer_run")
    assert messages(at, "error")[0].startswith("Scoring failed: ") and "broken" in messages(at, "error")[0]


def test_the_app_navigates_to_the_translate_page(db: str) -> None:
    at = load("app").run()
    at.switch_page("pages/6_Translate.py").run()

    assert not at.exception
    assert at.title[0].value == "Translate"
    assert at.button(key="translate_run") and at.button(key="translate_test_run")


# --- the upload helpers -------------------------------------------------------------------------------------------


def test_upload_translations_reads_marked_lines_and_names_the_upload(store: Store) -> None:
    import_corpus(store, DEMO / "en.conll", corpus="en", lang="en", split="train")
    upload = Upload("marked.txt", marked_spanish())
    report = upload_translations(store, upload, "en", new_corpus="en-es-ep", to_lang="es", markers=True)
    assert (report.translator, report.pairs, report.params["file"]) == ("imported+markers", 100, "marked.txt")
    assert report.projection_run is not None and sum(report.entities.values()) > 0

    with pytest.raises(InputError, match=r"^short.txt:2: only 2 translations for 100 sentences"):
        upload_translations(store, Upload("short.txt", b"Uno .\nDos .\n"), "en", new_corpus="x", to_lang="es")
    with pytest.raises(InputError, match=r"^holey.txt:3: empty translation"):
        upload_translations(
            store, Upload("holey.txt", b"Uno .\nDos .\n[ ]\n"), "en", new_corpus="x", to_lang="es", markers=True
        )
