"""An export as a download: :func:`export_file` runs :func:`xner.services.exporting.export_corpus` (the code behind
``xner export``) into a temporary folder and reads the result back (a Hugging Face dataset folder is zipped), so a
download equals the CLI's file byte for byte. What an export would hold (its choices and preview) is a service:
:func:`xner.services.exporting.export_preview`.
"""

from __future__ import annotations

import io
import re
import tempfile
import zipfile
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from xner.services.exporting import FOLDER_FORMATS, ExportReport, export_corpus
from xner.services.managed import Download, folder_files
from xner.store.db import Store
from xner.types import ReviewStatus

_SUFFIX = {"conll": ".conll", "jsonl": ".jsonl", "spacy": ".spacy", "hf": ".zip"}
_MIME = {
    "conll": "text/plain",
    "jsonl": "application/jsonl",
    "spacy": "application/octet-stream",
    "hf": "application/zip",
}
_ZIP_TIME = (2000, 1, 1, 0, 0, 0)  # fixed member times: the same export zips to the same bytes


@dataclass(frozen=True, slots=True)
class ExportFile:
    """An export as a download: a file name, its bytes, their MIME type and the export's report."""

    name: str
    data: bytes
    mime: str
    report: ExportReport


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


_ZIP_TIME = (2000, 1, 1, 0, 0, 0)  # every member's time: the same files give the same bytes


def download_bytes(download: Download) -> bytes:
    """A managed-folder entry's bytes: a file's as they are, a folder (a saved model) as a ZIP archive of its files
    under its name (fixed member times: same files, same bytes).

    >>> import io, tempfile
    >>> folder = Path(tempfile.mkdtemp()) / "crf"; folder.mkdir(); _ = (folder / "model.bin").write_bytes(b"w")
    >>> zipfile.ZipFile(io.BytesIO(download_bytes(Download(folder, "crf.zip", "application/zip", 1)))).namelist()
    ['crf/model.bin']
    """
    path = download.path
    if not path.is_dir():
        return path.read_bytes()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(folder_files(path)):
            member = zipfile.ZipInfo(f"{path.name}/{file.relative_to(path).as_posix()}", _ZIP_TIME)
            member.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(member, file.read_bytes())
    return buffer.getvalue()
