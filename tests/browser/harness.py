"""What the browser tests share: the app served by ``streamlit run`` on a temporary database, a headless chromium
tab on it (Debian's chromium through Playwright, never a downloaded browser) with waits that follow Streamlit's
script runs, and the token editor's helpers. The fixtures (``server``, ``artifacts``, ``app``) are in conftest.py."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO
from xner.store.db import Store, open_store
from xner.types import Span

CHROMIUM = shutil.which("chromium")
# Every browser test module's marks: skipped without chromium, and slow (a Streamlit server and a chromium each).
BROWSER_MARKS = [
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="chromium is not installed: `apt-get install -y chromium chromium-driver` (scripts/test.sh does it"
        " as root)",
    ),
    pytest.mark.slow,
]
TIMEOUT_MS = 20_000  # any single wait: a rerun takes well under a second here


@dataclass(frozen=True)
class Server:
    url: str
    db: str  # the SQLite URL the app uses
    log: Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serve_app(db: str, folder: Path) -> Iterator[Server]:
    """``streamlit run app.py`` on the database ``db`` (the app loads the demo into an empty one), its log in
    ``folder``; always stopped afterwards."""
    port = free_port()
    log = folder / f"streamlit-{port}.log"
    env = {**os.environ, "XNER_DB": db, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    command = [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.headless", "true", "--server.address", "127.0.0.1", "--server.port", str(port),
        "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                pytest.fail(f"streamlit exited with {process.returncode}:\n{log.read_text(errors='replace')}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as answer:
                    if answer.read() == b"ok":
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit did not answer on {url} within 30 s:\n{log.read_text(errors='replace')}")
            time.sleep(0.1)
        yield Server(url, db, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        print(f"streamlit log ({log}):\n{log.read_text(errors='replace')[-3000:]}")


@contextmanager
def browser_tab(db: str, folder: Path) -> Iterator[tuple[App, Store]]:
    """The app served on the database ``db`` (its log in ``folder``), open at its root in a headless chromium tab of
    1440 x 1100; and the app's store. All closed afterwards."""
    from playwright.sync_api import sync_playwright

    with serve_app(db, folder) as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        store = open_store(server.db)
        try:
            page = browser.new_context(viewport={"width": 1440, "height": 1100}).new_page()
            page.set_default_timeout(TIMEOUT_MS)
            app = App(page, server.url)
            app.act(lambda: page.goto(server.url))
            yield app, store
        finally:
            store.dispose()
            browser.close()


@contextmanager
def review_page(folder: Path, reviewer: str, database: Path | None = None) -> Iterator[tuple[App, Store]]:
    """The Review page of an app on the SQLite file ``database`` (default: a new one in ``folder``, the demo loaded)
    in a headless chromium tab (:func:`browser_tab`) with ``reviewer`` typed in; and the app's store."""
    with browser_tab(f"sqlite:///{database or folder / 'app.db'}", folder) as (app, store):
        app.open("Review", "Review projected entities")
        app.type("xner_reviewer", reviewer)
        yield app, store


def editor_token(app: App, index: int):
    """The review page's token editor's token ``index`` (its markup is in a shadow root; Playwright's CSS selectors
    reach into it)."""
    return app.page.locator(f'.xner-te-tok[data-i="{index}"]')


def select_entity(app: App, span: Span) -> None:
    """Select exactly the token editor's entity ``span``, and make sure the selection stays.

    A click followed by a shift-click on the span's last token selects ``[start, end)`` whatever was selected
    before (a plain click on an entity toggles between the entity and its first token, so a click alone depends on
    the state). The editor can be drawn again just after a click (the data of the rerun an earlier key caused
    arriving late), which keeps or clears the selection; so the clicks are followed by a wait for the selection to
    settle, and repeated only when it is not the entity's."""
    from playwright.sync_api import expect

    selected = app.page.locator(".xner-te-sel")
    wanted = [str(i) for i in range(span.start, span.end)]

    def whole() -> bool:
        return [element.get_attribute("data-i") for element in selected.all()] == wanted

    for _ in range(5):
        if not whole():
            editor_token(app, span.start).click()
            editor_token(app, span.end - 1).click(modifiers=["Shift"])
        with suppress(AssertionError):
            expect(selected).to_have_count(len(span), timeout=1500)
        app.page.wait_for_timeout(250)  # a late redraw would show by now
        if whole():
            return
    raise AssertionError(
        f"the editor did not select {span}: tokens {[e.get_attribute('data-i') for e in selected.all()]}"
    )


class App:
    """The app in a browser tab, with waits that follow Streamlit's script runs.

    Every ``script_finished`` message on the app's websocket is counted, so :meth:`act` can wait for exactly the
    run an action causes (no sleeps, no guessing whether the "Running..." indicator has appeared yet).
    """

    def __init__(self, page, url: str) -> None:
        from google.protobuf.message import DecodeError
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        self.page, self.url = page, url
        self.finished: list[int] = []  # the status of every finished run, in order
        early = ForwardMsg.ScriptFinishedStatus.Value("FINISHED_EARLY_FOR_RERUN")

        def frame(payload: str | bytes) -> None:
            if not isinstance(payload, bytes):
                return
            try:
                message = ForwardMsg.FromString(payload)
            except DecodeError:  # not a ForwardMsg: not a run finishing either
                return
            if message.WhichOneof("type") == "script_finished" and message.script_finished != early:
                self.finished.append(message.script_finished)

        page.on("websocket", lambda socket: socket.on("framereceived", frame))

    # --- waiting

    def act(self, action: Callable[[], object]) -> None:
        """Do ``action`` (a click, a key, a typed value) and wait until the script run it causes has finished."""
        runs = len(self.finished)
        action()
        deadline = time.monotonic() + TIMEOUT_MS / 1000
        while len(self.finished) <= runs:
            assert time.monotonic() < deadline, "the app did not finish a run after the action"
            self.page.wait_for_timeout(20)  # lets Playwright deliver the websocket events
        self.idle()

    def idle(self) -> None:
        """Wait until the app is connected and shows no script run going on ("Running..." is gone)."""
        self.page.wait_for_selector(
            '[data-testid="stApp"][data-test-connection-state="CONNECTED"][data-test-script-state="notRunning"]',
            state="attached",
        )
        self.page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached")

    def no_exception(self) -> None:
        exceptions = self.page.locator('[data-testid="stException"]')
        assert exceptions.count() == 0, exceptions.first.inner_text()

    # --- finding things

    def widget(self, key: str):
        """The element of the widget with ``key`` (Streamlit gives its container the class ``st-key-<key>``)."""
        return self.page.locator(f".st-key-{key}")

    def button(self, key: str):
        """The button with ``key`` (a button with a tooltip also has a hidden copy, for measuring)."""
        return self.widget(key).locator("button:visible")

    def alert(self, kind: str, text: str):
        """The success/error/info alert that contains ``text`` (waited for)."""
        found = self.page.locator(f'[data-testid="stAlertContent{kind.capitalize()}"]').filter(has_text=text)
        found.first.wait_for()
        return found.first

    def sentence(self) -> int:
        """The id of the sentence the review page shows."""
        heading = self.page.locator('[data-testid="stHeading"]').filter(has_text=re.compile(r"^Sentence \d+"))
        return int(re.search(r"\d+", heading.first.inner_text()).group())  # type: ignore[union-attr]

    def name_in_sidebar(self) -> str:
        return self.widget("xner_reviewer").locator("input").input_value()

    # --- doing things

    def open(self, name: str, title: str) -> None:
        """Open a page through the sidebar navigation (the browser session, and so its state, is kept)."""
        link = self.page.locator('[data-testid="stSidebarNav"] a').filter(
            has_text=re.compile(f"{name}$")
        )  # after the icon
        self.act(link.click)
        self.page.get_by_role("heading", name=title, exact=True).wait_for()
        self.no_exception()

    def click(self, key: str) -> None:
        self.act(self.button(key).click)

    def type(self, key: str, text: str) -> None:
        """Type into a text input, commit it (Enter) and leave the field, so that the page's shortcuts work."""
        field = self.widget(key).locator("input")
        field.fill(text)
        self.act(lambda: field.press("Enter"))
        field.blur()

    def choose(self, key: str, option: str) -> None:
        """Pick ``option`` in a select box (nothing to do when it is already chosen).

        A click just after a rerun can land while the box is drawn again and open nothing, and a rerun arriving late
        (one an earlier action caused) redraws the box and closes its list: so the box is opened and filtered again
        until the option shows."""
        box = self.widget(key).get_by_role("combobox")
        if box.input_value() == option:
            return
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        wanted = self.page.get_by_role("option", name=option, exact=True)
        for _ in range(4):
            box.click()
            with suppress(PlaywrightTimeout):
                self.page.get_by_role("listbox").first.wait_for(timeout=2000)
            box.fill(option)  # the list shows only the options that match: none to scroll to (a scrolled list redraws)
            with suppress(PlaywrightTimeout):
                wanted.wait_for(timeout=3000)
                break
        self.act(wanted.click)
        self.page.evaluate("document.activeElement && document.activeElement.blur()")

    def upload(self, key: str, path: Path) -> None:
        """Give the file uploader ``key`` the file at ``path``, as if dropped on it."""
        self.act(lambda: self.widget(key).locator('input[type="file"]').set_input_files(path))
        chip = self.widget(key).locator('[data-testid="stFileChipName"]:visible').filter(has_text=path.name)
        chip.first.wait_for()

    def press(self, key: str) -> None:
        self.act(lambda: self.page.keyboard.press(key))

    def screenshot(self, folder: Path, name: str) -> None:
        """The whole page (its main area scrolls inside the window, so the window is made as tall as the page)."""
        self.idle()
        page, size = self.page, self.page.viewport_size
        assert size is not None
        height = page.evaluate(
            "Math.max(...[...document.querySelectorAll('[data-testid=stMain], [data-testid=stSidebarContent]')]"
            ".map(e => e.scrollHeight))"
        )
        page.set_viewport_size({"width": size["width"], "height": max(size["height"], min(height, 6000))})
        try:
            page.wait_for_timeout(300)  # the charts take the new size
            page.screenshot(path=str(folder / f"{name}.png"))
        finally:
            page.set_viewport_size(size)


def iob2(tokens: tuple[str, ...], spans: tuple[Span, ...]) -> list[tuple[str, str]]:
    tags = ["O"] * len(tokens)
    for span in spans:
        tags[span.start : span.end] = [f"B-{span.label}"] + [f"I-{span.label}"] * (span.end - span.start - 1)
    return list(zip(tokens, tags, strict=True))


def read_conll(text: str) -> list[list[tuple[str, str]]]:
    return [
        [tuple(line.rsplit(" ", 1)) for line in block.splitlines()]  # type: ignore[misc]
        for block in text.strip().split("\n\n")
        if block.strip()
    ]
