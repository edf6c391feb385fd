"""``xner demo``: load the demo project into an empty store."""

from __future__ import annotations

import typer

from xner.cli._util import DbOpt, handle_errors, store_for
from xner.services.demo import DEMO_CORPUS, load_demo


@handle_errors
def demo(db: DbOpt = None) -> None:
    """Load the English–Spanish demo corpus (gold entities and alignments) into an empty store."""
    if load_demo(store_for(db)):
        typer.echo(f"loaded demo corpus {DEMO_CORPUS!r}")
    else:
        typer.echo("the store already has corpora; demo not loaded")
