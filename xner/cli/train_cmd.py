"""``xner train``: train an NER tagger on one side of a corpus, save it, and record the run with its scores."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from xner.cli._util import CorpusOpt, DbOpt, JsonOpt, OptionsOpt, count_progress, emit, handle_errors, store_for
from xner.options import parse_assignments
from xner.services.managed import MODELS, ManagedFolder
from xner.services.training import TRAIN_STATUSES, TrainReport, default_model_name, train_tagger
from xner.types import ReviewStatus


@handle_errors
def train(
    corpus: CorpusOpt,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Directory to save the tagger in (one holding a saved tagger is replaced). Default: a new folder in "
            "the managed folder's models/ ($XNER_HOME, else beside the SQLite file), where the app lists it.",
            show_default=False,
        ),
    ] = None,
    side: Annotated[
        str | None, typer.Option(help="src or tgt for a parallel corpus (default tgt).", show_default=False)
    ] = None,
    split: Annotated[
        list[str] | None, typer.Option(help="Train on this split (default: train). Repeatable.", show_default=False)
    ] = None,
    eval_split: Annotated[
        list[str] | None, typer.Option(help="Score the trained tagger on this split, e.g. test. Repeatable.")
    ] = None,
    status: Annotated[
        list[str] | None,
        typer.Option(
            help="Only sentences in this review status (default: all but rejected): unreviewed, accepted, "
            "corrected, rejected. Repeatable.",
            show_default=False,
        ),
    ] = None,
    tagger: Annotated[str, typer.Option(help="crf (linear-chain CRF, python-crfsuite).")] = "crf",
    option: OptionsOpt = None,
    titled_copies: Annotated[
        bool,
        typer.Option(
            help="Also train on a copy of each sentence with its person names titled ('Mr Smith'): for English "
            "taggers trained on news (CoNLL-2003) that will tag parliamentary or other titled text."
        ),
    ] = False,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Train a tagger on the entities of one side of a corpus (curated where reviewed, else gold) and save it.

    The run is recorded by its configuration; training the same configuration again replaces it. With
    --eval-split, entity precision, recall and F1 on those sentences are recorded too. Use the saved directory
    with `xner project --method model -o model=DIR` or `--source-tagger DIR`.

    crf options (-o NAME=VALUE): c1 (L1 regularisation, 0.1), c2 (L2, 0.05), max_iterations (150), window (tokens
    on each side as features, 2), affixes (longest prefix/suffix, 3), min_freq (drop rarer features, 1),
    all_transitions (true).
    """
    statuses = [ReviewStatus.parse(s) for item in status or [] for s in item.split(",") if s.strip()]
    store = store_for(db)
    if out is None:
        name = default_model_name(corpus, tagger, statuses or TRAIN_STATUSES)
        out = ManagedFolder.for_database(store.url).path(MODELS, name)
    with count_progress(f"training {tagger}", unit="iteration") as progress:
        report = train_tagger(
            store,
            corpus,
            out=out,
            side=side,
            splits=split or ["train"],
            eval_splits=eval_split or [],
            statuses=statuses or None,
            tagger=tagger,
            options=parse_assignments(option or []),
            on_progress=progress,
            titled=titled_copies,
        )
    emit(report, as_json, lambda: summary(report))


def summary(report: TrainReport) -> str:
    """One line: what was trained on, how long it took, the F1 when evaluated, where it is saved."""
    scored = ""
    if report.f1 is not None:
        scored = f"; {'+'.join(report.eval_splits)} F1 {report.f1:.4f} on {report.eval_sentences} sentences"
    return (
        f"trained {report.tagger} on {report.sentences} sentences of {report.corpus!r} "
        f"({report.side}: {', '.join(report.splits)}) in {report.seconds:.1f} s{scored}; "
        f"saved to {report.model_path} (training run {report.run_id})"
    )
