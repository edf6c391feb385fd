"""A local Dask distributed cluster for the executor tests: a scheduler and two worker processes on this machine.

Load it with ``pytest_plugins = ["tests.dask_cluster"]``. The ``dask_cluster`` fixture (module scope) yields the
``LocalCluster``; ``dask_executor`` gives the xner executor option that reaches it (``dask://127.0.0.1:PORT``),
exactly what a user types for a real cluster. Workers are separate processes with a nanny, so a worker killed in
a test is restarted like on a real cluster.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="module")
def dask_cluster() -> Iterator[Any]:
    distributed = pytest.importorskip("distributed", reason="the dask executor tests need `distributed`")
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    ) as cluster:
        yield cluster


@pytest.fixture
def dask_executor(dask_cluster: Any) -> str:
    """``--executor`` text for the test cluster."""
    return "dask://" + dask_cluster.scheduler_address.removeprefix("tcp://")
