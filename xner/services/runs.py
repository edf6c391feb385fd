"""Alignment and projection runs of a corpus, and the options of the aligners and projection methods, as plain data
for the app (the run tables of the home page and the option forms that start new runs).

A component's options are its dataclass fields (:mod:`xner.options`); :func:`option_specs` describes each one
(kind, default, allowed values, help taken from the class docstring) so a page can draw a form without knowing
the component. The values a form returns go to ``align_corpus`` / ``project_corpus`` as ``options``, which check
them like the CLI's ``-o NAME=VALUE``.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import types
import typing
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol, get_args, get_origin

from xner.engine.align import ALIGNERS
from xner.engine.project import PROJECTORS
from xner.engine.translate import TRANSLATORS
from xner.services.corpora import get_corpus
from xner.store.db import Store
from xner.store.queries import runs as queries

OptionKind = Literal["choice", "bool", "int", "float", "text", "optional_int", "optional_float", "optional_text"]
_DOC_ENTRY = re.compile(r"^(\w+(?: / \w+)*): (.*)$")


@dataclass(frozen=True, slots=True)
class AlignmentRunInfo:
    """One alignment run of a corpus and how many pairs it covers."""

    id: int
    aligner: str
    params: dict[str, Any]
    created_at: datetime
    created_by: str
    pairs: int


@dataclass(frozen=True, slots=True)
class ProjectionRunInfo:
    """One projection run of a corpus: how many pairs it covers and how many review suggestions come from it."""

    id: int
    method: str
    alignment_run_id: int | None
    params: dict[str, Any]
    created_at: datetime
    created_by: str
    pairs: int
    queued: int  # review states whose suggestion is this run's


def list_alignment_runs(store: Store, corpus: str) -> list[AlignmentRunInfo]:
    """The alignment runs of ``corpus``, oldest first; an unknown corpus lists the known ones."""
    with store.session() as session:
        found = get_corpus(session, corpus)
        pairs = queries.alignment_pair_counts(session, found.id)
        runs = queries.alignment_runs(session, found.id)
        return [
            AlignmentRunInfo(
                run.id, run.aligner, dict(run.params), run.created_at, run.created_by, pairs.get(run.id, 0)
            )
            for run in runs
        ]


def list_projection_runs(store: Store, corpus: str) -> list[ProjectionRunInfo]:
    """The projection runs of ``corpus``, oldest first; an unknown corpus lists the known ones."""
    with store.session() as session:
        found = get_corpus(session, corpus)
        pairs = queries.projection_pair_counts(session, found.id)
        queued = queries.suggestion_counts(session, found.id)
        runs = queries.projection_runs(session, found.id)
        return [
            ProjectionRunInfo(
                run.id,
                run.method,
                run.alignment_run_id,
                dict(run.params),
                run.created_at,
                run.created_by,
                pairs.get(run.id, 0),
                queued.get(run.id, 0),
            )
            for run in runs
        ]


class ProjectionRunLike(Protocol):
    """What :func:`run_label` reads of a projection run: ``ProjectionRunInfo`` or the queue's ``QueuedRunInfo``."""

    @property
    def id(self) -> int: ...
    @property
    def method(self) -> str: ...
    @property
    def alignment_run_id(self) -> int | None: ...
    @property
    def created_at(self) -> datetime | None: ...
    @property
    def created_by(self) -> str: ...


def run_label(run: ProjectionRunLike | AlignmentRunInfo) -> str:
    """An alignment or projection run in one line of plain text, for every run picker and table.

    >>> when = datetime(2026, 12, 7, 4, 10)
    >>> run_label(ProjectionRunInfo(12, "heuristic", 3, {}, when, "ana", 799, 0))
    'run 12 · heuristic over alignment 3 · 2026-12-07 04:10 · by ana'
    >>> run_label(AlignmentRunInfo(3, "eflomal", {}, when, "", 799))
    'run 3 · eflomal · 2026-12-07 04:10'
    """
    if isinstance(run, AlignmentRunInfo):
        parts = [f"run {run.id}", run.aligner]
    else:
        over = f" over alignment {run.alignment_run_id}" if run.alignment_run_id is not None else ""
        parts = [f"run {run.id}", f"{run.method}{over}"]
    if run.created_at is not None:
        parts.append(f"{run.created_at:%Y-%m-%d %H:%M}")
    if run.created_by:
        parts.append(f"by {run.created_by}")
    return " · ".join(parts)


# --- options of aligners and projection methods ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OptionSpec:
    """One option of a component, for a form: its kind, default, allowed values (``choice``) and help."""

    name: str
    kind: OptionKind
    default: Any
    choices: tuple[str, ...] = ()
    help: str = ""


def aligner_names() -> list[str]:
    """The registered aligners, sorted (``awesome``, ``eflomal``, ``simalign``)."""
    return sorted(ALIGNERS)


def projection_methods() -> list[str]:
    """The registered projection methods, sorted (``easyproject``, ``heuristic``, ``model``, ``model-transfer``,
    ``ngram``)."""
    return sorted(PROJECTORS)


def translator_names() -> list[str]:
    """The registered translators, sorted (``ctranslate2``, ``nllb``)."""
    return sorted(TRANSLATORS)


def aligner_options(name: str) -> list[OptionSpec]:
    """The options of aligner ``name``; an unknown name lists the registered aligners.

    >>> [(o.name, o.default) for o in aligner_options("eflomal")][:2]
    [('symmetrization', 'grow-diag-final-and'), ('model', 3)]
    """
    return option_specs(ALIGNERS.lookup(name))


def projection_options(name: str) -> list[OptionSpec]:
    """The options of projection method ``name``; an unknown name lists the registered methods."""
    return option_specs(PROJECTORS.lookup(name))


def translator_options(name: str) -> list[OptionSpec]:
    """The options of translator ``name``; an unknown name lists the registered translators.

    >>> [(o.name, o.default) for o in translator_options("nllb")][:3]
    [('model', 'nllb-600m'), ('device', 'auto'), ('batch_size', 16)]
    """
    return option_specs(TRANSLATORS.lookup(name))


def needs_alignment(method: str) -> bool:
    """Whether projection method ``method`` projects over an alignment run (``model-transfer`` and
    ``easyproject`` do not); an unknown name lists the registered methods.

    >>> needs_alignment("ngram"), needs_alignment("model-transfer")
    (True, False)
    """
    return PROJECTORS.lookup(method).needs_alignment


def option_specs(component: type) -> list[OptionSpec]:
    """An :class:`OptionSpec` per init field of the dataclass ``component``, in declaration order."""
    hints = typing.get_type_hints(component)
    helps = _docstring_help(component)
    specs = []
    for item in dataclasses.fields(component):
        if not item.init:
            continue
        kind, choices = _kind(hints[item.name])
        default = item.default if item.default is not dataclasses.MISSING else None
        specs.append(OptionSpec(item.name, kind, default, choices, helps.get(item.name, "")))
    return specs


def _kind(hint: Any) -> tuple[OptionKind, tuple[str, ...]]:
    origin = get_origin(hint)
    if origin is Literal:
        return "choice", tuple(str(value) for value in get_args(hint))
    if origin in (typing.Union, types.UnionType):
        inner = next(arg for arg in get_args(hint) if arg is not type(None))
        base, _ = _kind(inner)
        optional = {"int": "optional_int", "float": "optional_float"}.get(base, "optional_text")
        return typing.cast(OptionKind, optional), ()
    if hint is bool:
        return "bool", ()
    if hint is int:
        return "int", ()
    if hint is float:
        return "float", ()
    return "text", ()


def _docstring_help(component: type) -> dict[str, str]:
    """``name: text`` entries of the docstrings of ``component`` and its bases (continuation lines joined)."""
    helps: dict[str, str] = {}
    for cls in reversed(component.__mro__):
        current: list[str] = []
        for line in inspect.cleandoc(cls.__doc__ or "").splitlines():
            match = _DOC_ENTRY.match(line)
            if match:
                current = [name.strip() for name in match.group(1).split("/")]
                for name in current:
                    helps[name] = match.group(2).strip()
            elif line.startswith(" ") and current:
                for name in current:
                    helps[name] += " " + line.strip()
            else:
                current = []
    return helps
