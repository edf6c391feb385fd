"""Shared pieces of the CLI: common options, error handling, JSON output and progress bars."""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from sqlalchemy.exc import OperationalError

from xner.errors import InputError, XnerError
from xner.formats.text import file_size
from xner.store.db import PasswordFilter, Store, database_error_message, hide_passwords, open_store
from xner.types import ProgressFn

DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db", help="Database URL or SQLite file (default: $XNER_DB, else sqlite:///xner.db).", show_default=False
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of text.")]
CorpusOpt = Annotated[str, typer.Option("--corpus", "-c", help="Corpus name.")]

F = TypeVar("F", bound=Callable[..., Any])


def handle_errors(func: F) -> F:
    """Turn xner's errors, and database failures, into one line on stderr and exit code 1 (2 for a missing file is
    typer's own). Passwords in database URLs never reach the output or the log lines."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        logging.basicConfig(level=logging.WARNING, format="warning: %(message)s")
        for handler in logging.getLogger().handlers:
            if not any(isinstance(f, PasswordFilter) for f in handler.filters):
                handler.addFilter(PasswordFilter())
        try:
            return func(*args, **kwargs)
        except (XnerError, OperationalError) as error:
            data = error_to_json(error)
            if kwargs.get("as_json"):
                typer.echo(json.dumps(data, ensure_ascii=False))
            typer.echo(f"error: {data['error']}", err=True)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def error_to_json(error: XnerError | OperationalError) -> dict[str, Any]:
    """An error as JSON: the message (passwords in URLs hidden; a database failure without SQL), and for bad input
    its file, line and reason."""
    if isinstance(error, OperationalError):
        return {"error": database_error_message(error), "type": "DatabaseError"}
    data: dict[str, Any] = {"error": hide_passwords(str(error)), "type": type(error).__name__}
    if isinstance(error, InputError):
        data.update(file=error.path, line=error.line, reason=error.reason)
    return data


def store_for(db: str | None) -> Store:
    return open_store(db)


def to_jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: to_jsonable(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def emit(data: Any, as_json: bool, text: Callable[[], str]) -> None:
    """Print ``data`` as JSON, or the human-readable ``text()``."""
    if as_json:
        typer.echo(json.dumps(to_jsonable(data), ensure_ascii=False, indent=2))
    else:
        typer.echo(text())


@contextmanager
def byte_progress(*paths: str | Path | None, desc: str) -> Iterator[ProgressFn]:
    """A tqdm bar over the total size of ``paths`` on stderr (hidden when stderr is not a terminal)."""
    from tqdm import tqdm

    total = sum(file_size(p) for p in paths if p is not None)
    with tqdm(total=total, unit="B", unit_scale=True, desc=desc, file=sys.stderr, disable=None, leave=False) as bar:

        def update(done: int, size: int) -> None:  # the readers report (read so far, total size)
            bar.total = size
            bar.n = done
            bar.refresh()

        yield update


def parse_label_map(items: list[str] | None) -> dict[str, str]:
    """``["MISC=O", "DATE=O"]`` (or ``"MISC=O,DATE=O"``) → ``{"MISC": "O", "DATE": "O"}``."""
    mapping: dict[str, str] = {}
    for item in items or []:
        for part in filter(None, (p.strip() for p in item.split(","))):
            source, sep, target = part.partition("=")
            if not sep or not source or not target:
                raise XnerError(f"invalid --label-map entry {part!r}: expected FROM=TO, e.g. MISC=O")
            mapping[source] = target
    return mapping


def parse_labels(value: str | None) -> list[str] | None:
    """``"PER,ORG,LOC"`` → ``["PER", "ORG", "LOC"]``; None stays None."""
    if value is None:
        return None
    labels = [label.strip() for label in value.split(",") if label.strip()]
    if not labels:
        raise XnerError("--labels needs at least one label, e.g. PER,ORG,LOC")
    return labels


OptionsOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--option",
        "-o",
        help="A named option of the aligner or method, NAME=VALUE (repeatable), e.g. -o symmetrization=intersection.",
        show_default=False,
    ),
]


@contextmanager
def count_progress(desc: str, unit: str = "pair") -> Iterator[ProgressFn]:
    """A tqdm bar on stderr driven by ``(done, total)`` callbacks (hidden when stderr is not a terminal)."""
    from tqdm import tqdm

    with tqdm(desc=desc, unit=unit, file=sys.stderr, disable=None, leave=False) as bar:

        def update(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        yield update


@contextmanager
def stage_progress(unit: str = "item") -> Iterator[Callable[[str, int, int], None]]:
    """A tqdm bar per stage of a pipeline, driven by ``(stage, done, total)`` callbacks; a new stage closes the
    previous stage's bar."""
    from tqdm import tqdm

    bars: dict[str, Any] = {}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in bars:
            for bar in bars.values():
                bar.close()
            bars[stage] = tqdm(desc=stage, unit=unit, file=sys.stderr, disable=None, leave=False)
        bar = bars[stage]
        bar.total = total
        bar.n = done
        bar.refresh()

    try:
        yield update
    finally:
        for bar in bars.values():
            bar.close()


def read_extra(
    sources: list[Path] | None, targets: list[Path] | None, limit: int | None, *, raw: bool
) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """The extra parallel text of ``--extra-src``/``--extra-tgt`` file pairs, at most ``limit`` pairs."""
    from xner.services.aligning import read_extra_text

    sources, targets = sources or [], targets or []
    if len(sources) != len(targets):
        raise XnerError("give --extra-src and --extra-tgt the same number of times, one pair of files each")
    extra: list[tuple[tuple[str, ...], tuple[str, ...]]] = []
    for src_path, tgt_path in zip(sources, targets, strict=True):
        left = None if limit is None else limit - len(extra)
        extra += read_extra_text(src_path, tgt_path, pretokenized=not raw, limit=left)
    return extra
