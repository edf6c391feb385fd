"""The ``xner`` command line: ``xner --help`` lists the commands, ``xner COMMAND --help`` their options."""

from __future__ import annotations

import typer

from xner.cli import (
    align_cmd,
    delete_cmd,
    demo_cmd,
    eval_cmd,
    experiment_cmd,
    export_cmd,
    import_cmd,
    project_cmd,
    queue_cmd,
    spotcheck_cmd,
    stats_cmd,
    train_cmd,
    translate_cmd,
)
from xner.cli._util import set_verbose

app = typer.Typer(
    name="xner",
    help="Build NER training data for low-resource languages by annotation projection.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _global_options(
    verbose: bool = typer.Option(
        False, "--verbose", "-v", help="Show the libraries' INFO log lines (e.g. migrations); also XNER_LOG=info."
    ),
) -> None:
    set_verbose(verbose)


app.add_typer(import_cmd.app, name="import")
app.add_typer(export_cmd.app, name="export")
app.command("stats")(stats_cmd.stats)
app.command("corpora")(stats_cmd.corpora)
app.command("demo")(demo_cmd.demo)
app.command("align")(align_cmd.align)
app.command("symmetrize")(align_cmd.symmetrize)
app.command("project")(project_cmd.project)
app.command("train")(train_cmd.train)
app.command("translate")(translate_cmd.translate)
app.command("convert-model")(translate_cmd.convert_model)
app.command("experiment")(experiment_cmd.experiment)
app.command("queue")(queue_cmd.queue)
app.command("spot-check")(spotcheck_cmd.spot_check)
app.add_typer(eval_cmd.app, name="eval")
app.add_typer(delete_cmd.app, name="delete")


def main() -> None:
    """Entry point of the ``xner`` console script and ``python -m xner``."""
    app()
