"""The ``xner`` command run in-process through typer's CliRunner, for the tests of the commands."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner, Result

from xner.cli import app

runner = CliRunner()


def xner(*args: str | Path) -> Result:
    return runner.invoke(app, [str(a) for a in args])


def ok(*args: str | Path) -> Result:
    result = xner(*args)
    assert result.exit_code == 0, f"exit {result.exit_code}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    return result
