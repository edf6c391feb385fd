"""``xner eval``: score a projection run against the target gold, or an alignment run against gold links."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from xner.cli._util import (
    CorpusOpt,
    DbOpt,
    JsonOpt,
    OptionsOpt,
    emit,
    handle_errors,
    parse_labels,
    read_extra,
    stage_progress,
    store_for,
)
from xner.formats.parallel import SideOptions
from xner.options import parse_assignments
from xner.services.evaluating import (
    ProjectionEvaluation,
    evaluate_alignment,
    evaluate_projections,
    evaluate_tagger_on,
)
from xner.services.workflows import run_translate_test

app = typer.Typer(help="Measure projection and alignment quality against gold.", no_args_is_help=True)


@app.command("projection")
@handle_errors
def projection(
    corpus: CorpusOpt,
    run: Annotated[
        list[int] | None,
        typer.Option(
            help="Projection run (default: the newest). Repeatable: several runs are scored in one pass and shown "
            "side by side.",
            show_default=False,
        ),
    ] = None,
    labels: Annotated[
        str | None, typer.Option(help="Score only these labels, e.g. PER,ORG,LOC (default: all).")
    ] = None,
    split: Annotated[list[str] | None, typer.Option(help="Only this split. Repeatable.")] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Span precision, recall and F1 (exact match, overall and per label) of projected against gold target spans;
    with several --run, one table with the runs side by side (--json: {corpus, pairs, labels, runs: [...]})."""
    run_ids: list[int | None] = list(dict.fromkeys(run)) if run else [None]
    results = evaluate_projections(store_for(db), corpus, run_ids, labels=parse_labels(labels), splits=split)
    if len(results) == 1:
        result = results[0]
        title = f"projection run {result.run_id} ({result.method}) on {result.pairs} pairs of {corpus!r}"
        emit(result, as_json, lambda: score_table(title, result.scores))
        return
    first = results[0]
    data = {"corpus": corpus, "pairs": first.pairs, "labels": first.labels, "runs": results}
    emit(
        data,
        as_json,
        lambda: runs_table(f"{len(results)} projection runs on {first.pairs} pairs of {corpus!r}", results),
    )


@app.command("tagger")
@handle_errors
def tagger(
    corpus: CorpusOpt,
    model: Annotated[Path, typer.Option("--tagger", help="Directory of a tagger saved by `xner train`.")],
    side: Annotated[str | None, typer.Option(help="src or tgt for a parallel corpus (default tgt).")] = None,
    split: Annotated[list[str] | None, typer.Option(help="Only this split, e.g. test. Repeatable.")] = None,
    labels: Annotated[
        str | None, typer.Option(help="Score only these labels, e.g. PER,ORG,LOC (default: all).")
    ] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Entity precision, recall and F1 of a saved tagger on a corpus: with a tagger trained on another language
    (e.g. English CoNLL), the model-transfer baseline."""
    result = evaluate_tagger_on(
        store_for(db), corpus, tagger=model, side=side, splits=split, labels=parse_labels(labels)
    )
    where = f"{result.sentences} sentences of {corpus!r} ({result.side}; {', '.join(result.splits or ['all splits'])})"
    emit(result, as_json, lambda: score_table(f"tagger {result.tagger} on {where}", result.scores))


@app.command("translate-test")
@handle_errors
def translate_test(
    corpus: CorpusOpt,
    tagger: Annotated[
        Path | None,
        typer.Option(
            help="Source-language tagger (`xner train`) that tags the translations (default: the entities "
            "of a CoNLL --translations file)."
        ),
    ] = None,
    to: Annotated[str, typer.Option("--to", help="Language to translate into.")] = "en",
    parallel: Annotated[
        str | None, typer.Option(help="Name of the translate-test corpus (default CORPUS.translate-test.LANG).")
    ] = None,
    translator: Annotated[
        str | None,
        typer.Option(help="nllb or ctranslate2 (default: the one that made an existing --parallel corpus, else nllb)."),
    ] = None,
    translator_option: Annotated[
        list[str] | None, typer.Option("--translator-option", "-t", help="Translator option NAME=VALUE.")
    ] = None,
    translations: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="Offline: translations from this file, one per sentence."),
    ] = None,
    translations_format: Annotated[str, typer.Option(help="auto, text or conll.")] = "auto",
    aligner: Annotated[str, typer.Option(help="eflomal, simalign or awesome.")] = "eflomal",
    aligner_option: Annotated[
        list[str] | None, typer.Option("--aligner-option", "-a", help="Aligner option NAME=VALUE.")
    ] = None,
    extra_src: Annotated[list[Path] | None, typer.Option(help="Extra parallel text, translation side.")] = None,
    extra_tgt: Annotated[list[Path] | None, typer.Option(help="Extra parallel text, original side.")] = None,
    extra_limit: Annotated[int | None, typer.Option(help="Use at most this many extra pairs.")] = None,
    method: Annotated[
        str,
        typer.Option(help="Projection method: ngram, heuristic, model, easyproject or model-transfer."),
    ] = "ngram",
    option: OptionsOpt = None,
    labels: Annotated[str | None, typer.Option(help="Score only these labels, e.g. PER,ORG,LOC.")] = None,
    split: Annotated[list[str] | None, typer.Option(help="Only this split, e.g. test. Repeatable.")] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The translate-test protocol ("compare to original"): translate the corpus into English, tag, align, project
    back onto the original tokens and score against their gold. A rerun reuses the translations (and an alignment
    made the same way) when they answer the same request; other translations under the same name are an error."""
    extra = read_extra(extra_src, extra_tgt, extra_limit, raw=False)
    with stage_progress("sentence") as progress:
        report = run_translate_test(
            store_for(db),
            corpus,
            tagger=tagger,
            to_lang=to,
            parallel=parallel,
            translator=translator,
            translator_options=parse_assignments(translator_option or []),
            translations=translations,
            translations_options=SideOptions(to, translations_format),
            aligner=aligner,
            aligner_options=parse_assignments(aligner_option or []),
            extra=extra,
            method=method,
            method_options=parse_assignments(option or []),
            labels=parse_labels(labels),
            splits=split,
            on_progress=progress,
        )
    steps = [
        "translated" if report.translated else "reused the translations",
        ("aligned" if report.aligned else "reused alignment run") + f" {report.alignment_run}"
        if report.alignment_run is not None
        else "no alignment",
        f"projection run {report.projection_run}",
    ]
    title = f"translate-test of {corpus!r} with {method} ({'; '.join(steps)}) in corpus {report.parallel!r}"
    emit(report, as_json, lambda: score_table(title, report.evaluation.scores))


def score_table(title: str, scores: dict[str, dict[str, float]]) -> str:
    """A title line and one line of precision, recall, F1 and support per row of ``scores``."""
    lines = [title, f"{'label':<10} {'precision':>9} {'recall':>9} {'f1':>9} {'support':>8}"]
    for label, row in scores.items():
        lines.append(
            f"{label:<10} {row['precision']:>9.4f} {row['recall']:>9.4f} {row['f1']:>9.4f} {row['support']:>8}"
        )
    return "\n".join(lines)


def runs_table(title: str, results: list[ProjectionEvaluation]) -> str:
    """A title line, a header naming each run, and one line per label (overall first) with each run's precision,
    recall and F1 side by side, then the gold support; a label a run has no row for shows ``-``."""
    width = 3 * 7 + 2
    labels = ["overall", *sorted({label for r in results for label in r.scores} - {"overall"})]
    heads = [f"run {r.run_id} ({r.method})"[:width] for r in results]
    lines = [
        title,
        (f"{'':<10} " + "  ".join(f"{head:<{width}}" for head in heads)).rstrip(),
        f"{'label':<10} " + "  ".join(f"{'P':>7}{'R':>8}{'F1':>8}" for _ in results) + f" {'support':>8}",
    ]
    for label in labels:
        cells, support = [], 0.0
        for result in results:
            row = result.scores.get(label)
            if row is None:
                cells.append(f"{'-':>7}{'-':>8}{'-':>8}")
                continue
            cells.append(f"{row['precision']:>7.4f} {row['recall']:>7.4f} {row['f1']:>7.4f}")
            support = max(support, row["support"])
        lines.append(f"{label:<10} " + "  ".join(cells) + f" {support:>8.0f}")
    return "\n".join(lines)


@app.command("alignment")
@handle_errors
def alignment(
    corpus: CorpusOpt,
    gold: Annotated[int, typer.Option(help="The alignment run with the gold links (imported with --aligner gold).")],
    run: Annotated[int | None, typer.Option(help="Alignment run to score (default: newest other than gold).")] = None,
    split: Annotated[list[str] | None, typer.Option(help="Only this split. Repeatable.")] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Alignment precision, recall, F1 and alignment error rate (AER) against gold sure/possible links."""
    result = evaluate_alignment(store_for(db), corpus, run_id=run, gold_run_id=gold, splits=split)
    s = result.scores
    emit(
        result,
        as_json,
        lambda: (
            f"alignment run {result.run_id} vs gold run {result.gold_run_id} on {result.pairs} pairs: "
            f"precision {s['precision']:.4f} recall {s['recall']:.4f} F1 {s['f1']:.4f} AER {s['aer']:.4f}"
        ),
    )
