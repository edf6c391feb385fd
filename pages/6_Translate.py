"""Translate: machine translation for annotation projection. Translate a corpus (translate-train, translate-test
or a back-translation pivot), run the translate-test evaluation in one go, and score the model-transfer baseline.

Translations come from a translator (``nllb``, ``ctranslate2``) or, offline, from an uploaded file of translations
made elsewhere. The page calls ``translate_corpus`` / ``run_translate_test`` (``upload_translations`` /
``upload_translate_test`` for a file) and ``evaluate_tagger_on``. Session keys start with ``translate_``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from xner.errors import XnerError
from xner.services.corpora import CorpusInfo, corpus_stats, list_corpus_info
from xner.services.evaluating import TaggerEvaluation, evaluate_tagger_on
from xner.services.exporting import export_choices
from xner.services.runs import (
    OptionSpec,
    aligner_names,
    aligner_options,
    needs_alignment,
    projection_methods,
    projection_options,
    translator_names,
    translator_options,
)
from xner.services.training_view import score_rows
from xner.services.translating import (
    MODES,
    TranslateReport,
    default_target_language,
    translate_corpus,
    translated_from,
    translated_side,
)
from xner.services.workflows import (
    TranslateTestReport,
    TranslateTrainReport,
    default_parallel_name,
    run_translate_test,
    run_translate_train,
    translations_made,
)
from xner.types import CorpusKind, Side
from xner.ui.forms import corpus_select, language_feedback, model_input, models_ready, option_inputs, side_select
from xner.ui.render import literal
from xner.ui.support import (
    Store,
    app_folder,
    count_progress,
    error_text,
    get_store,
    page_guard,
    reviewer_sidebar,
    stage_progress,
)
from xner.ui.uploads import (
    MAX_UPLOAD_MB,
    Upload,
    as_upload,
    upload_translate_test,
    upload_translate_train,
    upload_translations,
)

TRANSLATED = "translate_result"  # the TranslateReport of the last translation in this browser session
TESTED = "translate_test_result"  # the TranslateTestReport of the last translate-test evaluation
TRANSFERRED = "translate_transfer_result"  # the TaggerEvaluation of the last model-transfer score
MODEL, FILE = "Translation model", "File of translations"
FILE_TYPES = ["txt", "conll", "conll02", "conll03", "iob"]
MODE_NAMES = {"train": "translate-train", "test": "translate-test", "pivot": "back-translation (pivot)"}
MODE_HELP = {
    "train": "The labelled sentences become the source side, their translations the target: align and project "
    "it for training data in the target language.",
    "test": "A labelled corpus in the target language becomes the target side, its translations (into English) the "
    "source: tag, align and project back to score against its gold.",
    "pivot": "The target side of a parallel corpus translated back (into its source language): the pivot corpus of "
    "the back-translation refinement (`xner project --refine backtranslation --via`).",
}
PRIMARY_OPTIONS = {
    "nllb": ("model", "device"),
    "ctranslate2": ("model", "device"),
    "easyproject": ("model", "translator", "device"),
    "eflomal": ("symmetrization",),
    "simalign": ("model",),
    "awesome": ("model",),
    "model": ("model",),
    "model-transfer": ("model",),
}
MODEL_CAPTION = (
    "Model: a saved model (see Files on the Training page; `xner convert-model` writes ctranslate2's) or a hub "
    "name already in the local Hugging Face cache."
)
TAGGER_MODEL = {"model": "target-side", "model-transfer": "source-language"}  # methods whose model is a tagger
STAGES = {"translate": "translating", "align": "aligning", "project": "projecting"}
MARKER_LANGUAGES = ("src_lang", "tgt_lang")  # easyproject options the page sets from the corpus and target
SCORE = st.column_config.NumberColumn(format="%.3f")
ENTITY_LABELS = ("PER", "ORG", "LOC")  # the labels scored by default (the paper's), when the corpus has them


def show_error(error: XnerError, what: str) -> None:
    st.error(literal(f"{what}: {error_text(error)}"))


def scores_table(scores: dict[str, dict[str, float]], key: str) -> None:
    rows = score_rows(scores)
    st.dataframe(
        pd.DataFrame(rows, columns=["label", "precision", "recall", "f1", "support"]),
        hide_index=True,
        width="stretch",
        key=key,
        column_config={"precision": SCORE, "recall": SCORE, "f1": SCORE},
    )


def label_choices(store: Store, corpus: str) -> tuple[list[str], list[str]]:
    """The labels of ``corpus`` and those scored by default (PER, ORG, LOC when present, else all)."""
    stats = corpus_stats(store, corpus)
    labels = sorted(set(stats.labels) | set(stats.entities))
    default = [label for label in labels if label in ENTITY_LABELS]
    return labels, default or labels


def translator_inputs(prefix: str, *, markers: bool) -> tuple[str, dict[str, object], bool]:
    """The translator (or, with markers, EasyProject's options, which name the translator and model) and its
    options; returns (translator, options, ready)."""
    st.caption(MODEL_CAPTION)
    if markers:
        specs = [s for s in projection_options("easyproject") if s.name not in MARKER_LANGUAGES]
        options = option_inputs(specs, f"{prefix}_easyproject", PRIMARY_OPTIONS["easyproject"])
        return "nllb", options, models_ready(options)
    names = translator_names()
    translator = st.selectbox("Translator", names, index=names.index("nllb"), key=f"{prefix}_translator")
    options = option_inputs(translator_options(translator), f"{prefix}_{translator}", PRIMARY_OPTIONS[translator])
    if translator == "ctranslate2" and not options.get("model"):
        st.caption("The ctranslate2 translator needs a saved model converted by `xner convert-model`.")
        return translator, options, False
    return translator, options, models_ready(options)


def translations_file(key: str, count: int, *, markers: bool = False) -> Upload | None:
    what = "one translation with EasyProject's markers per line" if markers else "plain text, one per line, or CoNLL"
    file = st.file_uploader(
        f"Translations ({what})",
        type=FILE_TYPES,
        key=key,
        help=f"UTF-8 text up to {MAX_UPLOAD_MB} MB; larger files with `xner translate --translations FILE`.",
    )
    st.caption(
        f"One translation per sentence, in corpus order (split by split): {count:,} sentences to translate. "
        "A CoNLL file keeps its tokens and entities."
    )
    return as_upload(file)


# --- translate a corpus -------------------------------------------------------------------------------------------


def default_name(corpus: str, mode: str, to_lang: str) -> str:
    if mode == "test":
        return default_parallel_name(corpus, to_lang or "en")
    if mode == "pivot":
        return f"{corpus}-bt"
    return f"{corpus}-{to_lang}-mt" if to_lang else ""


def translate_section(store: Store, corpora: list[CorpusInfo], reviewer: str) -> None:
    chosen = corpus_select(corpora, "translate_corpus")
    corpus = chosen.name
    modes = list(MODES) if chosen.kind == CorpusKind.PARALLEL else [m for m in MODES if m != "pivot"]
    left, right = st.columns(2)
    with left:
        mode = st.radio(
            "Mode",
            modes,
            captions=[MODE_HELP[m] for m in modes],
            format_func=MODE_NAMES.get,
            key=f"translate_mode_{chosen.kind}",
        )
        side = translated_side(chosen.kind, mode)
        splits = export_choices(store, corpus).splits[side]
        chosen_splits = st.multiselect("Splits", splits, default=splits, key=f"translate_splits_{corpus}_{side}")
        to_lang = st.text_input(
            "Translate into (language code)",
            value=default_target_language(chosen, mode),
            key=f"translate_to_{mode}_{corpus}",
            max_chars=32,
            placeholder="e.g. yor",
        ).strip()
        new_corpus = st.text_input(
            "New corpus",
            value=default_name(corpus, mode, to_lang),
            key=f"translate_new_{mode}_{corpus}_{to_lang}",
            max_chars=200,
        ).strip()
    with right:
        source = st.segmented_control(
            "Translations from", [MODEL, FILE], default=MODEL, required=True, key="translate_source"
        )
        markers = mode == "train" and st.checkbox(
            "EasyProject markers",
            key="translate_markers",
            help="Translate with the entities marked ([ ... ]) by an EasyProject model and read the projected "
            "entities back from the markers: a projection run of the new corpus, with no alignment.",
        )
        queue = mode == "train" and st.checkbox(
            "Then align, project and queue for review",
            key="translate_queue",
            help="Translate-train in one go: eflomal aligns the new corpus, the ngram method projects the source "
            "entities (with markers: the entities read from them) and the projection is queued on the Review page.",
        )
        languages_ok = language_feedback(
            translated_from(chosen, mode), to_lang, model=source == MODEL, file_choice=FILE
        )
        upload, translator, options, ready = None, "nllb", {}, True
        if source == MODEL:
            translator, options, ready = translator_inputs("translate", markers=markers)
        else:
            sentences = corpus_stats(store, corpus).sentences
            count = sum(sentences.get(f"{split}/{side}", 0) for split in chosen_splits)
            upload = translations_file("translate_file", count, markers=markers)
            ready = upload is not None
            if markers:  # EasyProject's matching options; the translations are given
                specs = [s for s in projection_options("easyproject") if s.name in ("min_similarity", "slack")]
                options = option_inputs(specs, "translate_file_easyproject")
    disabled = not (to_lang and new_corpus and chosen_splits and languages_ok and ready)
    if st.button("Translate", key="translate_run", type="primary", disabled=disabled):
        settings: dict[str, Any] = {
            "new_corpus": new_corpus,
            "to_lang": to_lang,
            "translator": translator,
            "markers": markers,
            "splits": None if chosen_splits == splits else chosen_splits,
            "created_by": reviewer,
        }
        if queue:
            run_translate_train_pipeline(store, corpus, upload, translator_options=options, **settings)
        else:
            run_translation(store, corpus, upload, mode=mode, options=options, **settings)
    report: TranslateReport | TranslateTrainReport | None = st.session_state.get(TRANSLATED)
    if isinstance(report, TranslateTrainReport):
        show_translation(report.translation, queued=report)
    elif report is not None:
        show_translation(report)


def run_and_keep(key: str, failure: str, work: Callable[[Callable[..., None]], Any], *, progress: Any) -> None:
    """Run ``work(on_progress)`` under ``progress`` (a progress-bar context manager), keep its report in the session
    under ``key`` and rerun the page, so that new corpora are listed everywhere; or show the error."""
    st.session_state.pop(key, None)
    try:
        with progress as on_progress:
            report = work(on_progress)
    except XnerError as error:
        show_error(error, failure)
        return
    st.session_state[key] = report
    st.rerun()


def run_translation(store: Store, corpus: str, upload: Upload | None, **settings: Any) -> None:
    """Translate a corpus, by model or from the uploaded file, under a progress bar."""

    def work(on_progress: Callable[..., None]) -> TranslateReport:
        if upload is None:
            return translate_corpus(store, corpus, on_progress=on_progress, **settings)
        return upload_translations(store, upload, corpus, on_progress=on_progress, **settings)

    run_and_keep(TRANSLATED, "Translation failed", work, progress=count_progress(f"translating {corpus}"))


def run_translate_train_pipeline(store: Store, corpus: str, upload: Upload | None, **settings: Any) -> None:
    """Translate, align, project and queue, under a progress bar per stage."""

    def work(on_progress: Callable[..., None]) -> TranslateTrainReport:
        if upload is None:
            return run_translate_train(store, corpus, on_progress=on_progress, **settings)
        return upload_translate_train(store, upload, corpus, on_progress=on_progress, **settings)

    run_and_keep(TRANSLATED, "Translate-train failed", work, progress=stage_progress(STAGES))


def show_translation(report: TranslateReport, queued: TranslateTrainReport | None = None) -> None:
    splits = ", ".join(f"{split} {n:,}" for split, n in report.splits.items())
    st.success(
        literal(
            f"Translated {report.pairs:,} sentences of {report.source} ({MODE_NAMES[report.mode]}) into the new "
            f"parallel corpus {report.corpus}: {report.src_lang} → {report.tgt_lang}, by {report.translator} "
            f"(splits: {splits}; {report.seconds:.1f} s)."
        )
    )
    if queued is not None:
        found = ", ".join(f"{label} {n}" for label, n in queued.entities.items()) or "none"
        over = f" over alignment run {queued.alignment_run}" if queued.alignment_run is not None else ""
        st.markdown(
            literal(
                f"Projection run {queued.projection_run}{over} (entities: {found}); {queued.queued:,} sentences "
                "queued: open the Review page."
            )
        )
        return
    if report.projection_run is not None:
        found = ", ".join(f"{label} {n}" for label, n in report.entities.items()) or "none"
        st.markdown(
            literal(f"Entities read from the markers: projection run {report.projection_run} (entities: {found}).")
        )
    after = {
        "train": "Next: align and project it on the home page (Align & project), then review and export.",
        "test": "Next: the Translate-test evaluation tab, with this corpus as the translate-test corpus.",
        "pivot": "Next: refine an alignment of the original corpus through it "
        f"(xner project --refine backtranslation --via {report.corpus}).",
    }
    st.caption(literal(after[report.mode]))


# --- translate-test evaluation ------------------------------------------------------------------------------------


def method_inputs(prefix: str) -> tuple[str, dict[str, object], bool]:
    """The projection method and its options; returns (method, options, ready)."""
    methods = projection_methods()
    method = st.selectbox("Projection method", methods, index=methods.index("ngram"), key=f"{prefix}_method")
    options = option_inputs(
        projection_options(method),
        f"{prefix}_{method}",
        PRIMARY_OPTIONS.get(method, ()),
        saved_models_only=method in TAGGER_MODEL,
    )
    if method in TAGGER_MODEL:
        st.caption(f"Model: a saved {TAGGER_MODEL[method]} tagger (trained on the Training page or `xner train`).")
        return method, options, bool(options.get("model"))
    return method, options, models_ready(options)


def aligner_inputs(prefix: str) -> tuple[str, dict[str, object], bool]:
    """The aligner and its options; returns (aligner, options, ready). Neural aligners need a model folder."""
    names = aligner_names()
    aligner = st.selectbox("Aligner", names, index=names.index("eflomal"), key=f"{prefix}_aligner")
    specs = aligner_options(aligner)
    if aligner != "eflomal":  # neural aligners: a local model, never a download
        specs = [OptionSpec(s.name, s.kind, "", s.choices, s.help) if s.name == "model" else s for s in specs]
        st.caption("Model: a saved model (see Files on the Training page) or a hub name already in the local cache.")
    options = option_inputs(specs, f"{prefix}_{aligner}", PRIMARY_OPTIONS.get(aligner, ()))
    return aligner, options, (aligner == "eflomal" or bool(options.get("model"))) and models_ready(options)


def translate_test_section(store: Store, corpora: list[CorpusInfo], reviewer: str) -> None:
    st.caption(
        "The paper's compare-to-original protocol: a labelled corpus in the target language is translated (into "
        "English), the translations are tagged by a source-language tagger, aligned with the original, and the "
        "entities projected back onto the original tokens are scored against its gold. Everything is stored and "
        "reused: run again with another method and the translations (and the alignment) are not redone."
    )
    chosen = corpus_select(corpora, "translate_test_corpus")
    corpus = chosen.name
    side = translated_side(chosen.kind, "test")
    names = {c.name for c in corpora}
    left, right = st.columns(2)
    with left:
        to_lang = st.text_input("Translate into", value="en", key="translate_test_to", max_chars=32).strip()
        parallel = st.text_input(
            "Translate-test corpus",
            value=default_parallel_name(corpus, to_lang or "en"),
            key=f"translate_test_parallel_{corpus}_{to_lang}",
            max_chars=200,
            help="The translations and the original, as a parallel corpus; reused when it exists.",
        ).strip()
        splits = export_choices(store, corpus).splits[side]
        chosen_splits = st.multiselect("Splits", splits, default=splits, key=f"translate_test_splits_{corpus}")
        upload, translator, options, ready = None, None, {}, True
        model = False
        if parallel in names:
            made = "; ".join(f"{split}: {how}" for split, how in translations_made(store, parallel).items())
            st.caption(literal(f"{parallel} exists: its translations are reused ({made or 'not a translation'})."))
        else:
            source = st.segmented_control(
                "Translations from", [MODEL, FILE], default=MODEL, required=True, key="translate_test_source"
            )
            model = source == MODEL
            ready = language_feedback(translated_from(chosen, "test"), to_lang, model=model, file_choice=FILE)
            if model:
                translator, options, found = translator_inputs("translate_test", markers=False)
                ready = ready and found
            else:
                count = sum(corpus_stats(store, corpus).sentences.get(f"{s}/{side}", 0) for s in chosen_splits)
                upload = translations_file("translate_test_file", count)
                ready = ready and upload is not None
        tagger = model_input(
            "Source-language tagger",
            "translate_test_tagger",
            hub=False,
            help="A saved tagger (Training page or `xner train`) that tags the translations. Choose (none) to use "
            "the entities that came with a CoNLL file of translations (e.g. the English gold of a parallel NER set).",
        )
        if model and not tagger:
            st.caption("Translations made by a model carry no entities: give a tagger to tag them.")
    with right:
        method, method_options, method_ready = method_inputs("translate_test")
        aligner, aligner_opts, aligner_ready = "eflomal", {}, True
        if needs_alignment(method):
            aligner, aligner_opts, aligner_ready = aligner_inputs("translate_test")
        else:
            st.caption(literal(f"The {method} method uses no alignment."))
        labels, default = label_choices(store, corpus)
        chosen_labels = st.multiselect(
            "Labels to score", labels, default=default, key=f"translate_test_labels_{corpus}"
        )
    ready = ready and method_ready and aligner_ready and bool(parallel and to_lang and chosen_splits)
    ready = ready and not (model and not tagger)
    if st.button("Run translate-test", key="translate_test_run", type="primary", disabled=not ready):
        run_evaluation(
            store,
            corpus,
            upload,
            tagger=tagger or None,
            to_lang=to_lang,
            parallel=parallel,
            translator=translator,
            translator_options=options,
            aligner=aligner,
            aligner_options=aligner_opts,
            method=method,
            method_options=method_options,
            labels=chosen_labels or None,
            splits=None if chosen_splits == splits else chosen_splits,
            created_by=reviewer,
        )
    report: TranslateTestReport | None = st.session_state.get(TESTED)
    if report is not None:
        show_evaluation(report)


def run_evaluation(store: Store, corpus: str, upload: Upload | None, **settings: Any) -> None:
    """Run translate-test under a progress bar per stage."""

    def work(on_progress: Callable[..., None]) -> TranslateTestReport:
        if upload is None:
            return run_translate_test(store, corpus, on_progress=on_progress, **settings)
        return upload_translate_test(store, upload, corpus, on_progress=on_progress, **settings)

    run_and_keep(TESTED, "Translate-test failed", work, progress=stage_progress(STAGES))


def show_evaluation(report: TranslateTestReport) -> None:
    overall = report.evaluation.scores.get("overall", {})
    st.success(
        literal(
            f"Translate-test of {report.corpus} with {report.method}: F1 {overall.get('f1', 0.0):.3f} over "
            f"{report.evaluation.pairs:,} sentences ({report.seconds:.1f} s)."
        )
    )
    scores_table(report.evaluation.scores, "translate_test_scores")
    translated = "translated now" if report.translated else "reused"
    if report.alignment_run is None:
        aligned = "no alignment (the method uses none)"
    else:
        aligned = f"alignment run {report.alignment_run} ({'aligned now' if report.aligned else 'reused'})"
    labels = ", ".join(report.evaluation.labels or []) or "all labels"
    st.caption(
        literal(
            f"Translations: {report.parallel} ({translated}); {aligned}; projection run {report.projection_run}; "
            f"scored on {labels}."
        )
    )


# --- model transfer -----------------------------------------------------------------------------------------------


def transfer_section(store: Store, corpora: list[CorpusInfo]) -> None:
    st.caption(
        "The model-transfer baseline: a tagger trained on another language (English, say) scored directly on the "
        "labelled sentences of the target language, with no translation and no projection."
    )
    chosen = corpus_select(corpora, "translate_transfer_corpus")
    corpus = chosen.name
    choices = export_choices(store, corpus)
    left, right = st.columns(2)
    with left:
        side = side_select(chosen, choices.sides, f"translate_transfer_side_{choices.kind}")
        splits = choices.splits[side]
        chosen_splits = st.multiselect(
            "Splits", splits, default=splits, key=f"translate_transfer_splits_{corpus}_{side}"
        )
    with right:
        tagger = model_input(
            "Tagger",
            "translate_transfer_tagger",
            hub=False,
            help="A saved tagger (Training page or `xner train`), usually trained on another language.",
        )
        labels, default = label_choices(store, corpus)
        chosen_labels = st.multiselect(
            "Labels to score", labels, default=default, key=f"translate_transfer_labels_{corpus}"
        )
    ready = bool(tagger and chosen_splits)
    if st.button("Score the tagger", key="translate_transfer_run", type="primary", disabled=not ready):
        st.session_state.pop(TRANSFERRED, None)
        try:
            with st.spinner("tagging and scoring"):
                st.session_state[TRANSFERRED] = evaluate_tagger_on(
                    store, corpus, tagger=tagger, side=side, splits=chosen_splits, labels=chosen_labels or None
                )
        except XnerError as error:
            show_error(error, "Scoring failed")
    result: TaggerEvaluation | None = st.session_state.get(TRANSFERRED)
    if result is not None:
        show_transfer(result)


def show_transfer(result: TaggerEvaluation) -> None:
    overall = result.scores.get("overall", {})
    where = result.corpus if result.side == Side.MONO else f"{result.corpus}/{result.side}"
    st.success(
        literal(
            f"Model transfer: {app_folder().shorten(result.tagger)} on {where} "
            f"({', '.join(result.splits or ['all splits'])}, "
            f"{result.sentences:,} sentences): F1 {overall.get('f1', 0.0):.3f}."
        )
    )
    scores_table(result.scores, "translate_transfer_scores")
    st.caption(literal(f"Scored on {', '.join(result.labels or []) or 'all labels'}."))


# --- the page -----------------------------------------------------------------------------------------------------

with page_guard():  # the error boundary (also under app.py's)
    st.set_page_config(page_title="Translate · xner", page_icon="🔤", layout="wide")
    store = get_store()
    reviewer = reviewer_sidebar()
    st.title("Translate")
    st.caption(
        "Machine translation for projection: translate a labelled corpus (or read translations made elsewhere from a "
        "file), evaluate by translate-test, and compare with the model-transfer baseline."
    )
    corpora = list_corpus_info(store)
    if not corpora:
        st.info("No corpora yet: import one on the home page or with `xner import`.")
        st.stop()
    translate_tab, test_tab, transfer_tab = st.tabs(
        ["Translate a corpus", "Translate-test evaluation", "Model transfer"]
    )
    with translate_tab:
        translate_section(store, corpora, reviewer)
    with test_tab:
        translate_test_section(store, corpora, reviewer)
    with transfer_tab:
        transfer_section(store, corpora)
