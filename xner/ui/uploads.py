"""Import use cases for files uploaded through the app: the same importers, checks and messages as ``xner import``.

An upload arrives as a name and bytes. Before anything touches the database it is checked: its size against
:data:`MAX_UPLOAD_MB`, its extension (archives, office documents, images and the like are refused), and its first
:data:`SNIFF_BYTES` for binary data, bytes that are not UTF-8, and the wrong kind of file (a Pharaoh file given as
a corpus, a one-file parallel corpus without separators, ...). It is then written to a temporary file and handed to
the importer with ``display_name`` set to the upload's name, so every error names the uploaded file and its line,
never the temporary path. An import is invisible until complete and never blocks reviewers for long (see
:mod:`xner.services.importing`); a failed upload leaves the database as it was.

>>> check_upload(Upload("train.txt", b"Ada B-PER\\n"), kind="conll")
>>> check_upload(Upload("train.txt", b"0-0 1-1\\n"), kind="conll")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
xner.errors.InputError: train.txt:1: this looks like Pharaoh alignments ('0-0 1-1'), not a CoNLL corpus ...
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Collection, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xner.errors import InputError, UnknownNameError
from xner.formats.conll import ConllOptions, looks_like_conll
from xner.formats.parallel import SideOptions
from xner.formats.pharaoh import LinkError, parse_pharaoh_line
from xner.services.importing import ImportReport, import_alignments, import_corpus, import_parallel
from xner.services.translating import TranslateReport, translate_corpus
from xner.services.workflows import TranslateTestReport, TranslateTrainReport, run_translate_test, run_translate_train
from xner.store.db import Store
from xner.types import ProgressFn

MAX_UPLOAD_MB = 200  # also server.maxUploadSize in .streamlit/config.toml; bigger files go through the CLI
SNIFF_BYTES = 64 * 1024
UPLOAD_KINDS = ("conll", "jsonl", "parallel", "single", "alignments")
_WHAT = {
    "conll": "a CoNLL corpus ('TOKEN TAG' lines)",
    "jsonl": "a JSONL corpus (one JSON object per line)",
    "parallel": "one side of a parallel corpus (a sentence per line, or CoNLL)",
    "single": "a one-file parallel corpus ('source<TAB>target' or 'source ||| target' lines)",
    "alignments": "Pharaoh alignments ('0-0 1-2 ...', one line per sentence pair)",
}
_NOT_TEXT = frozenset(
    ".7z .bin .bmp .bz2 .db .dll .doc .docx .exe .gif .gz .jpeg .jpg .mp3 .mp4 .npy .odt .ods .parquet .pdf .pkl "
    ".png .ppt .pptx .pt .rar .rtf .safetensors .sqlite .tar .tgz .wav .webp .xls .xlsx .xz .zip .zst".split()
)
_HTML = re.compile(r"^\s*<(!doctype|html[\s>]|\?xml)", re.IGNORECASE)  # not any tag: "<b>" may be a token


@dataclass(frozen=True, slots=True)
class Upload:
    """An uploaded file: the name the user's file had and its bytes."""

    name: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)


def as_upload(file: Any) -> Upload | None:
    """A file of ``st.file_uploader`` (anything with ``name`` and ``getvalue()``) as an :class:`Upload`; None for
    no file."""
    return None if file is None else Upload(file.name, file.getvalue())


def corpus_format(name: str) -> str:
    """The corpus format of an upload, by extension: ``jsonl`` for .jsonl/.json, else ``conll``.

    >>> corpus_format("train.jsonl"), corpus_format("dev.txt")
    ('jsonl', 'conll')
    """
    return "jsonl" if Path(name).suffix.lower() in (".jsonl", ".json") else "conll"


def check_upload(upload: Upload, *, kind: str) -> None:
    """Refuse an upload that is too big, not text, or not ``kind`` (see :data:`UPLOAD_KINDS`), before any import.

    Raises:
        InputError: naming the upload (and the line, where there is one) and the reason.
    """
    if kind not in _WHAT:
        raise UnknownNameError("upload kind", kind, UPLOAD_KINDS)
    if upload.size > MAX_UPLOAD_MB * 1024 * 1024:
        raise InputError(
            upload.name,
            None,
            f"{upload.size / 2**20:.0f} MB is over the upload limit of {MAX_UPLOAD_MB} MB: "
            "import large files with the command line (xner import)",
        )
    suffix = Path(upload.name).suffix.lower()
    if suffix in _NOT_TEXT:
        raise InputError(upload.name, None, f"a {suffix} file is not plain text: expected {_WHAT[kind]} in UTF-8")
    lines = _head_lines(upload)
    first = next(((number, text) for number, text in lines if text.strip()), None)
    if not upload.data:
        raise InputError(upload.name, None, "file is empty")
    if first is None:
        if kind != "alignments":  # blank alignment lines are pairs without links
            raise InputError(upload.name, None, "file has only blank lines")
        return
    _check_kind(upload.name, kind, *first)


def _head_lines(upload: Upload) -> list[tuple[int, str]]:
    """The numbered lines of the first :data:`SNIFF_BYTES` (a cut last line is dropped); binary data and bytes
    that are not UTF-8 raise an :class:`InputError` with their line."""
    head = upload.data[:SNIFF_BYTES]
    cut = len(upload.data) > SNIFF_BYTES
    if b"\x00" in head:
        line = head.count(b"\n", 0, head.index(b"\x00")) + 1
        raise InputError(upload.name, line, "binary data (NUL byte): this is not a text file")
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as error:
        if not (cut and error.start >= len(head) - 3 and error.reason == "unexpected end of data"):
            line = head.count(b"\n", 0, error.start) + 1
            start = head.rfind(b"\n", 0, error.start) + 1
            column = len(head[start : error.start].decode("utf-8", errors="replace")) + 1
            raise InputError(
                upload.name,
                line,
                f"byte 0x{head[error.start]:02x} at column {column} is not valid UTF-8; save the file as UTF-8",
            ) from None
        text = head[: error.start].decode("utf-8")
    lines = text.removeprefix("\ufeff").split("\n")
    if cut:
        lines = lines[:-1]
    return [(number, line.rstrip("\r")) for number, line in enumerate(lines, start=1)]


def _check_kind(name: str, kind: str, number: int, text: str) -> None:
    """The first non-blank line of an upload must fit ``kind``; a recognisably different kind of file is named."""
    seen = _looks_like(text)
    if kind == "alignments":
        try:
            parse_pharaoh_line(text)
        except LinkError:
            raise InputError(name, number, f"expected {_WHAT[kind]}, found {_clip(text)!r}") from None
        return
    if seen and not (kind == "jsonl" and seen == "JSON"):
        raise InputError(name, number, f"this looks like {seen}, not {_WHAT[kind]}")
    if kind == "jsonl" and seen != "JSON":
        raise InputError(name, number, f"expected {_WHAT[kind]}, found {_clip(text)!r}")
    if kind == "single" and "\t" not in text and " ||| " not in text:
        raise InputError(
            name,
            number,
            f"expected {_WHAT[kind]}, found no tab and no ' ||| ' in {_clip(text)!r}; "
            "upload the two sides as two files if they are in separate files",
        )
    if kind == "conll" and len(text.split()) < 2:
        raise InputError(name, number, f"expected {_WHAT[kind]}, found {_clip(text)!r}")


def _looks_like(text: str) -> str | None:
    """A kind of file recognisable from one line (JSON, HTML/XML, Pharaoh alignments), else None."""
    stripped = text.strip()
    if stripped.startswith(("{", "[")):
        try:
            json.loads(stripped)
            return "JSON"
        except ValueError:
            pass
    if _HTML.match(stripped):
        return "HTML or XML"
    if re.fullmatch(r"\d+[-p]\d+( \d+[-p]\d+)+", stripped):  # two links at least: "3-2" may be a sentence
        return f"Pharaoh alignments ({_clip(stripped)!r})"
    return None


def _clip(text: str, size: int = 60) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


@contextmanager
def staged(upload: Upload) -> Iterator[Path]:
    """The upload written to a temporary file (named like the upload), removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="xner-upload-") as folder:
        name = re.sub(r"[^\w.+-]", "_", Path(upload.name).name).lstrip(".") or "upload"
        path = Path(folder) / name
        path.write_bytes(upload.data)
        yield path


def _side_format(upload: Upload, path: Path, fmt: str) -> str:
    """``text`` or ``conll`` for one side; ``auto`` sniffs the file, naming the upload on error."""
    if fmt != "auto":
        return fmt
    try:
        return "conll" if looks_like_conll(path) else "text"
    except InputError as error:
        raise InputError(upload.name, error.line, error.reason) from None


def upload_corpus(
    store: Store,
    upload: Upload,
    *,
    corpus: str,
    lang: str,
    split: str | None = None,
    labels: Collection[str] | None = None,
    scheme: str = "auto",
    append: bool = False,
    on_progress: ProgressFn | None = None,
) -> ImportReport:
    """Import an uploaded CoNLL (or, by extension, JSONL) file into monolingual ``corpus``; see ``import_corpus``."""
    fmt = corpus_format(upload.name)
    check_upload(upload, kind=fmt)
    with staged(upload) as path:
        return import_corpus(
            store,
            path,
            corpus=corpus,
            lang=lang,
            fmt=fmt,
            split=split,
            options=ConllOptions(scheme=scheme),
            labels=labels,
            append=append,
            on_progress=on_progress,
            display_name=upload.name,
        )


def upload_parallel(
    store: Store,
    src: Upload,
    tgt: Upload | None,
    *,
    corpus: str,
    src_lang: str,
    tgt_lang: str,
    src_format: str = "auto",
    tgt_format: str = "auto",
    pretokenized: bool = False,
    split: str | None = None,
    labels: Collection[str] | None = None,
    scheme: str = "auto",
    append: bool = False,
    on_progress: ProgressFn | None = None,
) -> ImportReport:
    """Import uploaded parallel text: two line-aligned files (plain text or CoNLL per side), or one file with
    ``source<TAB>target`` / ``source ||| target`` lines when ``tgt`` is None; see ``import_parallel``."""
    check_upload(src, kind="single" if tgt is None else "parallel")
    if tgt is not None:
        check_upload(tgt, kind="parallel")
    conll = ConllOptions(scheme=scheme)
    with ExitStack() as stack:
        src_path = stack.enter_context(staged(src))
        tgt_path = stack.enter_context(staged(tgt)) if tgt is not None else None
        # two files: each side may be text or CoNLL; one file of pairs is text
        src_fmt = _side_format(src, src_path, src_format) if tgt is not None else "text"
        tgt_fmt = _side_format(tgt, tgt_path, tgt_format) if tgt is not None and tgt_path is not None else "text"
        src_side = SideOptions(src_lang, src_fmt, pretokenized, conll=conll)
        tgt_side = SideOptions(tgt_lang, tgt_fmt, pretokenized, conll=conll)
        return import_parallel(
            store,
            src_path,
            tgt_path,
            corpus=corpus,
            src=src_side,
            tgt=tgt_side,
            split=split,
            labels=labels,
            append=append,
            on_progress=on_progress,
            display_names=(src.name, tgt.name if tgt is not None else ""),
        )


def upload_alignments(
    store: Store,
    upload: Upload,
    *,
    corpus: str,
    aligner: str = "uploaded",
    split: str | None = None,
    index_base: int = 0,
    created_by: str = "",
    on_progress: ProgressFn | None = None,
) -> ImportReport:
    """Import uploaded Pharaoh alignments into parallel ``corpus`` as a new alignment run; see
    ``import_alignments``."""
    check_upload(upload, kind="alignments")
    with staged(upload) as path:
        return import_alignments(
            store,
            path,
            corpus=corpus,
            aligner=aligner.strip() or "uploaded",
            split=split,
            index_base=index_base,
            created_by=created_by,
            on_progress=on_progress,
            display_name=upload.name,
        )


# --- files of translations (the Translate page) ----------------------------------------------------------------


def upload_translations(store: Store, upload: Upload, corpus: str, **settings: Any) -> TranslateReport:
    """``translate_corpus`` with the translations of an uploaded file, one per sentence of ``corpus`` in corpus
    order (split by split); with ``markers=True`` each line is a translation with EasyProject's markers.
    ``settings`` are ``translate_corpus``'s (``new_corpus``, ``mode``, ``to_lang``, ``markers``...)."""
    check_upload(upload, kind="parallel")
    with staged(upload) as path:
        return translate_corpus(store, corpus, translations=path, translations_name=upload.name, **settings)


def upload_translate_test(store: Store, upload: Upload, corpus: str, **settings: Any) -> TranslateTestReport:
    """``run_translate_test`` with the translations of an uploaded file (used when the translate-test corpus
    does not exist yet); ``settings`` are ``run_translate_test``'s (``tagger``, ``to_lang``, ``method``...)."""
    check_upload(upload, kind="parallel")
    with staged(upload) as path:
        return run_translate_test(store, corpus, translations=path, translations_name=upload.name, **settings)


def upload_translate_train(store: Store, upload: Upload, corpus: str, **settings: Any) -> TranslateTrainReport:
    """``run_translate_train`` (translate, align, project, queue) with the translations of an uploaded file."""
    check_upload(upload, kind="parallel")
    with staged(upload) as path:
        return run_translate_train(store, corpus, translations=path, translations_name=upload.name, **settings)
