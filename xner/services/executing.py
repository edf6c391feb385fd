"""Executors: where the shards of a long use case run.

A use case that scales with the corpus (projection today) splits its work into *shards*, plain picklable values
(a pair-id range of the corpus and what to do with it), and a module-level *shard function* that does one shard
and returns plain data. An :class:`Executor` maps the function over the shards and hands back each result as it
completes, with the shard's number so the caller can put results back in shard order. The caller stays the only
writer (SQLite has one): the shard functions read and compute, the caller writes.

- :class:`LocalExecutor` runs the shards on this machine: inline with one worker (no pool, no pickling), else in a
  process pool (``concurrent.futures``), at most a few shards in flight so memory stays flat however many shards
  there are.
- Another executor (Dask distributed, issue 19 item 4) fits behind the same :class:`Executor` protocol;
  :func:`executor_for` is where its ``dask://HOST:PORT`` address will be read.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Protocol, TypeVar

from xner.errors import XnerError

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


def executor_for(spec: str = "local", *, workers: int | None = None) -> Executor:
    """The executor that ``spec`` names (``--executor``): ``local`` (this machine, ``workers`` processes, default
    :func:`default_workers`).

    >>> executor_for("local", workers=2).workers
    2
    >>> try:
    ...     executor_for("dask://scheduler:8786")
    ... except XnerError as error:
    ...     print(str(error).split(":")[0])
    executor 'dask
    """
    if spec == "local":
        return LocalExecutor(workers=default_workers() if workers is None else workers)
    if spec.startswith("dask://"):
        raise XnerError(
            f"executor {spec!r} is not available yet: running shards on a Dask cluster comes with issue 19 item 4; "
            "use --executor local"
        )
    raise XnerError(f"unknown executor {spec!r}: use local (dask://HOST:PORT comes with issue 19 item 4)")
