"""``xner export alignments``: an alignment run's links back out as Pharaoh text, round-tripping with
``xner import alignments`` on the demo data (data/demo/en-es.align); ``xner export OUT --corpus`` is unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.runner import ok, xner
from tests.conftest import DEMO, write
from xner.store.db import open_store

ALIGN = DEMO / "en-es.align"


def links_per_line(path: Path) -> list[set[str]]:
    """The links of each line of a Pharaoh file, as written (read from the raw text, not by xner's reader)."""
    return [set(line.split()) for line in path.read_text(encoding="utf-8").split("\n")[:-1]]


def demo_corpus(db: Path, *splits: str) -> None:
    """The demo pairs (with their entities) imported once per split, each split's gold links as an alignment run."""
    for split in splits:
        ok(
            "import", "parallel", DEMO / "en.conll", DEMO / "es.conll", "--corpus", "demo", "--src-lang", "en",
            "--tgt-lang", "es", "--src-format", "conll", "--tgt-format", "conll", "--split", split, "--db", db,
        )  # fmt: skip


def test_export_round_trips_the_imported_alignments(tmp_path):
    db = tmp_path / "x.db"
    demo_corpus(db, "train")
    imported = json.loads(
        ok("import", "alignments", ALIGN, "--corpus", "demo", "--aligner", "gold", "--db", db, "--json").stdout
    )
    out = tmp_path / "out" / "gold.align"
    text = ok("export", "alignments", "--run", imported["run_id"], out, "--db", db).stdout
    assert (
        text == f"wrote 100 pairs (1273 links) of alignment run {imported['run_id']} (gold, corpus 'demo') to {out}\n"
    )
    original = links_per_line(ALIGN)
    assert len(original) == 100 and sum(map(len, original)) == 1273  # data/demo/README.md's figures
    assert links_per_line(out) == original
    assert out.read_bytes() == ALIGN.read_bytes()  # the demo file is canonical: sorted, 0-based, one space

    # The exported file imported into the same corpus: a run with the same links (scored against the first: all
    # links found, none extra), whose export is the same file again.
    again = json.loads(
        ok("import", "alignments", out, "--corpus", "demo", "--aligner", "copy", "--db", db, "--json").stdout
    )
    assert again["run_id"] != imported["run_id"] and again["pairs"] == 100
    scores = json.loads(
        ok("eval", "alignment", "--corpus", "demo", "--gold", imported["run_id"], "--run", again["run_id"],
           "--db", db, "--json").stdout
    )["scores"]  # fmt: skip
    assert (scores["precision"], scores["recall"], scores["aer"]) == (1.0, 1.0, 0.0)
    second = tmp_path / "copy.align"
    report = json.loads(ok("export", "alignments", "--run", again["run_id"], second, "--db", db, "--json").stdout)
    assert (report["corpus"], report["aligner"], report["pairs"], report["links"]) == ("demo", "copy", 100, 1273)
    assert second.read_bytes() == out.read_bytes()


def test_possible_links_and_pairs_without_links_survive(tmp_path):
    db = tmp_path / "x.db"
    demo_corpus(db, "train")
    lines = ALIGN.read_text(encoding="utf-8").splitlines()
    # every third link of a line possible; pairs 5 and 40 without links (an empty line each)
    edited = [
        "" if number in (5, 40) else " ".join(link.replace("-", "p") if k % 3 == 2 else link
                                               for k, link in enumerate(line.split()))
        for number, line in enumerate(lines, 1)
    ]  # fmt: skip
    source = write(tmp_path / "edited.align", "\n".join(edited) + "\n")
    run = json.loads(
        ok("import", "alignments", source, "--corpus", "demo", "--aligner", "gold", "--db", db, "--json").stdout
    )
    out = tmp_path / "edited-out.align"
    report = json.loads(ok("export", "alignments", "--run", run["run_id"], out, "--db", db, "--json").stdout)
    assert report["pairs"] == 100 and report["links"] == sum(len(line.split()) for line in edited)
    exported = links_per_line(out)
    assert exported == [set(line.split()) for line in edited]
    assert exported[4] == exported[39] == set() and any("p" in link for link in exported[0])


def test_split_filter_exports_one_split_in_corpus_order(tmp_path):
    db = tmp_path / "x.db"
    demo_corpus(db, "train", "test")
    lines = ALIGN.read_text(encoding="utf-8").splitlines(keepends=True)
    ok("import", "alignments", ALIGN, "--corpus", "demo", "--aligner", "gold", "--split", "train", "--db", db)
    # split test: the first 50 pairs linked, the other 50 not (empty lines)
    half = write(tmp_path / "test.align", "".join(lines[:50]) + "\n" * 50)
    ok("import", "alignments", half, "--corpus", "demo", "--aligner", "gold", "--split", "test", "--db", db)
    # one run per split import: run 1 has links only in train, run 2 only in test
    out = tmp_path / "all.align"
    report = json.loads(ok("export", "alignments", "--run", 2, out, "--db", db, "--json").stdout)
    assert (report["pairs"], report["splits"]) == (200, None)
    assert out.read_text(encoding="utf-8") == "\n" * 100 + "".join(lines[:50]) + "\n" * 50
    text = ok("export", "alignments", "--run", 2, out, "--split", "test", "--db", db).stdout
    assert text.startswith("wrote 100 pairs (") and out.read_bytes() == half.read_bytes()
    ok("export", "alignments", "--run", 1, out, "--split", "train", "--db", db)
    assert out.read_bytes() == ALIGN.read_bytes()


def test_unknown_run_or_split_is_a_clear_error_and_writes_nothing(tmp_path):
    db = tmp_path / "x.db"
    demo_corpus(db, "train")
    ok("import", "alignments", ALIGN, "--corpus", "demo", "--aligner", "gold", "--db", db)
    out = tmp_path / "out.align"
    result = xner("export", "alignments", "--run", 7, out, "--db", db)
    assert result.exit_code == 1
    assert result.stderr == "error: no alignment run 7; the runs: 1 (gold, demo)\n"
    result = xner("export", "alignments", "--run", 7, out, "--db", db, "--json")
    assert json.loads(result.stdout)["error"].startswith("no alignment run 7")
    result = xner("export", "alignments", "--run", 1, out, "--split", "dev", "--db", db)
    assert result.exit_code == 1
    assert result.stderr == "error: corpus 'demo' has no pairs in split 'dev'; it has train\n"
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".out.align")]


def test_a_failed_export_leaves_the_old_file_and_no_partial_one(tmp_path, monkeypatch: pytest.MonkeyPatch):
    import xner.services.exporting as exporting

    db = tmp_path / "x.db"
    demo_corpus(db, "train")
    ok("import", "alignments", ALIGN, "--corpus", "demo", "--aligner", "gold", "--db", db)
    folder = tmp_path / "exports"
    folder.mkdir()
    out = write(folder / "gold.align", "an older export\n")
    parse = exporting.parse_pharaoh_line
    seen: list[str] = []

    def failing(text: str, **kwargs: int):  # the 60th pair fails, after 59 lines were written
        seen.append(text)
        if len(seen) == 60:
            raise OSError("disk full")
        return parse(text, **kwargs)

    monkeypatch.setattr(exporting, "parse_pharaoh_line", failing)
    with pytest.raises(OSError, match="disk full"):
        exporting.export_alignments(open_store(str(db)), 1, out)
    assert out.read_text(encoding="utf-8") == "an older export\n"
    assert list(folder.iterdir()) == [out]


def test_corpus_export_keeps_its_positional_form(tmp_path):
    db = tmp_path / "x.db"
    demo_corpus(db, "train")
    first, second = tmp_path / "a.conll", tmp_path / "b.conll"
    ok("export", first, "--corpus", "demo", "--db", db)
    ok("export", "--corpus", "demo", "--db", db, second)
    assert first.read_bytes() == second.read_bytes() == (DEMO / "es.conll").read_bytes()
    help_text = " ".join(ok("export", "--help").stdout.replace("│", " ").split())
    assert "--format" in help_text and "xner export alignments --help" in help_text
