"""The export page's choice of entities (pages/4_Export.py with AppTest): a projection run exported whole, or
beside the curated sentences, downloads the very bytes of ``xner export --spans ... --run ID``; the run pickers
name runs with ``run_label``."""

from __future__ import annotations

from pathlib import Path

from streamlit.runtime.media_file_manager import MediaFileManager

from tests.ui.pages import export_harness
from tests.ui.pages.export_harness import cli_export, downloaded, page
from xner.services.demo import DEMO_CORPUS
from xner.services.exporting import export_preview
from xner.services.runs import list_projection_runs, run_label
from xner.store.db import Store

ALL = ["unreviewed", "accepted", "corrected", "rejected"]

demo, media = export_harness.demo, export_harness.media  # the decided demo, the download recorder (fixtures)


def test_the_run_pickers_name_runs_newest_first(demo: Store) -> None:
    at = page()
    runs = list_projection_runs(demo, DEMO_CORPUS)
    labels = [run_label(run) for run in reversed(runs)]

    assert at.segmented_control(key="export_spans_tgt").value == "reviewed"
    assert at.selectbox(key="export_unreviewed_run").options == [
        "their gold entities",
        *(f"the spans of {x}" for x in labels),
    ]
    at.segmented_control(key="export_spans_tgt").set_value("run").run()
    assert at.selectbox(key="export_run").options == labels
    assert labels[-1].startswith("run 1 · heuristic over alignment 2 · ")


def test_a_run_exported_whole_downloads_the_cli_file(
    demo: Store,
    db: str,
    media: list[MediaFileManager],
    tmp_path: Path,
) -> None:
    at = page()
    at.pills(key="export_statuses").set_value(ALL)
    at.segmented_control(key="export_format").set_value("jsonl")
    at.segmented_control(key="export_spans_tgt").set_value("run").run()
    at.selectbox(key="export_run").set_value(2).run()

    preview = export_preview(demo, DEMO_CORPUS, statuses=None, spans="run", run_id=2)
    assert [m.value for m in at.metric] == ["100", str(preview.total_entities)]
    at = at.button(key="export_prepare").click().run()

    assert not at.exception and not at.error
    name, data = downloaded(at, media)
    expected = cli_export(
        db, tmp_path / name, "--corpus", DEMO_CORPUS, "--format", "jsonl", "--spans", "run", "--run", "2"
    )
    assert data == expected and b'"projection_run": 2' in data


def test_curated_sentences_beside_a_runs_spans_download_the_cli_file(
    demo: Store,
    db: str,
    media: list[MediaFileManager],
    tmp_path: Path,
) -> None:
    at = page()
    at.pills(key="export_statuses").set_value(ALL)
    at.selectbox(key="export_unreviewed_run").set_value(2).run()
    at = at.button(key="export_prepare").click().run()

    assert not at.exception and not at.error
    name, data = downloaded(at, media)
    expected = cli_export(db, tmp_path / name, "--corpus", DEMO_CORPUS, "--run", "2")
    gold = cli_export(db, tmp_path / "gold.conll", "--corpus", DEMO_CORPUS)
    assert data == expected and data != gold


def test_the_source_side_offers_no_run(demo: Store) -> None:
    at = page()
    at.segmented_control(key="export_side").set_value("src").run()

    assert not at.exception
    assert at.segmented_control(key="export_spans_src").options == ["Curated where reviewed", "Gold"]
    assert not [box for box in at.selectbox if box.key in ("export_run", "export_unreviewed_run")]
