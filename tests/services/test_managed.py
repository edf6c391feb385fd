"""The managed folder (xner/services/managed.py): where it is, which names it accepts, what it lists and downloads;
and ``xner train`` saving into it by default."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import DEMO
from xner.cli import app
from xner.services import managed
from xner.services.importing import import_corpus
from xner.services.managed import (
    EXPORTS,
    MODELS,
    ManagedFolder,
    NotFoundError,
    UnsafeNameError,
    check_hub_name,
    check_name,
    derive_name,
    home_folder,
)
from xner.store.db import open_store
from xner.ui.downloads import download_bytes

REFUSED = ["../../x", "/tmp/x", "..", ".", "a/b", "~x", ".hidden", "", "a\\b", "C:x", "-rf", "a b", "x" * 101, "é"]


# --- where it is ----------------------------------------------------------------------------------------------


def test_xner_home_wins_then_beside_the_sqlite_file_then_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XNER_HOME", str(tmp_path / "configured"))
    assert home_folder("sqlite:///elsewhere.db") == tmp_path / "configured"

    monkeypatch.delenv("XNER_HOME")
    monkeypatch.chdir(tmp_path)
    assert home_folder(f"sqlite:///{tmp_path / 'data' / 'xner.db'}") == tmp_path / "data" / "xner-home"
    assert home_folder("sqlite:///xner.db") == tmp_path / "xner-home"  # a relative file: beside it, absolute
    assert home_folder("postgresql+psycopg://u:p@h/db") == tmp_path / "xner-home"
    assert home_folder("sqlite://") == tmp_path / "xner-home"  # in memory
    assert home_folder(None) == tmp_path / "xner-home"


# --- names ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", REFUSED)
def test_unsafe_names_are_refused_never_rewritten(name: str, xner_home: Path) -> None:
    with pytest.raises(UnsafeNameError, match="is not allowed"):
        check_name(name)
    with pytest.raises(UnsafeNameError):
        ManagedFolder(xner_home).path(MODELS, name)
    assert not xner_home.exists()  # nothing was created on the way


@pytest.mark.parametrize("name", ["crf-yor-reviewed-20261207-1412", "a", "Model_2.1", "9x", "x" * 100])
def test_safe_names_resolve_inside_their_subfolder(name: str, xner_home: Path) -> None:
    path = ManagedFolder(xner_home).path(MODELS, name)
    assert path == xner_home / "models" / name


def test_derived_names_are_always_safe() -> None:
    for parts in [("crf", "../../etc/passwd"), ("", ""), ("ọ̀yọ́",), ("a" * 300, "b")]:
        assert check_name(derive_name(*parts)) == derive_name(*parts)
    assert len(derive_name("a" * 300, when=managed.datetime(2026, 1, 2, 3, 4))) <= managed.MAX_NAME


def test_a_link_pointing_outside_is_refused(xner_home: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (xner_home / "models").mkdir(parents=True)
    (xner_home / "models" / "escape").symlink_to(outside)
    folder = ManagedFolder(xner_home)

    with pytest.raises(UnsafeNameError, match="outside the managed folder"):
        folder.path(MODELS, "escape")
    assert folder.names(MODELS) == []  # links are not listed either

    (xner_home / "exports").symlink_to(outside)  # the subfolder itself a link
    with pytest.raises(UnsafeNameError, match="is a link to somewhere else"):
        folder.path(EXPORTS, "x.conll")


def test_a_link_inside_the_folder_is_followed(xner_home: Path) -> None:
    (xner_home / "models" / "real").mkdir(parents=True)
    (xner_home / "models" / "alias").symlink_to(xner_home / "models" / "real")
    assert ManagedFolder(xner_home).path(MODELS, "alias") == xner_home / "models" / "alias"


@pytest.mark.parametrize("name", ["xlm-roberta-base", "Davlan/afro-xlmr-base", "nllb-600m", "bert_base.v2"])
def test_hub_names_are_accepted(name: str) -> None:
    assert check_hub_name(name) == name


@pytest.mark.parametrize(
    "name", ["/models/x", "./x", "../x", "x/../y", "~/x", "~x", "a\\b", "C:\\models", "C:x", "a/b/c", "", "org/"]
)
def test_paths_are_not_hub_names(name: str) -> None:
    with pytest.raises(UnsafeNameError, match="is not a model hub name"):
        check_hub_name(name)


def test_a_hub_name_that_names_a_local_folder_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models" / "en-crf").mkdir(parents=True)  # transformers would load ./models/en-crf
    with pytest.raises(UnsafeNameError):
        check_hub_name("models/en-crf")


# --- listing and downloads --------------------------------------------------------------------------------------


def test_listing_and_downloads(xner_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = ManagedFolder(xner_home)
    assert folder.list(MODELS) == []  # no folder yet: nothing, nothing created
    model = folder.ensure(MODELS) / "crf-yor"
    (model / "sub").mkdir(parents=True)
    (model / "model.crfsuite").write_bytes(b"w" * 1000)
    (model / "sub" / "vocab.txt").write_text("a\nb\n")
    (model / "link").symlink_to("/etc/hostname")  # never sent
    (xner_home / "models" / ".crf-yor.1234.partial").mkdir()  # a model being written: hidden
    (folder.ensure(EXPORTS) / "yor.conll").write_text("Ada B-PER\n")

    [entry] = folder.list(MODELS)
    assert (entry.name, entry.size, entry.is_folder) == ("crf-yor", 1004, True)
    rows = managed.file_rows(folder.list(MODELS) + folder.list(EXPORTS))
    assert [(r["name"], r["kind"], r["size"]) for r in rows] == [
        ("crf-yor", "folder", "1004 B"),
        ("yor.conll", "file", "10 B"),
    ]

    download = folder.download(MODELS, "crf-yor")
    assert (download.file_name, download.mime) == ("crf-yor.zip", "application/zip")
    archive = zipfile.ZipFile(io.BytesIO(download_bytes(download)))
    assert archive.namelist() == ["crf-yor/model.crfsuite", "crf-yor/sub/vocab.txt"]
    assert download_bytes(download) == download_bytes(download)  # same files, same bytes
    exported = folder.download(EXPORTS, "yor.conll")
    assert (exported.file_name, download_bytes(exported)) == ("yor.conll", b"Ada B-PER\n")

    with pytest.raises(NotFoundError, match="no model named 'nope'; there are: crf-yor"):
        folder.download(MODELS, "nope")
    with pytest.raises(UnsafeNameError):
        folder.download(MODELS, "../models/crf-yor")
    monkeypatch.setattr(managed, "MAX_DOWNLOAD_BYTES", 100)
    with pytest.raises(managed.XnerError, match="is 1004 B, more than the 100 B the app sends"):
        folder.download(MODELS, "crf-yor")


def test_recorded_paths_are_shown_relative_to_the_folder(xner_home: Path) -> None:
    folder = ManagedFolder(xner_home)
    params = {"model": str(xner_home / "models" / "en-crf"), "candidates": "model", "n": [str(xner_home / "work")]}
    assert folder.shorten(params) == {"model": "models/en-crf", "candidates": "model", "n": ["work"]}
    assert folder.shorten(f"{xner_home}/models/x holds no saved tagger") == "models/x holds no saved tagger"


# --- the command line -------------------------------------------------------------------------------------------


def test_xner_train_saves_into_the_managed_folder_by_default(tmp_path: Path, xner_home: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    store = open_store(db)
    import_corpus(store, DEMO / "es.conll", corpus="es", lang="es", split="train")
    store.dispose()

    result = CliRunner().invoke(app, ["train", "--corpus", "es", "-o", "max_iterations=5", "--db", db, "--json"])

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    [name] = ManagedFolder(xner_home).names(MODELS)
    assert name.startswith("crf-es-all-") and report["model_path"] == str(xner_home / "models" / name)
    assert (xner_home / "models" / name / "xner-tagger.json").is_file()
