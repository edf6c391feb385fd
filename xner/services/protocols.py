"""The translation protocols in one call each: translate-train and translate-test (method notes §5).

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
method and the translation (and, for the same aligner, the alignment) is reused.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from xner.engine.align import TokenPair
from xner.engine.project import PROJECTORS
from xner.errors import UnknownNameError, XnerError
from xner.formats.parallel import SideOptions
from xner.services.aligning import align_corpus
from xner.services.corpora import get_corpus
from xner.services.evaluating import ProjectionEvaluation, evaluate_projection
from xner.services.projecting import ProjectReport, project_corpus
from xner.services.review import queue_projection
from xner.services.translating import TranslateReport, translate_corpus
from xner.store.db import Store
from xner.store.models import AlignmentRun, Corpus, Entity, Sentence

StageProgress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass
class TranslateTestReport:
    corpus: str  # the labelled target-language corpus
    parallel: str  # its translate-test corpus (translation → original)
    translated: bool  # False when an existing translate-test corpus was reused
    alignment_run: int | None  # None for methods without alignment
    aligned: bool  # False when an alignment run of the same aligner was reused
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
    translator: str = "nllb",
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
        parallel: name of the translate-test corpus (default ``<corpus>.translate-test.<to_lang>``); reused when
            it exists.
        translator, translator_options, translations, translations_options, translations_name: as for
            :func:`~xner.services.translating.translate_corpus`.
        aligner, aligner_options, extra: as for :func:`~xner.services.aligning.align_corpus`; an alignment run
            of the parallel corpus made by ``aligner`` is reused.
        method, method_options: the projection method (``ngram``, ``heuristic``, ``easyproject``,
            ``model-transfer``...) and its options.
        labels: score only these labels (e.g. PER, ORG, LOC).
        on_progress: called with (stage, done, total); stages ``translate``, ``align``, ``project``.
    """
    if method not in PROJECTORS:
        raise UnknownNameError("projection method", method, PROJECTORS)
    started = time.perf_counter()
    name = parallel or default_parallel_name(corpus, to_lang)
    translated = not _exists(store, name)
    if translated:
        translate_corpus(
            store,
            corpus,
            new_corpus=name,
            mode="test",
            to_lang=to_lang,
            translator=translator,
            options=translator_options,
            translations=translations,
            translations_options=translations_options,
            translations_name=translations_name,
            splits=splits,
            created_by=created_by,
            on_progress=_stage(on_progress, "translate"),
        )
    if tagger is None and method != "model-transfer" and not _has_source_entities(store, name):
        raise XnerError(
            f"the translations in corpus {name!r} carry no entities to project: give a source-language tagger "
            "(--tagger, from `xner train`), or translations in CoNLL with their entities"
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
        created_by=created_by,
        on_progress=on_progress,
    )
    evaluation = evaluate_projection(store, name, run_id=projected.run_id, labels=labels)
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
    created_by: str,
    on_progress: StageProgress | None,
) -> tuple[int | None, bool, ProjectReport]:
    """Align ``corpus`` (reusing its newest run of ``aligner``; nothing for methods without alignment) and project.

    Returns (alignment run or None, whether it was aligned now, the projection report).
    """
    aligned, alignment_run = False, None
    if getattr(PROJECTORS[method], "needs_alignment", True):
        alignment_run = _alignment_run(store, corpus, aligner)
        if alignment_run is None:
            alignment_run = align_corpus(
                store,
                corpus,
                aligner=aligner,
                options=aligner_options,
                extra=extra,
                created_by=created_by,
                on_progress=_stage(on_progress, "align"),
            ).run_id
            aligned = True
    projected = project_corpus(
        store,
        corpus,
        method=method,
        options=method_options,
        alignment_run=alignment_run,
        source_tagger=source_tagger,
        created_by=created_by,
        on_progress=_stage(on_progress, "project"),
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
    if not markers and method not in PROJECTORS:
        raise UnknownNameError("projection method", method, PROJECTORS)
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
        on_progress=_stage(on_progress, "translate"),
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
            created_by=created_by,
            on_progress=on_progress,
        )
        run, entities = projected.run_id, projected.entities
    queued = queue_projection(store, new_corpus, run, created_by=created_by).queued
    seconds = round(time.perf_counter() - started, 3)
    return TranslateTrainReport(translation, alignment_run, run, entities, queued, seconds)


def _stage(on_progress: StageProgress | None, stage: str) -> Callable[[int, int], None] | None:
    return (lambda done, total: on_progress(stage, done, total)) if on_progress else None


def _exists(store: Store, name: str) -> bool:
    with store.session() as session:
        found = session.scalars(select(Corpus).where(Corpus.name == name)).one_or_none()
        if found is not None and found.kind != "parallel":
            raise XnerError(f"corpus {name!r} exists and is monolingual: choose another name for the translations")
        return found is not None


def _has_source_entities(store: Store, corpus: str) -> bool:
    with store.session() as session:
        found = get_corpus(session, corpus)
        query = (
            select(Entity.id)
            .join(Sentence, Sentence.id == Entity.sentence_id)
            .where(Entity.corpus_id == found.id, Sentence.side == "src")
            .limit(1)
        )
        return session.scalar(query) is not None


def _alignment_run(store: Store, corpus: str, aligner: str) -> int | None:
    """The newest alignment run of ``corpus`` made by ``aligner``, or None."""
    with store.session() as session:
        found = get_corpus(session, corpus)
        return session.scalars(
            select(AlignmentRun.id)
            .where(AlignmentRun.corpus_id == found.id, AlignmentRun.aligner == aligner)
            .order_by(AlignmentRun.id.desc())
            .limit(1)
        ).one_or_none()
