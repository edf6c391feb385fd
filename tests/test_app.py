"""The Streamlit home page, driven headlessly with AppTest on a temporary database."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import REPO


@pytest.fixture
def app_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    monkeypatch.setenv("XNER_DB", url)
    return url


def test_home_loads_demo_into_empty_database_and_lists_it(app_db: str) -> None:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60).run()

    assert not at.exception
    table = at.dataframe[0].value
    demo = table[table["corpus"] == "demo-en-es"].iloc[0]
    assert demo["languages"] == "en → es"
    assert demo["pairs"] == 100
    assert demo["entities"] == 434  # 217 gold entities on each side
    assert demo["unreviewed"] == 100
    assert app_db in at.caption[-1].value


def test_home_lists_an_existing_store_without_adding_the_demo(app_db: str, tmp_path: Path) -> None:
    from xner.services.importing import import_corpus
    from xner.store.db import open_store

    conll = tmp_path / "train.txt"
    conll.write_text("Amina B-PER\nlọ O\nsí O\nKano B-LOC\n\n", encoding="utf-8")
    import_corpus(open_store(app_db), conll, corpus="<b>yor</b>", lang="yor")

    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60).run()

    assert not at.exception
    names = list(at.dataframe[0].value["corpus"])
    assert names == ["<b>yor</b>"]  # an existing store is not given the demo; names are data, never markup
