"""The format registries: corpus readers (:data:`READERS`) and export writers (:data:`WRITERS`) by format name.

A reader streams ``(line, sentence)`` from a labelled file, with the file's line for each sentence; a writer
writes what an export selected to a file (or, for a dataset format, a folder). A new format is one module that
registers its reader or writer here, imported by :mod:`xner.formats`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from xner.options import Registry
from xner.types import ProgressFn, Sentence

if TYPE_CHECKING:
    from xner.formats.conll import ConllOptions, ReadStats
    from xner.formats.text import PathLike


class Reader(Protocol):
    """Streams ``(line, sentence)`` from a labelled file; registered by format name in :data:`READERS`."""

    def __call__(
        self,
        path: PathLike,
        options: ConllOptions | None = None,
        *,
        lang: str | None = None,
        stats: ReadStats | None = None,
        on_progress: ProgressFn | None = None,
        display_name: str | None = None,
    ) -> Iterator[tuple[int, Sentence]]: ...


class ExportSource(Protocol):
    """What a writer reads: the selected sentences with their metadata (``split``, ``position``, ``status``...),
    and what a dataset writer needs before the first sentence (the split names and the label set)."""

    def rows(self) -> Iterator[tuple[Sentence, Mapping[str, Any]]]:
        """The sentences, in export order, each with its metadata."""
        ...

    def split_names(self) -> list[str]:
        """The selected splits that have sentences, in import order."""
        ...

    def labels(self) -> list[str]:
        """Every label the export may write, sorted (so every export of a corpus numbers its tags alike)."""
        ...


class Writer(Protocol):
    """Writes an export; registered by format name in :data:`WRITERS`, its dataclass fields are its options."""

    name: ClassVar[str]
    folder: ClassVar[bool]  # writes a folder (a dataset) rather than one file

    def write(self, source: ExportSource, path: Path) -> None:
        """Write the sentences of ``source`` to ``path`` (a file, or a folder when ``folder``)."""
        ...


READERS: Registry[Reader] = Registry("corpus format")
WRITERS: Registry[type[Writer]] = Registry("export format")
