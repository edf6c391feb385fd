"""Projection and a sweep on a 2-worker local Dask cluster over PostgreSQL, against the local executor, same inputs.

A throw-away PostgreSQL database on the local cluster (started if down, as the tests do: tests/pg.py) gets the
first N Europarl pairs (English entities from the CoNLL-2003 CRF of ``pipeline_speed.py``), aligned once with
eflomal. A ``distributed.LocalCluster`` of two worker processes (one thread each) stands in for two machines. Then,
each as a child process of the real CLI (wall time, the command's own figures):

1. **projection**: ``xner project`` (``--method``, default heuristic) with ``--executor local --workers 1``,
   ``--workers 2``, and ``--executor dask://…``; the three stored runs must hold the same spans for every pair
   (checked in SQL), and no pair twice;
2. **sweep**: ``xner experiment`` of a small Yoruba CRF sweep (MasakhaNER 2.0: ks × seeds × gold / hybrid) with
   ``--workers 1``, ``--workers 2`` and on the cluster, each on its own fresh database (runs are cached by
   configuration, so a second sweep on one database would train nothing); the mean F1 of every point must agree.

Usage::

    .venv/bin/python benchmarks/dask_speed.py                 # 100k pairs (aligning them takes a few minutes)
    .venv/bin/python benchmarks/dask_speed.py --pairs 10k --no-sweep

Writes benchmarks/results/dask_speed.json and prints a markdown table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's xner, whatever the venv installed
from common import (
    DEFAULT_DATA,
    REPO,
    RESULTS,
    command_line,
    machine,
    postgres_database,
    postgres_unavailable,
    run_child,
    write_results,
    xner_command,
)
from pipeline_speed import parse_size, tagged_bitext

PROJECT_FIGURES = ("run_id", "workers", "seconds", "pairs_per_second", "wall_seconds")
SWEEP = {
    "name": "dask-bench",
    "tagger": "crf",
    "tagger_options": {"max_iterations": 60},
    "languages": {"yor": {"gold": {"corpus": "yor", "split": "train"}, "test": {"corpus": "yor", "split": "test"}}},
    "ks": [50, 100, 200, 400],
    "seeds": [0, 1, 2],
    "strategies": {"gold": {"mix": "gold"}},
}


def run_xner(args: list[str], workdir: Path) -> dict:
    child = run_child([*xner_command(), *args], workdir)
    if child.returncode != 0:
        raise SystemExit(f"xner {args[0]} failed:\n{child.stderr_tail}")
    return {"wall_seconds": round(child.wall_seconds, 2), "peak_rss_mib": round(child.peak_rss_mib, 1), **child.report}


def same_runs(url: str, runs: list[int]) -> dict:
    """Whether every run holds the same spans for every pair as the first, and each pair once."""
    from sqlalchemy import func, select

    from xner.store.db import open_store
    from xner.store.models import Projection

    store = open_store(url, upgrade=False)
    try:
        with store.session() as session:
            rows = {}
            for run in runs:
                query = select(Projection.pair_id, Projection.spans).where(Projection.run_id == run)
                rows[run] = dict(session.execute(query).all())
                count = session.scalar(select(func.count()).where(Projection.run_id == run))
                if count != len(rows[run]):
                    return {"identical": False, "reason": f"run {run} stores a pair twice"}
    finally:
        store.dispose()
    first = rows[runs[0]]
    return {"identical": all(rows[run] == first for run in runs[1:]), "pairs": len(first)}


def projection_part(url: str, pairs: int, args: argparse.Namespace, scheduler: str, workdir: Path) -> dict:
    src, tgt = tagged_bitext(args.data, args.cache, pairs)
    db = ["--db", url, "--json"]
    files = [str(src), str(tgt), "--src-format", "conll", "--tgt-format", "text", "--pretokenized", "--tgt-lang", "xx"]
    result = {"import": run_xner(["import", "parallel", *files, "--corpus", "bench", *db], workdir)}
    result["align"] = run_xner(["align", "--corpus", "bench", *db], workdir)
    project = ["project", "--corpus", "bench", "--method", args.method, *db]
    executors = {
        "local, 1 worker": ["--executor", "local", "--workers", "1"],
        "local, 2 workers": ["--executor", "local", "--workers", "2"],
        "dask, 2 workers": ["--executor", scheduler],
    }
    runs = []
    for name, options in executors.items():
        figures = run_xner([*project, *options], workdir)
        figures["pairs_per_second"] = round(pairs / figures["seconds"]) if figures.get("seconds") else None
        result[name] = {
            key: figures.get(key) for key in ("run_id", "workers", "seconds", "pairs_per_second", "wall_seconds")
        }
        runs.append(figures["run_id"])
        print(f"project, {name}: {figures['seconds']} s", file=sys.stderr)
    result["same_projections"] = same_runs(url, runs)
    return result


def sweep_part(args: argparse.Namespace, scheduler: str, workdir: Path) -> dict:
    yor = args.data / "masakhaner2" / "yor"
    config = workdir / "sweep.json"
    config.write_text(json.dumps(SWEEP), encoding="utf-8")
    result, curves = {}, {}
    executors = {
        "local, 1 worker": ["--workers", "1"],
        "local, 2 workers": ["--workers", "2"],
        "dask, 2 workers": ["--executor", scheduler],
    }
    for name, options in executors.items():
        with postgres_database() as url:  # a fresh database each: sweeps cache their runs by configuration
            db = ["--db", url, "--json"]
            for split, file in (("train", "train.txt"), ("test", "test.txt")):
                run_xner(
                    ["import", "conll", str(yor / file), "--corpus", "yor", "--lang", "yor", "--split", split, *db],
                    workdir,
                )
            figures = run_xner(["experiment", str(config), *options, *db], workdir)
            curves[name] = _curve(url)
        result[name] = {key: figures.get(key) for key in ("points", "trained", "seconds", "wall_seconds")}
        print(f"sweep, {name}: {figures.get('seconds')} s", file=sys.stderr)
    first = next(iter(curves.values()))
    result["same_scores"] = all(curve == first for curve in curves.values())
    return result


def _curve(url: str) -> dict[str, float]:
    from xner.services.experiments import learning_curves
    from xner.store.db import open_store

    store = open_store(url, upgrade=False)
    try:
        return {f"{p.strategy} k={p.k}": round(p.mean, 6) for p in learning_curves(store, SWEEP["name"])}
    finally:
        store.dispose()


def markdown(payload: dict) -> str:
    lines = ["| step | executor | seconds | pairs/s |", "|---|---|---:|---:|"]
    projection = payload.get("projection") or {}
    for name in ("local, 1 worker", "local, 2 workers", "dask, 2 workers"):
        if name in projection:
            row = projection[name]
            lines.append(
                f"| project {payload['pairs']:,} pairs | {name} | {row['seconds']} | {row['pairs_per_second']:,} |"
            )
    sweep = payload.get("sweep") or {}
    for name in ("local, 1 worker", "local, 2 workers", "dask, 2 workers"):
        if name in sweep:
            row = sweep[name]
            lines.append(f"| sweep ({row['points']} points) | {name} | {row['seconds']} | |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=parse_size, default=parse_size("100k"))
    parser.add_argument("--method", default="heuristic")
    parser.add_argument("--no-sweep", action="store_true", help="skip the sweep part")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--cache", type=Path, default=REPO / "benchmarks" / ".cache")
    parser.add_argument("--out", type=Path, default=RESULTS / "dask_speed.json")
    args = parser.parse_args(argv)
    reason = postgres_unavailable()
    if reason or not (args.data / "parallel_europarl").is_dir():
        print(f"skipped: {reason or 'the shared data (parallel_europarl) is missing'}")
        return 0
    from distributed import LocalCluster

    args.cache.mkdir(parents=True, exist_ok=True)
    payload: dict = {
        "benchmark": "dask_speed",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": command_line(),
        "machine": machine(),
        "pairs": args.pairs,
        "cluster": "distributed.LocalCluster: 2 worker processes, 1 thread each, on this machine",
    }
    cluster_options = {
        "n_workers": 2,
        "threads_per_worker": 1,
        "dashboard_address": None,
        "silence_logs": logging.ERROR,
    }
    with tempfile.TemporaryDirectory(prefix="xner-dask-") as folder, LocalCluster(**cluster_options) as cluster:
        scheduler = "dask://" + cluster.scheduler_address.removeprefix("tcp://")
        workdir = Path(folder)
        started = time.perf_counter()
        with postgres_database() as url:
            payload["projection"] = projection_part(url, args.pairs, args, scheduler, workdir)
        if not args.no_sweep:
            payload["sweep"] = sweep_part(args, scheduler, workdir)
        payload["seconds"] = round(time.perf_counter() - started, 1)
    write_results(args.out, payload)
    print(markdown(payload))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
