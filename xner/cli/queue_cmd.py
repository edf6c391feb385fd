"""``xner queue``: show or change a corpus's review queue settings (overlap, reservation length)."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer

from xner.cli._util import DbOpt, JsonOpt, emit, handle_errors, store_for
from xner.services.review import QueueSettings, queue_settings, set_queue_settings


def settings_text(settings: QueueSettings) -> str:
    changed = f"; set by {settings.updated_by} at {settings.updated_at:%Y-%m-%d %H:%M}" if settings.updated_at else ""
    return (
        f"queue of {settings.corpus}: {settings.overlap} reviewer(s) per item, items reserved for "
        f"{settings.lease_seconds} s while shown{changed}"
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
    by: Annotated[str | None, typer.Option(help="Who changes the settings (default: the login name).")] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show a corpus's review queue settings, or change them with --overlap / --lease-seconds."""
    store = store_for(db)
    if overlap is None and lease_seconds is None:
        result = queue_settings(store, corpus)
    else:
        who = by or getpass.getuser()
        result = set_queue_settings(store, corpus, by=who, overlap=overlap, lease_seconds=lease_seconds)
    emit(result, as_json, lambda: settings_text(result))
