"""``xner export``: write a corpus (curated where reviewed, gold, or a projection run's spans) as CoNLL/IOB2, JSONL,
a spaCy DocBin or a HF dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from xner.cli._util import CorpusOpt, DbOpt, JsonOpt, emit, handle_errors, store_for
from xner.services.exporting import export_corpus
from xner.types import ReviewStatus


@handle_errors
def export(
    out: Annotated[Path, typer.Argument(help="Output file (a folder for --format hf).", show_default=False)],
    corpus: CorpusOpt,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            help="conll (IOB2), jsonl (Prodigy/spaCy shape), spacy (DocBin .spacy file for spacy train) or hf "
            "(Hugging Face datasets folder for load_from_disk: one dataset per split, tokens + IOB2 ner_tags).",
        ),
    ] = "conll",
    status: Annotated[
        list[str] | None,
        typer.Option(
            help="Only sentences in this review status: unreviewed, accepted, corrected, rejected. Repeatable."
        ),
    ] = None,
    split: Annotated[list[str] | None, typer.Option(help="Only this split. Repeatable.")] = None,
    reviewer: Annotated[
        str | None, typer.Option(help="Only sentences whose latest review decision is this reviewer's.")
    ] = None,
    side: Annotated[
        str | None, typer.Option(help="src or tgt for a parallel corpus (default tgt).", show_default=False)
    ] = None,
    spans: Annotated[
        str,
        typer.Option(
            help="Where the entities come from: reviewed (curated where reviewed; else gold, or --run's spans), "
            "gold (the imported gold, reviews ignored) or run (the spans of projection run --run, default the "
            "newest, for every sentence).",
        ),
    ] = "reviewed",
    run: Annotated[
        int | None,
        typer.Option(
            help="Projection run whose spans the unreviewed sentences (--spans reviewed) or all sentences "
            "(--spans run) carry; target side only.",
            show_default=False,
        ),
    ] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Export one side of a corpus; by default reviewed sentences carry their curated entities, others their gold
    ones (or a projection run's with --run); --spans run exports a projection run's spans whole."""
    statuses = [ReviewStatus.parse(s) for item in status or [] for s in item.split(",") if s.strip()]
    report = export_corpus(
        store_for(db),
        corpus,
        out,
        fmt=fmt,
        side=side,
        splits=split,
        statuses=statuses or None,
        reviewer=reviewer,
        spans=spans,
        run_id=run,
    )
    source = f", spans of projection run {report.run_id}" if report.run_id is not None else ""
    emit(
        report,
        as_json,
        lambda: f"wrote {report.sentences} sentences ({report.entities} entities{source}) to {report.path}",
    )
