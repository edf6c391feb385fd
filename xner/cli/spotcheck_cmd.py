"""``xner spot-check``: draw a stratified sample of a projection run's spans for reviewers to judge."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer

from xner.cli._util import CorpusOpt, DbOpt, ExecutorOpt, JsonOpt, emit, handle_errors, store_for
from xner.errors import XnerError
from xner.services.executing import closing_executor, executor_for
from xner.services.spotcheck import BUCKETS, STRATA, SampleReport, draw_sample


def sample_text(report: SampleReport) -> str:
    strata = ", ".join(
        f"{key} {report.allocation[key]}/{size:,}"
        for key, size in report.populations.items()
        if key in report.allocation
    )
    return (
        f"spot check {report.check_id} of projection run {report.run_id} ({report.corpus}): {report.drawn} spans "
        f"drawn for {report.requested} asked (drawn/spans per stratum: {strata}); judge them on the Spot check page"
    )


def _edge(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise XnerError(f"--buckets: {text.strip()!r} is not a number; give edges such as 0,0.5,0.8,1") from None


@handle_errors
def spot_check(
    corpus: CorpusOpt,
    n: Annotated[int, typer.Option("--n", help="Spans to draw (at least one per stratum).")] = 200,
    run: Annotated[int | None, typer.Option(help="Projection run (default: the newest).", show_default=False)] = None,
    strata: Annotated[
        str, typer.Option(help="Strata, comma-separated: label, confidence_bucket, or none for one stratum.")
    ] = ",".join(STRATA),
    buckets: Annotated[str, typer.Option(help="Confidence bucket edges from 0 to 1.")] = ",".join(map(str, BUCKETS)),
    seed: Annotated[int, typer.Option(help="The same seed and run draw the same spans.")] = 0,
    by: Annotated[str | None, typer.Option(help="Who draws the sample (default: the login name).")] = None,
    workers: Annotated[int, typer.Option(help="With --executor local: processes that scan the run's spans.")] = 1,
    executor: ExecutorOpt = "local",
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Draw a stratified random sample of a projection run's spans (proportional, at least one per stratum) and
    store it as a spot check, to estimate the run's precision from reviewers' judgments."""
    names = [] if strata.strip() == "none" else [name.strip() for name in strata.split(",") if name.strip()]
    edges = [_edge(edge) for edge in buckets.split(",") if edge.strip()]
    store = store_for(db)
    with closing_executor(executor_for(executor, workers=workers)) as runner:
        report = draw_sample(
            store,
            corpus,
            run,
            n,
            strata=names,
            buckets=edges,
            seed=seed,
            reviewer=by or getpass.getuser(),
            executor=runner,
        )
    emit(report, as_json, lambda: sample_text(report))
