"""Shared by the benchmark scripts: where the data is, a description of the machine, writing results."""

from __future__ import annotations

import json
import os
import platform
import shlex
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
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
        "git_commit": commit.stdout.strip() + (" (xner/ or migrations/ modified)" if dirty.stdout.strip() else ""),
    }


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


def run_child(command: list[str], workdir: Path) -> Child:
    """Run ``command`` in a fresh process; its own peak RSS and CPU time come from ``os.wait4``."""
    stdout_path, stderr_path = workdir / "child.out", workdir / "child.err"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("XNER_DB", None)
    with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=workdir, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)  # already reaped: tell Popen
    text = stdout_path.read_text(encoding="utf-8", errors="replace")
    try:
        report = json.loads(text) if process.returncode == 0 else {}
    except ValueError:
        report = {"stdout": text[-2000:]}
    return Child(
        command=command,
        returncode=process.returncode,
        wall_seconds=wall,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        peak_rss_mib=usage.ru_maxrss / 1024,  # kilobytes on Linux
        report=report,
        stderr_tail=stderr_path.read_text(encoding="utf-8", errors="replace")[-2000:],
    )
