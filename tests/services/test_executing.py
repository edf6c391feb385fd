"""Executors: every shard runs once and its result comes back with its shard number — inline with one worker, in a
local process pool with more, or on a Dask cluster, also when a Dask worker dies in the middle of a shard."""

from __future__ import annotations

import os
import signal
from functools import partial
from pathlib import Path

import pytest

from xner.errors import XnerError
from xner.services.executing import DaskExecutor, LocalExecutor, closing_executor, default_workers, executor_for

pytest_plugins = ["tests.dask_cluster"]


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
    assert executor_for("dask://10.0.0.5:8786").address == "tcp://10.0.0.5:8786"  # type: ignore[attr-defined]
    with pytest.raises(XnerError, match="unknown executor 'ray': use local or dask://HOST:PORT"):
        executor_for("ray")
    with pytest.raises(XnerError, match="unknown executor 'dask://'"):
        executor_for("dask://")
    with pytest.raises(XnerError, match="at least 1"):
        LocalExecutor(workers=0)


def square_plus(context: int, task: int) -> tuple[int, int]:
    return task, task * task + context


def dies_once(marker_dir: str, task: int) -> tuple[int, int]:
    """Task 1's first try kills the process it runs in (a worker lost mid-task); every try leaves a mark."""
    marks = Path(marker_dir)
    (marks / f"try-{task}-{len(list(marks.glob(f'try-{task}-*')))}").touch()
    if task == 1 and not (marks / "killed").exists():
        (marks / "killed").touch()
        os.kill(os.getpid(), signal.SIGKILL)
    return task, os.getpid()


def refuses(context: None, task: int) -> int:
    raise XnerError(f"task {task} refused")


def test_an_unreachable_scheduler_is_a_clear_error() -> None:
    executor = DaskExecutor("tcp://127.0.0.1:9")  # the discard port: nothing listens
    executor.connect_timeout = "1s"
    with pytest.raises(XnerError, match=r"cannot reach the Dask scheduler at tcp://127\.0\.0\.1:9"):
        list(executor.map_unordered(partial(square_plus, 0), [1]))


@pytest.mark.slow
def test_dask_executor_gives_the_local_results(dask_executor: str) -> None:
    with closing_executor(executor_for(dask_executor)) as executor:
        assert executor.workers == 2
        results = dict(executor.map_unordered(partial(square_plus, 5), range(9)))
    assert results == dict(LocalExecutor(1).map_unordered(partial(square_plus, 5), range(9)))


@pytest.mark.slow
def test_a_killed_dask_worker_s_task_runs_again_and_nothing_is_lost(dask_executor: str, tmp_path: Path) -> None:
    with closing_executor(executor_for(dask_executor)) as executor:
        results = dict(executor.map_unordered(partial(dies_once, str(tmp_path)), range(4)))
    assert sorted(task for task, _ in results.values()) == [0, 1, 2, 3]  # each task's result once
    assert (tmp_path / "killed").exists() and (tmp_path / "try-1-1").exists()  # task 1 ran a second time


@pytest.mark.slow
def test_a_task_error_reaches_the_caller(dask_executor: str) -> None:
    with closing_executor(executor_for(dask_executor)) as executor, pytest.raises(XnerError, match="refused"):
        list(executor.map_unordered(partial(refuses, None), [3]))
