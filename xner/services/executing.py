"""Executors: where the shards of a long use case run.

A use case that scales with the corpus (projection today) splits its work into *shards*, plain picklable values
(a pair-id range of the corpus and what to do with it), and a module-level *shard function* that does one shard
and returns plain data. An :class:`Executor` maps the function over the shards and hands back each result as it
completes, with the shard's number so the caller can put results back in shard order (:func:`in_shard_order`).
On SQLite the caller is the only writer (SQLite has one): the shard functions read and compute, the caller writes;
on a server database shards may write their own rows (:func:`write_shard`).

- :class:`LocalExecutor` runs the shards on this machine: inline with one worker (no pool, no pickling), else in a
  process pool (``concurrent.futures``), at most a few shards in flight so memory stays flat however many shards
  there are.
- :class:`DaskExecutor` (``--executor dask://HOST:PORT``) runs them on the workers of a Dask distributed scheduler
  (https://distributed.dask.org). Each worker needs xner installed and must reach the database and any model
  folder a shard names. A shard whose worker dies is run again on another worker by the scheduler, and one that
  raises is retried :attr:`DaskExecutor.retries` times before its error reaches the caller; a shard function that
  writes must therefore be idempotent (a re-run replaces what an earlier try wrote). On a server database the
  shards of a projection write their own rows that way (:func:`xner.services.projecting.project_shard`).

:func:`executor_for` reads the CLI's ``--executor``; :func:`id_ranges` and :func:`shard_count` cut a job into shards;
:func:`worker_store` is a shard's own connection to the database.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from itertools import pairwise
from typing import Any, Protocol, TypeVar

from xner.errors import MissingDependencyError, XnerError
from xner.store.db import Store, open_store

S = TypeVar("S")
R = TypeVar("R")

MAX_WORKERS = 8  # more processes than this gain nothing while one process writes every result


def available_cpus() -> int:
    """The CPUs this process may run on (its affinity where the platform tells it, else the CPU count)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def default_workers() -> int:
    """Worker processes when none are asked for: one per available CPU, at most :data:`MAX_WORKERS`."""
    return max(1, min(available_cpus(), MAX_WORKERS))


class Executor(Protocol):
    """Runs a shard function over shards and yields ``(shard number, result)`` as each shard completes."""

    @property
    def workers(self) -> int:
        """How many shards may run at once (1: one after the other, in this process)."""
        ...

    def map_unordered(self, fn: Callable[[S], R], shards: Iterable[S]) -> Iterator[tuple[int, R]]:
        """``(k, fn(shard_k))`` for every shard, in completion order; ``k`` counts the shards from 0.

        ``fn`` must be a module-level function and the shards picklable (they may run in another process or on
        another machine). The first shard that raises stops the map: its error is raised here, and shards not yet
        started are cancelled.
        """
        ...


@dataclass(frozen=True)
class LocalExecutor:
    """Shards on this machine: inline when ``workers`` is 1, else a pool of ``workers`` processes.

    ``start_method``: how pool processes start (``fork``, ``forkserver``, ``spawn``; default ``fork`` where the
    platform has it: a worker then starts in milliseconds, with the modules already imported). Shard functions
    must not use any database connection of the parent: they open their own.

    >>> list(LocalExecutor(workers=1).map_unordered(abs, [-2, 3]))
    [(0, 2), (1, 3)]
    >>> sorted(LocalExecutor(workers=2).map_unordered(abs, [-2, 3, -4]))
    [(0, 2), (1, 3), (2, 4)]
    """

    workers: int = 1
    start_method: str | None = None
    in_flight_per_worker: int = 2  # shards submitted ahead of the results read, per worker

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise XnerError(f"workers must be at least 1, got {self.workers}")

    def map_unordered(self, fn: Callable[[S], R], shards: Iterable[S]) -> Iterator[tuple[int, R]]:
        if self.workers == 1:
            for k, shard in enumerate(shards):
                yield k, fn(shard)
            return
        method = self.start_method or ("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
        context = multiprocessing.get_context(method)
        pending: dict[Future[R], int] = {}
        todo = enumerate(shards)
        limit = self.workers * max(1, self.in_flight_per_worker)
        with ProcessPoolExecutor(max_workers=self.workers, mp_context=context) as pool:

            def submit_more() -> None:
                while len(pending) < limit:
                    item = next(todo, None)
                    if item is None:
                        return
                    pending[pool.submit(fn, item[1])] = item[0]

            try:
                submit_more()
                while pending:
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in sorted(done, key=pending.__getitem__):
                        yield pending.pop(future), future.result()
                    submit_more()
            except BaseException:  # an error in a shard, or the caller stopped reading: start nothing more
                pool.shutdown(wait=True, cancel_futures=True)
                raise


class DaskExecutor:
    """The workers of the Dask distributed scheduler at ``address`` (``tcp://HOST:PORT``)."""

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

    def map_unordered(self, fn: Callable[[S], R], shards: Iterable[S]) -> Iterator[tuple[int, R]]:
        from distributed import as_completed as completed

        client = self.client()
        futures = {client.submit(fn, task, retries=self.retries, pure=False): k for k, task in enumerate(shards)}
        try:
            for future in completed(list(futures), loop=client.loop):
                yield futures[future], future.result()
        finally:
            client.cancel(list(futures))

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def in_shard_order(results: Iterable[tuple[int, R]]) -> Iterator[R]:
    """The ``(shard number, result)`` pairs of :meth:`Executor.map_unordered` as results in shard order, each as soon
    as every shard before it is in: the order a single writer stores them in.

    >>> list(in_shard_order([(1, "b"), (2, "c"), (0, "a")]))
    ['a', 'b', 'c']
    """
    waiting: dict[int, R] = {}
    next_shard = 0
    for k, result in results:
        waiting[k] = result
        while next_shard in waiting:
            yield waiting.pop(next_shard)
            next_shard += 1


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


_STORES: dict[tuple[int, str], Store] = {}  # the stores of this process by (pid, URL): a forked worker never
# uses its parent's connections


def worker_store(url: str) -> Store:
    """This process's store for ``url``, opened once (a shard runs where its worker is), or the one
    :func:`shards_read_through` lends to shards run inline."""
    key = (os.getpid(), url)
    if key not in _STORES:
        _STORES[key] = open_store(url, upgrade=False)
    return _STORES[key]


def write_shard(
    store: Store,
    replace: Callable[..., None],
    *,
    run_id: int,
    first_id: int,
    last_id: int,
    rows: Sequence[Any],
    what: str,
) -> None:
    """Store a shard's ``rows`` into run ``run_id`` with ``replace`` (a query that removes the run's rows of pairs
    ``first_id``..``last_id``, then inserts ``rows``) in one transaction, retried while the database is busy: the
    idempotent write of a shard that may run twice (its worker lost after the commit)."""
    write = partial(replace, run_id=run_id, first_id=first_id, last_id=last_id, rows=rows)
    store.write(write, what=f"writing the {what} of pairs {first_id}-{last_id}")


@contextmanager
def shards_read_through(store: Store) -> Iterator[Store]:
    """While the block runs, shards that run inline in this process use ``store`` itself for its URL (an in-memory
    database has no other way in, and a file needs no second connection); pool workers and Dask workers open
    their own."""
    key = (os.getpid(), store.url)
    previous = _STORES.get(key)
    _STORES[key] = store
    try:
        yield store
    finally:
        if previous is None:
            _STORES.pop(key, None)
        else:
            _STORES[key] = previous


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


def executor_for(spec: str = "local", *, workers: int | None = None) -> Executor:
    """The executor that ``spec`` names (``--executor``): ``local`` (this machine, ``workers`` processes, default
    :func:`default_workers`) or ``dask://HOST:PORT`` (the workers of a running Dask scheduler).

    >>> executor_for("local", workers=2).workers
    2
    >>> executor_for("dask://scheduler:8786").address
    'tcp://scheduler:8786'
    """
    if spec == "local":
        return LocalExecutor(workers=default_workers() if workers is None else workers)
    if spec.startswith(DASK_SCHEME) and len(spec) > len(DASK_SCHEME):
        return DaskExecutor("tcp://" + spec.removeprefix(DASK_SCHEME))
    raise XnerError(f"unknown executor {spec!r}: use local or dask://HOST:PORT (a running Dask scheduler)")
