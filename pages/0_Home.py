"""xner home page (app.py's default page): the project's corpora (languages, sizes, entities, review progress),
their alignment and projection runs, file uploads, new alignment and projection runs, and deleting corpora and runs
(with a confirmation step and the deletion log).

Runs go through ``align_corpus``, ``project_with_source`` (gold, a saved or a newly trained source tagger) and
``queue_projection`` (an empty run only after a confirmation); the *Import files* tab (uploads through the CLI's
importers and checks) is ``xner.ui.imports``, the *Delete* tab ``xner.ui.deletion``. Each form's result shows next
to the form, in its tab. Session keys start with ``home_``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import streamlit as st

from xner.errors import XnerError
from xner.services.aligning import align_corpus, extra_text_corpora
from xner.services.corpora import CorpusStats, list_corpora
from xner.services.evaluating import evaluate_projections, target_gold_entities
from xner.services.review import empty_run_reason, queue_projection
from xner.services.runs import (
    AlignmentRunInfo,
    OptionSpec,
    ProjectionRunInfo,
    aligner_names,
    aligner_options,
    list_alignment_runs,
    list_projection_runs,
    needs_alignment,
    projection_methods,
    projection_options,
    run_label,
)
from xner.services.sources import (
    GOLD,
    SAVED,
    SOURCES,
    TRAIN,
    SavedTagger,
    SourceChoice,
    gold_source_entities,
    labelled_corpora,
    project_with_source,
    recommended_tagger,
    saved_taggers,
    uses_source_entities,
)
from xner.services.training_view import tagger_names, tagger_options
from xner.types import CorpusKind
from xner.ui.deletion import delete_section
from xner.ui.forms import models_ready, option_inputs
from xner.ui.home import label_shares, quality_table, review_shares
from xner.ui.imports import import_section
from xner.ui.messages import flash, show_error, show_flashes
from xner.ui.render import literal
from xner.ui.support import (
    Store,
    app_folder,
    database_label,
    get_store,
    page_guard,
    phased_progress,
    reviewer_sidebar,
    stage_progress,
)

STATUS_COLOURS = {"unreviewed": "#cbd5e1", "accepted": "#4ade80", "corrected": "#60a5fa", "rejected": "#f87171"}
PRIMARY_OPTIONS = {
    "eflomal": ("symmetrization",),
    "simalign": ("model",),
    "awesome": ("model",),
    "model": ("model",),
    "model-transfer": ("model",),
    "easyproject": ("model",),
}
TAGGER_MODEL = {  # projection methods whose model option is a saved tagger, and which tagger
    "model": "Model: a saved target-side tagger (trained on the Training page, or with `xner train`).",
    "model-transfer": "Model: a saved source-language tagger (trained on the Training page, or with `xner train`); "
    "it tags the target sentences directly (the model-transfer baseline, no alignment).",
}
QUALITY_RUNS = 4  # projection runs scored by default (the newest)
NO_EXTRA = "(none)"
PROJECT_STAGES = {"train": "training the source tagger (iterations)", "project": "projecting"}
SOURCE_TAGGER_HELP = (
    "A tagger saved in the models folder (trained here, on the Training page, or by `xner train`). The one offered "
    "first is the best measured kind for this language (benchmarks/source_tagger_quality.py)."
)


# --- corpora ------------------------------------------------------------------------------------------------


def corpora_section(corpora: list[CorpusStats]) -> None:
    if not corpora:
        st.info("No corpora yet. Upload one under **Import files**, or use `xner import` on the command line.")
        return
    table = pd.DataFrame(
        [
            {
                "corpus": c.name,
                "kind": c.kind,
                "languages": c.src_lang + (f" → {c.tgt_lang}" if c.tgt_lang else ""),
                "sentences": c.total_sentences,
                "pairs": c.pairs,
                "tokens": c.tokens,
                "entities": sum(c.entities.values()),
                "reviewed": c.reviewed,
                **{status: c.review.get(status, 0) for status in STATUS_COLOURS},
            }
            for c in corpora
        ]
    )
    st.dataframe(table, hide_index=True, width="stretch", key="home_corpora")

    left, right = st.columns(2)
    with left:
        st.markdown("**Review progress** (per cent of each corpus's target sentences)")
        progress = review_shares(corpora)[list(STATUS_COLOURS)]
        st.bar_chart(
            progress, color=list(STATUS_COLOURS.values()), horizontal=True, stack=True, x_label="%", y_label=""
        )
    labels = label_shares(corpora)
    with right:
        st.markdown("**Entities per label** (per cent of each corpus's entities)")
        if labels.empty:
            st.info("No entities yet.")
        else:
            st.bar_chart(labels, x="label", y="share", color="corpus", stack=False, y_label="%")
    if not labels.empty:
        pivot = labels.pivot_table(index="corpus", columns="label", values="count", fill_value=0, aggfunc="sum")
        st.dataframe(pivot, width="stretch", key="home_entities")


# --- runs ---------------------------------------------------------------------------------------------------


def runs_section(store: Store, parallel: list[CorpusStats], reviewer: str) -> None:
    if not parallel:
        st.info("Alignment and projection need a parallel corpus: upload one under **Import files**.")
        return
    by_name = {c.name: c for c in parallel}
    corpus = st.selectbox("Corpus", list(by_name), key="home_corpus")
    src_lang = by_name[corpus].src_lang
    alignment_runs = list_alignment_runs(store, corpus)
    projection_runs = list_projection_runs(store, corpus)
    st.markdown("**Alignment runs**")
    if alignment_runs:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "id": r.id,
                        "aligner": r.aligner,
                        "params": json.dumps(app_folder().shorten(r.params), ensure_ascii=False, sort_keys=True),
                        "created": r.created_at.strftime("%Y-%m-%d %H:%M"),
                        "by": r.created_by,
                        "pairs": r.pairs,
                    }
                    for r in alignment_runs
                ]
            ),
            hide_index=True,
            width="stretch",
            key="home_alignment_runs",
        )
    else:
        st.caption("None yet: align the corpus below, or upload alignments under Import files.")
    st.markdown("**Projection runs**")
    if projection_runs:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "id": r.id,
                        "method": r.method,
                        "alignment run": r.alignment_run_id,
                        "params": json.dumps(app_folder().shorten(r.params), ensure_ascii=False, sort_keys=True),
                        "created": r.created_at.strftime("%Y-%m-%d %H:%M"),
                        "by": r.created_by,
                        "pairs": r.pairs,
                        "queued for review": r.queued,
                    }
                    for r in projection_runs
                ]
            ),
            hide_index=True,
            width="stretch",
            key="home_projection_runs",
        )
    else:
        st.caption("None yet: project the corpus below.")
    if projection_runs:
        quality_section(store, by_name[corpus], projection_runs)

    align_col, project_col = st.columns(2)
    with align_col:
        align_form(store, corpus, reviewer)
        show_flashes("align")
    with project_col:
        project_form(store, corpus, src_lang, alignment_runs, reviewer)
        show_flashes("project")
    if projection_runs:
        queue_form(store, corpus, projection_runs, reviewer)
    show_flashes("queue")


def quality_section(store: Store, corpus: CorpusStats, projection_runs: list[ProjectionRunInfo]) -> None:
    """The runs' span precision, recall and F1 against the target gold (``xner eval projection``), side by side."""
    st.markdown("**Projection quality** (exact-match spans against the target side's gold entities)")
    if not target_gold_entities(store, corpus.name):
        st.caption("The target side has no gold entities, so the runs cannot be scored here: spot-check them instead.")
        return
    names = {r.id: run_label(r) for r in projection_runs}
    newest = list(names)[::-1]
    runs_col, labels_col = st.columns([3, 2])
    chosen = runs_col.multiselect(
        "Runs to compare",
        newest,
        default=newest[:QUALITY_RUNS],
        format_func=names.get,
        key=f"home_quality_runs_{corpus.name}",
    )
    labels = labels_col.multiselect(
        "Labels", corpus.labels, key=f"home_quality_labels_{corpus.name}", help="None chosen: every label."
    )
    if not chosen:
        st.caption("Choose one or more runs to score.")
        return
    table = quality_table(evaluate_projections(store, corpus.name, chosen, labels=labels or None), names)
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        key="home_quality",
        column_config={c: st.column_config.NumberColumn(format="%.3f") for c in ("precision", "recall", "F1")},
    )
    # runs as values of a column, never as column names: a name with a colon (a time) breaks the chart's encoding
    st.bar_chart(table, x="label", y="F1", color="run", stack=False, x_label="")


def align_form(store: Store, corpus: str, reviewer: str) -> None:
    st.markdown("**New alignment run**")
    aligner = st.selectbox("Aligner", aligner_names(), index=aligner_names().index("eflomal"), key="home_aligner")
    specs = aligner_options(aligner)
    if aligner != "eflomal":  # neural aligners: a model to choose (no model hub here)
        specs = [OptionSpec(s.name, s.kind, "", s.choices, s.help) if s.name == "model" else s for s in specs]
        st.caption("Model: a saved model (see Files on the Training page) or a hub name already in the local cache.")
    options = option_inputs(specs, f"home_align_{aligner}", PRIMARY_OPTIONS.get(aligner, ()))
    extra = extra_text_input(store, corpus) if aligner == "eflomal" else None
    missing_model = (aligner != "eflomal" and not options.get("model")) or not models_ready(options)
    if not st.button("Align", key="home_align", type="primary", disabled=missing_model):
        return
    try:
        with phased_progress(f"aligning with {aligner}") as progress:
            report = align_corpus(
                store,
                corpus,
                aligner=aligner,
                options=options,
                extra_corpus=extra,
                created_by=reviewer,
                on_progress=progress.update,
                on_phase=progress.phase,
            )
    except XnerError as error:
        show_error(error)
        return
    more = f", {report.params['extra_pairs']:,} extra pairs of {extra}" if extra else ""
    flash(
        "align",
        "success",
        f"Aligned {report.pairs} pairs of {corpus} with {aligner} ({report.links} links{more}, "
        f"{report.seconds:.1f} s): alignment run {report.run_id}.",
    )
    st.session_state["home_alignment_run"] = report.run_id  # the next projection uses the new run
    st.rerun()


def extra_text_input(store: Store, corpus: str) -> str | None:
    """eflomal learns from text: another imported parallel corpus of the same languages to learn from too."""
    choices = extra_text_corpora(store, corpus)
    if not choices:
        st.caption(
            "Extra text: import another parallel corpus of these languages (e.g. more MAFAND or Europarl) "
            "and eflomal can learn from it too."
        )
        return None
    choice = st.selectbox(
        "Extra parallel text to learn from",
        [NO_EXTRA, *choices],
        key=f"home_align_extra_{corpus}",
        help="eflomal aligns it together with this corpus (more text, better links); only this corpus's links "
        "are stored. The run records which corpus it was.",
    )
    return None if choice == NO_EXTRA else choice


def source_input(store: Store, corpus: str, lang: str) -> SourceChoice | None:
    """Where the source entities come from: the gold, a saved tagger, or one trained now; None until complete."""
    gold = gold_source_entities(store, corpus)
    taggers = saved_taggers(store, app_folder())
    default = GOLD if gold else (SAVED if any(tagger.lang == lang for tagger in taggers) else TRAIN)
    kind = st.segmented_control("Source entities", SOURCES, default=default, required=True, key=f"home_source_{corpus}")
    if kind == GOLD:
        if gold:
            st.caption(f"The source side has {gold:,} gold entities.")
        else:
            st.warning(
                "The source side has no entities: projecting the gold projects nothing. Choose a saved tagger, or "
                "train one now."
            )
        return SourceChoice()
    if kind == SAVED:
        return saved_tagger_input(taggers, lang)
    return train_input(store, lang)


def saved_tagger_input(taggers: list[SavedTagger], lang: str) -> SourceChoice | None:
    if not taggers:
        st.info("No saved taggers yet: train one now, or on the Training page (or with `xner train`).")
        return None
    best = recommended_tagger(taggers, lang)
    names = [tagger.name for tagger in taggers]
    by_name = {tagger.name: tagger for tagger in taggers}
    name = st.selectbox(
        "Source tagger",
        names,
        index=names.index(best.name) if best else 0,
        format_func=lambda n: by_name[n].describe(),
        key="home_source_tagger",
        help=SOURCE_TAGGER_HELP,
    )
    return SourceChoice(SAVED, tagger=by_name[name].path)


def train_input(store: Store, lang: str) -> SourceChoice | None:
    labelled = labelled_corpora(store, lang)
    if not labelled:
        st.info(
            f"No corpus with {literal(lang)} entities to train on: import one under Import files (e.g. CoNLL-2003 "
            "English, as a CoNLL corpus)."
        )
        return None
    by_name = {c.name: c for c in labelled}
    left, right = st.columns(2)
    largest = max(range(len(labelled)), key=lambda i: labelled[i].entities)  # first of the largest
    corpus = left.selectbox(
        "Train on",
        list(by_name),
        index=largest,
        format_func=lambda n: by_name[n].describe(),
        key="home_source_train_corpus",
    )
    kinds = tagger_names()
    kind = right.selectbox("Tagger", kinds, index=kinds.index("crf"), key="home_source_train_kind")
    options = option_inputs(tagger_options(kind), f"home_source_train_{kind}", ("model",))
    titled = st.checkbox(
        "Also learn from titled copies of person names (Mr Smith)",
        value=lang == "en",
        key="home_source_train_titled",
        help="News corpora such as CoNLL-2003 hardly ever title people; parliamentary and most other English does. "
        "On the Europarl English gold a CoNLL-2003 CRF's person F1 goes from 0.12 to 0.64 with them "
        "(benchmarks/source_tagger_quality.py).",
    )
    if not models_ready(options):
        return None
    st.caption("Trained with its progress shown, saved in the models folder (then a saved tagger), and recorded.")
    return SourceChoice(TRAIN, corpus=corpus, tagger_kind=kind, options=options, titled=titled)


def project_form(store: Store, corpus: str, lang: str, alignment_runs: list[AlignmentRunInfo], reviewer: str) -> None:
    st.markdown("**New projection run**")
    names = {r.id: run_label(r) for r in alignment_runs}
    ids = list(names)
    methods = projection_methods()
    if alignment_runs:
        method = st.selectbox("Method", methods, index=methods.index("heuristic"), key="home_method")
    else:  # only the methods that use no alignment, until the corpus is aligned
        methods = [m for m in methods if not needs_alignment(m)]
        st.caption("Align the corpus (or upload alignments) for the other methods: these use no alignment.")
        default = methods.index("model-transfer") if "model-transfer" in methods else 0  # runs offline
        method = st.selectbox("Method", methods, index=default, key="home_method_unaligned")
    run = None
    if needs_alignment(method):
        if st.session_state.get("home_alignment_run") not in ids:  # a new corpus: its newest run
            st.session_state["home_alignment_run"] = ids[-1]
        run = st.selectbox(
            "Alignment run",
            ids[::-1],
            format_func=names.get,
            key="home_alignment_run",
            help="Default: the newest run.",
        )
    options = option_inputs(
        projection_options(method),
        f"home_project_{method}",
        PRIMARY_OPTIONS.get(method, ()),
        saved_models_only=method in TAGGER_MODEL,
    )
    missing_model = (method in TAGGER_MODEL and not options.get("model")) or not models_ready(options)
    if method in TAGGER_MODEL:
        st.caption(TAGGER_MODEL[method])
    source = source_input(store, corpus, lang) if uses_source_entities(method) else SourceChoice()
    disabled = missing_model or source is None
    if not st.button("Project", key="home_project", type="primary", disabled=disabled):
        return
    assert source is not None
    try:
        with stage_progress(PROJECT_STAGES) as on_progress:
            result = project_with_source(
                store,
                corpus,
                source,
                folder=app_folder(),
                method=method,
                options=options,
                alignment_run=run,
                created_by=reviewer,
                on_progress=on_progress,
            )
    except XnerError as error:
        show_error(error)
        return
    report, training = result.projection, result.training
    if training is not None:
        f1 = f", dev F1 {training.f1:.2f}" if training.f1 is not None else ""
        flash("project", "success", f"Trained source tagger {Path(training.model_path).name} on {training.corpus}{f1}.")
    found = ", ".join(f"{label} {n}" for label, n in report.entities.items()) or "none"
    over = "without alignment" if run is None else f"over alignment run {report.alignment_run}"
    flash(
        "project",
        "success" if report.entities else "warning",
        f"Projected {report.pairs} pairs of {corpus} with {method} {over}: projection run {report.run_id} "
        f"(entities: {found}). "
        + ("Queue it for review below." if report.entities else "Without entities, its review items suggest nothing."),
    )
    st.session_state["home_queue_run"] = report.run_id
    st.rerun()


def queue_form(store: Store, corpus: str, projection_runs: list[ProjectionRunInfo], reviewer: str) -> None:
    st.markdown("**Queue for review**")
    names = {r.id: run_label(r) for r in projection_runs}
    runs = list(names)[::-1]
    if st.session_state.get("home_queue_run") not in runs:
        st.session_state["home_queue_run"] = runs[0]
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    run = left.selectbox(
        "Projection run whose spans become the review suggestions",
        runs,
        format_func=names.get,
        key="home_queue_run",
        help="Unreviewed sentences get this run's spans; reviewed ones keep theirs.",
    )
    empty = empty_run_reason(store, corpus, run)
    confirmed = True
    if empty is not None:
        st.warning(literal(f"Projection run {run} has no entities: {empty}. Its review items would suggest nothing."))
        confirmed = st.checkbox(
            "Queue it anyway (the reviewers mark every entity by hand)", key=f"home_queue_empty_{run}"
        )
    if not right.button("Queue for review", key="home_queue", type="primary", disabled=not confirmed):
        return
    try:
        report = queue_projection(store, corpus, run, created_by=reviewer, allow_empty=empty is not None)
    except XnerError as error:
        show_error(error)
        return
    compared = ", ".join(f"run {rid} ({method})" for rid, method in report.compared_runs.items())
    flash(
        "queue",
        "success",
        f"Queued projection run {report.run_id} of {corpus}: {report.queued} new, {report.updated} updated, "
        f"{report.kept} reviewed kept; disagreement between {compared}. Open the Review page to start.",
    )
    st.rerun()


# --- the page -----------------------------------------------------------------------------------------------

with page_guard():  # the error boundary (also under app.py's)
    st.set_page_config(page_title="xner", page_icon="🔤", layout="wide")
    store = get_store()
    reviewer = reviewer_sidebar()
    st.title("xner — projected NER data")
    st.caption(
        "English entities are projected onto translations through word alignments; linguists review the "
        "projections and export curated training data."
    )
    corpora = list_corpora(store)
    # Each form shows its result next to it, in its tab; the key keeps the tab bar (and so the open tab) the same
    # element across the rerun that follows a change.
    overview, runs, imports, deleting = st.tabs(
        ["Corpora", "Align & project", "Import files", "Delete"], key="home_tabs"
    )
    with overview:
        corpora_section(corpora)
    with runs:
        runs_section(store, [c for c in corpora if c.kind == CorpusKind.PARALLEL], reviewer)
    with imports:
        import_section(store, corpora, reviewer)
    with deleting:
        delete_section(store, corpora, reviewer)
    st.caption(literal(f"Database: {database_label(store)}"))
