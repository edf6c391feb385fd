"""Errors raised by xner.

Every error xner raises on purpose subclasses :class:`XnerError`, so callers (the CLI, the app) can catch one
type and show its message. Errors about parsed input carry the file and the 1-based line, and their message
starts with ``path:line:`` so editors and terminals can jump to the spot.
"""

from __future__ import annotations

from collections.abc import Iterable
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


class UnknownNameError(XnerError):
    """A name (corpus, aligner, format, ...) that is not among the known ones; lists the allowed names."""

    def __init__(self, kind: str, name: str, known: Iterable[str]) -> None:
        self.kind = kind
        self.name = name
        self.known = sorted(known)
        allowed = ", ".join(self.known) if self.known else "none yet"
        super().__init__(f"unknown {kind} {name!r}; known: {allowed}")


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
