"""``xner queue``: show or change a corpus's review queue settings (overlap, reservation length)."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer

from xner.cli._util import DbOpt, JsonOpt, emit, handle_errors, store_for
from xner.errors import XnerError
from xner.services.review import QueueReport, QueueSettings, queue_projection, queue_settings, set_queue_settings


def settings_text(settings: QueueSettings) -> str:
    changed = f"; set by {settings.updated_by} at {settings.updated_at:%Y-%m-%d %H:%M}" if settings.updated_at else ""
    return (
        f"queue of {settings.corpus}: {settings.overlap} reviewer(s) per item, items reserved for "
        f"{settings.lease_seconds} s while shown{changed}"
    )


def queued_text(report: QueueReport) -> str:
    compared = ", ".join(f"run {run_id} ({method})" for run_id, method in sorted(report.compared_runs.items()))
    disagreement = f"; disagreement against {compared}" if compared else ""
    return (
        f"projection run {report.run_id} ({report.method}) queued for review in {report.corpus}: "
        f"{report.queued:,} new items, {report.updated:,} updated, {report.kept:,} reviewed kept{disagreement}"
    )


@handle_errors
def queue(
    corpus: Annotated[str, typer.Option("--corpus", "-c", help="Corpus name.")],
    overlap: Annotated[
        int | None,
        typer.Option(help="Distinct reviewers who decide each item (1: one each; 2+: for agreement)."),
    ] = None,
    lease_seconds: Annotated[
        int | None,
        typer.Option(help="How long an item shown to a reviewer stays reserved for them (renewed while open)."),
    ] = None,
    run: Annotated[
        int | None,
        typer.Option(
            "--run",
            help="Queue this projection run for review: its spans become the suggestions of every unreviewed "
            "item (reviewed items keep their decisions).",
        ),
    ] = None,
    allow_empty: Annotated[
        bool, typer.Option(help="With --run: queue a run without a single entity (every item suggests nothing).")
    ] = False,
    by: Annotated[
        str | None, typer.Option(help="Who changes the settings or queues the run (default: the login name).")
    ] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show a corpus's review queue settings, change them with --overlap / --lease-seconds, or queue a
    projection run for review with --run."""
    store = store_for(db)
    if run is not None:
        if overlap is not None or lease_seconds is not None:
            raise XnerError("--run queues a run; change --overlap / --lease-seconds in a second command")
        queued = queue_projection(store, corpus, run, created_by=by or getpass.getuser(), allow_empty=allow_empty)
        emit(queued, as_json, lambda: queued_text(queued))
        return
    if overlap is None and lease_seconds is None:
        result = queue_settings(store, corpus)
    else:
        who = by or getpass.getuser()
        result = set_queue_settings(store, corpus, by=who, overlap=overlap, lease_seconds=lease_seconds)
    emit(result, as_json, lambda: settings_text(result))
