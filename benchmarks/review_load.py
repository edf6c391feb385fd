"""Review under load: concurrent reviewers in real browsers on one app server, idle and while a big import runs.

What: ``--sessions`` reviewers (default 8) each press Accept (``a``) ``--presses`` times (default 25) on one
review queue of a ``--pairs`` corpus (default 100,000 pairs), in headless chromium tabs on one ``streamlit run
app.py`` server, as a team deployment works; scenario ``import`` does the same while ``xner import conll`` loads a
``--import-sentences`` file (default 500,000) into the same database; both on SQLite and on PostgreSQL.

How:

1. **Corpus**: ``review_speed.build`` writes the synthetic pairs with an alignment run and two projection runs
   straight into the store (a SQLite file in a temp folder, or a throw-away PostgreSQL role and database on the
   local cluster, through ``tests/pg.py``; dropped at the end), then ``review.queue_projection`` queues them.
2. **Server**: ``python -m streamlit run app.py`` headless on 127.0.0.1 with ``XNER_DB`` set; health polled.
3. **Browsers**: one Debian chromium (Playwright, async), one context per session: each opens the app, goes to the
   Review page from the sidebar (``/Review``), types a distinct reviewer name (``<scenario>-<n>``) and is served an
   item leased to it. Then all sessions press ``a`` at once (``asyncio.gather``); before each press a
   MutationObserver is installed in the page, and the time from the keydown to the DOM showing a *different*
   "Sentence N" header is the press's latency (measured in the browser). The next press waits for the script run to
   finish (Streamlit's ``script_finished`` message on the websocket), nothing more. A run that ends without a new
   item is classified from the page: a conflict warning ("... was not saved"), an error alert, an exception; no end
   within ``--press-timeout`` seconds is a timeout. After a conflict the session skips (``s``); after an exception
   it reruns the page (``r``), else opens it afresh, and goes on.
4. **Database check**: the review_event rows of the scenario's reviewers: decisions recorded, votes (``applied``
   false), duplicates (events beyond the first on one sentence among them), lost decisions (the page said "accept
   recorded" but no event exists) and unreported ones (an event the page never confirmed).
5. **Import scenario**: the CoNLL file (``import_speed.write_synthetic``) is imported by a child process
   (``python -m xner import conll FILE --corpus bulk --lang yor --db URL --json``), started once the sessions are
   open; the presses begin when it is seen writing (SQLite: ``BEGIN IMMEDIATE`` refused; PostgreSQL: another
   backend of the database holds a transaction id). Its wall time, exit code and whether it outlasted the whole
   review run are recorded.

Targets: 0 lost, 0 duplicated, 0 errored decisions; conflicts <= 1 % of presses (overlap 1); keypress -> next item
p95 <= 1 s idle, <= 1.5 s during the import; on both databases. The 1-minute load average is recorded around each
run: figures taken while other work uses the cores are noisy.

Usage::

    .venv/bin/python benchmarks/review_load.py                       # 8 x 25, 100k pairs, 500k import, both DBs
    .venv/bin/python benchmarks/review_load.py --quick               # 2 x 3, 2k pairs, 20k import
    .venv/bin/python benchmarks/review_load.py --db sqlite --scenario idle --sessions 4 --presses 10 --pairs 10k

Writes benchmarks/results/review_load.json (``--quick``: benchmarks/.cache/review_load_quick.json), one screenshot
of a reviewer's page mid-run per database and scenario in benchmarks/.cache/, and prints a markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import (
    REPO,
    RESULTS,
    command_line,
    load,
    machine,
    postgres_database,
    postgres_unavailable,
    write_results,
)
from import_speed import write_synthetic
from review_speed import CORPUS, build, size

from xner.services import review
from xner.store.db import open_store
from xner.store.models import ReviewEvent

CACHE = REPO / "benchmarks" / ".cache"
QUICK_OUT = CACHE / "review_load_quick.json"
REVIEW_PAGE = "Review"  # the review page's title in app.py's navigation (its URL path is /Review)
IMPORT_CORPUS = "bulk"
TARGETS = {
    "lost": 0,
    "duplicated": 0,
    "errored": 0,
    "conflicts_share_of_presses": 0.01,
    "p95_seconds_idle": 1.0,
    "p95_seconds_import": 1.5,
}
GRACE_S = 5  # after the server's run ended, how long the page may take to show its result
SETUP_TIMEOUT_S = 180  # opening a session, the server's start, the import starting to write
STARTED = time.monotonic()


def log(message: str) -> None:
    print(f"[{time.monotonic() - STARTED:7.1f} s] {message}", file=sys.stderr, flush=True)


# --- databases ---------------------------------------------------------------------------------------------------


@contextmanager
def sqlite_database(folder: Path) -> Iterator[str]:
    """A SQLite file in ``folder`` (a temp folder: removed with it)."""
    yield f"sqlite:///{folder / 'review_load.db'}"


def prepare(url: str, pairs: int, seed: int) -> dict:
    """The synthetic corpus in the store at ``url``, its newest projection run queued for review."""
    store = open_store(url)
    try:
        started = time.perf_counter()
        build(store, pairs, seed)
        built = time.perf_counter() - started
        started = time.perf_counter()
        report = review.queue_projection(store, CORPUS)
        queued = time.perf_counter() - started
        settings = review.queue_settings(store, CORPUS)
    finally:
        store.dispose()
    return {
        "pairs": pairs,
        "build_seconds": round(built, 1),
        "queue_seconds": round(queued, 1),
        "queued": report.queued,
        "queue_overlap": settings.overlap,
        "lease_seconds": settings.lease_seconds,
    }


# --- processes -----------------------------------------------------------------------------------------------------


def child_env(url: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "XNER_DB": url, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}


def stop(process: subprocess.Popen) -> None:
    """Terminate ``process`` (kill it after 10 s) unless it has ended."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class AppServer:
    base: str  # http://127.0.0.1:PORT
    pid: int


@contextmanager
def app_server(url: str, log_path: Path) -> Iterator[AppServer]:
    """``streamlit run app.py`` on the store at ``url``, yielded once healthy; always stopped."""
    port = free_port()
    command = [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.headless", "true", "--server.address", "127.0.0.1", "--server.port", str(port),
        "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
    ]  # fmt: skip
    with log_path.open("wb") as out:
        process = subprocess.Popen(command, cwd=REPO, env=child_env(url), stdout=out, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + SETUP_TIMEOUT_S
        while not healthy(base):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start:\n{log_path.read_text(errors='replace')[-3000:]}")
            time.sleep(0.2)
        yield AppServer(base, process.pid)
    finally:
        stop(process)


def healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as answer:
            return answer.read() == b"ok"
    except OSError:
        return False


@dataclass
class ImportChild:
    """``xner import conll`` running in a child process, with its timeline (seconds since it started)."""

    process: subprocess.Popen
    started: float
    stdout: Path
    stderr: Path
    writing_at: float | None = None
    ended_at: float | None = None
    cpu_seconds: float | None = None  # its own CPU time, once it has ended

    def __post_init__(self) -> None:
        threading.Thread(target=self._watch, daemon=True).start()

    def _watch(self) -> None:
        """Note when the import ends and its CPU time (a thread waiting for it: the exact moment)."""
        try:
            _, status, usage = os.wait4(self.process.pid, 0)
            self.process.returncode = os.waitstatus_to_exitcode(status)
            self.cpu_seconds = usage.ru_utime + usage.ru_stime
        except ChildProcessError:  # reaped by Popen meanwhile (stopped after a timeout)
            pass
        self.ended_at = time.monotonic() - self.started

    def finish(self, timeout: float) -> dict:
        """Wait for the import (at most ``timeout`` s, then stop it) and report it."""
        deadline = time.monotonic() + timeout
        while self.ended_at is None and time.monotonic() < deadline:
            time.sleep(0.1)
        killed = self.ended_at is None
        stop(self.process)
        while self.ended_at is None:  # the watching thread notes it at once
            time.sleep(0.01)
        output = self.stdout.read_text(errors="replace")
        report = {
            "exit_code": self.process.returncode,
            "stopped_after_timeout": killed,
            "wall_seconds": round(self.ended_at, 2),
            "cpu_seconds": None if self.cpu_seconds is None else round(self.cpu_seconds, 1),
            "began_writing_after_seconds": None if self.writing_at is None else round(self.writing_at, 2),
        }
        try:
            own = json.loads(output)
            report.update(sentences=own["sentences"], seconds_in_xner=round(own["seconds"], 2))
        except (ValueError, KeyError, TypeError):
            report["stdout_tail"] = output[-1000:]
        if self.process.returncode != 0:
            report["stderr_tail"] = self.stderr.read_text(errors="replace")[-2000:]
        return report


def start_import(url: str, conll: Path, folder: Path) -> ImportChild:
    command = [
        sys.executable, "-m", "xner", "import", "conll", str(conll),
        "--corpus", IMPORT_CORPUS, "--lang", "yor", "--db", url, "--json",
    ]  # fmt: skip
    stdout, stderr = folder / "import.out", folder / "import.err"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(command, cwd=REPO, env=child_env(url), stdout=out, stderr=err)
    return ImportChild(process, time.monotonic(), stdout, stderr)


def sqlite_writing(path: str) -> bool:
    """True when another connection holds SQLite's write lock (our own write transaction is refused at once)."""
    connection = sqlite3.connect(path, timeout=0)
    try:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:  # database is locked
        return True
    finally:
        connection.close()


PG_WRITERS = (
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
    "AND backend_xid IS NOT NULL"
)


def wait_until_writing(child: ImportChild, url: str) -> None:
    """Return once another connection (the import: the app is idle now) holds a write transaction on the database,
    or the import has ended, or SETUP_TIMEOUT_S passed."""
    store = None if url.startswith("sqlite") else open_store(url, upgrade=False)
    deadline = time.monotonic() + SETUP_TIMEOUT_S
    try:
        while time.monotonic() < deadline:
            if child.ended_at is not None:
                log(f"the import ended (exit {child.process.returncode}) before it was seen writing")
                return
            if store is None:
                writing = sqlite_writing(url.removeprefix("sqlite:///"))
            else:
                with store.session() as session:
                    writing = bool(session.scalar(text(PG_WRITERS)))
            if writing:
                child.writing_at = time.monotonic() - child.started
                log(f"the import is writing ({child.writing_at:.1f} s after its start)")
                return
            time.sleep(0.05)
        log("the import was not seen writing: starting the review anyway")
    finally:
        if store is not None:
            store.dispose()


# --- where the CPU went ------------------------------------------------------------------------------------------


def process_table() -> dict[int, tuple[int, float]]:
    """Every process's parent and CPU seconds (user + system), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # ended meanwhile
        table[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    return table


def subtree(table: dict[int, tuple[int, float]], root: int | None) -> set[int]:
    found, frontier = set(), {root} if root in table else set()
    while frontier:
        found |= frontier
        frontier = {pid for pid, (parent, _) in table.items() if parent in frontier} - found
    return found


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent busy since boot (/proc/stat: everything but idle and iowait)."""
    values = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(values[:8]) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")


def cpu_snapshot(server_pid: int, import_pid: int | None) -> dict[str, float]:
    """CPU seconds so far of the app server, the browsers (chromium and Playwright's driver: this process's other
    children), the import, this process, and the whole machine."""
    table = process_table()
    server, imported = subtree(table, server_pid), subtree(table, import_pid)
    browsers = subtree(table, os.getpid()) - server - imported - {os.getpid()}
    total = {name: sum(table[pid][1] for pid in pids) for name, pids in (("server", server), ("browsers", browsers))}
    total["import"] = sum(table[pid][1] for pid in imported)
    total["benchmark"] = time.process_time()
    total["machine"] = machine_busy_seconds()
    return total


def cpu_used(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """CPU seconds used between two snapshots; "others" is what the machine spent outside this benchmark."""
    used = {name: round(after[name] - before[name], 1) for name in before}
    used["others"] = round(used["machine"] - sum(v for k, v in used.items() if k != "machine"), 1)
    return used


# --- one reviewer in a browser tab -------------------------------------------------------------------------------

# Installed before each press: a promise that resolves when the page shows another "Sentence N" header (kind
# "next") or a warning, error or exception it did not show before (kind "alert"), with the milliseconds since the
# keydown (the browser's own clock). window.__xnerCancel resolves it with null.
WAIT_FOR_EFFECT = """
(previous) => {
  const ALERTS = ['stAlertContentWarning', 'stAlertContentError', 'stException']
    .map((id) => `[data-testid="${id}"]`).join(', ');
  const shown = () => {
    for (const heading of document.querySelectorAll('[data-testid="stHeading"]')) {
      const match = /^\\s*Sentence (\\d+)/.exec(heading.textContent);
      if (match) return match[1];
    }
    return null;
  };
  const alerts = () => [...document.querySelectorAll(ALERTS)].map((e) => e.textContent);
  const before = new Set(alerts());
  const installed = performance.now();
  window.__xnerKeyAt = null;
  window.addEventListener('keydown', () => { window.__xnerKeyAt = performance.now(); }, {capture: true, once: true});
  window.__xnerWait = new Promise((resolve) => {
    const found = (kind, sentence) => {
      observer.disconnect();
      resolve({kind, sentence, ms: performance.now() - (window.__xnerKeyAt ?? installed)});
    };
    const observer = new MutationObserver(() => {
      const now = shown();
      if (now !== null && now !== previous) return found("next", Number(now));
      if (alerts().some((text) => text && !before.has(text))) return found("alert", null);
    });
    observer.observe(document.body, {childList: true, subtree: true, characterData: true});
    window.__xnerCancel = () => { observer.disconnect(); resolve(null); };
  });
}
"""
# What the page shows once a run has ended: the header's sentence and the alerts' texts.
PAGE_STATE = """
() => {
  const texts = (selector) => [...document.querySelectorAll(selector)].map((e) => e.innerText.trim());
  const heading = texts('[data-testid="stHeading"]').find((t) => /^Sentence \\d+/.test(t));
  return {
    sentence: heading ? Number(/\\d+/.exec(heading)[0]) : null,
    success: texts('[data-testid="stAlertContentSuccess"]'),
    warning: texts('[data-testid="stAlertContentWarning"]'),
    error: texts('[data-testid="stAlertContentError"]'),
    exception: texts('[data-testid="stException"]'),
  };
}
"""
IDLE = '[data-testid="stApp"][data-test-connection-state="CONNECTED"][data-test-script-state="notRunning"]'


@dataclass
class Reviewer:
    """One browser context on the review page, named ``name``; counts the script runs that finish."""

    name: str
    page: object
    press_timeout: float
    finished: list[int] = field(default_factory=list)
    sentence: int | None = None
    presses: list[dict] = field(default_factory=list)

    def listen(self) -> None:
        from google.protobuf.message import DecodeError
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        early = ForwardMsg.ScriptFinishedStatus.Value("FINISHED_EARLY_FOR_RERUN")

        def frame(payload: str | bytes) -> None:
            if not isinstance(payload, bytes):
                return
            try:
                message = ForwardMsg.FromString(payload)
            except DecodeError:
                return
            if message.WhichOneof("type") == "script_finished" and message.script_finished != early:
                self.finished.append(message.script_finished)

        self.page.on("websocket", lambda socket: socket.on("framereceived", frame))

    async def run_ended(self, runs: int, timeout: float) -> bool:
        """Wait until more than ``runs`` script runs have finished; False after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while len(self.finished) <= runs:
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.02)
        return True

    async def idle(self, timeout: float) -> None:
        await self.page.wait_for_selector(IDLE, state="attached", timeout=timeout * 1000)
        await self.page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=timeout * 1000)

    async def state(self) -> dict:
        return await self.page.evaluate(PAGE_STATE)

    async def open(self, base: str) -> None:
        """Open the app, go to the review page through the sidebar, type the reviewer's name, wait for an item
        leased to them. (The app's root first: a link straight to /Review, before any session ran app.py, is
        served by Streamlit's pages/ folder discovery, without app.py's st.navigation.)"""
        page = self.page
        await page.goto(base, timeout=SETUP_TIMEOUT_S * 1000)
        link = page.locator('[data-testid="stSidebarNav"] a').filter(has_text=re.compile(f"{REVIEW_PAGE}$"))
        await link.wait_for(timeout=SETUP_TIMEOUT_S * 1000)
        await self.idle(SETUP_TIMEOUT_S)
        await link.click()
        await page.get_by_role("heading", name="Review projected entities").wait_for(timeout=SETUP_TIMEOUT_S * 1000)
        field_ = page.locator(".st-key-xner_reviewer input")
        await field_.wait_for(timeout=SETUP_TIMEOUT_S * 1000)
        await self.idle(SETUP_TIMEOUT_S)
        runs = len(self.finished)
        await field_.fill(self.name)
        await field_.press("Enter")
        await self.run_ended(runs, SETUP_TIMEOUT_S)
        await field_.blur()
        await self.idle(SETUP_TIMEOUT_S)
        await page.wait_for_selector(".st-key-review_accept button:visible:enabled", timeout=SETUP_TIMEOUT_S * 1000)
        self.sentence = (await self.state())["sentence"]
        if self.sentence is None:
            raise RuntimeError(f"{self.name}: the review page shows no item")

    async def press(self, index: int) -> dict:
        """Press ``a`` once; the outcome and the keypress -> next-item latency."""
        previous = self.sentence
        runs = len(self.finished)
        await self.page.evaluate(WAIT_FOR_EFFECT, str(previous))
        started = time.perf_counter()
        await self.page.keyboard.press("a")
        waiter = asyncio.ensure_future(self.page.evaluate("() => window.__xnerWait"))
        record = {"reviewer": self.name, "press": index, "sentence": previous}
        try:
            moved = await self.wait_for_outcome(waiter, runs, started)
        finally:
            if not waiter.done():
                with suppress(Exception):
                    await self.page.evaluate("() => window.__xnerCancel()")
                with suppress(Exception):
                    await waiter
        record["press_to_run_end_ms"] = round((time.perf_counter() - started) * 1000, 1)
        state = {}
        if moved != "timeout":
            with suppress(Exception):
                await self.idle(5)
            state = await self.state()
        record.update(classify(previous, moved, state))
        record["shown_after"] = state.get("sentence")
        if record["outcome"] in ("saved", "vote"):
            record["ms"] = round(moved["ms"], 1)  # type: ignore[index]
        if state.get("sentence") is not None:
            self.sentence = state["sentence"]
        self.presses.append(record)
        return record

    async def wait_for_outcome(self, waiter: asyncio.Future, runs: int, started: float) -> dict | str:
        """What the page showed first (the waiter's result), once the press's script run has ended; "ended" when
        the run ended and the page showed nothing new within GRACE_S; "timeout" after ``press_timeout``."""
        deadline, ended_at = started + self.press_timeout, None
        while not waiter.done():
            await asyncio.wait({waiter}, timeout=0.05)
            now = time.perf_counter()
            if len(self.finished) > runs and ended_at is None:
                ended_at = now
            if ended_at is not None and now - ended_at > GRACE_S and not waiter.done():
                return "ended"
            if now > deadline and not waiter.done():
                return "timeout"
        if waiter.result() is None:
            return "ended"
        ended = await self.run_ended(runs, deadline - time.perf_counter())
        return waiter.result() if ended else "timeout"

    async def recover(self, outcome: str, base: str) -> None:
        """Back to a page with an item after an outcome other than the next item: skip after a conflict (the
        reviewer reads the warning and moves on); otherwise rerun (Streamlit's ``r`` key: the session and its item
        are kept) when no item shows; the page is opened afresh when that does not bring one back."""
        if outcome == "conflict":
            await self.act("s")
        else:
            with suppress(Exception):
                await self.idle(self.press_timeout)
            if (await self.state())["sentence"] is None:
                await self.act("r")
        state = await self.state()
        if state["sentence"] is None:
            log(f"{self.name}: opening the page afresh after {outcome}")
            await self.open(base)
            return
        self.sentence = state["sentence"]

    async def act(self, key: str) -> None:
        runs = len(self.finished)
        await self.page.keyboard.press(key)
        await self.run_ended(runs, self.press_timeout)
        with suppress(Exception):
            await self.idle(self.press_timeout)


def classify(previous: int | None, moved: dict | str, state: dict) -> dict:
    """Name a press's outcome from what the page shows after it (see the module docstring)."""
    if moved == "timeout":
        return {"outcome": "timeout"}
    if state.get("exception"):
        return {"outcome": "exception", "detail": state["exception"][0][:300]}
    if isinstance(moved, dict) and moved["kind"] == "next":
        success = " ".join(state.get("success", []))
        if f"Sentence {previous}: accept recorded" in success:
            return {"outcome": "saved"}
        if f"Sentence {previous} was already decided" in success:
            return {"outcome": "vote"}
        return {"outcome": "unconfirmed", "detail": (success or " ".join(state.get("error", [])))[:300]}
    conflicts = [w for w in state.get("warning", []) if "was not saved" in w]
    if conflicts:
        return {"outcome": "conflict", "detail": conflicts[0][:300]}
    if state.get("error"):
        return {"outcome": "error", "detail": state["error"][0][:300]}
    return {"outcome": "no_change"}


async def review_session(
    reviewer: Reviewer, base: str, presses: int, screenshot: Path | None, think: float = 0.0
) -> None:
    """``presses`` Accept presses, each after ``think`` seconds (on average; 0.5x to 1.5x, seeded by the reviewer's
    name) of reading the item; a session that cannot get back to an item stops, its presses left "abandoned"."""
    pauses = random.Random(reviewer.name)
    for index in range(presses):
        if think:
            await asyncio.sleep(think * pauses.uniform(0.5, 1.5))
        try:
            record = await reviewer.press(index)
        except Exception as error:
            record = {"reviewer": reviewer.name, "press": index, "sentence": reviewer.sentence}
            record.update(outcome="driver_error", detail=repr(error)[:300], press_to_run_end_ms=None)
            reviewer.presses.append(record)
        if record["outcome"] not in ("saved", "vote"):
            log(f"{reviewer.name} press {index}: {record['outcome']} {record.get('detail', '')[:150]}")
            try:
                await reviewer.recover(record["outcome"], base)
            except Exception as error:
                log(f"{reviewer.name}: no way back to an item ({error!r:.200}); its other presses are abandoned")
                for rest in range(index + 1, presses):
                    reviewer.presses.append(
                        {"reviewer": reviewer.name, "press": rest, "sentence": None, "outcome": "abandoned",
                         "press_to_run_end_ms": None}
                    )  # fmt: skip
                return
        if screenshot is not None and index == presses // 2:
            await reviewer.page.screenshot(path=str(screenshot))
            log(f"screenshot of {reviewer.name}'s page: {screenshot}")


async def run_reviewers(
    server: AppServer,
    names: list[str],
    presses: int,
    press_timeout: float,
    screenshot: Path,
    before_presses,
    think: float = 0.0,
) -> tuple[list[dict], dict]:
    """Open a tab per name in one headless chromium, run ``before_presses()`` (it returns the import's pid or None),
    then all sessions press at once; the presses, and the review's duration and CPU use."""
    base = server.base
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=shutil.which("chromium"), headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            reviewers = []
            for name in names:
                context = await browser.new_context(viewport={"width": 1440, "height": 1100})
                page = await context.new_page()
                page.set_default_timeout(press_timeout * 1000)
                reviewer = Reviewer(name, page, press_timeout)
                reviewer.listen()
                await reviewer.open(base)
                log(f"{name} opened {page.url}: sentence {reviewer.sentence}")
                reviewers.append(reviewer)
            import_pid = before_presses()
            cpu = cpu_snapshot(server.pid, import_pid)
            started = time.monotonic()
            await asyncio.gather(
                *(
                    review_session(r, base, presses, screenshot if i == 0 else None, think)
                    for i, r in enumerate(reviewers)
                )
            )
            ended = time.monotonic()
            timing = {
                "review_seconds": round(ended - started, 2),
                "started": started,
                "ended": ended,
                "cpu": (cpu, cpu_snapshot(server.pid, import_pid)),
            }
        finally:
            await browser.close()
    return [record for r in reviewers for record in r.presses], timing


# --- the database's view -----------------------------------------------------------------------------------------


def decisions_in_store(url: str, names: list[str]) -> list[tuple[int, str, str, bool]]:
    """(sentence id, reviewer, action, applied) of every review event by ``names``."""
    store = open_store(url, upgrade=False)
    try:
        with store.session() as session:
            event = ReviewEvent
            query = select(event.sentence_id, event.reviewer, event.action, event.applied).where(
                event.reviewer.in_(names)
            )
            return [tuple(row) for row in session.execute(query)]
    finally:
        store.dispose()


def percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(share * len(values)))]


def summarise(presses: list[dict], events: list[tuple[int, str, str, bool]], review_seconds: float) -> dict:
    """The scenario's figures: presses by outcome, the database's decisions, and the latency percentiles."""
    outcomes = Counter(p["outcome"] for p in presses)
    accepts = [(sid, who) for sid, who, action, _ in events if action == "accept"]
    per_sentence = Counter(sid for sid, _ in accepts)
    confirmed = {(p["sentence"], p["reviewer"]) for p in presses if p["outcome"] in ("saved", "vote")}
    recorded = set(accepts)
    latencies = [p["ms"] for p in presses if p["outcome"] in ("saved", "vote")]
    errored = sum(n for outcome, n in outcomes.items() if outcome not in ("saved", "vote", "conflict"))
    return {
        "presses": len(presses),
        "outcomes": dict(outcomes),
        "decisions": len(accepts),
        "votes_not_applied": sum(1 for _, _, action, applied in events if action == "accept" and not applied),
        "other_events": len(events) - len(accepts),
        "conflicts": outcomes["conflict"],
        "duplicated": sum(n - 1 for n in per_sentence.values() if n > 1),
        "errored": errored,
        "lost": len(confirmed - recorded),
        "unreported": len(recorded - confirmed),
        "latency_ms": {
            "samples": len(latencies),
            "p50": None if not latencies else round(statistics.median(latencies), 1),
            "p95": percentile(latencies, 0.95),
            "max": max(latencies, default=None),
        },
        "press_to_run_end_ms_p95": percentile(
            [p["press_to_run_end_ms"] for p in presses if p["press_to_run_end_ms"] is not None], 0.95
        ),
        "decisions_per_second": round(len(accepts) / review_seconds, 2) if review_seconds else None,
        "review_seconds": review_seconds,
    }


# --- a scenario --------------------------------------------------------------------------------------------------


def run_scenario(
    db: str, scenario: str, url: str, server: AppServer, args: argparse.Namespace, conll: Path | None, folder: Path
) -> dict:
    names = [f"{scenario}-{n + 1}" for n in range(args.sessions)]
    screenshot = CACHE / f"review_load_{db}_{scenario}.png"
    CACHE.mkdir(parents=True, exist_ok=True)
    child: ImportChild | None = None

    def before_presses() -> int | None:
        nonlocal child
        if conll is not None:
            log(f"{db}/{scenario}: starting the import of {args.import_sentences:,} sentences")
            child = start_import(url, conll, folder)
            wait_until_writing(child, url)
        log(f"{db}/{scenario}: {len(names)} sessions pressing a {args.presses} times each")
        return None if child is None else child.process.pid

    loads = {"before": load()}
    try:
        presses, timing = asyncio.run(
            run_reviewers(server, names, args.presses, args.press_timeout, screenshot, before_presses, args.think)
        )
        loads["after"] = load()
        result = summarise(presses, decisions_in_store(url, names), timing["review_seconds"])
        before, after = timing["cpu"]
        if child is not None:
            review_end = timing["ended"] - child.started
            review_start = timing["started"] - child.started
            result["import"] = child.finish(args.import_timeout)
            result["import"].update(
                review_started_after_seconds=round(review_start, 2),
                review_ended_after_seconds=round(review_end, 2),
                overlapped_whole_review=child.writing_at is not None and (child.ended_at or 0) > review_end,
            )
            if child.ended_at is not None and child.ended_at <= review_end and child.cpu_seconds is not None:
                after["import"] = child.cpu_seconds  # it ended within the review: its own total
        result["cpu_seconds_during_review"] = cpu_used(before, after)
    finally:
        if child is not None:
            stop(child.process)
    result.update(reviewers=names, load_average_1_5_15_min=loads, screenshot=str(screenshot.relative_to(REPO)))
    result["press_records"] = presses
    return result


def run_database(db: str, url: str, args: argparse.Namespace, conll: Path | None, folder: Path) -> dict:
    log(f"{db}: building {args.pairs:,} pairs")
    built = prepare(url, args.pairs, args.seed)
    log(f"{db}: built in {built['build_seconds']} s, {built['queued']:,} queued in {built['queue_seconds']} s")
    scenarios: dict[str, dict] = {}
    server_log = folder / f"streamlit_{db}.log"
    with app_server(url, server_log) as server:
        log(f"{db}: app at {server.base}")
        for scenario in scenario_names(args.scenario):
            scenarios[scenario] = run_scenario(
                db, scenario, url, server, args, conll if scenario == "import" else None, folder
            )
            log(f"{db}/{scenario}: {brief(scenarios[scenario])}")
    server_text = server_log.read_text(errors="replace")
    tracebacks = server_text.count("Traceback")
    return {
        "url": url.split("@")[-1] if "@" in url else "sqlite (temp file)",
        **built,
        "scenarios": scenarios,
        "server_tracebacks": tracebacks,
        "server_log_tail": server_text[-3000:] if tracebacks else "",
    }


def scenario_names(choice: str) -> list[str]:
    return ["idle", "import"] if choice == "both" else [choice]


def brief(result: dict) -> str:
    latency = result["latency_ms"]
    return (
        f"{result['presses']} presses, {result['decisions']} decisions, {result['conflicts']} conflicts, "
        f"{result['duplicated']} duplicated, {result['errored']} errored, {result['lost']} lost; "
        f"p50 {latency['p50']} ms, p95 {latency['p95']} ms; CPU s {result.get('cpu_seconds_during_review')}"
    )


# --- targets and report ------------------------------------------------------------------------------------------


def check_targets(databases: dict) -> list[dict]:
    checks = []
    for db, found in databases.items():
        if "failed" in found:
            checks.append(
                {"database": db, "scenario": "", "check": "ran", "value": False, "target": True, "met": False}
            )
        for scenario, result in found.get("scenarios", {}).items():
            p95 = result["latency_ms"]["p95"]
            limit = TARGETS["p95_seconds_import" if scenario == "import" else "p95_seconds_idle"]
            presses = result["presses"] or 1
            for name, value, target in [
                ("lost", result["lost"], TARGETS["lost"]),
                ("duplicated", result["duplicated"], TARGETS["duplicated"]),
                ("errored", result["errored"], TARGETS["errored"]),
                ("conflicts share", round(result["conflicts"] / presses, 4), TARGETS["conflicts_share_of_presses"]),
                ("p95 s", None if p95 is None else round(p95 / 1000, 3), limit),
            ]:
                checks.append(
                    {
                        "database": db,
                        "scenario": scenario,
                        "check": name,
                        "value": value,
                        "target": target,
                        "met": value is not None and value <= target,
                    }
                )
    return checks


def markdown(databases: dict) -> str:
    rows = [
        "| database | scenario | presses | decisions | conflicts | duplicated | errored | lost | p50 ms | p95 ms "
        "| max ms | decisions/s | import wall s |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for db, found in databases.items():
        if "skipped" in found or "failed" in found:
            rows.append(
                f"| {db} | {'skipped' if 'skipped' in found else 'failed'}: "
                f"{found.get('skipped') or found['failed']} |" + " |" * 11
            )
            continue
        for scenario, r in found["scenarios"].items():
            latency = r["latency_ms"]
            imported = r.get("import")
            wall = "–" if imported is None else f"{imported['wall_seconds']} (exit {imported['exit_code']})"
            rows.append(
                f"| {db} | {scenario} | {r['presses']} | {r['decisions']} | {r['conflicts']} | {r['duplicated']} | "
                f"{r['errored']} | {r['lost']} | {latency['p50']} | {latency['p95']} | {latency['max']} | "
                f"{r['decisions_per_second']} | {wall} |"
            )
    return "\n".join(rows)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--scenario", choices=("idle", "import", "both"), default="both")
    parser.add_argument("--sessions", type=int, default=None, help="reviewers at once (default 8, quick 2)")
    parser.add_argument("--presses", type=int, default=None, help="Accept presses per session (default 25, quick 3)")
    parser.add_argument("--pairs", type=size, default=None, help="corpus pairs (k/M suffixes; default 100k, quick 2k)")
    parser.add_argument(
        "--import-sentences", type=size, default=None, help="sentences of the imported file (default 500k, quick 20k)"
    )
    parser.add_argument("--quick", action="store_true", help="toy sizes: 2 sessions x 3 presses, 2k pairs, 20k import")
    parser.add_argument(
        "--think",
        type=float,
        default=0.0,
        help="seconds a reviewer reads each item before pressing (mean; default 0: press as soon as it shows)",
    )
    parser.add_argument("--press-timeout", type=float, default=30.0, help="seconds before a press counts as an error")
    parser.add_argument("--import-timeout", type=float, default=1800.0, help="seconds to wait for the import's end")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--out", type=Path, default=None, help="JSON results (default results/review_load.json)")
    args = parser.parse_args()
    args.sessions = args.sessions or (2 if args.quick else 8)
    args.presses = args.presses or (3 if args.quick else 25)
    args.pairs = args.pairs or (2_000 if args.quick else 100_000)
    args.import_sentences = args.import_sentences or (20_000 if args.quick else 500_000)
    args.out = args.out or (QUICK_OUT if args.quick else RESULTS / "review_load.json")
    if args.sessions * args.presses > args.pairs:
        parser.error("--pairs must exceed sessions x presses (every press decides a new item)")
    return args


def main() -> None:
    args = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that the finally blocks stop what was started
    if shutil.which("chromium") is None:
        raise SystemExit("chromium is not installed (apt-get install -y chromium); never `playwright install`")
    databases: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="xner-review-load-") as temp:
        folder = Path(temp)
        conll = None
        if args.scenario in ("import", "both"):
            conll = folder / "bulk.conll"
            log(f"writing {args.import_sentences:,} synthetic CoNLL sentences")
            written = write_synthetic(conll, args.import_sentences, seed=args.seed)
            log(f"written: {written['bytes'] / 2**20:.1f} MiB")
        for db in ("sqlite", "postgresql") if args.db == "both" else (args.db,):
            reason = postgres_unavailable() if db == "postgresql" else None
            if reason:
                databases[db] = {"skipped": reason}
                log(f"postgresql skipped: {reason}")
                continue
            try:
                with sqlite_database(folder) if db == "sqlite" else postgres_database() as url:
                    databases[db] = run_database(db, url, args, conll, folder)
            except Exception as error:  # recorded; the other database still runs
                databases[db] = {"failed": repr(error), "traceback": traceback.format_exc()[-3000:]}
                log(f"{db} failed: {traceback.format_exc()}")
    checks = check_targets(databases)
    payload = {
        "benchmark": "review_load",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": command_line(),
        "machine": machine(),
        "settings": {
            "sessions": args.sessions,
            "presses": args.presses,
            "pairs": args.pairs,
            "import_sentences": args.import_sentences,
            "press_timeout_seconds": args.press_timeout,
            "think_seconds": args.think,
            "browser": "Debian chromium, headless, one context per session (Playwright async)",
            "latency": "keydown -> another 'Sentence N' header in the DOM, measured in the page",
        },
        "targets": TARGETS,
        "databases": databases,
        "checks": checks,
    }
    write_results(args.out, payload)
    print(markdown(databases))
    print()
    for check in checks:
        if not check["met"]:
            print(
                f"- NOT met: {check['database']}/{check['scenario']} {check['check']} = {check['value']} "
                f"(target {check['target']})"
            )
    print(f"\n{sum(c['met'] for c in checks)} of {len(checks)} checks met; written to {args.out}")


if __name__ == "__main__":
    main()
