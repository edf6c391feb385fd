"""A review team in real browsers: several reviewers, each in their own headless chromium context (a browser
session of their own), on one queue of one app server, on SQLite and on PostgreSQL. They press Accept at the same
moment, round after round: every item shown is reserved for the reviewer it is shown to, so no two of them ever see
the same item, every press is exactly one decision, and nobody meets a conflict.

The app and the browser tab helpers are those of tests/browser/harness.py (Debian's chromium; skipped without it).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.browser.harness import BROWSER_MARKS, CHROMIUM, TIMEOUT_MS, App, serve_app
from xner.store.db import open_store
from xner.store.models import ReviewEvent

pytest_plugins = ["tests.pg"]
pytestmark = BROWSER_MARKS

REVIEWERS = ("amina", "bayo", "chidi")
ROUNDS = 4


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def team_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'team.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def team(team_db: str, tmp_path: Path) -> Iterator[dict[str, App]]:
    """One app server and one browser; a context (its own session) per reviewer, named in the sidebar."""
    from playwright.sync_api import sync_playwright

    with serve_app(team_db, tmp_path) as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            apps = {}
            for name in REVIEWERS:
                page = browser.new_context(viewport={"width": 1440, "height": 1000}).new_page()
                page.set_default_timeout(TIMEOUT_MS)
                app = App(page, server.url)
                app.act(lambda page=page: page.goto(server.url))
                app.open("Review", "Review projected entities")
                app.type("xner_reviewer", name)
                apps[name] = app
            yield apps
        finally:
            browser.close()


def press_together(apps: dict[str, App], key: str) -> None:
    """Every reviewer presses ``key`` at once; wait until each page has finished the run it caused."""
    runs = {name: len(app.finished) for name, app in apps.items()}
    for app in apps.values():
        app.page.keyboard.press(key)
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    for name, app in apps.items():
        while len(app.finished) <= runs[name]:
            assert time.monotonic() < deadline, f"{name}'s page did not finish a run after pressing {key}"
            app.page.wait_for_timeout(20)
        app.idle()


def test_reviewers_pressing_accept_together_never_share_an_item(team: dict[str, App], team_db: str) -> None:
    seen: dict[str, list[int]] = {name: [] for name in REVIEWERS}
    for _ in range(ROUNDS):
        shown = {name: app.sentence() for name, app in team.items()}
        assert len(set(shown.values())) == len(REVIEWERS), f"two reviewers were shown the same item: {shown}"
        for name, sentence in shown.items():
            seen[name].append(sentence)
        press_together(team, "a")
        for app in team.values():
            app.no_exception()
            assert app.page.locator('[data-testid="stAlertContentWarning"]').count() == 0  # no conflict

    store = open_store(team_db)
    try:
        with store.session() as session:
            events = session.execute(
                select(ReviewEvent.reviewer, ReviewEvent.sentence_id, ReviewEvent.action, ReviewEvent.applied)
                .where(ReviewEvent.reviewer.in_(REVIEWERS))
                .order_by(ReviewEvent.id)
            ).all()
    finally:
        store.dispose()
    decided = {(event.reviewer, event.sentence_id) for event in events}
    assert decided == {(name, sentence) for name, sentences in seen.items() for sentence in sentences}
    assert len(events) == len(REVIEWERS) * ROUNDS  # one decision per press: none lost, none twice
    assert all(event.action == "accept" and event.applied for event in events)
    assert len({event.sentence_id for event in events}) == len(events)  # no item decided by two of them
