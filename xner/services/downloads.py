"""Export use cases for the app: what an export would hold (a preview), and the export itself as bytes to download.

Both go through :mod:`xner.services.exporting`, the code behind ``xner export``: the preview reads the very
sentences the export writes, and :func:`export_file` runs ``export_corpus`` into a temporary folder and reads the
result back (a Hugging Face dataset folder is zipped), so a download equals the CLI's file byte for byte.
"""

from __future__ import annotations

import re
import tempfile
import zipfile
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from xner.services.corpora import get_corpus
from xner.services.exporting import (
    FOLDER_FORMATS,
    ExportReport,
    export_corpus,
    iter_export_sentences,
    side_for,
    span_source,
    splits_in_import_order,
)
from xner.store.db import Store
from xner.store.models import ReviewEvent
from xner.types import CURATED_STATUSES, ReviewStatus

DEFAULT_STATUSES = CURATED_STATUSES
_SUFFIX = {"conll": ".conll", "jsonl": ".jsonl", "spacy": ".spacy", "hf": ".zip"}
_MIME = {
    "conll": "text/plain",
    "jsonl": "application/jsonl",
    "spacy": "application/octet-stream",
    "hf": "application/zip",
}
_ZIP_TIME = (2000, 1, 1, 0, 0, 0)  # fixed member times: the same export zips to the same bytes


@dataclass(frozen=True, slots=True)
class ExportChoices:
    """What an export of a corpus can select: its sides, the splits of each side and the reviewers who decided."""

    corpus: str
    kind: str
    sides: tuple[str, ...]
    splits: dict[str, list[str]]  # side -> splits in import order
    reviewers: list[str]


@dataclass(frozen=True, slots=True)
class ExportPreview:
    """How many sentences and entities (per label) an export with these filters writes."""

    sentences: int
    entities: dict[str, int] = field(default_factory=dict)

    @property
    def total_entities(self) -> int:
        return sum(self.entities.values())


@dataclass(frozen=True, slots=True)
class ExportFile:
    """An export as a download: a file name, its bytes, their MIME type and the export's report."""

    name: str
    data: bytes
    mime: str
    report: ExportReport


def export_choices(store: Store, corpus: str) -> ExportChoices:
    """The sides, splits and reviewers of ``corpus``; an unknown corpus lists the known ones."""
    with store.session() as session:
        found = get_corpus(session, corpus)
        sides = ("mono",) if found.kind == "mono" else ("tgt", "src")
        splits = {side: splits_in_import_order(session, found, side) for side in sides}
        reviewers = list(
            session.scalars(
                select(ReviewEvent.reviewer).where(ReviewEvent.corpus_id == found.id).distinct().order_by("reviewer")
            )
        )
        return ExportChoices(found.name, found.kind, sides, splits, reviewers)


def export_preview(
    store: Store,
    corpus: str,
    *,
    side: str | None = None,
    splits: Collection[str] | None = None,
    statuses: Collection[ReviewStatus] | None = None,
    reviewer: str | None = None,
    spans: str = "reviewed",
    run_id: int | None = None,
) -> ExportPreview:
    """Sentences and entities per label that ``export_corpus`` would write with the same filters and span source."""
    labels: Counter[str] = Counter()
    count = 0
    with store.session() as session:
        found = get_corpus(session, corpus)
        chosen = side_for(found, side)
        source = span_source(session, found, chosen, spans, run_id)
        rows = iter_export_sentences(
            session, found, side=chosen, splits=splits, statuses=statuses, reviewer=reviewer, source=source
        )
        for sentence, _ in rows:
            count += 1
            labels.update(span.label for span in sentence.spans)
    return ExportPreview(count, dict(sorted(labels.items())))


def export_file(
    store: Store,
    corpus: str,
    *,
    fmt: str = "conll",
    side: str | None = None,
    splits: Collection[str] | None = None,
    statuses: Collection[ReviewStatus] | None = None,
    reviewer: str | None = None,
    spans: str = "reviewed",
    run_id: int | None = None,
) -> ExportFile:
    """Run ``export_corpus`` into a temporary folder and return the file (a zip of a ``hf`` folder) as bytes.

    Raises:
        XnerError: as ``export_corpus`` (unknown format, corpus, side or run; missing spacy or datasets package).
    """
    name = download_name(corpus, side, fmt)
    with tempfile.TemporaryDirectory(prefix="xner-export-") as folder:
        out = Path(folder) / Path(name).stem if fmt in FOLDER_FORMATS else Path(folder) / name
        report = export_corpus(
            store,
            corpus,
            out,
            fmt=fmt,
            side=side,
            splits=splits,
            statuses=statuses,
            reviewer=reviewer,
            spans=spans,
            run_id=run_id,
        )
        data = zip_folder(out) if fmt in FOLDER_FORMATS else out.read_bytes()
    return ExportFile(name, data, _MIME.get(fmt, "application/octet-stream"), report)


def download_name(corpus: str, side: str | None, fmt: str) -> str:
    """A safe file name for an export: ``<corpus>-<side>`` with the format's suffix.

    >>> download_name("demo-en-es", "tgt", "conll"), download_name("<b>x</b>", None, "hf")
    ('demo-en-es-tgt.conll', 'b_x_b.zip')
    """
    stem = re.sub(r"[^\w.-]+", "_", corpus).strip("._") or "export"
    suffix = _SUFFIX.get(fmt, f".{fmt}")
    return f"{stem}-{side}{suffix}" if side else f"{stem}{suffix}"


def zip_folder(folder: Path) -> bytes:
    """The files of ``folder`` zipped under the folder's name, in sorted order with fixed times (reproducible)."""
    with tempfile.SpooledTemporaryFile(max_size=64 * 2**20) as buffer:
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                member = zipfile.ZipInfo(f"{folder.name}/{path.relative_to(folder).as_posix()}", _ZIP_TIME)
                member.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(member, path.read_bytes())
        buffer.seek(0)
        return buffer.read()
