"""The local executor: inline with one worker, a process pool with more; results carry their shard number."""

from __future__ import annotations

import os

import pytest

from xner.errors import XnerError
from xner.services.executing import LocalExecutor, default_workers, executor_for


def square_and_pid(value: int) -> tuple[int, int]:
    return value * value, os.getpid()


def fail_on_three(value: int) -> int:
    if value == 3:
        raise ValueError("three")
    return value


def test_one_worker_runs_inline_in_order() -> None:
    results = list(LocalExecutor(workers=1).map_unordered(square_and_pid, range(5)))
    assert [(k, square) for k, (square, _) in results] == [(k, k * k) for k in range(5)]
    assert {pid for _, (_, pid) in results} == {os.getpid()}


def test_a_pool_runs_every_shard_once_in_other_processes() -> None:
    results = list(LocalExecutor(workers=2).map_unordered(square_and_pid, range(40)))
    assert sorted((k, square) for k, (square, _) in results) == [(k, k * k) for k in range(40)]
    assert os.getpid() not in {pid for _, (_, pid) in results}


def test_a_failing_shard_raises_its_error() -> None:
    with pytest.raises(ValueError, match="three"):
        list(LocalExecutor(workers=2).map_unordered(fail_on_three, range(10)))
    with pytest.raises(ValueError, match="three"):
        list(LocalExecutor(workers=1).map_unordered(fail_on_three, range(10)))


def test_executor_names() -> None:
    assert executor_for("local").workers == default_workers() >= 1
    assert executor_for("local", workers=3).workers == 3
    with pytest.raises(XnerError, match="item 4"):
        executor_for("dask://scheduler:8786")
    with pytest.raises(XnerError, match="unknown executor 'ray'"):
        executor_for("ray")
    with pytest.raises(XnerError, match="at least 1"):
        LocalExecutor(workers=0)
