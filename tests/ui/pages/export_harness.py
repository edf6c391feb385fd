"""What the export page's AppTest tests share (test_export.py, test_export_runs.py): the demo with four review
decisions and a recorder of the page's download bytes (fixtures), the page, and ``xner export``'s bytes to compare."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit.testing.v1.app_test as app_test_module
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from tests.apptest import open_page
from xner.cli import app as cli
from xner.services import review
from xner.services.demo import DEMO_CORPUS, load_demo
from xner.store.db import Store, open_store
from xner.types import Span

PAGE = "4_Export"


@pytest.fixture
def demo(db: str) -> Iterator[Store]:
    """The demo as the app loads it (queued for review), with four decisions: alice accepts two sentences, bob
    corrects a third and then rejects alice's second one (a vote beside her accept, which stays the state and
    stays hers)."""
    store = open_store(db)
    assert load_demo(store)
    items: list[review.ReviewItem] = []
    for _ in range(3):
        item = review.next_item(store, DEMO_CORPUS, skip=[i.sentence_id for i in items])
        assert item is not None
        items.append(item)
    first, second, third = items
    decide = review.record_decision
    decide(store, first.sentence_id, reviewer="alice", action="accept", expected_version=first.state.version)
    state = decide(store, second.sentence_id, reviewer="alice", action="accept", expected_version=second.state.version)
    decide(
        store,
        third.sentence_id,
        reviewer="bob",
        action="correct",
        spans=[Span(0, 1, "PER")],
        expected_version=third.state.version,
    )
    decide(store, second.sentence_id, reviewer="bob", action="reject", expected_version=state.version)
    yield store
    store.dispose()


@pytest.fixture
def media(monkeypatch: pytest.MonkeyPatch) -> list[MediaFileManager]:
    """The media file managers AppTest creates (one per run): they hold the download buttons' bytes."""
    managers: list[MediaFileManager] = []

    def recording(storage: object) -> MediaFileManager:
        manager = MediaFileManager(storage)  # type: ignore[arg-type]
        managers.append(manager)
        return manager

    monkeypatch.setattr(app_test_module, "MediaFileManager", recording)
    return managers


def downloaded(at: AppTest, media: list[MediaFileManager]) -> tuple[str, bytes]:
    """(file name, bytes) behind the page's download button, as the browser would fetch them."""
    button = at.download_button(key="export_download")
    file_id = Path(button.proto.url).stem
    stored = media[-1]._storage.get_file(file_id)  # AppTest keeps the bytes in memory only
    return stored.filename, stored.content


def cli_export(db: str, out: Path, *args: str) -> bytes:
    result = CliRunner().invoke(cli, ["export", str(out), "--db", db, *args])
    assert result.exit_code == 0, result.stderr
    return out.read_bytes()


def page() -> AppTest:
    return open_page(PAGE)
