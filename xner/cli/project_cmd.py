"""``xner project``: project the source entities onto the targets over an alignment run."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated

import typer

from xner.cli._util import (
    CorpusOpt,
    DbOpt,
    ExecutorOpt,
    JsonOpt,
    OptionsOpt,
    count_progress,
    emit,
    handle_errors,
    store_for,
)
from xner.engine.align.compose import REFINE_MODES
from xner.errors import UnknownNameError, XnerError
from xner.options import parse_assignments
from xner.services.executing import closing_executor, executor_for
from xner.services.projecting import project_corpus
from xner.services.refining import REFINED_ALIGNER, Refinement


@handle_errors
def project(
    corpus: CorpusOpt,
    method: Annotated[
        str,
        typer.Option(
            help="heuristic (García-Ferrero et al.), ngram (candidates + matching), model (tagger spans), and the "
            "baselines easyproject (marker translation, no aligner) and model-transfer (a source-language tagger "
            "on the target)."
        ),
    ] = "heuristic",
    option: OptionsOpt = None,
    alignment_run: Annotated[
        int | None, typer.Option("--alignment-run", "--run", help="Alignment run to use (default: the newest).")
    ] = None,
    split: Annotated[list[str] | None, typer.Option(help="Only this split. Repeatable.")] = None,
    source_tagger: Annotated[
        Path | None,
        typer.Option(help="Source entities from this tagger (a directory from `xner train`) instead of the gold."),
    ] = None,
    refine: Annotated[
        str | None,
        typer.Option(help="backtranslation: first refine the alignment run through the pivot sentences of --via."),
    ] = None,
    via: Annotated[
        str | None,
        typer.Option(
            help="Corpus pairing the same source sentences with pivots (back-translations, or another translation)."
        ),
    ] = None,
    combine: Annotated[
        str,
        typer.Option(help="How composed links join the direct ones: " + ", ".join(REFINE_MODES) + "."),
    ] = "fill",
    via_run: Annotated[
        int | None, typer.Option(help="Alignment run of --via to use as the source-pivot leg (default: align it).")
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="With --executor local: processes that read and project shards of the corpus (default: one per "
            "CPU, at most 8). Methods with a tagger or a translator run in one process.",
        ),
    ] = None,
    executor: ExecutorOpt = "local",
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Project the source entities of a parallel corpus onto its target sentences; stored as a new run.

    Method options (-o NAME=VALUE): heuristic: drop_punctuation, punctuation (ascii, unicode), merge_distance,
    merge_rule (reference, gap), length_ratio_threshold, order (source, shortest_first), collisions (reference,
    overlap, first_wins). ngram: max_length, score (coverage, links), matching (greedy, optimal), min_score,
    punctuation_edges, lexical (off, unaligned, all), lexical_prefix. model: the ngram options and model (directory of
    a target-side tagger from `xner train`, required), candidates (model, model+ngram), model_weight.
    easyproject: translator (nllb, ctranslate2), model (default easyproject-1.3b), device, batch_size, num_beams,
    max_length, entity_translations, min_similarity, slack, src_lang, tgt_lang (default: the corpus's).
    model-transfer: model (directory of a source-language tagger from `xner train`, required).

    With --refine backtranslation --via PIVOTS, the pivot legs are aligned like the direct run, their links composed
    and combined with it (--combine) into a new alignment run, which the projection then uses.
    """
    refinement = _refinement(refine, via, combine, via_run)
    runner = executor_for(executor, workers=workers)
    refine_bar = count_progress("refining through the pivots") if refinement else contextlib.nullcontext(None)
    with (
        refine_bar as refine_progress,
        count_progress(f"projecting with {method}") as progress,
        closing_executor(runner),
    ):
        report = project_corpus(
            store_for(db),
            corpus,
            method=method,
            options=parse_assignments(option or []),
            alignment_run=alignment_run,
            splits=split,
            source_tagger=source_tagger,
            refine=refinement,
            executor=runner,
            on_progress=progress,
            on_refine_progress=refine_progress,
        )
    refined_note = f" (refined from run {report.refined_from})" if report.refined_from is not None else ""
    over = f" over alignment run {report.alignment_run}" if report.alignment_run is not None else ""
    found = ", ".join(f"{label} {n}" for label, n in report.entities.items()) or "none"
    emit(
        report,
        as_json,
        lambda: (
            f"projected {report.pairs} pairs of {corpus!r} with {method}{over}{refined_note} in "
            f"{report.seconds:.1f} s ({report.workers} {'worker' if report.workers == 1 else 'workers'}): "
            f"projection run {report.run_id} (entities: {found})"
        ),
    )


def _refinement(refine: str | None, via: str | None, combine: str, via_run: int | None) -> Refinement | None:
    if refine is None:
        if via is not None or via_run is not None:
            raise XnerError("--via and --via-run go with --refine backtranslation")
        return None
    if refine != REFINED_ALIGNER:
        raise UnknownNameError("refinement", refine, [REFINED_ALIGNER])
    if via is None:
        raise XnerError("--refine backtranslation needs --via CORPUS: the pivot sentences to refine through")
    if combine not in REFINE_MODES:
        raise UnknownNameError("combine mode", combine, REFINE_MODES)
    return Refinement(via=via, combine=combine, via_run=via_run)
