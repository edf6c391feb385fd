"""A PostgreSQL server for the store tests: the local Debian cluster, started by the tests when it is down.

Load it with ``pytest_plugins = ["tests.pg"]`` in a test module. It gives three fixtures:

- ``postgres_url`` (session): starts the cluster found by ``pg_lsclusters`` when it is not running, creates a
  login role (allowed to create databases) and a uniquely named database, and yields
  ``postgresql+psycopg://ROLE:PASS@127.0.0.1:PORT/DB``. At the end it drops the database(s) and the role, and
  stops the cluster if, and only if, the tests started it and no other test process still uses it.
- ``pg_url`` (function): a fresh empty database for one test (created by that role, dropped after the test), so a
  test that downgrades the schema or fails half-way cannot disturb another.
- ``pg_demo`` (function): such a database holding the demo's files (``load_demo(ready_to_review=False)``), its
  open store.

When PostgreSQL is not installed (no ``pg_ctlcluster``), we are not root, or the cluster does not start, the tests
that use these fixtures are skipped with the reason (shown in pytest's ``-ra`` summary).

Several processes at once (pytest-xdist workers, or two pytest runs): each process has its own role and
databases (names carry the process id), so they never share data. Starting and stopping the cluster happens under
an exclusive ``fcntl`` lock on a file in the temp directory, beside a small JSON state file that records whether
the tests started the cluster and which live processes use it. A process joins under the lock; when it leaves,
the last one out stops the cluster, and only when a test process started it (the state keeps the server's pid,
so a server started by anyone else is never stopped). A cluster that was already running before the tests is never
stopped. Processes that died without leaving (killed workers) are dropped from the state by a liveness check of
their pid, and their leftover roles and databases are removed by the next process that joins.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import secrets
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from itertools import count
from pathlib import Path

import pytest

from xner.services.demo import load_demo
from xner.store.db import Store, open_store

LOCK_FILE = Path(tempfile.gettempdir()) / "xner-test-postgres.lock"
STATE_FILE = Path(tempfile.gettempdir()) / "xner-test-postgres.json"
PREFIX = "xner_test_"  # roles and databases: xner_test_<pid>_<hex>[_<n>]
HOST = "127.0.0.1"


class Unavailable(Exception):
    """PostgreSQL cannot be used here; the message says why."""


@dataclass(frozen=True)
class Cluster:
    version: str
    name: str
    port: int
    online: bool
    data_dir: str

    def postmaster_pid(self) -> int | None:
        """The pid of the running server (first line of postmaster.pid), None when it is not running."""
        try:
            first = (Path(self.data_dir) / "postmaster.pid").read_text().split("\n", 1)[0]
        except OSError:
            return None
        return int(first) if first.strip().isdigit() and self.online else None


def _run(*command: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd="/", check=False)


def find_cluster() -> Cluster:
    """The cluster to use: ``main`` of the newest version, else the first listed by ``pg_lsclusters``."""
    result = _run("pg_lsclusters", "--no-header")
    if result.returncode != 0:
        raise Unavailable(f"pg_lsclusters failed: {result.stderr.strip() or result.stdout.strip()}")
    clusters = []
    for line in result.stdout.splitlines():
        fields = line.split()
        if len(fields) >= 6 and fields[2].isdigit():
            clusters.append(Cluster(fields[0], fields[1], int(fields[2]), fields[3].startswith("online"), fields[5]))
    if not clusters:
        raise Unavailable("PostgreSQL is installed but has no cluster (pg_lsclusters lists none)")
    main = [c for c in clusters if c.name == "main"]
    return max(main, key=lambda c: float(c.version)) if main else clusters[0]


def psql(sql: str, *, database: str = "postgres") -> str:
    """Run ``sql`` as the ``postgres`` superuser through the local socket (peer authentication)."""
    arguments = ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", database, "-c", sql]
    if shutil.which("runuser"):
        result = _run("runuser", "-u", "postgres", "--", *arguments)
    else:
        result = _run("su", "postgres", "-c", shlex.join(arguments))
    if result.returncode != 0:
        raise RuntimeError(f"psql failed ({sql!r}): {result.stderr.strip()}")
    return result.stdout


def unavailable_reason() -> str | None:
    """Why the local cluster cannot be used by these tests, or None when it can."""
    if not shutil.which("pg_ctlcluster") or not shutil.which("pg_lsclusters"):
        return "PostgreSQL is not installed (no pg_ctlcluster; scripts/test.sh installs it with apt-get as root)"
    if os.geteuid() != 0:
        return "the tests must run as root to start the PostgreSQL cluster and act as the postgres user"
    return None


# --- the shared cluster: join and leave under a file lock ------------------------------------------------------


@contextmanager
def _locked() -> Iterator[None]:
    with open(LOCK_FILE, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read_state() -> dict:
    try:
        state = json.loads(STATE_FILE.read_text())
    except (OSError, ValueError):
        state = {}
    users = [pid for pid in state.get("users", []) if isinstance(pid, int) and _alive(pid)]
    started = state.get("started_pid")
    return {"started_pid": started if isinstance(started, int) else None, "users": users}


def _write_state(state: dict) -> None:
    if state["users"]:
        STATE_FILE.write_text(json.dumps(state))
    else:
        STATE_FILE.unlink(missing_ok=True)


def join_cluster() -> Cluster:
    """Start the cluster when it is down (remembering that the tests started it) and register this process.

    "Started by the tests" is recorded as the server's pid: a server the tests started stays theirs to stop even
    when the run that started it was killed, while a server somebody started since then (another pid) is not.
    """
    with _locked():
        state = _read_state()
        cluster = find_cluster()
        if cluster.online and state["started_pid"] != cluster.postmaster_pid():
            state["started_pid"] = None  # running, and not (or no longer) by the tests' own start
        if not cluster.online:
            result = _run("pg_ctlcluster", cluster.version, cluster.name, "start", timeout=120)
            cluster = find_cluster()
            if not cluster.online:
                detail = (result.stderr or result.stdout).strip() or f"exit status {result.returncode}"
                raise Unavailable(f"pg_ctlcluster {cluster.version} {cluster.name} start failed: {detail}")
            state["started_pid"] = cluster.postmaster_pid()
        state["users"].append(os.getpid())
        _write_state(state)
        with suppress(RuntimeError, OSError, subprocess.TimeoutExpired):  # best effort: a killed run's leftovers
            _drop_stale_objects()
        return cluster


def leave_cluster(cluster: Cluster) -> None:
    """Unregister this process; the last process out stops the cluster when the tests started it."""
    with _locked():
        state = _read_state()
        state["users"] = [pid for pid in state["users"] if pid != os.getpid()]
        running = find_cluster()
        if not state["users"] and state["started_pid"] is not None and state["started_pid"] == running.postmaster_pid():
            _run("pg_ctlcluster", running.version, running.name, "stop", timeout=120)
        _write_state(state)


def _owner_pid(name: str) -> int | None:
    match = re.match(rf"{PREFIX}(\d+)_", name)
    return int(match.group(1)) if match else None


def _drop_stale_objects() -> None:
    """Drop roles and databases left by test processes that no longer run (killed before their teardown)."""
    databases = psql(f"SELECT datname FROM pg_database WHERE datname LIKE '{PREFIX}%'").split()
    roles = psql(f"SELECT rolname FROM pg_roles WHERE rolname LIKE '{PREFIX}%'").split()
    for name in databases:
        pid = _owner_pid(name)
        if pid is not None and not _alive(pid):
            psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    for name in roles:
        pid = _owner_pid(name)
        if pid is not None and not _alive(pid):
            psql(f'DROP ROLE IF EXISTS "{name}"')


# --- fixtures ---------------------------------------------------------------------------------------------------


@dataclass
class Server:
    """This process's role on the running cluster."""

    cluster: Cluster
    role: str
    password: str

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{self.role}:{self.password}@{HOST}:{self.cluster.port}/{database}"


_numbers = count(1)
_server: Server | None = None


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The URL of an empty database on the local cluster, owned by a role created for this test process."""
    global _server
    reason = unavailable_reason()
    if reason:
        pytest.skip(f"PostgreSQL tests skipped: {reason}")
    try:
        cluster = join_cluster()
    except (Unavailable, RuntimeError, OSError, subprocess.TimeoutExpired) as error:
        pytest.skip(f"PostgreSQL tests skipped: the local cluster is not usable: {error}")
    try:
        name = f"{PREFIX}{os.getpid()}_{secrets.token_hex(3)}"
        server = Server(cluster, name, secrets.token_hex(16))
        psql(f"CREATE ROLE \"{name}\" LOGIN CREATEDB PASSWORD '{server.password}'")
        psql(f'CREATE DATABASE "{name}" OWNER "{name}"')
    except BaseException:
        leave_cluster(cluster)
        raise
    _server = server
    try:
        yield server.url(name)
    finally:
        _server = None
        try:
            owned = psql(
                f"SELECT datname FROM pg_database WHERE datdba = (SELECT oid FROM pg_roles WHERE rolname = '{name}')"
            ).split()
            for database in owned:
                psql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            psql(f'DROP ROLE IF EXISTS "{name}"')
        finally:
            leave_cluster(cluster)


@pytest.fixture
def pg_url(postgres_url: str) -> Iterator[str]:
    """A fresh, empty database for one test (dropped afterwards): its URL."""
    assert _server is not None
    name = f"{_server.role}_{next(_numbers)}"
    psql(f'CREATE DATABASE "{name}" OWNER "{_server.role}"')
    try:
        yield _server.url(name)
    finally:
        psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_demo(pg_url: str) -> Iterator[Store]:
    """The demo's files (``load_demo(ready_to_review=False)``) in a fresh PostgreSQL database: its open store."""
    store = open_store(pg_url)
    load_demo(store, ready_to_review=False)
    yield store
    store.dispose()
