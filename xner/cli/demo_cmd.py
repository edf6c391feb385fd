"""``xner demo``: load the demo project into an empty store."""

from __future__ import annotations

import typer

from xner.cli._util import DbOpt, handle_errors, store_for
from xner.services.demo import DEMO_CORPUS, load_demo
from xner.services.review import queue_overview


@handle_errors
def demo(db: DbOpt = None) -> None:
    """Load the English–Spanish demo project into an empty store: 100 pairs with gold entities and alignments, a
    simulated aligner run, heuristic and ngram projections over it, and the heuristic run queued for review."""
    store = store_for(db)
    if not load_demo(store):
        typer.echo("the store already has corpora; demo not loaded")
        return
    overview = queue_overview(store, DEMO_CORPUS)
    runs = ", ".join(f"{run.id} ({run.method})" for run in overview.runs)
    typer.echo(
        f"loaded demo corpus {DEMO_CORPUS!r}: {overview.total} sentence pairs with gold entities and alignments, "
        f"a simulated aligner run, projection runs {runs}; run {overview.queued_run} is queued for review "
        f"({overview.queued} unreviewed items). Review them in the app: bash scripts/app.sh"
    )
