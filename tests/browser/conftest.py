"""Fixtures of the browser tests: the app on a fresh database, the screenshots folder and a chromium tab on the app
(the helpers are in harness.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.harness import CHROMIUM, TIMEOUT_MS, App, Server, serve_app


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """The app on a fresh SQLite database."""
    with serve_app(f"sqlite:///{tmp_path / 'app.db'}", tmp_path) as running:
        yield running


@pytest.fixture
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the screenshots and the download go: $XNER_ARTIFACTS, else a temporary folder (never the repo)."""
    configured = os.environ.get("XNER_ARTIFACTS")
    folder = Path(configured) if configured else tmp_path_factory.mktemp("browser-artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    print(f"browser test artifacts: {folder}")
    return folder


@pytest.fixture
def app(server: Server, artifacts: Path, request: pytest.FixtureRequest) -> Iterator[App]:
    """A headless chromium tab on the app (Debian's chromium, never a browser downloaded by Playwright); when the
    test fails, the tab as it was is saved as failure.png."""
    from playwright.sync_api import sync_playwright

    failed = request.session.testsfailed

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            context = browser.new_context(viewport={"width": 1440, "height": 1100}, accept_downloads=True)
            page = context.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            yield App(page, server.url)
            if request.session.testsfailed > failed:
                page.screenshot(path=str(artifacts / "failure.png"))
        finally:
            browser.close()
