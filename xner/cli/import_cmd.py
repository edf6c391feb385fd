"""``xner import conll|jsonl|parallel|alignments``: load files into the store, each invisible until complete (in
committed batches under a hidden corpus, published at the end: see :mod:`xner.services.importing`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from xner.cli._util import (
    CorpusOpt,
    DbOpt,
    JsonOpt,
    byte_progress,
    emit,
    handle_errors,
    parse_label_map,
    parse_labels,
    store_for,
)
from xner.formats.conll import ConllOptions
from xner.formats.parallel import SideOptions
from xner.services.importing import ImportReport, import_alignments, import_corpus, import_parallel

app = typer.Typer(help="Import corpora, parallel text and alignments.", no_args_is_help=True)

FileArg = Annotated[Path, typer.Argument(help="Input file.", show_default=False)]
SplitOpt = Annotated[
    str | None,
    typer.Option(
        help="Split name (default: the one the file name names anywhere, e.g. dev.txt or *.test.conll02, "
        "valid/validation/devtest → dev; else train). The output says which split was chosen.",
        show_default=False,
    ),
]
LabelsOpt = Annotated[
    str | None,
    typer.Option(
        help="Declared label set, comma-separated (e.g. PER,ORG,LOC,DATE); other labels are errors.", show_default=False
    ),
]
LabelMapOpt = Annotated[
    list[str] | None,
    typer.Option("--label-map", help="Rename labels, FROM=TO; TO=O drops them (e.g. MISC=O). Repeatable."),
]
SchemeOpt = Annotated[
    str,
    typer.Option(
        help="Tagging scheme: auto (IOB1/IOB2/BIOES, IOB1 repaired with a warning) or a strict iob2|iob1|bioes|bilou."
    ),
]
NormOpt = Annotated[str, typer.Option("--normalize", help="Unicode normal form for tokens: NFC|NFD|NFKC|NFKD|none.")]
AppendOpt = Annotated[bool, typer.Option("--append", help="Add to a split that already has sentences.")]


SPLIT_ORIGINS = {
    "file name": "from the file name",
    "default": "the default: the file name names no split; choose one with --split",
    "corpus": "the corpus's only split",
}


def _split_text(report: ImportReport) -> str:
    """``split 'test'``, with where the split came from when no ``--split`` chose it."""
    origin = SPLIT_ORIGINS.get(report.split_from)
    return f"split {report.split!r}" + (f" ({origin})" if origin else "")


def _report_text(report: ImportReport) -> str:
    if report.run_id is not None:
        return (
            f"imported alignments of {report.pairs} pairs into {report.corpus!r} {_split_text(report)} as "
            f"alignment run {report.run_id} in {report.seconds:.1f} s"
        )
    what = f"{report.pairs} pairs" if report.pairs else f"{report.sentences} sentences"
    entities = ", ".join(f"{k} {v}" for k, v in sorted(report.entities.items())) or "no entities"
    lines = [
        f"imported {what} into {report.corpus!r} {_split_text(report)} ({entities}) "
        f"in {report.seconds:.1f} s ({report.rate:,.0f}/s)"
    ]
    lines += [f"warning: {w}" for w in report.warnings]
    return "\n".join(lines)


def _corpus_file(
    path: Path,
    fmt: str,
    corpus: str,
    lang: str,
    split: str | None,
    labels: str | None,
    label_map: list[str] | None,
    scheme: str,
    normalize: str,
    append: bool,
    db: str | None,
    as_json: bool,
) -> None:
    options = ConllOptions(scheme=scheme, label_map=parse_label_map(label_map), normal_form=normalize)
    store = store_for(db)
    with byte_progress(path, desc=f"import {path.name}") as progress:
        report = import_corpus(
            store,
            path,
            corpus=corpus,
            lang=lang,
            fmt=fmt,
            split=split,
            options=options,
            labels=parse_labels(labels),
            append=append,
            on_progress=progress,
        )
    emit(report, as_json, lambda: _report_text(report))


@app.command("conll")
@handle_errors
def conll(
    file: FileArg,
    corpus: CorpusOpt,
    lang: Annotated[str, typer.Option(help="Language code of the text (e.g. yor, hau, en).")],
    split: SplitOpt = None,
    labels: LabelsOpt = None,
    label_map: LabelMapOpt = None,
    scheme: SchemeOpt = "auto",
    normalize: NormOpt = "NFC",
    append: AppendOpt = False,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Import a CoNLL NER file (token and tag per line, space or tab separated, blank line between sentences)."""
    _corpus_file(file, "conll", corpus, lang, split, labels, label_map, scheme, normalize, append, db, as_json)


@app.command("jsonl")
@handle_errors
def jsonl(
    file: FileArg,
    corpus: CorpusOpt,
    lang: Annotated[str, typer.Option(help="Language code of the text.")],
    split: SplitOpt = None,
    labels: LabelsOpt = None,
    label_map: LabelMapOpt = None,
    scheme: SchemeOpt = "auto",
    normalize: NormOpt = "NFC",
    append: AppendOpt = False,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Import a JSONL file (Prodigy/spaCy shape: tokens plus spans, or tokens plus tags)."""
    _corpus_file(file, "jsonl", corpus, lang, split, labels, label_map, scheme, normalize, append, db, as_json)


@app.command("parallel")
@handle_errors
def parallel(
    src_file: Annotated[
        Path, typer.Argument(help="Source side (plain text or CoNLL), or one TSV / ' ||| ' file.", show_default=False)
    ],
    tgt_file: Annotated[
        Path | None, typer.Argument(help="Target side (plain text or CoNLL); omit for one file.", show_default=False)
    ] = None,
    corpus: CorpusOpt = ...,
    src_lang: Annotated[str, typer.Option(help="Source language code.")] = "en",
    tgt_lang: Annotated[str, typer.Option(help="Target language code.")] = ...,
    src_format: Annotated[str, typer.Option(help="Source side format: auto|text|conll.")] = "auto",
    tgt_format: Annotated[str, typer.Option(help="Target side format: auto|text|conll.")] = "auto",
    pretokenized: Annotated[bool, typer.Option(help="Plain text is already tokenised: split on spaces only.")] = False,
    split: SplitOpt = None,
    labels: LabelsOpt = None,
    label_map: LabelMapOpt = None,
    scheme: SchemeOpt = "auto",
    normalize: NormOpt = "NFC",
    append: AppendOpt = False,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Import sentence pairs: two line-aligned files, or one file with 'source<TAB>target' per line.

    A CoNLL side keeps its gold entities (e.g. the Europarl parallel NER gold)."""
    conll_options = ConllOptions(scheme=scheme, label_map=parse_label_map(label_map), normal_form=normalize)
    src = SideOptions(src_lang, src_format, pretokenized, normalize, conll_options)
    tgt = SideOptions(tgt_lang, tgt_format, pretokenized, normalize, conll_options)
    store = store_for(db)
    with byte_progress(src_file, tgt_file, desc="import pairs") as progress:
        report = import_parallel(
            store,
            src_file,
            tgt_file,
            corpus=corpus,
            src=src,
            tgt=tgt,
            split=split,
            labels=parse_labels(labels),
            append=append,
            on_progress=progress,
        )
    emit(report, as_json, lambda: _report_text(report))


@app.command("alignments")
@handle_errors
def alignments(
    file: FileArg,
    corpus: CorpusOpt,
    aligner: Annotated[str, typer.Option(help="Name for this alignment run (e.g. gold, fast_align, eflomal).")],
    split: Annotated[
        str | None,
        typer.Option(help="Split the lines belong to (default: the corpus's only split).", show_default=False),
    ] = None,
    index_base: Annotated[int, typer.Option(help="0 for aligner output, 1 for most gold sets.")] = 0,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Import word alignments in Pharaoh format (one line per pair: 'i-j' sure, 'ipj' possible links)."""
    store = store_for(db)
    with byte_progress(file, desc="import alignments") as progress:
        report = import_alignments(
            store, file, corpus=corpus, aligner=aligner, split=split, index_base=index_base, on_progress=progress
        )
    emit(report, as_json, lambda: _report_text(report))
