"""``xner experiment``: run a sample-efficiency sweep from a config file and write its learning curves."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from xner.cli._util import DbOpt, ExecutorOpt, JsonOpt, count_progress, emit, handle_errors, store_for
from xner.services.executing import closing_executor, executor_for
from xner.services.experiments import ExperimentConfig, SweepReport, parse_ks, parse_seeds, run_experiment
from xner.store.db import Store


@handle_errors
def experiment(
    config: Annotated[Path, typer.Argument(help="The sweep's YAML or JSON config.", show_default=False)],
    out: Annotated[
        Path | None,
        typer.Option(help="Write curves.json, curves.html and curves.png here.", show_default=False),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(help="Training processes (default: the config's workers).", show_default=False)
    ] = None,
    ks: Annotated[
        str | None,
        typer.Option("--ks", help="Gold sentence counts instead of the config's, e.g. 50,100,all.", show_default=False),
    ] = None,
    seeds: Annotated[
        str | None,
        typer.Option(help="Seeds instead of the config's, e.g. 0,1,2 or 0-4.", show_default=False),
    ] = None,
    langs: Annotated[
        str | None,
        typer.Option(
            "--langs", "--languages", help="Only these of the config's languages, e.g. yor,hau.", show_default=False
        ),
    ] = None,
    eval_split: Annotated[
        str | None,
        typer.Option(
            help="Score every language on this split (e.g. dev) instead of the config's; the results go to the "
            "experiment NAME-SPLIT.",
            show_default=False,
        ),
    ] = None,
    executor: ExecutorOpt = "local",
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Train a tagger for every language × strategy × k gold sentences × seed of CONFIG and record each run.

    Runs are cached by their configuration: running again trains only what is missing or failed (resume an
    interrupted sweep by running it again). --ks, --seeds, --langs and --eval-split override the config. Every
    corpus and split is checked before any training; points left without a result for every seed are listed.
    With --out, the learning curves (mean F1 with a 95% interval over the seeds each point has) are written as
    JSON, HTML and PNG.
    """
    parsed = ExperimentConfig.load(config).override(
        languages=None if langs is None else [code.strip() for code in langs.split(",") if code.strip()],
        ks=None if ks is None else parse_ks(ks),
        seeds=None if seeds is None else parse_seeds(seeds),
        eval_split=eval_split,
    )
    store = store_for(db)
    runner = executor_for(executor, workers=workers or parsed.workers)
    with count_progress(f"experiment {parsed.name}", unit="run") as progress, closing_executor(runner):
        report = run_experiment(store, parsed, executor=runner, on_progress=progress)
    if out is not None:
        write_curves(store, parsed.name, out)
    emit(report, as_json, lambda: summary(report, out))


def write_curves(store: Store, name: str, out: Path) -> None:
    from xner.figures.training import write_curve_files
    from xner.services.training_view import experiment_curves

    write_curve_files(experiment_curves(store, name), out)


def summary(report: SweepReport, out: Path | None) -> str:
    lines = [
        f"experiment {report.experiment}: {report.points} points, {report.trained} trained, {report.cached} cached, "
        f"{len(report.skipped)} skipped, in {report.seconds:.1f} s"
    ]
    lines += [f"  skipped: {reason}" for reason in report.skipped[:5]]
    if report.missing:
        lines.append(f"  {len(report.missing)} point(s) lack a result for some seeds; their means stand on fewer:")
        lines += [f"  missing: {gap}" for gap in report.missing[:20]]
        if len(report.missing) > 20:
            lines.append(f"  ... and {len(report.missing) - 20} more (--json lists all)")
    if out is not None:
        lines.append(f"learning curves in {out}/curves.{{json,html,png}}")
    return "\n".join(lines)
