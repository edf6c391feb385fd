"""``xner eval``: score a projection run against the target gold, or an alignment run against gold links."""

from __future__ import annotations

from typing import Annotated

import typer

from xner.cli._util import CorpusOpt, DbOpt, JsonOpt, emit, handle_errors, parse_labels, store_for
from xner.services.evaluating import evaluate_alignment, evaluate_projection

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

    def table() -> str:
        lines = [f"projection run {result.run_id} ({result.method}) on {result.pairs} pairs of {corpus!r}"]
        lines.append(f"{'label':<10} {'precision':>9} {'recall':>9} {'f1':>9} {'support':>8}")
        for label, row in result.scores.items():
            lines.append(
                f"{label:<10} {row['precision']:>9.4f} {row['recall']:>9.4f} {row['f1']:>9.4f} {row['support']:>8}"
            )
        return "\n".join(lines)

    emit(result, as_json, table)


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
