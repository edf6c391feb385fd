"""The upload checks and imports behind the home page (xner.ui.uploads), without Streamlit."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from tests.conftest import REPO, snapshot
from xner.errors import InputError
from xner.services.corpora import corpus_stats
from xner.store.db import Store
from xner.ui import uploads
from xner.ui.uploads import SNIFF_BYTES, Upload, check_upload, upload_alignments, upload_corpus, upload_parallel


def test_the_streamlit_upload_limit_is_the_service_limit() -> None:
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["maxUploadSize"] == uploads.MAX_UPLOAD_MB


def test_a_file_over_the_limit_is_refused_before_reading_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(uploads, "MAX_UPLOAD_MB", 1)
    with pytest.raises(InputError, match=r"^big\.conll: 2 MB is over the upload limit of 1 MB: import large files"):
        check_upload(Upload("big.conll", b"a O\n" * (2**19)), kind="conll")


@pytest.mark.parametrize(
    ("kind", "data", "message"),
    [
        ("conll", b"\n\n   \n", "x.txt: file has only blank lines"),
        ("jsonl", b'{"tokens": ["a"]}\n', None),
        ("jsonl", b"a O\n", "x.txt:1: expected a JSONL corpus"),
        ("conll", b'{"tokens": ["a"]}\n', "x.txt:1: this looks like JSON, not a CoNLL corpus"),
        ("single", b"a ||| b\n", None),
        ("single", b"<html><body>\n", "x.txt:1: this looks like HTML or XML"),
        ("parallel", b"3-2 was the score\n", None),  # one link-like word: a sentence, not a Pharaoh file
        ("alignments", b"\n\n0-0 1p1\n", None),
        ("alignments", b"\n\n", None),  # pairs without links
        ("alignments", b"Ada B-PER\n", "x.txt:1: expected Pharaoh alignments"),
        ("conll", b"<b> O\n", None),  # a tag-like token is data
    ],
)
def test_content_sniff(kind: str, data: bytes, message: str | None) -> None:
    if message is None:
        check_upload(Upload("x.txt", data), kind=kind)
    else:
        with pytest.raises(InputError) as error:
            check_upload(Upload("x.txt", data), kind=kind)
        assert str(error.value).startswith(message), str(error.value)


def test_a_character_cut_by_the_sniff_window_is_not_an_error() -> None:
    data = b"a O\n" * (SNIFF_BYTES // 4 - 1) + b"ab \xe1\xbb\x8d O\n"  # "ọ" straddles the window's end
    assert len(data) > SNIFF_BYTES and data[:SNIFF_BYTES].endswith(b"\xe1")
    check_upload(Upload("x.txt", data), kind="conll")


def test_problems_past_the_sniff_window_name_the_upload_and_line_and_write_nothing(store: Store) -> None:
    good = b"Ada B-PER\n\n" * (SNIFF_BYTES // 11 + 10)
    lines = good.count(b"\n")
    before = snapshot(store)
    for tail, reason in [(b"x\x00 O\n", "binary data"), (b"K\xe1no O\n", "byte 0xe1"), (b"Kano Q-LOC\n", "")]:
        with pytest.raises(InputError) as error:
            upload_corpus(store, Upload("dev.conll", good + tail), corpus="yor", lang="yor")
        assert str(error.value).startswith(f"dev.conll:{lines + 1}: {reason}"), str(error.value)
        assert "xner-upload-" not in str(error.value)
    assert snapshot(store) == before


def test_upload_corpus_takes_jsonl_by_extension_and_the_split_from_the_name(store: Store) -> None:
    record = b'{"tokens": ["Ada", "sang"], "tags": ["B-PER", "O"]}\n'
    report = upload_corpus(store, Upload("test.jsonl", record), corpus="c", lang="en")
    assert (report.split, report.sentences, report.entities) == ("test", 1, {"PER": 1})


def test_upload_parallel_sniffs_each_side_and_names_the_upload_on_error(store: Store) -> None:
    src = Upload("a.en", b"Ada B-PER\nsang O\n\n")
    report = upload_parallel(
        store, src, Upload("a.yo", "Ada kọrin\n".encode()), corpus="c", src_lang="en", tgt_lang="yo"
    )
    assert (report.pairs, report.entities) == (1, {"PER": 1})  # the CoNLL side keeps its entities
    before = snapshot(store)
    with pytest.raises(InputError, match=r"^b\.yo: file is empty"):
        upload_parallel(store, src, Upload("b.yo", b""), corpus="d", src_lang="en", tgt_lang="yo")
    assert snapshot(store) == before


def test_upload_alignments_reports_the_run(store: Store) -> None:
    upload_parallel(store, Upload("p.tsv", b"a b\tc d\ne\tf\n"), None, corpus="c", src_lang="en", tgt_lang="yo")
    report = upload_alignments(store, Upload("p.align", b"0-0 1-1\n\n"), corpus="c", aligner=" ", created_by="amina")
    assert (report.pairs, report.run_id) == (2, 1)
    assert corpus_stats(store, "c").pairs == 2


def test_staged_files_are_removed_and_keep_a_safe_name() -> None:
    with uploads.staged(Upload("../../etc/pass wd.txt", b"x")) as path:
        assert path.name == "pass_wd.txt" and path.read_bytes() == b"x"
        folder = path.parent
    assert not Path(folder).exists()
