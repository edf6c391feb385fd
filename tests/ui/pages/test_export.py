"""The export page (pages/4_Export.py) with AppTest on a temporary database: filters and preview, downloads equal
to ``xner export`` byte for byte, the reviewer filter, and escaping; plus the download services behind it."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from streamlit.runtime.media_file_manager import MediaFileManager

from tests.apptest import seen
from tests.ui.pages import export_harness
from tests.ui.pages.export_harness import cli_export, downloaded, page
from xner.services.demo import DEMO_CORPUS
from xner.services.exporting import export_choices, export_corpus, export_preview
from xner.services.importing import import_corpus
from xner.store.db import Store, open_store
from xner.types import ReviewStatus
from xner.ui.downloads import download_name, export_file

XSS = ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>')

demo, media = export_harness.demo, export_harness.media  # the decided demo, the download recorder (fixtures)


def test_defaults_preview_the_curated_sentences(demo: Store) -> None:
    at = page()

    assert not at.exception
    assert at.selectbox(key="export_corpus").value == DEMO_CORPUS
    assert at.segmented_control(key="export_side").value == "tgt"
    assert at.pills(key="export_statuses").value == ["accepted", "corrected"]
    assert at.selectbox(key="export_reviewer").options == ["(anyone)", "alice", "bob"]
    curated = export_preview(demo, DEMO_CORPUS, statuses=[ReviewStatus.ACCEPTED, ReviewStatus.CORRECTED])
    assert [m.value for m in at.metric] == ["3", str(curated.total_entities)]  # alice's accepts, bob's correction
    at.pills(key="export_statuses").set_value(["unreviewed", "accepted", "corrected", "rejected"]).run()
    assert at.metric[0].value == "100"
    labels = at.dataframe[0].value
    assert set(labels["label"]) == {"DATE", "LOC", "ORG", "PER"}


@pytest.mark.parametrize("fmt", ["conll", "jsonl", "spacy"])
@pytest.mark.parametrize(
    ("statuses", "cli_args"),
    [
        (["accepted", "corrected"], ["--status", "accepted,corrected"]),
        (["unreviewed", "accepted", "corrected", "rejected"], []),
    ],
    ids=["curated", "all"],
)
def test_a_download_equals_xner_export_byte_for_byte(
    demo: Store, db: str, media: list[MediaFileManager], tmp_path: Path, fmt: str, statuses: list[str], cli_args
) -> None:
    at = page()
    at.pills(key="export_statuses").set_value(statuses)
    at.segmented_control(key="export_format").set_value(fmt).run()
    at = at.button(key="export_prepare").click().run()

    assert not at.exception and not at.error
    name, data = downloaded(at, media)
    assert name == f"demo-en-es-tgt.{fmt}"
    expected = cli_export(db, tmp_path / name, "--corpus", DEMO_CORPUS, "--format", fmt, *cli_args)
    assert data == expected and len(data) > 0


def test_the_source_side_and_a_split_filter_match_the_cli(demo: Store, db: str, media, tmp_path: Path) -> None:
    at = page()
    at.segmented_control(key="export_side").set_value("src").run()
    at.pills(key="export_statuses").set_value(["unreviewed"])
    at.segmented_control(key="export_format").set_value("jsonl").run()
    assert at.multiselect(key="export_splits_src").value == ["train"]
    at = at.button(key="export_prepare").click().run()

    name, data = downloaded(at, media)
    filters = ["--side", "src", "--split", "train", "--status", "unreviewed"]
    expected = cli_export(db, tmp_path / name, "--corpus", DEMO_CORPUS, "-f", "jsonl", *filters)
    assert name == "demo-en-es-src.jsonl" and data == expected and data.count(b"\n") == 100


def test_the_reviewer_filter_keeps_sentences_whose_latest_decision_is_theirs(demo: Store, media) -> None:
    reviewed = [ReviewStatus.ACCEPTED, ReviewStatus.CORRECTED, ReviewStatus.REJECTED]
    at = page()
    at.pills(key="export_statuses").set_value([status.value for status in reviewed])
    at.selectbox(key="export_reviewer").set_value("alice").run()
    assert at.metric[0].value == "2"  # bob's reject of her second sentence is a vote beside it, not a decision
    at.selectbox(key="export_reviewer").set_value("bob").run()
    assert at.metric[0].value == "1"
    at = at.button(key="export_prepare").click().run()

    _, data = downloaded(at, media)
    assert data == export_file(demo, DEMO_CORPUS, statuses=reviewed, reviewer="bob").data
    assert data.count(b"\n\n") == 1


def test_changing_a_filter_drops_the_prepared_file(demo: Store, media) -> None:
    at = page()
    at = at.button(key="export_prepare").click().run()
    assert len(at.download_button) == 1
    at.segmented_control(key="export_format").set_value("jsonl").run()
    assert len(at.download_button) == 0
    assert "prepare it again" in at.caption[-1].value


def test_hf_downloads_a_zipped_dataset_folder(demo: Store, media, tmp_path: Path) -> None:
    import datasets

    at = page()
    at.pills(key="export_statuses").set_value(["unreviewed", "accepted", "corrected", "rejected"])
    at.segmented_control(key="export_format").set_value("hf").run()
    at = at.button(key="export_prepare").click().run()

    name, data = downloaded(at, media)
    assert name == "demo-en-es-tgt.zip"
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert "demo-en-es-tgt/dataset_dict.json" in archive.namelist()
        archive.extractall(tmp_path)
    loaded = datasets.load_from_disk(str(tmp_path / "demo-en-es-tgt"))
    assert loaded["train"].num_rows == 100


def test_a_monolingual_corpus_has_one_side(db: str, tmp_path: Path) -> None:
    store = open_store(db)
    conll = tmp_path / "dev.txt"
    conll.write_text("Amina B-PER\nlọ O\n\nKano B-LOC\n\n", encoding="utf-8")
    import_corpus(store, conll, corpus="yoruba", lang="yor")
    at = page()
    assert at.segmented_control(key="export_side").options == ["text"]
    at.pills(key="export_statuses").set_value(["unreviewed"]).run()
    assert [m.value for m in at.metric] == ["2", "2"]
    assert export_choices(store, "yoruba").splits == {"mono": ["dev"]}


def test_names_tokens_and_labels_are_shown_only_escaped(db: str, media, tmp_path: Path) -> None:
    script, img = XSS
    store = open_store(db)
    conll = tmp_path / "x.txt"
    conll.write_text(f"{script} B-{script}\n{img.replace(' ', '/')} O\n\n", encoding="utf-8")
    import_corpus(store, conll, corpus=f"{script}{img}", lang="yor")

    at = page()
    at.pills(key="export_statuses").set_value(["unreviewed"]).run()
    at = at.button(key="export_prepare").click().run()

    assert not at.exception and not at.error
    assert at.selectbox(key="export_corpus").value == f"{script}{img}"  # options are text, never markup
    assert list(at.dataframe[0].value["label"]) == [script]
    name, data = downloaded(at, media)
    assert name == "script_alert_1_script_img_src_x_onerror_alert_1-mono.conll"
    assert data.decode().startswith(f"{script} B-{script}\n")
    kinds = ("markdown", "caption", "title", "subheader", "error", "warning", "info", "success")
    for body in [str(element.value) for kind in kinds for element in getattr(at, kind)]:
        assert "<script" not in body and "<img" not in body, body


def test_an_export_error_is_shown_escaped_and_offers_no_file(db: str, media, tmp_path: Path) -> None:
    store = open_store(db)
    conll = tmp_path / "x.txt"
    conll.write_text("Amina B-PER\n\n", encoding="utf-8")
    import_corpus(store, conll, corpus="yoruba", lang="yor", split="<b>dev</b>")

    at = page()
    at.pills(key="export_statuses").set_value(["unreviewed"])
    at.segmented_control(key="export_format").set_value("hf").run()
    at = at.button(key="export_prepare").click().run()

    [error] = at.error
    assert seen(error.value).startswith("split '<b>dev</b>' cannot name a Hugging Face dataset split")
    assert "<b>" not in error.value
    assert len(at.download_button) == 0


# --- the services behind the page ---------------------------------------------------------------------------


def test_export_file_is_the_export_corpus_output(demo: Store, tmp_path: Path) -> None:
    for fmt in ("conll", "jsonl"):
        made = export_file(demo, DEMO_CORPUS, fmt=fmt, side="src")
        report = export_corpus(demo, DEMO_CORPUS, tmp_path / made.name, fmt=fmt, side="src")
        assert made.data == (tmp_path / made.name).read_bytes()
        assert (made.report.sentences, made.report.entities) == (report.sentences, report.entities) == (100, 217)


def test_reviewer_filter_follows_the_latest_decision(demo: Store) -> None:
    everything = list(ReviewStatus)
    assert export_preview(demo, DEMO_CORPUS, statuses=everything, reviewer="alice").sentences == 2
    assert export_preview(demo, DEMO_CORPUS, statuses=everything, reviewer="bob").sentences == 1
    assert export_preview(demo, DEMO_CORPUS, statuses=everything, reviewer="carol").sentences == 0
    assert export_preview(demo, DEMO_CORPUS, statuses=everything).sentences == 100
    assert export_choices(demo, DEMO_CORPUS).reviewers == ["alice", "bob"]


@pytest.mark.parametrize(
    ("corpus", "side", "fmt", "expected"),
    [("demo-en-es", "tgt", "conll", "demo-en-es-tgt.conll"), ("../x y", "mono", "hf", "x_y-mono.zip")],
)
def test_download_names_are_safe(corpus: str, side: str, fmt: str, expected: str) -> None:
    assert download_name(corpus, side, fmt) == expected
