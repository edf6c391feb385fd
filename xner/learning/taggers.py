"""The tagger interface: sentences with entity spans in, a model that predicts spans (with confidences) out.

A tagger is chosen by name from :data:`TAGGERS`; its dataclass fields are its named options. A trained tagger
saves itself to a directory holding ``xner-tagger.json`` (kind, options, labels, training info) beside its model
file(s), so :func:`load_tagger` needs only the path. Taggers do no database work: the training service feeds them
core types.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Protocol

from xner.errors import XnerError
from xner.options import Registry, describe
from xner.types import ProgressFn, Sentence, Span

ScoredSpan = tuple[Span, float]

TAGGERS: Registry[type[Tagger]] = Registry("tagger")
MANIFEST = "xner-tagger.json"
FORMAT_VERSION = 1


class Tagger(Protocol):
    """A named-entity tagger; registered by name in :data:`TAGGERS`, its dataclass fields are its options."""

    name: ClassVar[str]

    @property
    def labels(self) -> tuple[str, ...]:
        """The entity labels the trained model knows, sorted (empty before training)."""
        ...

    def fit(self, sentences: Sequence[Sentence], *, on_progress: ProgressFn | None = None) -> None:
        """Train on ``sentences`` (tokens with their gold spans); ``on_progress`` gets (step, total steps)."""
        ...

    def predict(self, batch: Sequence[Sequence[str]]) -> list[list[Span]]:
        """The sorted, non-overlapping spans of each token sequence of ``batch`` (an empty sequence gets [])."""
        ...

    def predict_scored(self, batch: Sequence[Sequence[str]]) -> list[list[ScoredSpan]]:
        """Like :meth:`predict`, each span with the model's confidence in it, in [0, 1]."""
        ...

    def save(self, directory: str | Path) -> Path:
        """Write the trained model and its manifest into ``directory`` (created when missing); returns it."""
        ...

    def restore(self, directory: Path, manifest: Mapping[str, Any]) -> None:
        """Read the model saved in ``directory`` (used by :func:`load_tagger`, after the options are set)."""
        ...


def write_manifest(
    directory: Path, tagger: Any, *, labels: Sequence[str], info: Mapping[str, Any], files: Sequence[str]
) -> None:
    """Write ``xner-tagger.json``: what :func:`load_tagger` needs to rebuild ``tagger``, and how it was trained."""
    manifest = {
        "format": FORMAT_VERSION,
        "kind": tagger.name,
        "options": describe(tagger),
        "labels": list(labels),
        "files": list(files),
        "info": dict(info),
        "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    text = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True)
    (directory / MANIFEST).write_text(text + "\n", encoding="utf-8")


def read_manifest(directory: str | Path) -> dict[str, Any]:
    """The manifest of the tagger saved in ``directory``.

    Raises:
        XnerError: the directory holds no saved tagger, or its manifest is unreadable or of a newer format.
    """
    path = Path(directory) / MANIFEST
    if not path.is_file():
        raise XnerError(f"{directory} holds no saved tagger: {MANIFEST} is missing")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise XnerError(f"{path}: not a valid tagger manifest ({error})") from None
    if not isinstance(manifest, dict) or "kind" not in manifest:
        raise XnerError(f"{path}: not a valid tagger manifest (no 'kind')")
    if manifest.get("format", 1) > FORMAT_VERSION:
        raise XnerError(f"{path}: format {manifest['format']} is newer than this xner reads ({FORMAT_VERSION})")
    return manifest


def load_tagger(directory: str | Path) -> Tagger:
    """The tagger saved in ``directory`` by its ``save`` method, ready to predict.

    >>> import tempfile
    >>> from xner.types import Sentence, Span
    >>> tagger = TAGGERS.create("crf", {"max_iterations": "20"})
    >>> tagger.fit([Sentence(("Ada", "sang"), (Span(0, 1, "PER"),)), Sentence(("Bo", "ran"), (Span(0, 1, "PER"),))])
    >>> folder = tagger.save(tempfile.mkdtemp())
    >>> load_tagger(folder).predict([["Ada", "ran"], []])
    [[Span(start=0, end=1, label='PER')], []]

    Raises:
        XnerError: no saved tagger there, or one of a kind this xner does not know.
    """
    manifest = read_manifest(directory)
    tagger = TAGGERS.create(manifest["kind"], manifest.get("options") or {})
    tagger.restore(Path(directory), manifest)
    return tagger
