"""``xner translate``: translate a corpus into a new parallel corpus; ``xner convert-model``: NLLB → CTranslate2."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from xner.cli._util import (
    CorpusOpt,
    DbOpt,
    JsonOpt,
    OptionsOpt,
    count_progress,
    emit,
    handle_errors,
    read_extra,
    stage_progress,
    store_for,
)
from xner.errors import XnerError
from xner.formats.parallel import SIDE_FORMATS, SideOptions
from xner.options import parse_assignments
from xner.services.translating import translate_corpus
from xner.services.workflows import run_translate_train


@handle_errors
def translate(
    corpus: CorpusOpt,
    new: Annotated[str, typer.Option("--new", help="Name of the new parallel corpus.")],
    mode: Annotated[
        str,
        typer.Option(
            help="train: source sentences (with entities) → target translations; test: target sentences (with "
            "gold) ← translations into English; pivot: a parallel corpus's targets back-translated, paired with "
            "its sources (for --refine backtranslation)."
        ),
    ] = "train",
    to: Annotated[
        str | None,
        typer.Option("--to", help="Language to translate into (ISO 639-1/3 or NLLB code); default per mode."),
    ] = None,
    translator: Annotated[
        str, typer.Option(help="nllb (transformers) or ctranslate2 (a converted model: `xner convert-model`).")
    ] = "nllb",
    option: OptionsOpt = None,
    translations: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="Offline: read the translations from this file (one per sentence, in corpus order) instead of "
            "running a model.",
        ),
    ] = None,
    translations_format: Annotated[
        str, typer.Option(help="Format of --translations: " + ", ".join(SIDE_FORMATS) + ".")
    ] = "auto",
    pretokenized: Annotated[
        bool, typer.Option(help="--translations is plain text already tokenised (split on spaces).")
    ] = False,
    markers: Annotated[
        bool,
        typer.Option(
            help="EasyProject (train mode): translate with the entities between [ ] markers and keep the entities "
            "read back from them as a projection run. -o then takes the easyproject method's options."
        ),
    ] = False,
    queue: Annotated[
        bool,
        typer.Option(
            help="translate-train in one go: also align (--aligner), project (--method; with --markers the "
            "entities from the markers) and queue the projection for review."
        ),
    ] = False,
    method: Annotated[str, typer.Option(help="With --queue: the projection method.")] = "ngram",
    method_option: Annotated[
        list[str] | None, typer.Option("--method-option", "-m", help="With --queue: a method option NAME=VALUE.")
    ] = None,
    aligner: Annotated[str, typer.Option(help="With --queue: the aligner.")] = "eflomal",
    aligner_option: Annotated[
        list[str] | None, typer.Option("--aligner-option", "-a", help="With --queue: an aligner option NAME=VALUE.")
    ] = None,
    extra_src: Annotated[list[Path] | None, typer.Option(help="With --queue: extra source text.")] = None,
    extra_tgt: Annotated[list[Path] | None, typer.Option(help="With --queue: extra target text.")] = None,
    source_tagger: Annotated[
        Path | None, typer.Option(help="With --queue: source entities from this tagger instead of the gold.")
    ] = None,
    split: Annotated[list[str] | None, typer.Option(help="Only this split. Repeatable.")] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Translate the sentences of a corpus into a new parallel corpus, ready to align and project.

    Translator options (-o NAME=VALUE): nllb: model (nllb-600m, nllb-1.3b, nllb-3.3b, easyproject-1.3b,
    easyproject-3.3b, a hub name in the local cache or a folder), device (auto, cpu, cuda), batch_size, num_beams,
    max_length, dtype (auto, float32, float16, bfloat16). ctranslate2: model (converted folder, required),
    tokenizer, device, compute_type, batch_size, num_beams, max_length. With --markers: translator, model
    (default easyproject-1.3b), device, batch_size, num_beams, max_length, entity_translations, min_similarity.
    """
    side = SideOptions(to or "", translations_format, pretokenized)
    if queue:
        if mode != "train":
            raise XnerError("--queue goes with translate-train (--mode train)")
        with stage_progress("sentence") as stages:
            pipeline = run_translate_train(
                store_for(db),
                corpus,
                new_corpus=new,
                to_lang=to or "",
                translator=translator,
                translator_options=parse_assignments(option or []),
                translations=translations,
                translations_options=side,
                markers=markers,
                aligner=aligner,
                aligner_options=parse_assignments(aligner_option or []),
                extra=read_extra(extra_src, extra_tgt, None, raw=False),
                method=method,
                method_options=parse_assignments(method_option or []),
                source_tagger=source_tagger,
                splits=split,
                on_progress=stages,
            )
        report = pipeline.translation
        found = ", ".join(f"{label} {n}" for label, n in pipeline.entities.items()) or "none"
        over = f" over alignment run {pipeline.alignment_run}" if pipeline.alignment_run is not None else ""
        emit(
            pipeline,
            as_json,
            lambda: (
                f"translated {report.pairs} sentences of {corpus!r} into corpus {report.corpus!r} "
                f"({report.src_lang}-{report.tgt_lang}, {report.translator}); projection run {pipeline.projection_run}"
                f"{over} (entities: {found}); {pipeline.queued} sentences queued for review, in "
                f"{pipeline.seconds:.1f} s"
            ),
        )
        return
    with count_progress(f"translating {corpus}", unit="sentence") as progress:
        report = translate_corpus(
            store_for(db),
            corpus,
            new_corpus=new,
            mode=mode,
            to_lang=to,
            translator=translator,
            options=parse_assignments(option or []),
            translations=translations,
            translations_options=side,
            markers=markers,
            splits=split,
            on_progress=progress,
        )
    splits = ", ".join(f"{name} {n}" for name, n in report.splits.items())
    found = ", ".join(f"{label} {n}" for label, n in report.entities.items()) or "none"
    marked = f"; entities from the markers: projection run {report.projection_run} ({found})" if markers else ""
    if report.empty:
        marked += f"; warning: {report.empty} translations came out empty"
    emit(
        report,
        as_json,
        lambda: (
            f"translated {report.pairs} sentences of {corpus!r} ({report.mode}, {report.translator}) into corpus "
            f"{report.corpus!r} ({report.src_lang}-{report.tgt_lang}; {splits}) in {report.seconds:.1f} s{marked}"
        ),
    )


@handle_errors
def convert_model(
    model: Annotated[str, typer.Argument(help="NLLB model: short name, hub name in the local cache, or folder.")],
    out: Annotated[Path, typer.Argument(help="Folder for the converted model (new or empty).")],
    quantization: Annotated[str, typer.Option(help="int8 (CPU), int8_float16, float16 or none.")] = "int8",
    force: Annotated[bool, typer.Option(help="Overwrite a non-empty --out folder.")] = False,
) -> None:
    """Convert an NLLB model for CTranslate2, the fast path of `xner translate --translator ctranslate2`."""
    from xner.engine.translate.nllb import convert_model as convert

    target = convert(model, out, quantization=quantization, force=force)
    typer.echo(f"converted {model!r} to {target} ({quantization}): use --translator ctranslate2 -o model={target}")
