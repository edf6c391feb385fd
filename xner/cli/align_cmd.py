"""``xner align``: word-align a parallel corpus with a chosen aligner; the links are stored as a new run.
``xner symmetrize``: another symmetrisation of an eflomal run's stored forward and reverse links, as a new run."""

from __future__ import annotations

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
from xner.engine.align import SYMMETRIZATIONS
from xner.errors import XnerError
from xner.options import parse_assignments
from xner.services.aligning import PRIORS_PAIRS, SHARD_PAIRS, align_corpus, iter_extra_text, symmetrize_run
from xner.services.executing import closing_executor, executor_for


@handle_errors
def align(
    corpus: CorpusOpt,
    aligner: Annotated[str, typer.Option(help="eflomal (statistical, offline), simalign or awesome (neural).")] = (
        "eflomal"
    ),
    option: OptionsOpt = None,
    extra_src: Annotated[
        list[Path] | None,
        typer.Option(help="Extra parallel text to learn from, source side (pairs with --extra-tgt). Repeatable."),
    ] = None,
    extra_tgt: Annotated[list[Path] | None, typer.Option(help="Extra parallel text, target side. Repeatable.")] = None,
    extra_limit: Annotated[int | None, typer.Option(help="Use at most this many extra pairs.")] = None,
    extra_raw: Annotated[
        bool, typer.Option(help="The extra text is raw (tokenise it); default: already tokenised, split on spaces.")
    ] = False,
    extra_corpus: Annotated[
        str | None,
        typer.Option(help="An imported parallel corpus of the same languages to learn from too (as extra text)."),
    ] = None,
    split: Annotated[list[str] | None, typer.Option(help="Only this split. Repeatable.")] = None,
    workers: Annotated[
        int, typer.Option(min=1, help="With --executor local: processes that align shards (eflomal; 1: one run).")
    ] = 1,
    executor: ExecutorOpt = "local",
    shard_pairs: Annotated[
        int, typer.Option(min=1000, help="eflomal in shards (several workers): pairs per shard.")
    ] = SHARD_PAIRS,
    priors_pairs: Annotated[
        int, typer.Option(min=1, help="eflomal in shards: pairs the shared priors are learnt from.")
    ] = PRIORS_PAIRS,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Align every sentence pair of a corpus and store the links as a new alignment run.

    eflomal on a corpus of more than --shard-pairs pairs, with several workers (--workers N, or --executor
    dask://HOST:PORT), aligns shards of that many pairs at once, all guided by priors learnt once from the first
    --priors-pairs pairs and the extra text: faster on many cores, a little less learnt per rare word.

    Aligner options (-o NAME=VALUE): eflomal: symmetrization (grow-diag-final-and, intersection, union, grow-diag,
    grow-diag-final, forward, reverse), model, n_samplers, rel_iterations, null_prior, src_prefix_len,
    tgt_prefix_len, extra_mode (joint, priors). simalign: model, method (argmax, itermax, match), token_type,
    layer, device. awesome: model, layer, threshold, batch_size, device.
    """
    sources, targets = extra_src or [], extra_tgt or []
    if len(sources) != len(targets):
        raise XnerError("give --extra-src and --extra-tgt the same number of times, one pair of files each")
    # streamed into the aligner as it reads: a large bitext never sits in memory
    extra = iter_extra_text(list(zip(sources, targets, strict=True)), pretokenized=not extra_raw, limit=extra_limit)
    runner = executor_for(executor, workers=workers)
    with count_progress(f"aligning with {aligner}") as progress, closing_executor(runner):
        report = align_corpus(
            store_for(db),
            corpus,
            aligner=aligner,
            options=parse_assignments(option or []),
            extra=extra,
            extra_sources=[str(p) for p in sources + targets],
            extra_corpus=extra_corpus,
            splits=split,
            executor=runner,
            shard_pairs=shard_pairs,
            priors_pairs=priors_pairs,
            on_progress=progress,
        )
    emit(
        report,
        as_json,
        lambda: (
            f"aligned {report.pairs} pairs of {corpus!r} with {aligner} ({report.links} links, "
            f"{report.params['extra_pairs']} extra pairs) in {report.seconds:.1f} s: alignment run {report.run_id}"
        ),
    )


@handle_errors
def symmetrize(
    corpus: Annotated[str, typer.Argument(help="Corpus name.", show_default=False)],
    run: Annotated[int, typer.Option("--run", help="The alignment run (eflomal) whose links to symmetrise.")],
    method: Annotated[str, typer.Option(help=f"How to combine them: {', '.join(SYMMETRIZATIONS)}.")],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Symmetrise an eflomal run's forward and reverse links another way, without aligning again.

    The result is a new alignment run of the corpus (its params record derived_from and the symmetrization); the
    projection takes it with --run like any other. Imported, neural and manual runs have no directional links.
    """
    with count_progress(f"symmetrizing run {run} ({method})") as progress:
        report = symmetrize_run(store_for(db), corpus, run, method=method, on_progress=progress)
    emit(
        report,
        as_json,
        lambda: (
            f"symmetrized {report.pairs} pairs of {corpus!r} ({method}, from the forward and reverse links of run "
            f"{report.params['derived_from']}): {report.links} links in {report.seconds:.1f} s: alignment run "
            f"{report.run_id}"
        ),
    )
