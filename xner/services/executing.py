"""Where independent tasks run: in this process, in a local process pool, or on a Dask distributed cluster.

Long jobs over a large corpus are cut into independent tasks — shards of a corpus (pair-id ranges), the points of
a sweep — and an :class:`Executor` maps one task function over them, yielding each result as it completes. The
function takes a shared *context* (the same for every task: a configuration, data pools) and one task, and must be
a picklable module-level function: it runs in another process, or on another machine.

- :class:`LocalExecutor` (``--executor local``, the default): ``workers`` processes of this machine
  (``concurrent.futures``); one worker runs the tasks inline, in order.
- :class:`DaskExecutor` (``--executor dask://HOST:PORT``): the workers of a running Dask distributed scheduler
  (https://distributed.dask.org). Each worker needs xner installed and must reach the database and any model
  folder a task names; the context is sent to every worker once. A task whose worker dies is run again on another
  worker by the scheduler (a task function must therefore be idempotent: a re-run replaces what its first try
  wrote, see :func:`xner.store.queries.projections.replace_shard`), and a task that raises is retried ``retries``
  times before the error reaches the caller.

``parse_executor`` turns the CLI's ``--executor`` text into one of them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, ClassVar, Protocol, TypeVar

from xner.errors import MissingDependencyError, XnerError
from xner.store.db import Store, open_store

T = TypeVar("T")
R = TypeVar("R")


class Executor(Protocol):
    """Runs ``fn(context, task)`` for every task; see the module docstring."""

    name: ClassVar[str]

    @property
    def workers(self) -> int:
        """How many tasks run at once (for shard sizes and progress)."""
        ...

    def map_unordered(self, fn: Callable[[T], R], shards: Iterable[T]) -> Iterator[tuple[int, R]]:
        """``(k, fn(shard_k))`` for every shard, in completion order; ``k`` counts the shards from 0."""
        ...

    def describe(self) -> str:
        """What a report records about where the work ran (never a secret)."""
        ...


def default_workers() -> int:
    """The CPUs this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@dataclass(frozen=True)
class LocalExecutor:
    """``workers`` processes of this machine; with one worker (or one task) the tasks run inline, in order."""

    name: ClassVar[str] = "local"
    processes: int = 1

    @property
    def workers(self) -> int:
        return max(1, self.processes)

    def map_unordered(self, fn: Callable[[T], R], shards: Iterable[T]) -> Iterator[tuple[int, R]]:
        tasks = list(shards)
        if self.workers == 1 or len(tasks) <= 1:
            for index, task in enumerate(tasks):
                yield index, fn(task)
            return
        with ProcessPoolExecutor(max_workers=min(self.workers, len(tasks))) as pool:
            futures = {pool.submit(fn, task): index for index, task in enumerate(tasks)}
            for future in as_completed(futures):
                yield futures[future], future.result()

    def describe(self) -> str:
        return f"local ({self.workers} process{'es' if self.workers > 1 else ''})"


class DaskExecutor:
    """The workers of the Dask distributed scheduler at ``address`` (``tcp://HOST:PORT``)."""

    name: ClassVar[str] = "dask"
    retries = 2  # a task that raises runs again this many times; a dead worker's task is re-run anyway
    connect_timeout = "10s"

    def __init__(self, address: str) -> None:
        self.address = address
        self._client: Any = None

    @property
    def workers(self) -> int:
        return max(1, len(self.client().scheduler_info(n_workers=-1).get("workers", {})))

    def client(self) -> Any:
        """The connected ``distributed.Client`` (connected on first use)."""
        if self._client is None:
            try:
                from distributed import Client
            except ImportError as error:  # pragma: no cover - distributed is in requirements.txt
                raise MissingDependencyError("distributed", "the dask executor") from error
            try:
                self._client = Client(self.address, timeout=self.connect_timeout, set_as_default=False)
            except (OSError, TimeoutError) as error:
                raise XnerError(f"cannot reach the Dask scheduler at {self.address}: {error}") from None
        return self._client

    def map_unordered(self, fn: Callable[[T], R], shards: Iterable[T]) -> Iterator[tuple[int, R]]:
        from distributed import as_completed as completed

        client = self.client()
        futures = {client.submit(fn, task, retries=self.retries, pure=False): k for k, task in enumerate(shards)}
        try:
            for future in completed(list(futures), loop=client.loop):
                yield futures[future], future.result()
        finally:
            client.cancel(list(futures))

    def describe(self) -> str:
        return f"dask ({self.address})"

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def id_ranges(low: int, high: int, count: int) -> list[tuple[int, int]]:
    """``[low, high]`` cut into at most ``count`` half-open ranges ``(start, stop)`` of nearly equal width: the
    shards of a corpus by pair id.

    >>> id_ranges(1, 10, 3)
    [(1, 4), (4, 7), (7, 11)]
    >>> id_ranges(7, 7, 4)
    [(7, 8)]
    """
    width = high - low + 1
    count = max(1, min(count, width))
    edges = [low + (width * part) // count for part in range(count + 1)]
    return list(pairwise(edges))


def shard_count(executor: Executor, *, per_worker: int = 4) -> int:
    """How many shards to cut a job into: one when it runs inline, else a few per worker, so that a slow or
    restarted worker does not hold up the end."""
    return 1 if executor.workers == 1 else executor.workers * per_worker


_STORES: dict[str, Store] = {}  # the stores a worker process has open, by URL


def worker_store(url: str) -> Store:
    """The store at ``url``, opened once per process (a task of a shard runs where its worker is), or the store
    this process registered with :func:`remember_store`."""
    if url not in _STORES:
        _STORES[url] = open_store(url, upgrade=False)
    return _STORES[url]


def remember_store(store: Store) -> None:
    """Let tasks that run inline in this process use ``store`` itself (an in-memory database has no other way in)."""
    _STORES[store.url] = store


@contextmanager
def closing_executor(executor: Executor) -> Iterator[Executor]:
    """``executor``, closed (a Dask client disconnected) when the block ends."""
    try:
        yield executor
    finally:
        close = getattr(executor, "close", None)
        if close is not None:
            close()


DASK_SCHEME = "dask://"


def parse_executor(text: str | None, *, workers: int | None = None) -> Executor:
    """The executor ``--executor`` names: ``local`` (``workers`` processes, default all CPUs) or
    ``dask://HOST:PORT`` (a running Dask scheduler).

    >>> parse_executor("local", workers=2).describe()
    'local (2 processes)'
    >>> parse_executor("dask://scheduler:8786").describe()
    'dask (tcp://scheduler:8786)'
    """
    if text is None or text == "local":
        return LocalExecutor(workers if workers is not None else default_workers())
    if text.startswith(DASK_SCHEME) and len(text) > len(DASK_SCHEME):
        return DaskExecutor("tcp://" + text.removeprefix(DASK_SCHEME))
    raise XnerError(f"unknown executor {text!r}: use local or dask://HOST:PORT (a running Dask scheduler)")
