"""Shared by the benchmark scripts: where the data is, a description of the machine, writing results."""

from __future__ import annotations

import json
import os
import platform
import secrets
import shlex
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = Path(os.environ.get("XNER_SHARED_DATA", REPO.parent / "shared" / "data"))
RESULTS = REPO / "benchmarks" / "results"


def machine() -> dict:
    import sqlalchemy

    cpu_model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        memory = next(x for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith("MemTotal")).split()[1]
        memory = f"{int(memory) / 2**20:.1f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(
        ["git", "-C", str(REPO), "status", "--porcelain", "--", "xner", "migrations"], capture_output=True, text=True
    )
    return {
        "cpu_count": os.cpu_count(),
        "affinity_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_model": cpu_model,
        "memory": memory,
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "sqlalchemy": sqlalchemy.__version__,
        "eflomal": _version("eflomal"),
        "git_commit": commit.stdout.strip() + (" (xner/ or migrations/ modified)" if dirty.stdout.strip() else ""),
    }


def _version(package: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return None


def percentiles(times: list[float]) -> dict[str, float]:
    """The sample count, median, 95th percentile and maximum of ``times`` (milliseconds), rounded."""
    times = sorted(times)
    return {
        "samples": len(times),
        "p50_ms": round(statistics.median(times), 2),
        "p95_ms": round(times[min(len(times) - 1, int(0.95 * len(times)))], 2),
        "max_ms": round(times[-1], 2),
    }


def load() -> list[float]:
    """The 1, 5 and 15-minute load averages (as ``uptime`` shows them)."""
    return [round(x, 2) for x in os.getloadavg()]


def command_line() -> str:
    """The command that ran this benchmark, as it would be typed from the repository root."""
    return shlex.join([".venv/bin/python", os.path.relpath(sys.argv[0], REPO), *sys.argv[1:]])


def write_results(path: Path, payload: dict) -> None:
    """``payload`` as indented JSON at ``path`` (written whole, then renamed: never half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    temporary.replace(path)


@dataclass
class Child:
    command: list[str]
    returncode: int
    wall_seconds: float
    cpu_seconds: float
    peak_rss_mib: float
    report: dict = field(default_factory=dict)
    stderr_tail: str = ""


def xner_command() -> list[str]:
    """The ``xner`` console script beside this interpreter, else ``python -m xner``."""
    script = Path(sys.executable).with_name("xner")
    return [str(script)] if script.exists() else [sys.executable, "-m", "xner"]


# Linux carries the RSS high-water mark of the process that calls exec into the new program's ru_maxrss, so a
# child forked straight from a large benchmark process would report the benchmark's memory. This small launcher
# is the fork parent instead; it reports the command's own rusage as JSON in the file named by its first argument.
_LAUNCHER = """
import json, os, subprocess, sys
process = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(process.pid, 0)
with open(sys.argv[1], "w") as out:
    json.dump({"maxrss_kib": usage.ru_maxrss, "cpu_seconds": usage.ru_utime + usage.ru_stime}, out)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def child_env() -> dict[str, str]:
    """The environment of a benchmark's child process: this checkout's ``xner`` first on the path (an editable
    install made from another checkout, e.g. a shared virtualenv, would otherwise run that one's code), unbuffered
    output, and no ``XNER_DB`` from the caller's shell."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(REPO)}
    env.pop("XNER_DB", None)
    return env


def run_child(command: list[str], workdir: Path) -> Child:
    """Run ``command`` in a fresh process; its own peak RSS and CPU time come from ``os.wait4`` in a launcher."""
    stdout_path, stderr_path, usage_path = workdir / "child.out", workdir / "child.err", workdir / "child.usage"
    env = child_env()
    launcher = [sys.executable, "-c", _LAUNCHER, str(usage_path), *command]
    usage_path.unlink(missing_ok=True)  # never read a previous child's figures
    with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        started = time.perf_counter()
        done = subprocess.run(launcher, stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=workdir, env=env)
        wall = time.perf_counter() - started
    usage = json.loads(usage_path.read_text())
    returncode = done.returncode
    text = stdout_path.read_text(encoding="utf-8", errors="replace")
    try:
        report = json.loads(text) if returncode == 0 else {}
    except ValueError:
        report = {"stdout": text[-2000:]}
    return Child(
        command=command,
        returncode=returncode,
        wall_seconds=wall,
        cpu_seconds=usage["cpu_seconds"],
        peak_rss_mib=usage["maxrss_kib"] / 1024,  # kilobytes on Linux
        report=report,
        stderr_tail=stderr_path.read_text(encoding="utf-8", errors="replace")[-2000:],
    )


_databases = count(1)


@contextmanager
def postgres_database() -> Iterator[str]:
    """A throw-away role and database on the local cluster (started if down, like the tests do: tests/pg.py);
    both dropped afterwards, and the cluster stopped if this process started it and nobody else uses it."""
    from tests import pg

    cluster = pg.join_cluster()
    # the tests' prefix with this pid: a killed run's leftovers are dropped by the next process that joins
    name = f"{pg.PREFIX}{os.getpid()}_bench{next(_databases)}"
    server = pg.Server(cluster, name, secrets.token_hex(16))
    try:
        pg.psql(f"CREATE ROLE \"{name}\" LOGIN PASSWORD '{server.password}'")
        pg.psql(f'CREATE DATABASE "{name}" OWNER "{name}"')
        yield server.url(name)
    finally:
        try:
            pg.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            pg.psql(f'DROP ROLE IF EXISTS "{name}"')
        finally:
            pg.leave_cluster(cluster)


def postgres_unavailable() -> str | None:
    """Why the local PostgreSQL cluster cannot be used (not installed, not root), or None."""
    from tests import pg

    return pg.unavailable_reason()
