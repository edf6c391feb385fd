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
from xner.services.evaluating import evaluate_alignment, evaluate_projection, evaluate_tagger_on
from xner.services.workflows import run_translate_test

app = typer.Typer(help="Measure projection and alignment quality against gold.", no_args_is_help=True)


@app.command("projection")
@handle_errors
def projection(
    corpus: CorpusOpt,
    run: Annotated[int | None, typer.Option(help="Projection run (default: the newest).")] = None,
    labels: Annotated[
        str | None, typer.Option(help="Score only these labels, e.g. PER,ORG,LOC (default: all).")
    ] = None,
    split: Annotated[list[str] | None, typer.Option(help="Only this split. Repeatable.")] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Span precision, recall and F1 (exact match, overall and per label) of projected against gold target spans."""
    result = evaluate_projection(store_for(db), corpus, run_id=run, labels=parse_labels(labels), splits=split)

    title = f"projection run {result.run_id} ({result.method}) on {result.pairs} pairs of {corpus!r}"
    emit(result, as_json, lambda: score_table(title, result.scores))


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
