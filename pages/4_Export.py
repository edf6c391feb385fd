"""Export: one side of a corpus, filtered by split, review status and reviewer, as CoNLL, JSONL, a spaCy DocBin or
a Hugging Face dataset (zipped folder), previewed before download.

The file is made by ``xner.ui.downloads.export_file``, which runs the code behind ``xner export``, so a
download equals the command's output byte for byte. The entities come from the reviews (curated where reviewed,
else gold or a projection run's spans), from the gold, or from a projection run (``xner export --spans``). Session
keys start with ``export_``.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from xner.errors import XnerError
from xner.services.corpora import list_corpus_info
from xner.services.exporting import DEFAULT_STATUSES, EXPORT_FORMATS, SPAN_SOURCES, export_choices, export_preview
from xner.services.runs import list_projection_runs, run_label
from xner.types import ReviewStatus, Side
from xner.ui.downloads import ExportFile, export_file
from xner.ui.forms import corpus_select, side_select
from xner.ui.render import literal
from xner.ui.support import Store, get_store, page_guard

ANYONE = "(anyone)"
PREPARED = "export_prepared"  # (selection, ExportFile) of the last prepared download
FORMAT_NAMES = {
    "conll": "CoNLL (IOB2)",
    "jsonl": "JSONL",
    "spacy": "spaCy DocBin",
    "hf": "HF dataset (zip)",
}
SPAN_NAMES = {"reviewed": "Curated where reviewed", "gold": "Gold", "run": "A projection run"}
GOLD = "their gold entities"


def span_choice(store: Store, corpus: str, side: str) -> tuple[str, int | None]:
    """Where the entities come from (``xner export --spans``) and the projection run, if any (``--run``)."""
    runs = list_projection_runs(store, corpus) if side == Side.TGT else []
    names = {run.id: run_label(run) for run in reversed(runs)}  # newest first
    sources = [source for source in SPAN_SOURCES if names or source != "run"]
    spans = st.segmented_control(
        "Entities",
        sources,
        default="reviewed",
        format_func=SPAN_NAMES.get,
        required=True,
        key=f"export_spans_{side}",
        help="Curated where reviewed: the reviewers' entities, and for unreviewed sentences their gold ones or a "
        "projection run's spans. Gold: the imported gold entities, reviews ignored. A projection run: its spans "
        "for every sentence.",
    )
    if spans == "run":
        run_id = st.selectbox("Projection run", list(names), format_func=names.get, key="export_run")
        return spans, run_id
    if spans == "reviewed" and names:
        run_id = st.selectbox(
            "Unreviewed sentences carry",
            [None, *names],
            format_func=lambda run_id: GOLD if run_id is None else f"the spans of {names[run_id]}",
            key="export_unreviewed_run",
        )
        return spans, run_id
    return spans, None


with page_guard():  # the error boundary (also under app.py's)
    st.set_page_config(page_title="Export · xner", page_icon="🔤", layout="wide")
    store = get_store()
    st.title("Export")
    st.caption(
        "Write one side of a corpus as training data, the same file `xner export` writes. By default reviewed "
        "sentences carry their curated entities and the others their gold ones (or a projection run's spans); "
        "rejected sentences are left out unless you select them. To export a projection run whole (e.g. after a "
        "spot check), take its spans for every sentence."
    )

    corpora = list_corpus_info(store)
    if not corpora:
        st.info("No corpora yet: import one on the home page or with `xner import`.")
        st.stop()

    chosen = corpus_select(corpora, "export_corpus")
    corpus = chosen.name
    choices = export_choices(store, corpus)

    left, right = st.columns(2)
    with left:
        side = side_select(chosen, choices.sides, "export_side")
        splits = st.multiselect(
            "Splits", choices.splits[side], default=choices.splits[side], key=f"export_splits_{side}"
        )
        fmt = st.segmented_control(
            "Format", EXPORT_FORMATS, default="conll", format_func=FORMAT_NAMES.get, required=True, key="export_format"
        )
    with right:
        statuses = st.pills(
            "Review statuses",
            [status.value for status in ReviewStatus],
            selection_mode="multi",
            default=[status.value for status in DEFAULT_STATUSES],
            format_func=literal,
            key="export_statuses",
            help="Default: the curated sentences (accepted and corrected).",
        )
        reviewer_choice = st.selectbox(
            "Latest decision by",
            [ANYONE, *choices.reviewers],
            key="export_reviewer",
            help="Only sentences whose latest review decision is this reviewer's.",
        )
    reviewer = None if reviewer_choice == ANYONE else reviewer_choice
    spans, run_id = span_choice(store, corpus, side)

    if not splits or not statuses:
        st.info("Choose at least one split and one review status.")
        st.stop()

    selection = {
        "corpus": corpus,
        "side": side,
        "splits": tuple(splits),
        "statuses": tuple(ReviewStatus.parse(s) for s in statuses),
        "reviewer": reviewer,
        "spans": spans,
        "run_id": run_id,
    }
    try:
        preview = export_preview(store, **selection)
    except XnerError as error:
        st.error(literal(error))
        st.stop()

    st.subheader("Preview")
    sentences, entities = st.columns(2)
    sentences.metric("Sentences", preview.sentences)
    entities.metric("Entities", preview.total_entities)
    if preview.entities:
        st.dataframe(
            pd.DataFrame({"label": list(preview.entities), "entities": list(preview.entities.values())}),
            hide_index=True,
            key="export_labels",
        )
    if not preview.sentences:
        st.warning("No sentence matches these filters: the export would be empty.")

    key = (*selection.values(), fmt)
    if st.button("Prepare the file", key="export_prepare", type="primary"):
        try:
            with st.spinner(f"exporting {preview.sentences} sentences"):
                prepared = export_file(store, fmt=fmt, **selection)
            st.session_state[PREPARED] = (key, prepared)
        except XnerError as error:
            st.error(literal(error))

    saved: tuple[tuple, ExportFile] | None = st.session_state.get(PREPARED)
    if saved is not None and saved[0] == key:
        ready = saved[1]
        st.download_button(
            literal(f"Download {ready.name} ({len(ready.data):,} bytes)"),
            data=ready.data,
            file_name=ready.name,
            mime=ready.mime,
            key="export_download",
            on_click="ignore",
            type="primary",
        )
        st.caption(
            literal(f"{ready.report.sentences} sentences, {ready.report.entities} entities, as {FORMAT_NAMES[fmt]}.")
        )
    elif saved is not None:
        st.caption("The filters changed since the last file was prepared: prepare it again.")
