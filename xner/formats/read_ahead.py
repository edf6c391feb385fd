"""Reading a large file in a child process while this one writes what was read.

An import spends about two thirds of its time parsing (CoNLL columns, tag decoding, label checks) and one third
writing; run in one process, the two add up. :class:`ReadAhead` runs the reading generator in a child process (a
fresh interpreter: ``spawn``, safe in a server with threads) and yields its items here as they arrive, one ahead,
so parsing and writing overlap on two cores. What the child sends must be cheap to pickle (plain
tuples, not dataclasses: see :data:`xner.types.PlainSentence`).

The same generator runs in this process when a child is not worth its start (~0.1 s: small files), so both paths
read the same items. Its progress calls and its return value (e.g. the reader's statistics) come back too; an
error in the child (a bad line, with file and line) is raised here; a child that dies without a word raises
:class:`~xner.errors.XnerError`. Closing the iteration early (the writer failed) stops the child.
"""

from __future__ import annotations

import multiprocessing
import pickle
import time
from collections.abc import Callable, Generator, Iterator
from typing import Any, Generic, TypeVar

from xner.errors import XnerError
from xner.types import ProgressFn

T = TypeVar("T")
R = TypeVar("R")

PROGRESS_EVERY_S = 0.1  # the child sends a progress report at most this often (and the last one)


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

    def __iter__(self) -> Iterator[T]:
        if not self.in_child:
            self.result = yield from self.produce(*self.args, on_progress=self.on_progress, **self.kwargs)
            return
        context = multiprocessing.get_context("spawn")
        receiving, sending = context.Pipe(duplex=False)
        child = context.Process(
            target=_run_in_child,
            args=(sending, self.produce, self.args, self.kwargs, self.on_progress is not None),
            name="xner-read-ahead",
            daemon=True,
        )
        child.start()
        sending.close()  # the child's end: ours closed, so a dead child shows as end of file
        try:
            while True:
                kind, value = _next_message(receiving, child)
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
            if child.is_alive():
                child.terminate()
            child.join()
            receiving.close()


def _next_message(receiving: Any, child: Any) -> tuple[str, Any]:
    try:
        return receiving.recv()
    except EOFError:
        child.join()
        raise XnerError(f"the process reading the input ended unexpectedly (exit code {child.exitcode})") from None


def _run_in_child(
    sending: Any, produce: Callable[..., Generator[Any, None, Any]], args: tuple, kwargs: dict, progress: bool
) -> None:
    # A pipe written by this thread, not a queue with a feeder thread: a feeder competes with the reader for the
    # child's GIL (the read took 1.5x as long). A send blocks while the parent is still writing the last item, so
    # the child is at most one item ahead.
    last = 0.0

    def on_progress(done: int, total: int) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last >= PROGRESS_EVERY_S or done >= total:
            last = now
            sending.send(("progress", (done, total)))

    try:
        generator = produce(*args, on_progress=on_progress if progress else None, **kwargs)
        while True:
            try:
                item = next(generator)
            except StopIteration as stop:
                sending.send(("done", stop.value))
                break
            sending.send(("item", item))
    except BaseException as error:  # every failure goes to the parent, which raises it
        sending.send(("error", _picklable(error)))
    sending.close()


def _picklable(error: BaseException) -> BaseException:
    """``error`` itself when it pickles (and unpickles) as it is, else an XnerError with its message."""
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:  # any failure: send its text instead
        return XnerError(f"{type(error).__name__}: {error}")
    return error
