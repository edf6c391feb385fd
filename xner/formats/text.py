"""Reading text files line by line, strictly: UTF-8 only, no binary data, errors with file and line.

Every format reader in xner goes through :func:`iter_lines`, so the same checks (undecodable bytes, a binary file
given where text is expected, a byte-order mark) apply everywhere, and progress is reported as (characters read, file
size in bytes): the first never exceeds the second, and reaches it at the end.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

from xner.errors import InputError
from xner.types import ProgressFn

PathLike = str | os.PathLike[str]
_PROGRESS_EVERY = 4096  # lines between progress reports: a call per line would cost more than the parsing
_CHUNK_CHARS = 1 << 12  # characters read at a time by iter_line_chunks


def iter_lines(
    path: PathLike, *, on_progress: ProgressFn | None = None, display_name: str | None = None
) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, text)`` for each line of a UTF-8 file, 1-based, without the line ending.

    Args:
        path: the file.
        on_progress: called now and then with (characters read so far, the file's size in bytes), and with
            (size, size) at the end.
        display_name: the name used in error messages (an upload's original file name), default ``path``.

    Raises:
        InputError: the file is missing, empty, binary, or has bytes that are not UTF-8.
    """
    name = display_name or str(path)
    try:
        # Text mode decodes in large chunks (fast); on a decoding error the file is re-read in binary to find
        # the line. newline="" keeps "\r\n" visible so that it is stripped, never taken as part of a token.
        handle = open(path, encoding="utf-8", newline="")  # noqa: SIM115 - closed in the finally below
    except FileNotFoundError:
        raise InputError(name, None, "file not found") from None
    except IsADirectoryError:
        raise InputError(name, None, "is a directory, not a file") from None
    size = os.fstat(handle.fileno()).st_size if on_progress is not None else 0
    done = 0  # characters: a UTF-8 file has at least as many bytes, so done never passes size
    number = 0
    finished = False
    try:
        for number, text in enumerate(handle, start=1):
            done += len(text)
            if on_progress is not None and number % _PROGRESS_EVERY == 0:
                on_progress(done, max(size, done))
            if "\x00" in text:
                raise InputError(name, number, "binary data (NUL byte): this is not a text file")
            if number == 1 and text.startswith("\ufeff"):
                text = text[1:]
            yield number, text.rstrip("\r\n")
        finished = True
    except UnicodeDecodeError:
        raise _locate_decode_error(path, name) from None
    finally:
        handle.close()
        if on_progress is not None and done:
            total = max(size, done)
            on_progress(total if finished else done, total)
    if number == 0:
        raise InputError(name, None, "file is empty")


def iter_line_chunks(
    path: PathLike,
    *,
    on_progress: ProgressFn | None = None,
    display_name: str | None = None,
    chunk_chars: int = _CHUNK_CHARS,
) -> Iterator[tuple[int, list[str]]]:
    r""":func:`iter_lines` a chunk at a time, for readers that go through millions of lines: yields
    ``(number of the chunk's first line, lines)``, every line whole and without its ending, with the same checks and
    errors. ``"\r\n"`` and a lone ``"\r"`` end a line, as in :func:`iter_lines`. Progress is reported once a chunk.

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "t.txt")
    >>> _ = open(path, "w", newline="").write("\ufeffa b\r\nc d\n\ne f")
    >>> list(iter_line_chunks(path, chunk_chars=4))
    [(1, ['a b']), (2, ['c d', '']), (4, ['e f'])]

    Raises:
        InputError: the file is missing, empty, binary, or has bytes that are not UTF-8.
    """
    chunks = iter_text_chunks(path, on_progress=on_progress, display_name=display_name, chunk_chars=chunk_chars)
    for number, text in chunks:
        yield number, text.split("\n")


def iter_text_chunks(
    path: PathLike,
    *,
    on_progress: ProgressFn | None = None,
    display_name: str | None = None,
    chunk_chars: int = _CHUNK_CHARS,
    cut: str = "\n",
) -> Iterator[tuple[int, str]]:
    r"""The text of a file a piece at a time, each piece cut where ``cut`` occurs (the cut itself left out), with
    the line number of its first line: ``cut="\n"`` gives whole lines, ``cut="\n\n"`` runs of lines between blank
    lines (CoNLL sentences). The last piece is what follows the last cut. Line ends are ``"\n"`` (``"\r\n"`` and a
    lone ``"\r"`` are turned into it, so lines end where :func:`iter_lines` ends them); the checks and errors are
    :func:`iter_lines`'s.

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "t.txt")
    >>> _ = open(path, "w", newline="").write("a B\r\nc D\n\n\ne F\n")
    >>> list(iter_text_chunks(path, chunk_chars=4, cut="\n\n"))
    [(1, 'a B\nc D\n'), (5, 'e F\n')]

    Raises:
        InputError: the file is missing, empty, binary, or has bytes that are not UTF-8.
    """
    name = display_name or str(path)
    try:
        # newline=None turns "\r\n" and "\r" into "\n": lines end where iter_lines ends them
        handle = open(path, encoding="utf-8")  # noqa: SIM115 - closed in the finally below
    except FileNotFoundError:
        raise InputError(name, None, "file not found") from None
    except IsADirectoryError:
        raise InputError(name, None, "is a directory, not a file") from None
    size = os.fstat(handle.fileno()).st_size if on_progress is not None else 0
    done = 0
    number = 1  # of the first line of what is pending
    pending = ""  # the text read and not yet given out (after the last cut)
    skip = cut.count("\n")  # lines a cut ends
    finished = False
    try:
        while chunk := handle.read(chunk_chars):
            if not done and chunk.startswith("\ufeff"):
                chunk = chunk[1:]
            done += len(chunk)
            if "\x00" in chunk:
                text = pending + chunk
                line = number + text.count("\n", 0, text.index("\x00"))
                raise InputError(name, line, "binary data (NUL byte): this is not a text file")
            at = chunk.rfind(cut)
            if at < 0 or len(cut) > 1:  # a cut may straddle two chunks: look for it in the joined text
                pending += chunk
                at = pending.rfind(cut)
                if at >= 0:
                    text, pending = pending[:at], pending[at + len(cut) :]
                    yield number, text
                    number += text.count("\n") + skip
            else:
                text, pending = pending + chunk[:at], chunk[at + len(cut) :]
                yield number, text
                number += text.count("\n") + skip
            if on_progress is not None:
                on_progress(done, max(size, done))
        if pending:
            yield number, pending
        finished = True
    except UnicodeDecodeError:
        raise _locate_decode_error(path, name) from None
    finally:
        handle.close()
        if on_progress is not None and done:
            total = max(size, done)
            on_progress(total if finished else done, total)
    if not done:
        raise InputError(name, None, "file is empty")


def shared_progress(on_progress: ProgressFn | None, parts: int) -> list[ProgressFn | None]:
    """One callback for each of ``parts`` files read together, each reporting the sums over all of them to
    ``on_progress``, so that one bar covers both sides of a parallel corpus.

    >>> seen = []
    >>> src, tgt = shared_progress(lambda done, total: seen.append((done, total)), 2)
    >>> src(10, 40); tgt(5, 60); src(40, 40)
    >>> seen
    [(10, 40), (15, 100), (45, 100)]
    """
    if on_progress is None:
        return [None] * parts
    report = on_progress
    done = [0] * parts
    totals = [0] * parts

    def part(index: int) -> ProgressFn:
        def update(part_done: int, part_total: int) -> None:
            done[index], totals[index] = part_done, part_total
            report(sum(done), sum(totals))

        return update

    return [part(index) for index in range(parts)]


def _locate_decode_error(path: PathLike, name: str) -> InputError:
    """The InputError for the first line of ``path`` that is not valid UTF-8."""
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as error:
                bad = raw[error.start]
                column = len(raw[: error.start].decode("utf-8")) + 1  # in characters: the bytes before are valid
                return InputError(
                    name,
                    number,
                    f"byte 0x{bad:02x} at column {column} is not valid UTF-8; save the file as UTF-8",
                )
    return InputError(name, None, "the file is not valid UTF-8")  # an error split across lines


def file_size(path: PathLike) -> int:
    """Size in bytes, 0 when the file does not exist (the reader reports that)."""
    try:
        return Path(path).stat().st_size
    except OSError:
        return 0


def replace_dir(new: Path, target: Path) -> None:
    """Move folder ``new`` to ``target``, replacing a folder there (restored if the move fails)."""
    if not target.exists():
        new.rename(target)
        return
    old = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.old")
    target.rename(old)
    try:
        new.rename(target)
    except BaseException:
        old.rename(target)
        raise
    shutil.rmtree(old, ignore_errors=True)
