"""Executors: every task runs once and its result comes back, in this process, a local pool or a Dask cluster —
also when a Dask worker dies in the middle of a task."""

from __future__ import annotations

import os
import signal
from functools import partial
from pathlib import Path

import pytest

from xner.errors import XnerError
from xner.services.executing import DaskExecutor, LocalExecutor, closing_executor, parse_executor

pytest_plugins = ["tests.dask_cluster"]


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


@pytest.mark.parametrize("workers", [1, 2])
def test_local_executor_runs_each_task_once(workers: int) -> None:
    results = dict(LocalExecutor(workers).map_unordered(partial(square_plus, 10), range(7)))
    assert results == {index: (index, index * index + 10) for index in range(7)}


def test_parse_executor_names_the_choices() -> None:
    assert parse_executor("local", workers=3) == LocalExecutor(3)
    assert parse_executor("dask://10.0.0.5:8786").address == "tcp://10.0.0.5:8786"  # type: ignore[attr-defined]
    with pytest.raises(XnerError, match="unknown executor 'ray://x': use local or dask://HOST:PORT"):
        parse_executor("ray://x")
    with pytest.raises(XnerError, match="unknown executor 'dask://'"):
        parse_executor("dask://")


def test_an_unreachable_scheduler_is_a_clear_error() -> None:
    executor = DaskExecutor("tcp://127.0.0.1:9")  # the discard port: nothing listens
    executor.connect_timeout = "1s"
    with pytest.raises(XnerError, match=r"cannot reach the Dask scheduler at tcp://127\.0\.0\.1:9"):
        list(executor.map_unordered(partial(square_plus, 0), [1]))


@pytest.mark.slow
def test_dask_executor_gives_the_local_results(dask_executor: str) -> None:
    with closing_executor(parse_executor(dask_executor)) as executor:
        assert executor.workers == 2
        results = dict(executor.map_unordered(partial(square_plus, 5), range(9)))
    assert results == dict(LocalExecutor(1).map_unordered(partial(square_plus, 5), range(9)))


@pytest.mark.slow
def test_a_killed_dask_worker_s_task_runs_again_and_nothing_is_lost(dask_executor: str, tmp_path: Path) -> None:
    with closing_executor(parse_executor(dask_executor)) as executor:
        results = dict(executor.map_unordered(partial(dies_once, str(tmp_path)), range(4)))
    assert sorted(task for task, _ in results.values()) == [0, 1, 2, 3]  # each task's result once
    assert (tmp_path / "killed").exists() and (tmp_path / "try-1-1").exists()  # task 1 ran a second time


@pytest.mark.slow
def test_a_task_error_reaches_the_caller(dask_executor: str) -> None:
    with closing_executor(parse_executor(dask_executor)) as executor, pytest.raises(XnerError, match="refused"):
        list(executor.map_unordered(partial(refuses, None), [3]))
