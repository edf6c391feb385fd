"""Shared pieces of the CLI: common options, error handling, JSON output and progress bars."""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Protocol, TextIO, TypeVar

import typer
from sqlalchemy.exc import OperationalError

from xner.errors import InputError, XnerError
from xner.formats.text import file_size
from xner.store.db import PasswordFilter, Store, database_error_message, hide_passwords, open_store
from xner.types import ProgressFn, StageProgress

DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db", help="Database URL or SQLite file (default: $XNER_DB, else sqlite:///xner.db).", show_default=False
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of text.")]
CorpusOpt = Annotated[str, typer.Option("--corpus", "-c", help="Corpus name.")]
ExecutorOpt = Annotated[
    str,
    typer.Option(
        "--executor",
        help="Where the tasks run: local (this machine's processes) or dask://HOST:PORT (a running Dask "
        "scheduler whose workers have xner and reach the database).",
    ),
]

F = TypeVar("F", bound=Callable[..., Any])


def handle_errors(func: F) -> F:
    """Turn xner's errors, and database failures, into one line on stderr and exit code 1 (2 for a missing file is
    typer's own). Passwords in database URLs never reach the output or the log lines."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        configure_logging()
        try:
            return func(*args, **kwargs)
        except (XnerError, OperationalError) as error:
            data = error_to_json(error)
            if kwargs.get("as_json"):
                typer.echo(json.dumps(data, ensure_ascii=False))
            typer.echo(f"error: {data['error']}", err=True)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


_VERBOSE = False  # set by the global --verbose option (xner/cli/__init__.py)


def set_verbose(verbose: bool) -> None:
    global _VERBOSE
    _VERBOSE = verbose


def log_level(verbose: bool | None = None) -> int:
    """The CLI's logging level: warnings only by default; INFO with ``--verbose``/``-v``, or the level that
    ``$XNER_LOG`` names (``info``, ``debug``, ``warning``...)."""
    if verbose if verbose is not None else _VERBOSE:
        return logging.INFO
    name = os.environ.get("XNER_LOG", "").strip().upper()
    if not name:
        return logging.WARNING
    level = logging.getLevelName(name)
    if not isinstance(level, int):
        raise XnerError(f"XNER_LOG={name.lower()!r} is not a logging level; use debug, info, warning or error")
    return level


def configure_logging(verbose: bool | None = None, *, fmt: str | None = None) -> None:
    """Log to stderr at :func:`log_level`: by default only warnings, so no library INFO lines (Alembic's migration
    log among them) reach the output."""
    level = log_level(verbose)
    root = logging.getLogger()
    if not root.handlers:
        default = "warning: %(message)s" if level >= logging.WARNING else "%(levelname)s %(name)s: %(message)s"
        logging.basicConfig(format=fmt or default)
    root.setLevel(level)
    for handler in root.handlers:
        if not any(isinstance(f, PasswordFilter) for f in handler.filters):
            handler.addFilter(PasswordFilter())


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


PLAIN_PROGRESS_DELAY_S = 2.0  # no progress lines for work that ends sooner


class PlainProgress:
    """Progress as plain lines on a stream that is not a terminal (a log file, a pipe, CI): ``align 1200/5000
    pairs (24%)`` when another 10% is done or ``every`` seconds have passed, and a last line at the end; the same
    ``update(done, total)`` / ``close()`` calls as a tqdm bar. Work that ends within ``delay`` seconds prints
    nothing; after that the first update prints at once.

    >>> import io
    >>> out = io.StringIO()
    >>> bar = PlainProgress("align", unit="pair", stream=out, every=3600, delay=0)
    >>> for done in range(0, 101, 5):
    ...     bar.update(done, 100)
    >>> bar.close()
    >>> out.getvalue().splitlines()[:2], len(out.getvalue().splitlines())
    (['align 0/100 pairs (0%)', 'align 10/100 pairs (10%)'], 11)
    """

    def __init__(
        self,
        desc: str,
        *,
        unit: str = "item",
        stream: TextIO | None = None,
        every: float = 10.0,
        delay: float | None = None,
    ) -> None:
        self.desc, self.unit, self.every = desc, unit, every
        self.stream = stream if stream is not None else sys.stderr
        self.done, self.total = 0, 0
        self._shown: tuple[int, int] | None = None
        self._start = time.monotonic()
        self._delay = PLAIN_PROGRESS_DELAY_S if delay is None else delay
        self._last_time = self._start
        self._last_step = 0

    def update(self, done: int, total: int | None) -> None:
        self.done, self.total = done, total or 0
        now = time.monotonic()
        if now - self._start < self._delay:
            return
        step = int(10 * done / self.total) if self.total else 0
        if step > self._last_step or now - self._last_time >= self.every or self._shown is None:
            self._last_step, self._last_time = step, now
            self._show()

    def close(self) -> None:
        """Print the last state when lines were printed before (a long job ends with its count)."""
        if self._shown is not None and self._shown != (self.done, self.total):
            self._show()

    def _show(self) -> None:
        if self._shown == (self.done, self.total):
            return
        self._shown = (self.done, self.total)
        unit = self.unit if self.unit == "B" else f"{self.unit}s"
        if self.total:
            line = f"{self.desc} {self.done}/{self.total} {unit} ({100 * self.done // self.total}%)"
        else:
            line = f"{self.desc} {self.done} {unit}"
        print(line, file=self.stream, flush=True)


def is_terminal(stream: TextIO | None = None) -> bool:
    """Whether ``stream`` (default stderr) is an interactive terminal (progress bars) rather than a file or pipe
    (plain progress lines)."""
    stream = stream if stream is not None else sys.stderr
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class _Bar(Protocol):
    def update(self, done: int, total: int | None) -> None: ...

    def close(self) -> None: ...


class _TqdmBar:
    """A tqdm bar on stderr driven by absolute ``(done, total)`` values."""

    def __init__(self, desc: str, *, unit: str, unit_scale: bool = False) -> None:
        from tqdm import tqdm

        self.bar = tqdm(desc=desc, unit=unit, unit_scale=unit_scale, file=sys.stderr, leave=False)

    def update(self, done: int, total: int | None) -> None:
        self.bar.total = total
        self.bar.n = done
        self.bar.refresh()

    def close(self) -> None:
        self.bar.close()


def progress_bar(desc: str, *, unit: str = "item", unit_scale: bool = False) -> _Bar:
    """The CLI's progress display: a tqdm bar on stderr when it is a terminal, else plain lines
    (:class:`PlainProgress`)."""
    if is_terminal():
        return _TqdmBar(desc, unit=unit, unit_scale=unit_scale)
    return PlainProgress(desc, unit=unit)


@contextmanager
def byte_progress(*paths: str | Path | None, desc: str) -> Iterator[ProgressFn]:
    """Progress over the total size of ``paths`` on stderr (a bar on a terminal, else plain lines)."""
    total = sum(file_size(p) for p in paths if p is not None)
    bar = progress_bar(desc, unit="B", unit_scale=True)
    bar.update(0, total)
    try:
        yield bar.update  # the readers report (read so far, total size)
    finally:
        bar.close()


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
    """Progress on stderr driven by ``(done, total)`` callbacks: a bar on a terminal, else plain lines."""
    bar = progress_bar(desc, unit=unit)
    try:
        yield bar.update
    finally:
        bar.close()


@contextmanager
def stage_progress(unit: str = "item") -> Iterator[StageProgress]:
    """Progress per stage of a pipeline, driven by ``(stage, done, total)`` callbacks (a bar on a terminal, else
    plain lines); a new stage closes the previous stage's display."""
    bars: dict[str, _Bar] = {}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in bars:
            for bar in bars.values():
                bar.close()
            bars[stage] = progress_bar(stage, unit=unit)
        bars[stage].update(done, total)

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
