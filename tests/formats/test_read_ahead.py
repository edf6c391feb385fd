"""Reading in a child process (xner.formats.read_ahead): the same batches, statistics, progress and errors as in
this process; a child that dies is an error, not a hang; stopping early stops the child; the caller's script never
runs twice; and parallel and monolingual imports read that way store exactly the rows of one read in process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import shared, snapshot
from xner.errors import InputError, XnerError
from xner.formats.parallel import SideOptions, read_pair_batches
from xner.formats.read_ahead import ReadAhead
from xner.services import importing
from xner.services.demo import DEMO_DIR
from xner.services.exporting import export_corpus
from xner.store.db import open_store
from xner.types import ReviewStatus

SIDES = SideOptions("en", "conll"), SideOptions("es", "conll")


def demo_files(folder: Path, copies: int, *, bad_line: int | None = None) -> tuple[Path, Path]:
    """The demo's two CoNLL sides, ``copies`` times over; ``bad_line``: that line of the Spanish side loses its
    tag."""
    en = (DEMO_DIR / "en.conll").read_text(encoding="utf-8") * copies
    es = ((DEMO_DIR / "es.conll").read_text(encoding="utf-8") * copies).split("\n")
    if bad_line is not None:
        es[bad_line - 1] = es[bad_line - 1].split()[0]
    src, tgt = folder / "train.en.conll", folder / "train.es.conll"
    src.write_text(en, encoding="utf-8")
    tgt.write_text("\n".join(es), encoding="utf-8")
    return src, tgt


def read(files: tuple[Path, Path], *, in_child: bool, size: int = 64) -> tuple[list, object, list]:
    progress: list[tuple[int, int]] = []
    reader = ReadAhead(
        read_pair_batches, *files, *SIDES, size=size, in_child=in_child, on_progress=lambda *p: progress.append(p)
    )
    return list(reader), reader.result, progress


def test_a_child_reads_the_same_batches_statistics_and_progress(tmp_path: Path) -> None:
    files = demo_files(tmp_path, 20)
    here, child = read(files, in_child=False), read(files, in_child=True)
    assert child[0] == here[0] and sum(map(len, here[0])) == 2000
    assert child[1] == here[1]  # both sides' ReadStats: sentences, labels, repairs
    assert child[1][1].sentences == 2000 and child[1][1].labels == {"DATE", "LOC", "ORG", "PER"}
    assert child[2] and child[2][-1] == here[2][-1]  # fewer reports (at most every 0.1 s), the same last one
    assert child[2][-1][0] == child[2][-1][1]


def test_a_bad_line_read_in_the_child_names_the_file_and_line(tmp_path: Path) -> None:
    files = demo_files(tmp_path, 20, bad_line=5000)
    errors = []
    for in_child in (False, True):
        with pytest.raises(InputError) as caught:
            read(files, in_child=in_child)
        errors.append(caught.value)
    here, child = errors
    assert (child.path, child.line, child.reason, str(child)) == (here.path, here.line, here.reason, str(here))
    assert child.path == str(files[1]) and child.line == 5000


def test_a_child_that_dies_is_an_error_not_a_hang(tmp_path: Path) -> None:
    files = demo_files(tmp_path, 200)
    reader = ReadAhead(read_pair_batches, *files, *SIDES, size=10, in_child=True)
    batches = iter(reader)
    next(batches)
    assert reader.child_pid is not None
    os.kill(reader.child_pid, signal.SIGKILL)
    with pytest.raises(XnerError, match="ended unexpectedly"):
        for _ in batches:
            pass


def test_stopping_early_stops_the_child(tmp_path: Path) -> None:
    files = demo_files(tmp_path, 200)
    reader = ReadAhead(read_pair_batches, *files, *SIDES, size=10, in_child=True)
    batches = iter(reader)
    next(batches)
    pid = reader.child_pid
    assert pid is not None
    batches.close()  # what a failed write does to the loop that reads
    with pytest.raises(ProcessLookupError):  # gone, and waited for
        os.kill(pid, 0)


def test_the_child_never_runs_the_callers_script_again(tmp_path: Path) -> None:
    """A user's script without a ``__main__`` guard that imports a large corpus from a thread (as a server does):
    its top level runs once (multiprocessing's spawn would run it again in the child)."""
    files = demo_files(tmp_path, 5)
    runs = tmp_path / "runs.txt"
    script = tmp_path / "user_script.py"
    script.write_text(
        "import threading\n"
        "from xner.formats.parallel import SideOptions, read_pair_batches\n"
        "from xner.formats.read_ahead import ReadAhead\n"
        f"open({str(runs)!r}, 'a').write('ran\\n')\n"
        "sides = SideOptions('en', 'conll'), SideOptions('es', 'conll')\n"
        f"reader = ReadAhead(read_pair_batches, {str(files[0])!r}, {str(files[1])!r}, *sides, size=50, in_child=True)\n"
        "thread = threading.Thread(target=lambda: print(sum(map(len, reader))))\n"
        "thread.start()\n"
        "thread.join()\n",
        encoding="utf-8",
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "500"
    assert runs.read_text() == "ran\n"


def test_an_import_read_in_a_child_stores_the_same_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = demo_files(tmp_path, 12)
    stored = []
    for threshold in (2**62, 0):  # never a child, always a child
        monkeypatch.setattr(importing, "READ_AHEAD_BYTES", threshold)
        store = open_store(str(tmp_path / f"import-{threshold}.db"))
        report = importing.import_parallel(store, *files, corpus="demo", src=SIDES[0], tgt=SIDES[1])
        assert report.pairs == 1200 and report.entities
        rows = snapshot(store)
        stored.append({table: rows[table] for table in ("sentence", "entity", "sentence_pair")})
        stored.append(report.entities)
        store.dispose()
    assert stored[0] == stored[2] and stored[1] == stored[3]


def test_a_one_file_import_read_in_a_child_stores_the_same_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same with one TSV file (``SRC<TAB>TGT`` a line): the demo's sentences as plain text."""
    pairs = [
        (" ".join(src_tokens), " ".join(tgt_tokens))
        for batch in read_pair_batches(*demo_files(tmp_path, 5), *SIDES, size=100)
        for (_, _, src_tokens, _, _), (_, _, tgt_tokens, _, _) in batch
    ]
    tsv = tmp_path / "pairs.tsv"
    tsv.write_text("".join(f"{src}\t{tgt}\n" for src, tgt in pairs), encoding="utf-8")
    stored = []
    for threshold in (2**62, 0):
        monkeypatch.setattr(importing, "READ_AHEAD_BYTES", threshold)
        store = open_store(str(tmp_path / f"tsv-{threshold}.db"))
        report = importing.import_parallel(store, tsv, None, corpus="t", src=SideOptions("en"), tgt=SideOptions("es"))
        assert report.pairs == 500
        rows = snapshot(store)
        stored.append({table: rows[table] for table in ("sentence", "entity", "sentence_pair")})
        store.dispose()
    assert stored[0] == stored[1]


@pytest.mark.parametrize("fmt", ["conll", "jsonl"])
def test_a_monolingual_import_read_in_a_child_stores_the_same_rows(
    fmt: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``xner import conll`` reads in a child too: MasakhaNER 2.0 Hausa train (real data), as CoNLL and as JSONL,
    stores the same rows and reports the same labels either way."""
    conll = shared("masakhaner2", "hau", "train.txt")
    path = conll
    if fmt == "jsonl":  # the same sentences as JSONL records, written by xner's own JSONL writer's format
        store = open_store(str(tmp_path / "to-jsonl.db"))
        importing.import_corpus(store, conll, corpus="hau", lang="hau", split="train")
        path = tmp_path / "train.jsonl"
        export_corpus(store, "hau", path, fmt="jsonl", statuses=[ReviewStatus.UNREVIEWED])
        store.dispose()
    stored = []
    for threshold in (2**62, 0):
        monkeypatch.setattr(importing, "READ_AHEAD_BYTES", threshold)
        store = open_store(str(tmp_path / f"{fmt}-{threshold}.db"))
        report = importing.import_corpus(store, path, corpus="hau", lang="hau", fmt=fmt, split="train")
        assert report.sentences > 5000
        rows = snapshot(store)
        stored.append(({table: rows[table] for table in ("sentence", "entity")}, report.entities, report.warnings))
        store.dispose()
    assert stored[0] == stored[1]


def test_a_bad_line_found_by_the_child_leaves_nothing_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An import whose child reader finds a bad line (after batches were written) fails with file, line and reason,
    and the database is as it was."""
    monkeypatch.setattr(importing, "READ_AHEAD_BYTES", 0)
    store = open_store(str(tmp_path / "bad.db"))
    before = snapshot(store)
    src, tgt = demo_files(tmp_path, 30, bad_line=9000)
    with pytest.raises(InputError) as caught:
        importing.import_parallel(store, src, tgt, corpus="demo", src=SIDES[0], tgt=SIDES[1])
    assert (caught.value.path, caught.value.line) == (str(tgt), 9000)
    assert "expected a token and a tag" in caught.value.reason
    assert snapshot(store) == before
    store.dispose()
