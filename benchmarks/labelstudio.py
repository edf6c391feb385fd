"""Label Studio beside xner in the review benchmark (``review_speed.py``): its own virtualenv, a server on a fresh
SQLite data folder, an NER project, and its timings on the same pre-annotated items as xner's.

Label Studio is never a dependency of xner: it gets its own virtualenv under ``benchmarks/.cache/labelstudio-venv``
(ignored by git), made on first use with ``pip install label-studio==1.23.2`` (:data:`PINS`). Then, per run:

1. **Server**: ``label-studio start`` (what a pip install runs: Django's threaded server, one process) on a free
   port of 127.0.0.1, with ``LABEL_STUDIO_BASE_DATA_DIR`` in a temp folder (a new SQLite file), no browser, no
   version check or analytics, and a user with a password and a legacy API token created by the start command
   itself (``--username --password --user-token --enable-legacy-api-token``); ``/health`` polled.
2. **Project**: an NER labelling config (labels PER/ORG/LOC/DATE on the target text, the source text shown above
   it), created through ``POST /api/projects``.
3. **Import**: the items as Label Studio tasks (``data``: target and source text; ``predictions``: the target's
   entities as character-offset ``labels`` regions, :func:`pair_to_task`) through the bulk import API
   (``POST /api/projects/ID/import``, synchronous), ``--ls-import-batch`` tasks a request; tasks/s from the wall
   time of all requests, then the project's task count is checked.
4. **API loop**, ``samples`` times: the next task the way the labelling page asks for it
   (``POST /api/dm/actions?id=next_task&tabID=VIEW&project=ID``, seen in the browser's requests), then submitting
   its prediction as an annotation (``POST /api/tasks/ID/annotations?project=ID``); each call timed (one
   keep-alive connection, as a browser keeps).
5. **Browser**: Debian's chromium through Playwright logs in, opens the labelling stream
   (``/projects/ID/data?labeling=1``) and presses Ctrl+Enter (submit) ``samples`` times: the time from the keydown
   to the next task's text shown (the text of the page's ``Text`` objects differs from the submitted task's), in
   the browser's own clock.
6. **Check**: the project holds one annotation per submit (API loop and browser presses together).

Usage (normally through ``review_speed.py``; by hand)::

    .venv/bin/python benchmarks/labelstudio.py --setup    # make the virtualenv and print Label Studio's version
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from common import percentiles

REPO = Path(__file__).resolve().parents[1]
VENV = REPO / "benchmarks" / ".cache" / "labelstudio-venv"
VERSION = "1.23.2"
# sentry-sdk 3 dropped an option Label Studio 1.23 passes at start-up ("Unknown option 'send_default_pii'")
PINS = (f"label-studio=={VERSION}", "sentry-sdk>=2.16,<3")
LABELS = ("PER", "ORG", "LOC", "DATE")
LABEL_CONFIG = (
    '<View><Labels name="label" toName="text">'
    + "".join(f'<Label value="{label}"/>' for label in LABELS)
    + '</Labels><Text name="src_text" value="$src"/><Text name="text" value="$text"/></View>'
)
USER = "bench@example.com"
START_TIMEOUT_S = 600  # the first start creates the database (Django migrations): minutes on a busy machine
REQUEST_TIMEOUT_S = 600  # one bulk import request of many tasks


class LabelStudioError(RuntimeError):
    """Label Studio could not be installed, started or driven; the message says which step and why."""


# --- the virtualenv ------------------------------------------------------------------------------------------------


def venv_python(venv: Path = VENV) -> Path:
    return venv / "bin" / "python"


def ensure_venv(venv: Path = VENV) -> str:
    """Label Studio's own virtualenv at ``venv`` (made with :data:`PINS` when missing); its version.

    Raises:
        LabelStudioError: the virtualenv cannot be made, or holds another version than :data:`VERSION`.
    """
    python = venv_python(venv)
    if not python.exists():
        print(f"making Label Studio's virtualenv in {venv} (pip install {' '.join(PINS)}; a few minutes)", flush=True)
        for command in ([sys.executable, "-m", "venv", str(venv)], [str(python), "-m", "pip", "install", "-q", *PINS]):
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode != 0:
                raise LabelStudioError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    version = installed_version(venv)
    if version != VERSION:
        raise LabelStudioError(f"{venv} holds label-studio {version}, not {VERSION}: remove the folder to remake it")
    return version


def installed_version(venv: Path = VENV) -> str | None:
    done = subprocess.run(
        [str(venv_python(venv)), "-c", "from importlib.metadata import version; print(version('label-studio'))"],
        capture_output=True,
        text=True,
    )
    return done.stdout.strip() if done.returncode == 0 else None


# --- tasks ---------------------------------------------------------------------------------------------------------


def pair_to_task(
    src_tokens: Sequence[str], tgt_tokens: Sequence[str], tgt_spans: Iterable[tuple[int, int, str]]
) -> dict:
    """A Label Studio task for one pre-annotated pair: the texts (tokens joined by spaces) and the target's entities
    (half-open token spans) as a prediction of character-offset regions.

    >>> task = pair_to_task(["Ana", "sings"], ["Ana", "na", "waka"], [(0, 1, "PER")])
    >>> task["data"]["text"], task["predictions"][0]["result"][0]["value"]
    ('Ana na waka', {'start': 0, 'end': 3, 'text': 'Ana', 'labels': ['PER']})
    """
    starts, position = [], 0
    for token in tgt_tokens:
        starts.append(position)
        position += len(token) + 1
    text = " ".join(tgt_tokens)
    result = []
    for index, (start, end, label) in enumerate(tgt_spans):
        first, last = starts[start], starts[end - 1] + len(tgt_tokens[end - 1])
        value = {"start": first, "end": last, "text": text[first:last], "labels": [label]}
        result.append({"id": f"r{index}", "from_name": "label", "to_name": "text", "type": "labels", "value": value})
    return {
        "data": {"text": text, "src": " ".join(src_tokens)},
        "predictions": [{"model_version": "projection", "score": 1.0, "result": result}],
    }


# --- the server ----------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Server:
    base: str  # http://127.0.0.1:PORT
    port: int
    token: str
    password: str
    pid: int
    log: Path
    start_seconds: float


@contextmanager
def serve(folder: Path, venv: Path = VENV) -> Iterator[Server]:
    """``label-studio start`` on a new data folder in ``folder`` (see the module docstring), yielded once healthy;
    always stopped."""
    port, token, password = free_port(), secrets.token_hex(20), secrets.token_urlsafe(12)
    log = folder / "label-studio.log"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("XNER_", "LABEL_STUDIO_"))},
        "LABEL_STUDIO_BASE_DATA_DIR": str(folder / "label-studio-data"),
        "LATEST_VERSION_CHECK": "false",
        "COLLECT_ANALYTICS": "false",
        "SENTRY_DSN": "",
        "FRONTEND_SENTRY_DSN": "",
        "DEBUG": "false",
        "PYTHONUNBUFFERED": "1",
    }
    command = [
        str(venv / "bin" / "label-studio"), "start", "--no-browser",
        "--internal-host", "127.0.0.1", "--port", str(port),
        "--username", USER, "--password", password, "--user-token", token, "--enable-legacy-api-token",
    ]  # fmt: skip
    started = time.monotonic()
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    try:
        base = f"http://127.0.0.1:{port}"
        while not healthy(base):
            if process.poll() is not None or time.monotonic() - started > START_TIMEOUT_S:
                raise LabelStudioError(f"label-studio did not start:\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.5)
        yield Server(base, port, token, password, process.pid, log, round(time.monotonic() - started, 1))
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def healthy(base: str) -> bool:
    try:
        client = http.client.HTTPConnection(urllib.parse.urlsplit(base).netloc, timeout=2)
        client.request("GET", "/health")
        answer = client.getresponse()
        return answer.status == 200 and b"UP" in answer.read()
    except OSError:
        return False


class Client:
    """Label Studio's API on one keep-alive connection, with the legacy token."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.connection = http.client.HTTPConnection(f"127.0.0.1:{server.port}", timeout=REQUEST_TIMEOUT_S)

    def call(self, method: str, path: str, body: object = None) -> object:
        """The JSON answer of ``method path`` (``body`` sent as JSON).

        Raises:
            LabelStudioError: an answer other than 2xx, with its start.
        """
        headers = {"Authorization": f"Token {self.server.token}", "Accept": "application/json"}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            self.connection.request(method, path, body=payload, headers=headers)
            answer = self.connection.getresponse()
        except (http.client.HTTPException, OSError):  # a connection the server closed: once more on a new one
            self.connection.close()
            self.connection.request(method, path, body=payload, headers=headers)
            answer = self.connection.getresponse()
        data = answer.read()
        if not 200 <= answer.status < 300:
            raise LabelStudioError(f"{method} {path}: HTTP {answer.status}: {data[:500]!r}")
        return json.loads(data) if data else None

    def close(self) -> None:
        self.connection.close()


def create_project(client: Client) -> tuple[int, int]:
    """The NER project (:data:`LABEL_CONFIG`) and a data-manager view on it (the labelling page makes one too):
    their ids."""
    project = client.call("POST", "/api/projects", {"title": "xner review benchmark", "label_config": LABEL_CONFIG})
    project_id = int(project["id"])  # type: ignore[index]
    view = client.call("POST", f"/api/dm/views?project={project_id}", {"project": project_id, "data": {}})
    return project_id, int(view["id"])  # type: ignore[index]


def import_tasks(client: Client, project: int, tasks: Sequence[dict], batch: int) -> dict:
    """Import ``tasks`` through the bulk import API, ``batch`` a request; their rate, wall time included."""
    seconds_in_ls = 0.0
    started = time.perf_counter()
    for offset in range(0, len(tasks), batch):
        answer = client.call("POST", f"/api/projects/{project}/import", list(tasks[offset : offset + batch]))
        seconds_in_ls += float(answer.get("duration", 0.0))  # type: ignore[union-attr]
    wall = time.perf_counter() - started
    count = client.call("GET", f"/api/projects/{project}")["task_number"]  # type: ignore[index]
    if count != len(tasks):
        raise LabelStudioError(f"Label Studio holds {count} tasks after importing {len(tasks)}")
    return {
        "tasks": len(tasks),
        "requests": -(-len(tasks) // batch),
        "tasks_per_request": batch,
        "wall_seconds": round(wall, 2),
        "seconds_reported_by_label_studio": round(seconds_in_ls, 2),
        "tasks_per_second": round(len(tasks) / wall),
    }


def annotations(client: Client, project: int, *, expected: int) -> int:
    """The annotations ``project`` holds, checked to be ``expected`` (each submit saved once, none lost).

    Raises:
        LabelStudioError: another number.
    """
    count = int(client.call("GET", f"/api/projects/{project}")["total_annotations_number"])  # type: ignore[index]
    if count != expected:
        raise LabelStudioError(f"Label Studio holds {count} annotations after {expected} submits")
    return count


def review_loop(client: Client, project: int, view: int, samples: int) -> dict[str, dict[str, float]]:
    """``samples`` rounds of: the next task as the labelling page asks for it, then its prediction submitted as an
    annotation; each call timed, and the round (next + submit)."""
    nexts, submits, rounds = [], [], []
    for _ in range(samples):
        started = time.perf_counter()
        task = client.call("POST", f"/api/dm/actions?id=next_task&tabID={view}&project={project}")
        fetched = time.perf_counter()
        prediction = task["predictions"][0]  # type: ignore[index]
        body = {"result": prediction["result"], "lead_time": 1.0, "parent_prediction": prediction["id"]}
        client.call("POST", f"/api/tasks/{task['id']}/annotations?project={project}", body)  # type: ignore[index]
        done = time.perf_counter()
        nexts.append((fetched - started) * 1000)
        submits.append((done - fetched) * 1000)
        rounds.append((done - started) * 1000)
    return {
        "next task (POST /api/dm/actions?id=next_task)": percentiles(nexts),
        "submit (POST /api/tasks/ID/annotations)": percentiles(submits),
        "next + submit": percentiles(rounds),
    }


# --- the labelling page in a browser -------------------------------------------------------------------------------

# Installed before each Ctrl+Enter: a promise resolved with the milliseconds from the keydown to the page showing
# other text in its Text objects than ``previous`` (the submitted task's), checked on every DOM change.
WAIT_FOR_NEXT_TASK = """
(previous) => {
  const shown = () => [...document.querySelectorAll('.lsf-htx-richtext')].map((e) => e.innerText).join('\\n');
  window.__benchKeyAt = null;
  window.addEventListener('keydown', () => { window.__benchKeyAt = performance.now(); }, {capture: true, once: true});
  window.__benchWait = new Promise((resolve) => {
    const check = () => {
      const now = shown();
      if (window.__benchKeyAt !== null && now.trim() && now !== previous) {
        observer.disconnect();
        resolve({ms: performance.now() - window.__benchKeyAt, text: now});
      }
    };
    const observer = new MutationObserver(check);
    observer.observe(document.body, {childList: true, subtree: true, characterData: true});
  });
}
"""
SETTLE_MS = 300  # after the next task is shown, before the next press
SHOWN_TEXT = "() => [...document.querySelectorAll('.lsf-htx-richtext')].map((e) => e.innerText).join('\\n')"


async def browser_presses(server: Server, project: int, presses: int, *, timeout_s: float = 60) -> dict:
    """Log in, open the labelling stream of ``project``, press Ctrl+Enter ``presses`` times; each press's keydown ->
    next task shown (ms), with the API requests one press causes."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=shutil.which("chromium"), headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = await (await browser.new_context(viewport={"width": 1440, "height": 1100})).new_page()
            page.set_default_timeout(timeout_s * 1000)
            await page.goto(f"{server.base}/user/login/")
            await page.fill('input[name="email"]', USER)
            await page.fill('input[name="password"]', server.password)
            await page.click('button[type="submit"]')
            await page.wait_for_load_state("networkidle")
            opened = time.perf_counter()
            await page.goto(f"{server.base}/projects/{project}/data?labeling=1")
            await page.wait_for_selector(".lsf-htx-richtext")
            await page.wait_for_load_state("networkidle")
            first_shown = time.perf_counter() - opened
            requests: list[str] = []
            page.on("request", lambda r: requests.append(f"{r.method} {urllib.parse.urlsplit(r.url).path}"))
            times, calls = [], None
            for index in range(presses):
                previous = await page.evaluate(SHOWN_TEXT)
                await page.evaluate(WAIT_FOR_NEXT_TASK, previous)
                requests.clear()
                await page.keyboard.press("Control+Enter")
                shown = await page.evaluate("() => window.__benchWait")
                times.append(shown["ms"])
                await page.wait_for_timeout(SETTLE_MS)  # the rest of the press's requests (label links)
                if index == 0:
                    calls = sorted(set(r for r in requests if "/api/" in r))
        finally:
            await browser.close()
    return {
        "first_task_shown_seconds": round(first_shown, 2),
        "requests_per_press": calls,
        "ctrl_enter_to_next_task_shown": percentiles(times),
    }


def main() -> None:
    if "--setup" not in sys.argv[1:]:
        print(__doc__)
        return
    print(f"label-studio {ensure_venv()} in {VENV}")


if __name__ == "__main__":
    main()
