"""Training: train a tagger on the curated sentences of a corpus, browse and compare the recorded training runs, draw
the learning curves of experiments, and download the saved models and exports.

Training goes through ``xner.services.training.train_tagger`` (the code behind ``xner train``); the run tables,
comparisons and curves come from ``xner.services.training_view``. Models are saved by name in the managed folder's
``models/`` (``xner.services.managed``): the page never takes a server path. Session keys start with ``training_``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from xner.errors import XnerError
from xner.figures.training import curve_rows, curves_html, curves_plot, curves_png, f1_bars
from xner.services.corpora import list_corpus_info
from xner.services.exporting import export_choices
from xner.services.managed import EXPORTS, MODELS, ManagedFolder, file_rows
from xner.services.training import TrainReport, default_model_name, train_tagger
from xner.services.training_view import (
    ALL_RUNS,
    METRICS,
    STATUS_CHOICES,
    TRAINED_RUNS,
    RunInfo,
    compare_runs,
    default_eval_splits,
    default_train_splits,
    experiment_curves,
    experiment_labels,
    list_experiments,
    list_training_runs,
    report_entities,
    run_label,
    run_rows,
    score_rows,
    tagger_names,
    tagger_options,
)
from xner.types import Side
from xner.ui.downloads import download_bytes
from xner.ui.forms import corpus_select, models_ready, option_inputs, side_select
from xner.ui.render import literal
from xner.ui.support import Store, app_folder, count_progress, error_text, get_store, page_guard, reviewer_sidebar

RESULT = "training_result"  # the TrainReport of the last training in this browser session
PRIMARY_OPTIONS = {"crf": ("c1", "c2", "max_iterations"), "transformer": ("model", "epochs", "device")}
SCORE = st.column_config.NumberColumn(format="%.3f")
NEW_EXPERIMENT = (
    "No experiments yet: describe one in a YAML config (languages, strategies, ks, seeds) and run "
    "`xner experiment CONFIG --out DIR`; its learning curves then show here."
)


def show_error(error: XnerError, what: str) -> None:
    st.error(literal(f"{what}: {error_text(error)}"))


def table(rows: list[dict[str, Any]], key: str, **config: Any) -> None:
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key=key, column_config=config or None)


# --- train on curated data ----------------------------------------------------------------------------------------


def train_section(store: Store, reviewer: str) -> None:
    corpora = list_corpus_info(store)
    if not corpora:
        st.info("No corpora yet: import one on the home page or with `xner import`.")
        return
    chosen = corpus_select(corpora, "training_corpus")
    corpus = chosen.name
    choices = export_choices(store, corpus)
    left, right = st.columns(2)
    with left:
        side = side_select(chosen, choices.sides, f"training_side_{choices.kind}")
        splits = choices.splits[side]
        train_default = default_train_splits(splits)
        train_splits = st.multiselect(
            "Training splits", splits, default=train_default, key=f"training_splits_{corpus}_{side}"
        )
        eval_splits = st.multiselect(
            "Evaluation splits (optional)",
            splits,
            default=default_eval_splits(splits, train_default),
            key=f"training_eval_{corpus}_{side}",
            help="Held-out sentences to score the trained tagger on (entity precision, recall and F1).",
        )
        statuses = st.radio(
            "Sentences to use",
            list(STATUS_CHOICES),
            key="training_statuses",
            help="Reviewed sentences carry their curated entities, unreviewed ones their stored (gold) entities; "
            "rejected sentences are always left out.",
        )
    with right:
        tagger = st.selectbox("Tagger", tagger_names(), key="training_tagger")
        if tagger == "transformer":
            st.caption("Model: a saved model, or a hub name already in the local cache (no downloads here).")
        options = option_inputs(tagger_options(tagger), f"training_{tagger}", PRIMARY_OPTIONS.get(tagger, ()))
        name_key = f"training_name_{corpus}_{tagger}"
        if name_key not in st.session_state:  # derived once, so the minute in it does not change under the user
            st.session_state[name_key] = default_model_name(corpus, tagger, STATUS_CHOICES[statuses])
        name = st.text_input(
            "Model name",
            key=name_key,
            max_chars=100,
            help="The model is saved under this name with the app's other models (see Files); a model of the same "
            "name is replaced. Letters, digits, '.', '_' and '-'.",
        ).strip()
        if name in app_folder().names(MODELS):
            st.caption("A saved model has this name: training replaces it.")
    if set(train_splits) & set(eval_splits):
        st.warning("Some evaluation splits are also training splits: their scores will look better than they are.")
    ready = bool(train_splits and name) and models_ready(options)
    if st.button("Train", key="training_train", type="primary", disabled=not ready):
        run_training(
            store,
            corpus,
            name=name,
            side=side,
            splits=train_splits,
            eval_splits=eval_splits,
            statuses=STATUS_CHOICES[statuses],
            tagger=tagger,
            options=options,
            created_by=reviewer,
        )
    report: TrainReport | None = st.session_state.get(RESULT)
    if report is not None:
        show_report(report)


def run_training(store: Store, corpus: str, *, name: str, **settings: Any) -> None:
    """Train into the managed model ``name`` under a progress bar; keep the report for the reruns that follow, or
    show the error (an unsafe name is refused before anything runs)."""
    st.session_state.pop(RESULT, None)
    try:
        out = app_folder().path(MODELS, name)
        with count_progress(f"training {settings['tagger']} on {corpus}") as on_progress:
            st.session_state[RESULT] = train_tagger(store, corpus, out=out, on_progress=on_progress, **settings)
    except XnerError as error:
        show_error(error, "Training failed")


def show_report(report: TrainReport) -> None:
    where = f"{report.corpus}/{report.side}" if report.side != Side.MONO else report.corpus
    st.success(
        literal(
            f"Trained {report.tagger} on {where} ({', '.join(report.splits)}): run {report.run_id}, "
            f"model saved as {app_folder().shorten(report.model_path)} (see Files)."
        )
    )
    if report.replaced:
        st.caption("The same configuration had been trained before: its run was replaced by this one.")
    sentences, tokens, entities, seconds = st.columns(4)
    sentences.metric("Sentences", f"{report.sentences:,}")
    tokens.metric("Tokens", f"{report.tokens:,}")
    entities.metric("Entities", f"{sum(report.entities.values()):,}")
    seconds.metric("Seconds", f"{report.seconds:.1f}")
    table(report_entities(report), "training_result_entities")
    if report.scores:
        st.markdown(
            literal(
                f"Scores on {', '.join(report.eval_splits)} ({report.eval_sentences:,} sentences), "
                "entity level (exact span and label):"
            )
        )
        table(score_rows(report.scores), "training_result_scores", precision=SCORE, recall=SCORE, f1=SCORE)
    else:
        st.caption("No evaluation splits were chosen: no scores.")


# --- runs ---------------------------------------------------------------------------------------------------------


def runs_section(store: Store) -> None:
    experiments = [e.name for e in list_experiments(store)]
    filters: list[tuple[str, str]] = [(ALL_RUNS, ""), (TRAINED_RUNS, "")]
    filters += [("experiment", name) for name in experiments]
    names = {ALL_RUNS: "All runs", TRAINED_RUNS: "Trained from the app or xner train"}
    shown = st.selectbox(
        "Show",
        filters,
        format_func=lambda f: names.get(f[0]) or f"Experiment {f[1]}",
        key="training_runs_filter",
    )
    if shown[0] == "experiment":
        runs = list_training_runs(store, experiment=shown[1])
    else:
        runs = list_training_runs(store, show=shown[0])
    if not runs:
        st.info(
            "No training runs here yet: train a tagger under **Train on curated data** (or with `xner train`), "
            "or run an experiment with `xner experiment CONFIG --out DIR`."
        )
        return
    table(run_rows(runs), "training_runs_table", F1=SCORE, P=SCORE, R=SCORE)
    compare_section(runs)


def compare_section(runs: list[RunInfo]) -> None:
    by_id = {run.id: run for run in runs}
    chosen = st.multiselect(
        "Compare runs",
        list(by_id),
        format_func=lambda run_id: run_label(by_id[run_id]),
        key="training_compare",
        placeholder="choose two or more runs",
    )
    if len(chosen) < 2:
        st.caption("Choose two or more runs to see their settings and per-label F1 side by side.")
        return
    comparison = compare_runs([by_id[run_id] for run_id in chosen])
    columns = ["setting", *comparison.columns]
    st.markdown("**Settings that differ**")
    if comparison.differing:
        table([{c: row[c] for c in columns} for row in comparison.differing], "training_compare_differing")
    else:
        st.caption("None: the runs were trained with the same settings.")
    with st.expander("All settings"):
        table([{c: row[c] for c in columns} for row in comparison.settings], "training_compare_settings")
    st.markdown("**F1 per label**")
    table(comparison.f1, "training_compare_f1", **{column: SCORE for column in comparison.columns})
    st.plotly_chart(f1_bars(comparison), key="training_compare_chart")


# --- learning curves ----------------------------------------------------------------------------------------------


def curves_section(store: Store) -> None:
    experiments = {e.name: e for e in list_experiments(store)}
    if not experiments:
        st.info(NEW_EXPERIMENT)
        return
    name = st.selectbox(
        "Experiment",
        list(experiments),
        format_func=lambda n: f"{n} ({experiments[n].points} points)",
        key="training_experiment",
    )
    info = experiments[name]
    st.caption(literal(f"Languages: {', '.join(info.languages)}; strategies: {', '.join(info.strategies)}."))
    language_col, metric_col, label_col = st.columns(3)
    language = language_col.selectbox(
        "Language",
        [None, *info.languages],
        format_func=lambda code: "all languages" if code is None else code,
        key=f"training_curve_language_{name}",
    )
    with metric_col:
        metric = st.segmented_control("Metric", METRICS, default="f1", required=True, key="training_curve_metric")
    label = label_col.selectbox(
        "Label",
        ["", *experiment_labels(store, name)],
        format_func=lambda value: value or "overall",
        key=f"training_curve_label_{name}",
    )
    try:
        curves = experiment_curves(
            store, name, metric=metric, label=label, languages=None if language is None else [language]
        )
    except XnerError as error:
        show_error(error, "Cannot draw the curves")
        return
    if not curves.points:
        st.info("No finished runs for this choice yet: run (or resume) the experiment with `xner experiment CONFIG`.")
        return
    st.plotly_chart(curves_plot(curves), key="training_curves_chart")
    table(curve_rows(curves), "training_curves_table", **{metric: SCORE})
    stem = curves.file_stem()
    png_col, html_col = st.columns(2)
    png_col.download_button(
        "Download PNG",
        data=lambda: curves_png(curves),
        file_name=f"{stem}.png",
        mime="image/png",
        key="training_curves_png",
        on_click="ignore",
    )
    html_col.download_button(
        "Download HTML (interactive)",
        data=lambda: curves_html(curves),
        file_name=f"{stem}.html",
        mime="text/html",
        key="training_curves_html",
        on_click="ignore",
    )


# --- files: saved models and exports ------------------------------------------------------------------------------


def files_section() -> None:
    folder = app_folder()
    st.caption(
        "The models trained here (and by `xner train` into this folder) and files placed under exports/: the app "
        "keeps them in its own folder on the server. A model downloads as a ZIP of its folder."
    )
    for kind, title in ((MODELS, "Models"), (EXPORTS, "Exports")):
        st.markdown(f"**{literal(title)}**")
        entries = folder.list(kind)
        if not entries:
            st.caption(f"None yet in {literal(kind)}/.")
            continue
        table(file_rows(entries), f"training_files_{kind}")
        download_form(folder, kind, [entry.name for entry in entries])


def download_form(folder: ManagedFolder, kind: str, names: list[str]) -> None:
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    name = left.selectbox("Download", names, key=f"training_files_{kind}_pick")
    try:
        ready = folder.download(kind, name)
    except XnerError as error:
        right.caption(literal(str(error)))
        return
    right.download_button(
        literal(f"Download {ready.file_name}"),
        data=lambda: download_bytes(ready),
        file_name=ready.file_name,
        mime=ready.mime,
        key=f"training_files_{kind}_download",
        on_click="ignore",
    )


# --- the page -----------------------------------------------------------------------------------------------------

with page_guard():  # the error boundary (also under app.py's)
    st.set_page_config(page_title="Training · xner", page_icon="🔤", layout="wide")
    store = get_store()
    reviewer = reviewer_sidebar()
    st.title("Training")
    st.caption(
        "Train a tagger on the curated sentences of a corpus, compare the recorded training runs, and follow the "
        "learning curves of experiments."
    )
    train_tab, runs_tab, curves_tab, files_tab = st.tabs(["Train on curated data", "Runs", "Learning curves", "Files"])
    with train_tab:
        train_section(store, reviewer)
    with runs_tab:
        runs_section(store)
    with curves_tab:
        curves_section(store)
    with files_tab:
        files_section()
