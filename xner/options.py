"""Named options of pluggable components: dataclass fields, settable from ``key=value`` strings (CLI, app).

A component (aligner, projector) is a dataclass; its fields, with their defaults, are its options. The CLI and the
app pass options as text, which :func:`build` converts to each field's type and checks, so a typo or a bad value
is an error that names the option and the allowed values instead of a silent default.
"""

from __future__ import annotations

import dataclasses
import json
import os
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal, TypeVar, get_args, get_origin

from xner.errors import UnknownNameError, XnerError

T = TypeVar("T")
C = TypeVar("C")  # what a registry holds
D = TypeVar("D")  # what its decorator adds
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def parse_assignments(items: Iterable[str]) -> dict[str, str]:
    """``["a=1", "b=x"]`` → ``{"a": "1", "b": "x"}``; an item without ``=`` is an error.

    >>> parse_assignments(["merge_distance=2", "order=shortest_first"])
    {'merge_distance': '2', 'order': 'shortest_first'}
    """
    options: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise XnerError(f"option {item!r} must look like name=value")
        options[key.strip().replace("-", "_")] = value.strip()
    return options


def _convert(name: str, kind: Any, value: Any) -> Any:
    """``value`` (text or already typed) as type ``kind``."""
    origin = get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in get_args(kind) if a is not type(None)]
        if value is None or (isinstance(value, str) and value.lower() in ("", "none", "null")):
            return None
        return _convert(name, args[0], value)
    if origin is Literal:
        allowed = get_args(kind)
        if value not in allowed:
            raise UnknownNameError(f"value for option {name!r}", str(value), [str(a) for a in allowed])
        return value
    if kind is str and isinstance(value, os.PathLike):
        return os.fspath(value)  # a folder given as a Path is stored as text
    if not isinstance(value, str):
        return value
    if kind is bool:
        if value.lower() in _TRUE | _FALSE:
            return value.lower() in _TRUE
        raise XnerError(f"option {name!r} takes true or false, got {value!r}")
    if kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            raise XnerError(f"option {name!r} takes a number ({kind.__name__}), got {value!r}") from None
    return value


def build(cls: Callable[..., T], options: Mapping[str, Any] | None = None) -> T:
    """An instance of the dataclass ``cls`` with ``options`` (text or typed values) converted to its field types.

    Raises:
        UnknownNameError: an option ``cls`` does not have (lists the ones it has) or a value outside a Literal.
        XnerError: a value of the wrong type.
    """
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}  # type: ignore[arg-type]
    converted = {}
    for key, value in (options or {}).items():
        if key not in fields:
            raise UnknownNameError(f"option of {getattr(cls, 'name', cls.__name__)}", key, fields)
        converted[key] = _convert(key, hints[key], value)
    return cls(**converted)


def describe(component: Any) -> dict[str, Any]:
    """The options of a component instance as a plain dict (stored with each run)."""
    return {f.name: getattr(component, f.name) for f in dataclasses.fields(component) if f.init}


# Options that change how fast a component runs, not what it outputs.
RUNTIME_OPTIONS = frozenset({"device", "batch_size"})


def same_output(stored: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    """Whether stored run parameters (read back from JSON) and wanted ones describe the same output.

    Runtime options (:data:`RUNTIME_OPTIONS`) are ignored; values compare as JSON (a tuple equals a list).

    >>> same_output({"model": "m", "device": "cpu", "layers": [8]}, {"model": "m", "device": "cuda", "layers": (8,)})
    True
    >>> same_output({"model": "m", "num_beams": 4}, {"model": "m", "num_beams": 1})
    False
    """

    def canonical(params: Mapping[str, Any]) -> str:
        kept = {key: value for key, value in params.items() if key not in RUNTIME_OPTIONS}
        return json.dumps(kept, sort_keys=True, default=str)

    return canonical(stored) == canonical(wanted)


class Registry(dict[str, C]):
    """Components of one kind by name (``aligner``, ``projection method``, ``corpus format``): classes built with
    options through :meth:`create`, or plain functions (the format readers) looked up with :meth:`lookup`."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind

    def register(self, name: str) -> Callable[[D], D]:
        """Decorator adding a component (a class or a function) under ``name``."""

        def add(component: D) -> D:
            self[name] = component  # type: ignore[assignment]
            return component

        return add

    def lookup(self, name: str) -> C:
        """The component registered as ``name``; an unknown name lists the known ones.

        Raises:
            UnknownNameError: no component of this kind is registered as ``name``.
        """
        if name not in self:
            raise UnknownNameError(self.kind, name, self)
        return self[name]

    def create(self, name: str, options: Mapping[str, Any] | None = None) -> Any:
        """A new component ``name`` with ``options``; an unknown name lists the known ones."""
        return build(self.lookup(name), options)  # type: ignore[arg-type]
