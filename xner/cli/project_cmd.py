"""``xner project``: project the source entities onto the targets over an alignment run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from xner.cli._util import CorpusOpt, DbOpt, JsonOpt, OptionsOpt, count_progress, emit, handle_errors, store_for
from xner.options import parse_assignments
from xner.services.projecting import project_corpus


@handle_errors
def project(
    corpus: CorpusOpt,
    method: Annotated[
        str,
        typer.Option(help="heuristic (García-Ferrero et al.), ngram (candidates + matching) or model (tagger spans)."),
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
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Project the source entities of a parallel corpus onto its target sentences; stored as a new run.

    Method options (-o NAME=VALUE): heuristic: drop_punctuation, punctuation (ascii, unicode), merge_distance,
    merge_rule (reference, gap), length_ratio_threshold, order (source, shortest_first), collisions (reference,
    overlap, first_wins). ngram: max_length, score (coverage, links), matching (greedy, optimal), min_score,
    punctuation_edges, lexical (off, unaligned, all), lexical_prefix. model: the ngram options and model (directory of
    a target-side tagger from `xner train`, required), candidates (model, model+ngram), model_weight.
    """
    with count_progress(f"projecting with {method}") as progress:
        report = project_corpus(
            store_for(db),
            corpus,
            method=method,
            options=parse_assignments(option or []),
            alignment_run=alignment_run,
            splits=split,
            source_tagger=source_tagger,
            on_progress=progress,
        )
    found = ", ".join(f"{label} {n}" for label, n in report.entities.items()) or "none"
    emit(
        report,
        as_json,
        lambda: (
            f"projected {report.pairs} pairs of {corpus!r} with {method} over alignment run "
            f"{report.alignment_run} in {report.seconds:.1f} s: projection run {report.run_id} (entities: {found})"
        ),
    )
