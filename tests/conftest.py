"""Shared fixtures: temporary stores, the real data in ../shared/data, and a PostgreSQL server when installed."""

from __future__ import annotations

import os
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

import pytest

from xner.store.db import Store, open_store

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("XNER_SHARED_DATA", REPO.parent / "shared" / "data"))
DEMO = REPO / "data" / "demo"
# eflomal options for tests that need a real alignment of Europarl, not a good one: one sampler, a short schedule
FAST_EFLOMAL = {"symmetrization": "intersection", "n_samplers": 1, "rel_iterations": 0.5}

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # any accidental model-hub call fails at once


def shared(*parts: str) -> Path:
    """A path in ../shared/data; the test is skipped, with the reason, when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data not available: {path} is missing (../shared/data holds it beside the checkout)")
    return path


def import_europarl(store: Store, lang: str = "de", corpus: str = "ep") -> None:
    """Import the Europarl parallel NER gold EN → ``lang`` (799 pairs, gold entities on both sides, split "test")
    as ``corpus``; the test is skipped when the data is absent."""
    from xner.formats.parallel import SideOptions
    from xner.services.importing import import_parallel

    en = shared("europarl_ner_ixa", "en-europarl.test.conll02")
    target = shared("europarl_ner_ixa", f"{lang}-europarl.test.conll02")
    import_parallel(store, en, target, corpus=corpus, src=SideOptions("en"), tgt=SideOptions(lang), split="test")


def import_mafand(store: Store, work: Path, split: str = "dev", corpus: str = "mafand", limit: int | None = 300) -> int:
    """The first ``limit`` pairs of MAFAND-MT en-yor ``split`` (plain text, no entities) as ``corpus`` (files cut
    in ``work``); their count. Skipped when the data is absent."""
    from xner.formats.parallel import SideOptions
    from xner.services.importing import import_parallel

    folder = shared("mafand_mt", "en-yor")
    paths = []
    for side in ("en", "yor"):
        with open(folder / f"{split}.{side}", encoding="utf-8") as handle:
            text = "".join(islice(handle, limit))
        path = work / f"{corpus}.{side}"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    report = import_parallel(
        store, *paths, corpus=corpus, src=SideOptions("en", "text"), tgt=SideOptions("yor", "text"), split=split
    )
    return report.pairs


@pytest.fixture(autouse=True)
def xner_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The managed folder (``$XNER_HOME``) of every test: a temporary one, so nothing lands in the working directory.
    Tests of the default locations unset it."""
    home = tmp_path / "xner-home"
    monkeypatch.setenv("XNER_HOME", str(home))
    return home


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A fresh, migrated SQLite store in a temporary directory."""
    result = open_store(f"sqlite:///{tmp_path / 'test.db'}")
    yield result
    result.dispose()


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The URL of an empty SQLite database that the app pages open (through ``$XNER_DB``)."""
    url = f"sqlite:///{tmp_path / 'app.db'}"
    monkeypatch.setenv("XNER_DB", url)
    return url


def write(path: Path, text: str | bytes) -> Path:
    """Write a test input file (bytes verbatim, text as UTF-8) and return its path."""
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def snapshot(store: Store) -> dict[str, list[tuple]]:
    """Every row of every table, sorted: two equal snapshots mean the database did not change."""
    from sqlalchemy import select

    from xner.store.models import Base

    with store.engine.connect() as connection:
        return {
            table.name: sorted(map(tuple, connection.execute(select(table)).all()), key=repr)
            for table in Base.metadata.sorted_tables
        }
