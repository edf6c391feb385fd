"""``xner export``: write a corpus (curated where reviewed, gold, or a projection run's spans) as CoNLL/IOB2, JSONL,
a spaCy DocBin or a HF dataset; ``xner export alignments``: an alignment run's links as Pharaoh text.

``export`` is a group whose default command is the corpus export: ``xner export OUT --corpus NAME ...`` (and
``xner export --help``) go on working as before, and only a first word naming a subcommand (``alignments``)
chooses another one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from xner.cli._util import CorpusOpt, DbOpt, JsonOpt, emit, handle_errors, store_for
from xner.services.exporting import export_alignments, export_corpus
from xner.types import ReviewStatus


class _CorpusExportByDefault(TyperGroup):
    """A group that runs its ``corpus`` command unless the first argument names another subcommand."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # ctx: the click Context typer vendors
        if args and args[0] not in self.commands:
            args = [DEFAULT_COMMAND, *args]
        return super().parse_args(ctx, args)


DEFAULT_COMMAND = "corpus"
app = typer.Typer(
    cls=_CorpusExportByDefault,
    help="Export a corpus (the default: xner export OUT --corpus NAME) or an alignment run (xner export alignments).",
    no_args_is_help=True,
)


@app.command(DEFAULT_COMMAND)
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
    ones (or a projection run's with --run); --spans run exports a projection run's spans whole. (An alignment
    run's links: xner export alignments --help.)"""
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


@app.command("alignments")
@handle_errors
def alignments(
    out: Annotated[Path, typer.Argument(help="Output file (Pharaoh text).", show_default=False)],
    run: Annotated[int, typer.Option(help="The alignment run to export (run ids are unique across corpora).")],
    split: Annotated[
        list[str] | None, typer.Option(help="Only the pairs of this split (default all). Repeatable.")
    ] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Write an alignment run's links in Pharaoh format: one line per sentence pair in the corpus's order, 0-based
    i-j (ipj for possible links), an empty line for a pair without links. Atomic: a failed export leaves nothing
    behind. `xner import alignments` reads the file back (per split: export with --split for a corpus with
    several)."""
    report = export_alignments(store_for(db), run, out, splits=split)
    emit(
        report,
        as_json,
        lambda: (
            f"wrote {report.pairs} pairs ({report.links} links) of alignment run {report.run_id} "
            f"({report.aligner}, corpus {report.corpus!r}) to {report.path}"
        ),
    )
