"""Reading a large file in a child process while this one writes what was read.

An import spends about two thirds of its time parsing (CoNLL columns, tag decoding, label checks) and one third
writing; run in one process, the two add up. :class:`ReadAhead` runs the reading generator in a child process and
yields its items here as they arrive, a few ahead at most, so parsing and writing overlap on two cores. The child is a
fresh interpreter (``python -m xner.formats.read_ahead``, the job pickled on its stdin, its messages on its stdout):
safe in a server with threads, and unlike ``multiprocessing``'s spawn it never runs the caller's main script
again (a user's script without an ``if __name__ == "__main__"`` guard would run twice). What the child sends must
be cheap to pickle (plain tuples, not dataclasses: see :data:`xner.types.PlainSentence`).

The same generator runs in this process when a child is not worth its start (~0.1 s: small files), so both paths
read the same items. Its progress calls and its return value (e.g. the reader's statistics) come back too; an
error in the child (a bad line, with file and line) is raised here; a child that dies without a word raises
:class:`~xner.errors.XnerError`. Closing the iteration early (the writer failed) stops the child.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import time
from collections.abc import Callable, Generator
from contextlib import suppress
from itertools import islice
from typing import Any, Generic, TypeVar

from xner.errors import XnerError
from xner.formats.base import READERS
from xner.formats.conll import ConllOptions, ReadStats
from xner.formats.text import PathLike
from xner.types import PlainSentence, ProgressFn, plain_sentence

try:
    import fcntl
except ImportError:  # not on Windows: the pipe keeps its size there
    fcntl = None  # type: ignore[assignment]

T = TypeVar("T")
R = TypeVar("R")

PROGRESS_EVERY_S = 0.1  # the child sends a progress report at most this often (and the last one)
PIPE_BYTES = 2**20  # what the pipe from the child may hold: a few import batches (~130 KB each)


class ReadAhead(Generic[T, R]):
    """Iterate over what ``produce(*args, on_progress=..., **kwargs)`` yields, produced in a child process when
    ``in_child``; :attr:`result` is the generator's return value once the iteration ended.

    ``produce`` must be a module-level function and its arguments picklable (the child imports it by name).
    """

    def __init__(
        self,
        produce: Callable[..., Generator[T, None, R]],
        *args: Any,
        in_child: bool,
        on_progress: ProgressFn | None = None,
        **kwargs: Any,
    ) -> None:
        self.produce, self.args, self.kwargs = produce, args, kwargs
        self.in_child, self.on_progress = in_child, on_progress
        self.result: R | None = None
        self.child_pid: int | None = None  # the reading process, while it runs

    def __iter__(self) -> Generator[T, None, None]:
        if not self.in_child:
            self.result = yield from self.produce(*self.args, on_progress=self.on_progress, **self.kwargs)
            return
        child = subprocess.Popen(
            [sys.executable, "-m", __name__], stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True
        )
        self.child_pid = child.pid
        _widen(child.stdout)
        try:
            assert child.stdin is not None and child.stdout is not None
            with child.stdin:
                pickle.dump(list(sys.path), child.stdin)  # first: the job's functions import from it
                pickle.dump((self.produce, self.args, self.kwargs, self.on_progress is not None), child.stdin)
            while True:
                kind, value = _next_message(child)
                if kind == "item":
                    yield value
                elif kind == "progress":
                    if self.on_progress is not None:
                        self.on_progress(*value)
                elif kind == "error":
                    raise value
                else:
                    self.result = value
                    return
        finally:
            if child.poll() is None:
                child.kill()
            child.wait()
            self.child_pid = None
            if child.stdout is not None:
                child.stdout.close()


def read_sentence_batches(
    fmt: str,
    path: PathLike,
    options: ConllOptions,
    *,
    lang: str,
    size: int,
    display_name: str | None = None,
    on_progress: ProgressFn | None = None,
) -> Generator[list[PlainSentence], None, ReadStats]:
    """The sentences of a labelled file in format ``fmt`` (:data:`xner.formats.READERS`) as batches of plain
    sentences with their lines; returns the reader's statistics. What a monolingual import runs in a child."""
    stats = ReadStats()
    sentences = READERS.lookup(fmt)(
        path, options, lang=lang, stats=stats, on_progress=on_progress, display_name=display_name
    )
    while batch := [plain_sentence(line, sentence) for line, sentence in islice(sentences, size)]:
        yield batch
    return stats


def _next_message(child: subprocess.Popen[bytes]) -> tuple[str, Any]:
    """The child's next message: an 8-byte length, then that many bytes of pickle."""
    stream = child.stdout
    assert stream is not None
    head = stream.read(8)
    body = stream.read(int.from_bytes(head, "little")) if len(head) == 8 else b""
    if not body:
        child.wait()
        raise XnerError(f"the process reading the input ended unexpectedly (exit code {child.returncode})")
    return pickle.loads(body)


def _widen(pipe: Any) -> None:
    """Let the pipe hold a few batches (Linux: up to 1 MiB; elsewhere as it is), so the child rarely waits for the
    parent to read."""
    with suppress(AttributeError, OSError):
        fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)  # type: ignore[attr-defined]


def _run_in_child() -> None:
    """The child: read the job from stdin, send its messages as pickles on stdout (anything else printed goes to
    stderr, so that nothing can break the stream). A pipe written by this thread: a ``multiprocessing.Queue``'s
    feeder thread competed with the reader for the GIL (the read took 1.5x as long). A write blocks while the
    pipe is full, so the child is at most a few items ahead."""
    stream = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    sys.path[:] = pickle.load(sys.stdin.buffer)
    produce, args, kwargs, progress = pickle.load(sys.stdin.buffer)
    last = 0.0

    def send(message: tuple[str, Any]) -> None:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        stream.write(len(data).to_bytes(8, "little") + data)
        stream.flush()

    def on_progress(done: int, total: int) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last >= PROGRESS_EVERY_S or done >= total:
            last = now
            send(("progress", (done, total)))

    try:
        generator = produce(*args, on_progress=on_progress if progress else None, **kwargs)
        while True:
            try:
                item = next(generator)
            except StopIteration as stop:
                send(("done", stop.value))
                break
            send(("item", item))
    except BrokenPipeError:  # the parent stopped reading (it stopped early, or died)
        return
    except BaseException as error:  # every other failure goes to the parent, which raises it
        send(("error", _picklable(error)))
    stream.close()


def _picklable(error: BaseException) -> BaseException:
    """``error`` itself when it pickles (and unpickles) as it is, else an XnerError with its message."""
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:  # any failure: send its text instead
        return XnerError(f"{type(error).__name__}: {error}")
    return error


if __name__ == "__main__":
    _run_in_child()
