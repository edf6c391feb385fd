"""The Streamlit home page, driven headlessly with AppTest on a temporary database: the corpora overview, the run
tables, uploads (good and bad files), alignment, projection and queueing from the page, and escaping."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.apptest import messages, open_page, seen, table
from tests.conftest import DEMO, shared, snapshot
from xner.services.corpora import corpus_stats
from xner.services.runs import list_alignment_runs, list_projection_runs
from xner.store.db import Store, open_store

XSS = ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>')


@pytest.fixture
def app_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    monkeypatch.setenv("XNER_DB", url)
    return url


@pytest.fixture
def app_store(app_db: str) -> Store:
    """The page's database, opened beside the page (empty: the page loads the demo on its first run)."""
    return open_store(app_db)


def home() -> AppTest:
    return open_page("app")


def rendered_markup(at: AppTest) -> list[str]:
    """The raw bodies of every element that renders Markdown (text, captions, titles, alerts, metrics' labels)."""
    kinds = ("markdown", "caption", "title", "header", "subheader", "error", "warning", "info", "success")
    return [str(element.value) for kind in kinds for element in getattr(at, kind)]


def test_home_loads_demo_into_empty_database_and_lists_it(app_db: str) -> None:
    at = home()

    assert not at.exception
    corpora = table(at, "corpus")
    demo = corpora[corpora["corpus"] == "demo-en-es"].iloc[0]
    assert demo["languages"] == "en → es"
    assert demo["pairs"] == 100
    assert demo["entities"] == 434  # 217 gold entities on each side
    assert (demo["unreviewed"], demo["accepted"], demo["corrected"], demo["rejected"]) == (100, 0, 0, 0)
    entities = table(at, "PER")
    assert dict(entities.loc["demo-en-es"]) == {"DATE": 94, "LOC": 174, "ORG": 108, "PER": 58}
    assert len(at.get("vega_lite_chart")) == 3  # review progress and entities per label (shares), projection F1
    assert app_db in seen(at.main.caption[-1].value)


def test_home_lists_an_existing_store_without_adding_the_demo(app_store: Store, tmp_path: Path) -> None:
    from xner.services.importing import import_corpus

    conll = tmp_path / "train.txt"
    conll.write_text("Amina B-PER\nlọ O\nsí O\nKano B-LOC\n\n", encoding="utf-8")
    import_corpus(app_store, conll, corpus="<b>yor</b>", lang="yor")

    at = home()

    assert not at.exception
    names = list(table(at, "corpus")["corpus"])
    assert names == ["<b>yor</b>"]  # an existing store is not given the demo; names are data, never markup
    assert messages(at, "info")[0].startswith("Alignment and projection need a parallel corpus")


def test_the_demo_runs_are_listed_with_their_pairs_and_the_queued_run(app_db: str) -> None:
    at = home()

    alignment = table(at, "aligner")
    assert list(alignment["aligner"]) == ["gold", "simulated"]
    assert list(alignment["pairs"]) == [100, 100]
    assert '"base_run": 1' in alignment["params"][1]
    projection = table(at, "method")
    assert list(projection["method"]) == ["heuristic", "ngram"]
    assert list(projection["alignment run"]) == [2, 2]
    assert list(projection["queued for review"]) == [100, 0]


# --- uploads ------------------------------------------------------------------------------------------------


def upload_conll(at: AppTest, name: str, data: bytes, *, corpus: str = "yoruba", labels: str = "") -> AppTest:
    at.file_uploader(key="home_conll_file").set_value((name, data, "text/plain"))
    at.text_input(key="home_conll_corpus").input(corpus)
    at.text_input(key="home_conll_lang").input("yor")
    at.text_input(key="home_conll_labels").input(labels).run()
    return at.button(key="home_conll_import").click().run()


def test_upload_a_good_conll_file(app_store: Store) -> None:
    at = home()
    data = "Amina B-PER\nlọ O\nsí O\nKano B-LOC\n\nỌjọ́ B-DATE\nAjé I-DATE\n\n".encode()

    at = upload_conll(at, "dev.conll", data)

    assert not at.exception and not at.error
    assert messages(at, "success") == ["Imported 2 sentences into yoruba, split dev (DATE 1, LOC 1, PER 1)."]
    assert set(table(at, "corpus")["corpus"]) == {"demo-en-es", "yoruba"}
    stats = corpus_stats(app_store, "yoruba")
    assert stats.sentences == {"dev/mono": 2} and stats.entities == {"DATE": 1, "LOC": 1, "PER": 1}


def test_an_iob1_upload_is_repaired_with_a_warning_naming_the_upload(app_store: Store) -> None:
    at = upload_conll(home(), "train.txt", b"Amina I-PER\nsi O\n\n")

    assert messages(at, "warning") == [
        "train.txt:1: 1 span(s) began with I- (IOB1 style); they were read as IOB2 (B-) starts"
    ]


BAD_CONLL = [
    ("bin.conll", b"Amina B-PER\n\x00\x01\x02\n", "bin.conll:2: binary data (NUL byte): this is not a text file"),
    ("latin1.conll", "Amina B-PER\nK\xe1no B-LOC\n".encode("latin-1"), "latin1.conll:2: byte 0xe1 at column 2"),
    ("tag.conll", b"Amina B-PER\nKano Q-LOC\n\n", "tag.conll:2: "),
    ("columns.conll", b"Amina B-PER\nKano\nsi O\n\n", "columns.conll:2: expected a token and a tag"),
    ("links.conll", b"0-0 1-1 2-2\n", "links.conll:1: this looks like Pharaoh alignments"),
    ("page.conll", b"<!DOCTYPE html>\n<html>\n", "page.conll:1: this looks like HTML or XML"),
    ("empty.conll", b"", "empty.conll: file is empty"),
    ("archive.zip", b"PK\x03\x04", "archive.zip: a .zip file is not plain text"),
]


@pytest.mark.parametrize(("name", "data", "expected"), BAD_CONLL, ids=[case[0] for case in BAD_CONLL])
def test_a_bad_upload_shows_file_line_and_reason_and_changes_nothing(
    app_store: Store, name: str, data: bytes, expected: str
) -> None:
    at = home()
    before = snapshot(app_store)

    at = upload_conll(at, name, data)

    assert not at.exception
    assert len(at.error) == 1 and messages(at, "error")[0].startswith(expected), messages(at, "error")
    assert not at.get("progress")  # the import's progress bar is gone
    assert snapshot(app_store) == before


def test_a_label_outside_the_declared_set_is_refused_with_its_line(app_store: Store) -> None:
    at = home()
    before = snapshot(app_store)

    at = upload_conll(at, "train.conll", b"Amina B-PER\n\nLagos B-LOC\nState I-LOC\n\n", labels="PER,ORG")

    [error] = messages(at, "error")
    assert error.startswith("train.conll:3: label 'LOC' is not in the corpus's label set (ORG, PER)")
    assert snapshot(app_store) == before


def parallel_upload(at: AppTest, files: list[tuple[str, bytes]], *, corpus: str = "en-yo") -> AppTest:
    if len(files) == 1:
        at.radio(key="home_parallel_layout").set_value(at.radio(key="home_parallel_layout").options[1]).run()
    at.file_uploader(key="home_parallel_src").set_value((*files[0], "text/plain"))
    if len(files) == 2:
        at.file_uploader(key="home_parallel_tgt").set_value((*files[1], "text/plain"))
    at.text_input(key="home_parallel_corpus").input(corpus)
    at.text_input(key="home_parallel_tgt_lang").input("yo").run()
    return at.button(key="home_parallel_import").click().run()


def test_upload_parallel_text_as_two_files_or_one_then_alignments(app_store: Store) -> None:
    at = home()
    at.segmented_control(key="home_import_kind").set_value("Parallel text").run()

    at = parallel_upload(
        at, [("train.en", b"Amina went to Kano.\nHello there\n"), ("train.yo", b"Amina lo si Kano.\nE ku\n")]
    )
    assert not at.error, messages(at, "error")
    assert messages(at, "success") == ["Imported 2 pairs into en-yo, split train (no entities)."]
    at = parallel_upload(at, [("pairs.tsv", b"Good morning\tE kaaro\nThank you ||| E se\n")], corpus="tsv")
    assert messages(at, "success") == ["Imported 2 pairs into tsv, split train (no entities)."]
    assert corpus_stats(app_store, "en-yo").pairs == corpus_stats(app_store, "tsv").pairs == 2

    at.segmented_control(key="home_import_kind").set_value("Alignments").run()
    at.selectbox(key="home_align_corpus").set_value("en-yo")
    at.file_uploader(key="home_align_file").set_value(("gold.align", b"1-1 2-2 4-4\n1-1\n", "text/plain"))
    at.radio(key="home_align_base").set_value(1).run()
    at = at.button(key="home_align_import").click().run()
    assert messages(at, "success") == ["Imported alignments of 2 pairs into en-yo, split train, as alignment run 3."]
    [run] = list_alignment_runs(app_store, "en-yo")
    assert (run.aligner, run.pairs, run.params["index_base"], run.params["source"]) == ("uploaded", 2, 1, "gold.align")


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ([("a.en", b"one\ntwo\n"), ("a.yo", b"okan\n")], "a.en:2: "),
        ([("pairs.txt", b"Good morning\tE kaaro\nno separator here\n")], "pairs.txt:2: expected 'source<TAB>target'"),
        ([("pairs.txt", b"just text\n")], "pairs.txt:1: expected a one-file parallel corpus"),
        ([("a.en", b"one\n"), ("a.yo", b"\xff\xfe\x00o\x00k\x00")], "a.yo:1: binary data"),
    ],
    ids=["unequal-lengths", "missing-separator", "not-one-file", "utf16"],
)
def test_bad_parallel_uploads_name_the_file_and_line(
    app_store: Store, files: list[tuple[str, bytes]], expected: str
) -> None:
    at = home()
    at.segmented_control(key="home_import_kind").set_value("Parallel text").run()
    before = snapshot(app_store)

    at = parallel_upload(at, files)

    assert messages(at, "error")[0].startswith(expected), messages(at, "error")
    assert snapshot(app_store) == before


def test_an_alignment_beyond_its_sentence_is_refused_with_its_line(app_store: Store) -> None:
    at = home()
    at.segmented_control(key="home_import_kind").set_value("Alignments").run()
    before = snapshot(app_store)
    lines = (DEMO / "en-es.align").read_text(encoding="utf-8").splitlines()
    lines[4] += " 0-99"

    at.file_uploader(key="home_align_file").set_value(("en-es.align", "\n".join(lines).encode(), "text/plain")).run()
    at = at.button(key="home_align_import").click().run()

    [error] = messages(at, "error")
    assert error.startswith("en-es.align:5: link 0-99: target index 99 is beyond the target sentence's")
    assert snapshot(app_store) == before


def test_the_split_is_a_field_filled_from_the_file_name_and_named_in_the_result(app_store: Store) -> None:
    en = shared("europarl_ner_ixa", "en-europarl.test.conll02")
    at = home()
    at.file_uploader(key="home_conll_file").set_value((en.name, en.read_bytes(), "text/plain")).run()
    assert at.selectbox(key="home_conll_split").value == "test"  # a gold test set stays a test set
    assert "From the file name." in messages(at, "caption")

    at = upload_conll(at, en.name, en.read_bytes(), corpus="ep-en")

    assert not at.error, messages(at, "error")
    [message] = messages(at.tabs[2], "success")  # shown next to the form, in its tab
    assert message.startswith("Imported 799 sentences into ep-en, split test (")
    assert len(at.success) == 1  # nowhere else
    assert list(corpus_stats(app_store, "ep-en").sentences) == ["test/mono"]

    at.file_uploader(key="home_conll_file").set_value(("sentences.conll", b"Amina B-PER\n\n", "text/plain")).run()
    assert at.selectbox(key="home_conll_split").value == "train"
    assert "The file name names no split." in messages(at, "caption")
    at.selectbox(key="home_conll_split").set_value("dev")
    at = upload_conll(at, "sentences.conll", b"Amina B-PER\n\n", corpus="mine")
    assert messages(at.tabs[2], "success")[0].startswith("Imported 1 sentences into mine, split dev (")

    at.segmented_control(key="home_import_kind").set_value("Parallel text").run()
    at = parallel_upload(at, [("news.dev.en", b"Amina went to Kano.\n"), ("news.dev.yo", b"Amina lo si Kano.\n")])
    assert messages(at.tabs[2], "success") == ["Imported 1 pairs into en-yo, split dev (no entities)."]


# --- deleting -----------------------------------------------------------------------------------------------


def ask_delete(at: AppTest, what: str, corpus: str, run: int | None = None) -> AppTest:
    at.segmented_control(key="home_delete_kind").set_value(what).run()
    at.selectbox(key="home_delete_corpus").set_value(corpus).run()
    if run is not None:
        at.selectbox(key="home_delete_run").set_value(run).run()
    return at.button(key="home_delete_ask").click().run()


def test_delete_a_corpus_in_review_after_a_confirmation_that_says_what_goes(app_store: Store) -> None:
    from xner.services.corpora import list_corpus_info
    from xner.services.importing import import_corpus

    at = home()  # the demo: a corpus with a queued projection run
    import_corpus(app_store, DEMO / "es.conll", corpus="es", lang="es")
    at.run()

    at = ask_delete(at, "Corpus", "demo-en-es")
    [warning] = messages(at.tabs[3], "warning")
    assert warning.startswith("This deletes corpus 'demo-en-es': 100 pairs, 200 sentences, ")
    assert "2 alignment runs" in warning and "100 review states" in warning and "0 review events" in warning
    assert messages(at.tabs[3], "error") == ["It is being reviewed: 100 queued items not yet reviewed."]
    assert at.button(key="home_delete_confirm").disabled  # neither forced nor a reviewer named

    at = at.button(key="home_delete_cancel").click().run()
    assert not messages(at.tabs[3], "warning") and "home_delete_force" not in [c.key for c in at.checkbox]

    at = ask_delete(at, "Corpus", "demo-en-es")
    at.text_input(key="xner_reviewer").input("amina").run()
    at.checkbox(key="home_delete_force").check().run()
    assert not at.button(key="home_delete_confirm").disabled
    at = at.button(key="home_delete_confirm").click().run()

    assert not at.exception and not at.error, messages(at, "error")
    [done] = messages(at.tabs[3], "success")
    assert done.startswith("Deleted corpus 'demo-en-es': 100 pairs, 200 sentences, ")
    assert done.endswith("(forced although it was being reviewed: 100 queued items not yet reviewed).")
    assert [c.name for c in list_corpus_info(app_store)] == ["es"]  # the other corpus stays
    assert corpus_stats(app_store, "es").total_sentences == 100
    log = table(at, "review use overridden")
    assert list(log["by"]) == ["amina"] and list(log["name"]) == ["demo-en-es"] and list(log["forced"]) == [True]


def test_delete_a_run_not_in_review_without_forcing(app_store: Store) -> None:
    at = home()
    at.text_input(key="xner_reviewer").input("amina").run()

    at = ask_delete(at, "Projection run", "demo-en-es", run=2)
    assert messages(at.tabs[3], "warning")[0].startswith(
        "This deletes projection run 2 (ngram over alignment run 2) of corpus 'demo-en-es': 100 projections, "
    )
    assert not at.error and not at.button(key="home_delete_confirm").disabled
    at = at.button(key="home_delete_confirm").click().run()

    assert not at.exception and not at.error, messages(at, "error")
    assert [r.id for r in list_projection_runs(app_store, "demo-en-es")] == [1]
    assert list(table(at, "review use overridden")["deleted"]) == ["projection run"]
    assert at.selectbox(key="home_delete_run").options == ["1: heuristic, 100 pairs"]


# --- runs from the page -------------------------------------------------------------------------------------


@pytest.mark.slow  # eflomal and two projections through the page (~20 s on 2 loaded cores)
def test_align_project_and_queue_from_the_page(app_store: Store) -> None:
    at = home()
    at.selectbox(key="home_align_eflomal_symmetrization").set_value("intersection")
    at = at.button(key="home_align").click().run()

    assert not at.exception and not at.error, messages(at, "error")
    assert messages(at, "success")[0].startswith("Aligned 100 pairs of demo-en-es with eflomal (")
    runs = list_alignment_runs(app_store, "demo-en-es")
    assert [r.aligner for r in runs] == ["gold", "simulated", "eflomal"]
    assert runs[-1].params["symmetrization"] == "intersection" and runs[-1].pairs == 100

    assert at.selectbox(key="home_alignment_run").value == 3  # the newest run by default
    at.selectbox(key="home_method").set_value("ngram").run()
    at.selectbox(key="home_project_ngram_matching").set_value("optimal")
    at = at.button(key="home_project").click().run()

    assert not at.error, messages(at, "error")
    assert messages(at, "success")[0].startswith("Projected 100 pairs of demo-en-es with ngram over alignment run 3")
    newest = list_projection_runs(app_store, "demo-en-es")[-1]
    assert (newest.id, newest.method, newest.alignment_run_id, newest.params["matching"]) == (3, "ngram", 3, "optimal")
    assert at.selectbox(key="home_queue_run").value == 3  # the run just made is the one to queue

    at = at.button(key="home_queue").click().run()

    assert messages(at, "success")[0].startswith("Queued projection run 3 of demo-en-es: 0 new, 100 updated")
    assert [r.queued for r in list_projection_runs(app_store, "demo-en-es")] == [0, 0, 100]


def test_a_neural_aligner_needs_a_model_folder(app_store: Store, tmp_path: Path) -> None:
    """A saved model or a hub name; never a server path."""
    at = home()
    at.selectbox(key="home_aligner").set_value("simalign").run()

    assert at.selectbox(key="home_align_simalign_model_saved").value == "(none)"
    assert at.button(key="home_align").disabled
    at.selectbox(key="home_align_simalign_model_saved").set_value("(a model hub name)").run()
    for path in (str(tmp_path / "no-such-model"), "../models/x", "~x", "C:\\models"):
        at.text_input(key="home_align_simalign_model").input(path).run()
        assert at.button(key="home_align").disabled
        assert messages(at, "error")[0].startswith(f"{path!r} is not a model hub name")
    at.text_input(key="home_align_simalign_model").input("bert-base-multilingual-cased").run()
    assert not at.button(key="home_align").disabled and not at.error


def test_a_projection_error_is_shown_and_stores_no_run(app_store: Store, xner_home: Path) -> None:
    (xner_home / "models" / "broken").mkdir(parents=True)  # a saved model that is no tagger
    at = home()
    at.selectbox(key="home_method").set_value("model").run()
    assert at.selectbox(key="home_project_model_model_saved").options == ["(none)", "broken"]  # saved models only
    at.selectbox(key="home_project_model_model_saved").set_value("broken").run()
    before = snapshot(app_store)

    at = at.button(key="home_project").click().run()

    assert len(at.error) == 1 and "broken" in messages(at, "error")[0]
    assert snapshot(app_store) == before


def test_methods_without_alignment_project_with_no_alignment_run(app_store: Store, xner_home: Path) -> None:
    """model-transfer (an English CRF tagging the Spanish) needs no alignment run: not on the aligned demo, and not
    on a parallel corpus that has none yet, where only such methods are offered."""
    from xner.formats.parallel import SideOptions
    from xner.services.importing import import_corpus, import_parallel
    from xner.services.training import train_tagger

    at = home()  # the demo first, then an English corpus, its CRF and an unaligned parallel corpus
    import_corpus(app_store, DEMO / "en.conll", corpus="en", lang="en", split="train")
    train_tagger(app_store, "en", out=xner_home / "models" / "en-crf", options={"max_iterations": "20"})
    src, tgt = SideOptions("en"), SideOptions("es")
    import_parallel(app_store, DEMO / "en.conll", DEMO / "es.conll", corpus="unaligned", src=src, tgt=tgt)
    at.run()
    at.selectbox(key="home_method").set_value("model-transfer").run()

    assert "home_alignment_run" not in [box.key for box in at.selectbox]
    assert at.button(key="home_project").disabled
    assert any("a saved source-language tagger" in text for text in messages(at, "caption"))
    at.selectbox(key="home_project_model-transfer_model_saved").set_value("en-crf").run()
    at = at.button(key="home_project").click().run()

    assert not at.error, messages(at, "error")
    newest = list_projection_runs(app_store, "demo-en-es")[-1]
    assert (newest.method, newest.alignment_run_id, newest.pairs) == ("model-transfer", None, 100)
    assert messages(at, "success")[0].startswith(
        f"Projected 100 pairs of demo-en-es with model-transfer without alignment: projection run {newest.id} ("
    )

    at.selectbox(key="home_corpus").set_value("unaligned").run()
    assert at.selectbox(key="home_method_unaligned").options == ["easyproject", "model-transfer"]
    assert at.selectbox(key="home_method_unaligned").value == "model-transfer"
    at.selectbox(key="home_project_model-transfer_model_saved").set_value("en-crf").run()
    at = at.button(key="home_project").click().run()

    assert not at.error, messages(at, "error")
    [run] = list_projection_runs(app_store, "unaligned")
    assert (run.method, run.alignment_run_id, run.pairs) == ("model-transfer", None, 100)
    assert list_alignment_runs(app_store, "unaligned") == []


# --- escaping -----------------------------------------------------------------------------------------------


def test_names_tokens_and_labels_are_shown_only_escaped(app_store: Store) -> None:
    script, img = XSS
    at = home()
    data = f"{script} B-{script}\nx O\n\n{img.replace(' ', '/')} B-PER\n\n".encode()

    at = upload_conll(at, "<script>.conll", data, corpus=f"{script}{img}")

    assert not at.error, messages(at, "error")
    assert messages(at, "success")[0] == f"Imported 2 sentences into {script}{img}, split train ({script} 1, PER 1)."
    bodies = rendered_markup(at)
    at = upload_conll(at, "bad.conll", f"{script} X-{img.split()[0]}\n".encode(), corpus=script)
    assert messages(at, "error")[0].startswith("bad.conll:1: ") and '"><img' in messages(at, "error")[0]
    bodies += rendered_markup(at)
    assert any("&#60;script&#62;alert" in body for body in bodies)
    assert any("&#34;&#62;&#60;img" in body for body in bodies)
    for body in bodies:
        assert "<script" not in body and "<img" not in body and "onerror=alert(1)>" not in body, body
    assert f"{script}{img}" in set(table(at, "corpus")["corpus"])


# --- real data (../shared/data) -----------------------------------------------------------------------------


def test_upload_real_files_gives_what_the_cli_importers_give(app_store: Store, tmp_path: Path) -> None:
    from xner.formats.parallel import SideOptions
    from xner.services.importing import import_corpus, import_parallel

    yor = shared("masakhaner2", "yor", "dev.txt")
    en, es = (
        shared("europarl_ner_ixa", "en-europarl.test.conll02"),
        shared("europarl_ner_ixa", "es-europarl.test.conll02"),
    )
    reference = open_store(f"sqlite:///{tmp_path / 'cli.db'}")
    import_corpus(reference, yor, corpus="yor", lang="yor")
    import_parallel(reference, en, es, corpus="ep", src=SideOptions("en"), tgt=SideOptions("es"))

    at = upload_conll(home(), "dev.txt", yor.read_bytes(), corpus="yor")
    assert not at.error, messages(at, "error")
    at.segmented_control(key="home_import_kind").set_value("Parallel text").run()
    at = parallel_upload(at, [(en.name, en.read_bytes()), (es.name, es.read_bytes())], corpus="ep")
    assert not at.error, messages(at, "error")

    for name in ("yor", "ep"):
        ours, theirs = corpus_stats(app_store, name), corpus_stats(reference, name)
        assert (ours.sentences, ours.entities, ours.tokens) == (theirs.sentences, theirs.entities, theirs.tokens)
    assert corpus_stats(app_store, "ep").pairs > 500 and "dev/mono" in corpus_stats(app_store, "yor").sentences


@pytest.mark.slow  # a real gold set uploaded and aligned (~10 s)
def test_upload_a_real_one_file_corpus_with_its_one_based_gold_alignments(app_store: Store) -> None:
    pairs, gold = shared("alignment_gold_awesome", "enfr.src-tgt"), shared("alignment_gold_awesome", "enfr.gold")
    at = home()
    at.segmented_control(key="home_import_kind").set_value("Parallel text").run()
    at.checkbox(key="home_parallel_pretokenized").check()
    at = parallel_upload(at, [(pairs.name, pairs.read_bytes())], corpus="enfr")
    assert messages(at, "success") == ["Imported 447 pairs into enfr, split train (no entities)."]

    at.segmented_control(key="home_import_kind").set_value("Alignments").run()
    at.selectbox(key="home_align_corpus").set_value("enfr")
    at.text_input(key="home_align_name").input("gold")
    at.file_uploader(key="home_align_file").set_value((gold.name, gold.read_bytes(), "text/plain"))
    at.radio(key="home_align_base").set_value(1).run()
    at = at.button(key="home_align_import").click().run()

    assert not at.error, messages(at, "error")
    [run] = list_alignment_runs(app_store, "enfr")
    assert (run.aligner, run.pairs, run.params["index_base"]) == ("gold", 447, 1)
    at.radio(key="home_align_base").set_value(0).run()  # read as 0-based, the last link of a sentence is beyond it
    at = at.button(key="home_align_import").click().run()
    assert re.match(r"enfr\.gold:\d+: link \d+-\d+: (source|target) index \d+ is beyond", messages(at, "error")[0])
    assert len(list_alignment_runs(app_store, "enfr")) == 1


# --- the sidebar across pages ---------------------------------------------------------------------------------


def test_the_reviewer_name_is_kept_when_another_page_opens(app_db: str) -> None:
    at = home()
    at.text_input(key="xner_reviewer").input("amina").run()

    for page in ("pages/1_Review.py", "pages/2_Spot_check.py", "pages/4_Export.py", "pages/3_Agreement.py"):
        at.switch_page(page).run()
        assert not at.exception, at.exception
        if page != "pages/4_Export.py":  # the export page has no name field
            assert at.text_input(key="xner_reviewer").value == "amina", page
    at.text_input(key="xner_reviewer").input("bob").run()  # a new name replaces the kept one
    at.switch_page("pages/0_Home.py").run()
    assert at.text_input(key="xner_reviewer").value == "bob"
