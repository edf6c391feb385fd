"""The translation workflows in one call each: translate-train and translate-test (the protocols of method notes §5).

Translate-train (:func:`run_translate_train`): a labelled English corpus is translated into the target language,
aligned, its entities projected onto the translations and the projection queued for review: projected data ready
for review and training.

Translate-test (:func:`run_translate_test`, the paper's "compare to original"): a labelled corpus in the target
language (say the MasakhaNER 2.0 test split) is translated into English (or taken from a file of translations),
the English side is tagged by an English tagger, aligned with the original, and the English entities are projected
back onto the original tokens; the projection is scored against the original's gold.

Each step is the ordinary use case (:func:`~xner.services.translating.translate_corpus`,
:func:`~xner.services.aligning.align_corpus`, :func:`~xner.services.projecting.project_corpus`,
:func:`~xner.services.evaluating.evaluate_projection`), and everything is stored: the translated corpus, its
alignment and projection runs stay in the database to review or compare. Run translate-test again with another
method and the translation is reused when it answers the same request (the corpus's recorded provenance: same
source corpus and splits, and the same translator and options or the same file), and so is an alignment run made
with the same aligner, options and extra text; a different request under the same name is an error, never a
silent reuse.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xner.engine.align import ALIGNERS, TokenPair
from xner.engine.project import PROJECTORS
from xner.engine.translate import TRANSLATORS
from xner.errors import XnerError
from xner.formats.parallel import SideOptions
from xner.options import describe, same_output
from xner.services.aligning import align_corpus, find_alignment_run
from xner.services.corpora import find_corpus, get_corpus
from xner.services.evaluating import ProjectionEvaluation, evaluate_projection
from xner.services.exporting import splits_in_import_order
from xner.services.projecting import ProjectReport, check_projection, project_corpus
from xner.services.review import queue_projection
from xner.services.translating import (
    IMPORTED,
    TranslateReport,
    file_digest,
    translate_corpus,
    translated_side,
    translation_provenance,
)
from xner.store.db import Store
from xner.store.queries.corpora import has_side_entities
from xner.types import CorpusKind, Side, StageProgress, stage_progress


@dataclass
class TranslateTestReport:
    corpus: str  # the labelled target-language corpus
    parallel: str  # its translate-test corpus (translation → original)
    translated: bool  # False when the translations of an existing translate-test corpus were reused
    alignment_run: int | None  # None for methods without alignment
    aligned: bool  # False when an alignment run made the same way was reused
    projection_run: int
    method: str
    evaluation: ProjectionEvaluation
    seconds: float = 0.0


def default_parallel_name(corpus: str, to_lang: str) -> str:
    return f"{corpus}.translate-test.{to_lang}"


def run_translate_test(
    store: Store,
    corpus: str,
    *,
    tagger: str | Path | None,
    to_lang: str = "en",
    parallel: str | None = None,
    translator: str | None = None,
    translator_options: Mapping[str, Any] | None = None,
    translations: str | Path | None = None,
    translations_options: SideOptions | None = None,
    translations_name: str | None = None,
    aligner: str = "eflomal",
    aligner_options: Mapping[str, Any] | None = None,
    extra: Sequence[TokenPair] = (),
    method: str = "ngram",
    method_options: Mapping[str, Any] | None = None,
    labels: Collection[str] | None = None,
    splits: Collection[str] | None = None,
    created_by: str = "",
    on_progress: StageProgress | None = None,
) -> TranslateTestReport:
    """Translate (or reuse), align (or reuse), project back with ``method`` and score against the gold of ``corpus``.

    Args:
        tagger: a saved source-language tagger (``xner train``) that tags the translations; None uses entities
            that came with a translations file in CoNLL (e.g. the English gold of a parallel NER set).
        parallel: name of the translate-test corpus (default ``<corpus>.translate-test.<to_lang>``). When it
            exists its translations are reused if they are translations of these ``splits`` of ``corpus`` made by
            ``translator`` with ``translator_options`` (or read from the same ``translations`` file): the corpus
            records how it was made. Anything else is an error.
        translator: ``nllb`` or ``ctranslate2``; None: whichever made the existing translate-test corpus, else
            ``nllb``. ``translator_options``, ``translations``, ``translations_options``, ``translations_name``: as
            for :func:`~xner.services.translating.translate_corpus`.
        aligner, aligner_options, extra: as for :func:`~xner.services.aligning.align_corpus`; an alignment run of
            the whole translate-test corpus made with the same aligner, options and extra text is reused.
        method, method_options: the projection method (``ngram``, ``heuristic``, ``easyproject``,
            ``model-transfer``...) and its options.
        labels: score only these labels (e.g. PER, ORG, LOC).
        splits: only these splits of ``corpus`` (default: all).
        on_progress: called with (stage, done, total); stages ``translate``, ``align``, ``project``.

    Raises:
        XnerError: before anything is translated: a bad method, option, tagger folder or split, an existing
            translate-test corpus that answers another request, or translations by a model with no tagger to tag
            them; after reading a translations file (nothing stored): a file without entities and no tagger.
    """
    needs_entities = _check_pipeline(method, method_options, tagger, aligner, aligner_options)
    started = time.perf_counter()
    name = parallel or default_parallel_name(corpus, to_lang)
    asked = _asked(translator, translator_options, translations, translations_name)
    translated = not _reusable(store, name, corpus, to_lang, splits, asked)
    untagged = tagger is None and needs_entities
    if translated:
        if untagged and translations is None:
            raise XnerError(
                "translations made by a model carry no entities: give a source-language tagger (--tagger, from "
                "`xner train`) to tag them, or a CoNLL file of translations with their entities"
            )
        translate_corpus(
            store,
            corpus,
            new_corpus=name,
            mode="test",
            to_lang=to_lang,
            translator=translator or "nllb",
            options=translator_options,
            translations=translations,
            translations_options=translations_options,
            translations_name=translations_name,
            splits=splits,
            require_entities=untagged,
            created_by=created_by,
            on_progress=stage_progress(on_progress, "translate"),
        )
    elif untagged and not _has_source_entities(store, name):
        raise XnerError(
            f"the translations in corpus {name!r} carry no entities to project: give a source-language tagger "
            "(--tagger, from `xner train`) to tag them"
        )
    alignment_run, aligned, projected = align_and_project(
        store,
        name,
        aligner=aligner,
        aligner_options=aligner_options,
        extra=extra,
        method=method,
        method_options=method_options,
        source_tagger=tagger,
        splits=splits,
        reuse_alignment=True,
        created_by=created_by,
        on_progress=on_progress,
    )
    evaluation = evaluate_projection(store, name, run_id=projected.run_id, labels=labels, splits=splits)
    return TranslateTestReport(
        corpus,
        name,
        translated,
        alignment_run,
        aligned,
        projected.run_id,
        method,
        evaluation,
        round(time.perf_counter() - started, 3),
    )


def _check_pipeline(
    method: str,
    method_options: Mapping[str, Any] | None,
    tagger: str | Path | None,
    aligner: str,
    aligner_options: Mapping[str, Any] | None,
) -> bool:
    """Check the later steps' inputs before translating; returns whether ``method`` projects source entities."""
    projector = PROJECTORS.lookup(method)
    check_projection(method, method_options, tagger)
    if projector.needs_alignment:
        ALIGNERS.create(aligner, aligner_options)
    return projector.needs_source_entities


def _reusable(
    store: Store,
    name: str,
    corpus: str,
    to_lang: str,
    splits: Collection[str] | None,
    asked: Mapping[str, Any] | None,
) -> bool:
    """Whether translate-test corpus ``name`` exists and holds the translations asked for (False: it is new).

    Raises:
        XnerError: ``name`` exists but is not the translate-test of ``splits`` of ``corpus`` into ``to_lang``, or
            was translated another way than ``asked`` (see :func:`_asked`; None: any way).
    """
    other_name = "choose another name for the translate-test corpus (--parallel)"
    with store.session() as session:
        found = find_corpus(session, name)
        if found is None:
            return False
        made = translation_provenance(found)
        source = get_corpus(session, corpus)
        wanted = (
            list(splits) if splits else splits_in_import_order(session, source, translated_side(source.kind, "test"))
        )
        if found.kind != CorpusKind.PARALLEL or found.src_lang != to_lang:
            raise XnerError(f"corpus {name!r} exists and is not a translation into {to_lang!r}: {other_name}")
    for split in wanted:
        entry = made.get(split)
        if entry is None or entry.get("source") != corpus or entry.get("mode") != "test":
            raise XnerError(
                f"corpus {name!r} exists but holds no translate-test translations of split {split!r} of "
                f"{corpus!r}: {other_name}"
            )
        if asked is not None and not _same_translations(entry, asked):
            raise XnerError(
                f"corpus {name!r} holds translations of split {split!r} {_made_by(entry)}, not "
                f"{_made_by(asked)}: leave the translator and the translations out to reuse them, or {other_name}"
            )
    return True


def _asked(
    translator: str | None,
    options: Mapping[str, Any] | None,
    translations: str | Path | None,
    translations_name: str | None,
) -> dict[str, Any] | None:
    """How the caller asked for the translations to be made, as a provenance entry; None: not said."""
    if translations is not None:
        shown = translations_name or str(translations)
        return {"translator": IMPORTED, "params": {"file": shown, "sha256": file_digest(translations)}}
    if translator is None:
        if options:
            raise XnerError("translator options need a translator (nllb or ctranslate2)")
        return None
    return {"translator": translator, "params": describe(TRANSLATORS.create(translator, options))}


def _same_translations(entry: Mapping[str, Any], asked: Mapping[str, Any]) -> bool:
    if entry.get("translator") != asked["translator"]:
        return False
    if asked["translator"] == IMPORTED:
        return entry["params"].get("sha256") == asked["params"]["sha256"]
    return same_output(entry.get("params") or {}, asked["params"])


def translations_made(store: Store, name: str) -> dict[str, str]:
    """Per split of corpus ``name``, how its translations were made ("read from 'en.conll'", "by nllb (...)");
    empty for a corpus xner did not translate (or none named ``name``)."""
    with store.session() as session:
        found = find_corpus(session, name)
        made = translation_provenance(found) if found is not None else {}
    return {split: _made_by(entry) for split, entry in made.items()}


def _made_by(entry: Mapping[str, Any]) -> str:
    params = entry.get("params") or {}
    if entry.get("translator") == IMPORTED:
        return f"read from {params.get('file')!r}"
    shown = ", ".join(f"{key}={value}" for key, value in params.items())
    return f"by {entry.get('translator')} ({shown})"


def align_and_project(
    store: Store,
    corpus: str,
    *,
    aligner: str,
    aligner_options: Mapping[str, Any] | None,
    extra: Sequence[TokenPair],
    method: str,
    method_options: Mapping[str, Any] | None,
    source_tagger: str | Path | None,
    splits: Collection[str] | None,
    reuse_alignment: bool,
    created_by: str,
    on_progress: StageProgress | None,
) -> tuple[int | None, bool, ProjectReport]:
    """Align ``corpus`` (nothing for methods without alignment) and project ``splits`` (default: all) of it.

    With ``reuse_alignment`` an alignment run of the whole corpus made the same way is reused (see
    :func:`~xner.services.aligning.find_alignment_run`), else a new one is made over the whole corpus; without,
    ``splits`` are aligned afresh. Returns (alignment run or None, whether it was aligned now, the projection report).
    """
    aligned, alignment_run = False, None
    if PROJECTORS.lookup(method).needs_alignment:
        if reuse_alignment:
            alignment_run = find_alignment_run(store, corpus, aligner=aligner, options=aligner_options, extra=extra)
        if alignment_run is None:
            alignment_run = align_corpus(
                store,
                corpus,
                aligner=aligner,
                options=aligner_options,
                extra=extra,
                splits=None if reuse_alignment else splits,
                created_by=created_by,
                on_progress=stage_progress(on_progress, "align"),
            ).run_id
            aligned = True
    projected = project_corpus(
        store,
        corpus,
        method=method,
        options=method_options,
        alignment_run=alignment_run,
        splits=splits,
        source_tagger=source_tagger,
        created_by=created_by,
        on_progress=stage_progress(on_progress, "project"),
    )
    return alignment_run, aligned, projected


@dataclass
class TranslateTrainReport:
    translation: TranslateReport
    alignment_run: int | None  # None for the markers path (and methods without alignment)
    projection_run: int
    entities: dict[str, int]  # projected entities per label
    queued: int  # target sentences queued for review
    seconds: float = 0.0


def run_translate_train(
    store: Store,
    corpus: str,
    *,
    new_corpus: str,
    to_lang: str,
    translator: str = "nllb",
    translator_options: Mapping[str, Any] | None = None,
    translations: str | Path | None = None,
    translations_options: SideOptions | None = None,
    translations_name: str | None = None,
    markers: bool = False,
    aligner: str = "eflomal",
    aligner_options: Mapping[str, Any] | None = None,
    extra: Sequence[TokenPair] = (),
    method: str = "ngram",
    method_options: Mapping[str, Any] | None = None,
    source_tagger: str | Path | None = None,
    splits: Collection[str] | None = None,
    created_by: str = "",
    on_progress: StageProgress | None = None,
) -> TranslateTrainReport:
    """Translate ``corpus`` into ``new_corpus``, align, project its entities and queue the projection for review.

    With ``markers`` (EasyProject) the entities come from the markers of the translation: no alignment, no
    ``method``. Otherwise the source entities (gold, or ``source_tagger``'s) are projected with ``method`` over an
    alignment by ``aligner``. The other arguments are those of :func:`~xner.services.translating.translate_corpus`,
    :func:`~xner.services.aligning.align_corpus` and :func:`~xner.services.projecting.project_corpus`.
    """
    if not markers:
        _check_pipeline(method, method_options, source_tagger, aligner, aligner_options)
    started = time.perf_counter()
    translation = translate_corpus(
        store,
        corpus,
        new_corpus=new_corpus,
        mode="train",
        to_lang=to_lang,
        translator=translator,
        options=translator_options,
        translations=translations,
        translations_options=translations_options,
        translations_name=translations_name,
        markers=markers,
        splits=splits,
        created_by=created_by,
        on_progress=stage_progress(on_progress, "translate"),
    )
    if translation.projection_run is not None:
        alignment_run, run, entities = None, translation.projection_run, translation.entities
    else:
        alignment_run, _, projected = align_and_project(
            store,
            new_corpus,
            aligner=aligner,
            aligner_options=aligner_options,
            extra=extra,
            method=method,
            method_options=method_options,
            source_tagger=source_tagger,
            splits=sorted(translation.splits),  # the corpus may hold other splits, translated before
            reuse_alignment=False,
            created_by=created_by,
            on_progress=on_progress,
        )
        run, entities = projected.run_id, projected.entities
    queued = queue_projection(store, new_corpus, run, created_by=created_by).queued
    seconds = round(time.perf_counter() - started, 3)
    return TranslateTrainReport(translation, alignment_run, run, entities, queued, seconds)


def _has_source_entities(store: Store, corpus: str) -> bool:
    with store.session() as session:
        found = get_corpus(session, corpus)
        return has_side_entities(session, found.id, Side.SRC)
