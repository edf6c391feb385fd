"""The home page's *Import files* tab: a CoNLL (or JSONL) corpus, parallel text (two files or one) or alignments
(Pharaoh), uploaded and imported through :mod:`xner.ui.uploads` (the CLI's importers and checks) under a byte
progress bar; the result, or the error with its file and line, shows in the tab. Widget keys start with ``home_``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import streamlit as st

from xner.errors import XnerError
from xner.services.corpora import CorpusStats
from xner.services.importing import DEFAULT_SPLIT, SPLIT_NAMES, ImportReport, split_from_name
from xner.types import CorpusKind, ProgressFn
from xner.ui.messages import flash, show_error, show_flashes
from xner.ui.support import Store, count_progress
from xner.ui.uploads import MAX_UPLOAD_MB, as_upload, upload_alignments, upload_corpus, upload_parallel


@contextmanager
def byte_progress(label: str) -> Iterator[ProgressFn]:
    """A progress bar fed with (read so far, total size) (the importers' ``on_progress``), removed afterwards."""
    with count_progress(label) as update:
        yield update


def import_summary(report: ImportReport) -> str:
    if report.run_id is not None:
        return (
            f"Imported alignments of {report.pairs} pairs into {report.corpus}, split {report.split}, as alignment "
            f"run {report.run_id}."
        )
    what = f"{report.pairs} pairs" if report.pairs else f"{report.sentences} sentences"
    entities = ", ".join(f"{label} {n}" for label, n in sorted(report.entities.items())) or "no entities"
    return f"Imported {what} into {report.corpus}, split {report.split} ({entities})."


def parse_labels(text: str) -> list[str] | None:
    return [label.strip() for label in text.split(",") if label.strip()] or None


def split_input(key: str, *names: str | None) -> str:
    """The split of an import: a field pre-filled from the chosen file's name (:func:`split_from_name`; train when
    it names none), set again whenever another file is chosen, and always shown so the user sees it."""
    chosen = " | ".join(name or "" for name in names)
    if any(names) and st.session_state.get(f"{key}_for") != chosen:
        hinted = next(filter(None, (split_from_name(name) for name in names if name)), None)
        st.session_state[key] = hinted or DEFAULT_SPLIT
        st.session_state[f"{key}_hinted"] = hinted is not None
    st.session_state[f"{key}_for"] = chosen
    split = st.selectbox("Split", SPLIT_NAMES, key=key)
    if any(names):
        st.caption("From the file name." if st.session_state.get(f"{key}_hinted") else "The file name names no split.")
    return split


def import_section(store: Store, corpora: list[CorpusStats], reviewer: str) -> None:
    st.caption(
        f"UTF-8 text files up to {MAX_UPLOAD_MB} MB; larger ones with `xner import`. An import shows nowhere until "
        "it is complete, and reviewers can keep working meanwhile; a file with an error adds nothing."
    )
    kind = st.segmented_control(
        "What to import",
        ["CoNLL corpus", "Parallel text", "Alignments"],
        default="CoNLL corpus",
        key="home_import_kind",
    )
    if kind == "Parallel text":
        parallel_import(store)
    elif kind == "Alignments":
        alignment_import(store, [c.name for c in corpora if c.kind == CorpusKind.PARALLEL], reviewer)
    else:
        conll_import(store)
    show_flashes("import")


def conll_import(store: Store) -> None:
    file = st.file_uploader("CoNLL file (TOKEN TAG per line; .jsonl for JSONL)", key="home_conll_file")
    left, right = st.columns(2)
    corpus = left.text_input("Corpus name", key="home_conll_corpus", max_chars=200).strip()
    lang = right.text_input("Language code", key="home_conll_lang", max_chars=32, placeholder="e.g. yor").strip()
    left, right = st.columns(2)
    with left:
        split = split_input("home_conll_split", file.name if file is not None else None)
    scheme = right.selectbox("Tagging scheme", ["auto", "iob2", "iob1", "bioes", "bilou"], key="home_conll_scheme")
    labels = st.text_input("Label set (optional, comma-separated)", key="home_conll_labels", placeholder="PER,ORG,LOC")
    append = st.checkbox("Append to a split that already has sentences", key="home_conll_append")
    ready = file is not None and corpus and lang
    if not st.button("Import corpus", key="home_conll_import", type="primary", disabled=not ready):
        return
    upload = as_upload(file)
    assert upload is not None
    run_import(
        upload.name,
        upload_corpus,
        store,
        upload,
        corpus=corpus,
        lang=lang,
        split=split,
        labels=parse_labels(labels),
        scheme=scheme,
        append=append,
    )


def parallel_import(store: Store) -> None:
    layout = st.radio(
        "Layout",
        ["Two files (source, target)", "One file (source<TAB>target or source ||| target)"],
        key="home_parallel_layout",
        horizontal=True,
    )
    two = layout.startswith("Two")
    left, right = st.columns(2)
    src_file = left.file_uploader("Source side" if two else "Parallel file", key="home_parallel_src")
    tgt_file = right.file_uploader("Target side", key="home_parallel_tgt") if two else None
    left, mid, right = st.columns(3)
    corpus = left.text_input("Corpus name", key="home_parallel_corpus", max_chars=200).strip()
    src_lang = mid.text_input("Source language", value="en", key="home_parallel_src_lang", max_chars=32).strip()
    tgt_lang = right.text_input("Target language", key="home_parallel_tgt_lang", max_chars=32).strip()
    formats = ["auto", "text", "conll"]
    left, mid, right = st.columns(3)
    src_format = left.selectbox("Source format", formats, key="home_parallel_src_format", disabled=not two)
    tgt_format = mid.selectbox("Target format", formats, key="home_parallel_tgt_format", disabled=not two)
    with right:
        names = (src_file.name if src_file is not None else None, tgt_file.name if tgt_file is not None else None)
        split = split_input("home_parallel_split", *names)
    pretokenized = st.checkbox(
        "Plain text is already tokenised (split on spaces only)", key="home_parallel_pretokenized"
    )
    labels = st.text_input(
        "Label set (optional, comma-separated)", key="home_parallel_labels", placeholder="PER,ORG,LOC,DATE"
    )
    append = st.checkbox("Append to a split that already has pairs", key="home_parallel_append")
    ready = src_file is not None and (tgt_file is not None or not two) and corpus and src_lang and tgt_lang
    if not st.button("Import parallel text", key="home_parallel_import", type="primary", disabled=not ready):
        return
    src, tgt = as_upload(src_file), as_upload(tgt_file)
    assert src is not None
    run_import(
        src.name,
        upload_parallel,
        store,
        src,
        tgt,
        corpus=corpus,
        src_lang=src_lang,
        tgt_lang=tgt_lang,
        src_format=src_format,
        tgt_format=tgt_format,
        pretokenized=pretokenized,
        split=split,
        labels=parse_labels(labels),
        append=append,
    )


def alignment_import(store: Store, parallel: list[str], reviewer: str) -> None:
    if not parallel:
        st.info("Alignments go into a parallel corpus: import parallel text first.")
        return
    file = st.file_uploader("Pharaoh file (one line per sentence pair: 0-0 1-2 ...)", key="home_align_file")
    left, mid, right = st.columns(3)
    corpus = left.selectbox("Into corpus", parallel, key="home_align_corpus")
    aligner = mid.text_input("Run name (aligner)", value="uploaded", key="home_align_name", max_chars=64)
    base = right.radio(
        "Index base", [0, 1], key="home_align_base", horizontal=True, help="0 for aligner output, 1 for most gold sets."
    )
    if file is not None and st.session_state.get("home_align_split_for") != file.name:  # a new file: its name's split
        st.session_state["home_align_split"] = split_from_name(file.name) or ""
    st.session_state["home_align_split_for"] = file.name if file is not None else None
    split = st.text_input("Split (empty: the corpus's only split)", key="home_align_split").strip() or None
    if not st.button("Import alignments", key="home_align_import", type="primary", disabled=file is None):
        return
    upload = as_upload(file)
    assert upload is not None
    run_import(
        upload.name,
        upload_alignments,
        store,
        upload,
        corpus=corpus,
        aligner=aligner,
        split=split,
        index_base=int(base),
        created_by=reviewer,
    )


def run_import(name: str, importer: Callable[..., ImportReport], *args: Any, **kwargs: Any) -> None:
    """Run an upload importer under a byte progress bar; show its report, or its error (file, line, reason)."""
    try:
        with byte_progress(f"importing {name} (bytes)") as on_bytes:
            report = importer(*args, on_progress=on_bytes, **kwargs)
    except XnerError as error:
        show_error(error)
        return
    finish_import(report)


def finish_import(report: ImportReport) -> None:
    flash("import", "success", import_summary(report))
    for warning in report.warnings:
        flash("import", "warning", warning)
    st.rerun()
