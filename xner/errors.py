"""Errors raised by xner.

Every error xner raises on purpose subclasses :class:`XnerError`, so callers (the CLI, the app) can catch one
type and show its message. Errors about parsed input carry the file and the 1-based line, and their message
starts with ``path:line:`` so editors and terminals can jump to the spot.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any


class XnerError(Exception):
    """Base class of all errors xner raises deliberately."""


class InputError(XnerError):
    """Bad input in a file: names the file, the 1-based line (when known) and the reason.

    >>> str(InputError("train.txt", 12, "expected 'TOKEN TAG', found 1 column"))
    "train.txt:12: expected 'TOKEN TAG', found 1 column"
    """

    def __init__(self, path: str | Path | None, line: int | None, reason: str) -> None:
        self.path = str(path) if path is not None else "<input>"
        self.line = line
        self.reason = reason
        where = self.path if line is None else f"{self.path}:{line}"
        super().__init__(f"{where}: {reason}")

    def __reduce__(self) -> tuple[type, tuple[str, int | None, str]]:  # pickled as its three parts (read-ahead)
        return type(self), (self.path, self.line, self.reason)


class UnknownNameError(XnerError):
    """A name (corpus, aligner, format, ...) that is not among the known ones; lists the allowed names."""

    def __init__(self, kind: str, name: str, known: Iterable[str]) -> None:
        self.kind = kind
        self.name = name
        self.known = sorted(known)
        allowed = ", ".join(self.known) if self.known else "none yet"
        super().__init__(f"unknown {kind} {name!r}; known: {allowed}")

    def __reduce__(self) -> tuple[type, tuple[str, str, list[str]]]:
        return type(self), (self.kind, self.name, self.known)


class ConflictError(XnerError):
    """A write based on a stale version: somebody else saved first (optimistic concurrency).

    ``current`` is what is stored now and ``decision`` the decision that made it (when one did), so the caller
    can show the other reviewer's work; nothing of the refused write was stored.
    """

    def __init__(self, message: str, *, current: Any = None, decision: Any = None) -> None:
        super().__init__(message)
        self.current = current
        self.decision = decision


class MissingDependencyError(XnerError):
    """An optional package needed by the feature in use is not installed."""

    def __init__(self, package: str, feature: str) -> None:
        super().__init__(f"{feature} needs the package {package!r}: pip install {package}")


class BusyError(XnerError):
    """A write gave up because other writers kept the database locked (SQLite's lock, PostgreSQL row locks or
    serialization conflicts) for longer than it may wait; nothing of it was stored, and trying again is safe.

    >>> print(BusyError("saving the decision", tries=4, waited_s=2.04))  # doctest: +ELLIPSIS
    saving the decision failed: the database stayed busy with other writes (4 tries in 2.0 s); nothing was saved, ...
    """

    def __init__(self, what: str, *, tries: int, waited_s: float) -> None:
        self.what = what
        self.tries = tries
        self.waited_s = waited_s
        super().__init__(
            f"{what} failed: the database stayed busy with other writes ({tries} {'try' if tries == 1 else 'tries'} "
            f"in {waited_s:.1f} s); "
            "nothing was saved, try again in a moment"
        )


class CorpusImportingError(XnerError):
    """A corpus name that belongs to an import still under way (or to a corpus being removed: deleted, or the rest
    of a failed import): the corpus is not readable yet, and the name is not free.

    >>> from datetime import UTC, datetime
    >>> print(CorpusImportingError("yor", datetime(2026, 12, 1, 9, 30, tzinfo=UTC)))
    corpus 'yor' is being imported (started 2026-12-01 09:30 UTC); wait for it to finish, or choose another name
    """

    def __init__(self, name: str, started: datetime | None, *, removing: bool = False) -> None:
        self.name = name
        self.started = started
        self.removing = removing
        when = f"started {started:%Y-%m-%d %H:%M} UTC" if started is not None else "start time unknown"
        if removing:
            message = (
                f"corpus {name!r} is being removed (deleted, or the rest of a failed import; {when}); "
                "try again in a moment"
            )
        else:
            message = f"corpus {name!r} is being imported ({when}); wait for it to finish, or choose another name"
        super().__init__(message)
