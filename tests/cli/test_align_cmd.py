"""``xner align`` (eflomal: the run keeps both directions) and ``xner symmetrize`` on the demo project: another
symmetrisation as a new run, without aligning again; runs without directions and unknown methods are clear errors."""

from __future__ import annotations

import json
from itertools import islice

from sqlalchemy import select

from tests.cli.runner import ok, xner
from tests.conftest import shared, write
from xner.engine.align import symmetrize
from xner.formats.parallel import iter_bitext
from xner.formats.pharaoh import parse_pharaoh_line
from xner.services.aligning import _digest
from xner.store.db import open_store
from xner.store.models import Alignment


def rows(db, run: int) -> dict[int, tuple[str, str | None, str | None]]:
    store = open_store(f"sqlite:///{db}")
    try:
        with store.session() as session:
            found = session.scalars(select(Alignment).where(Alignment.run_id == run))
            return {row.pair_id: (row.links, row.forward, row.reverse) for row in found}
    finally:
        store.dispose()


def test_align_then_symmetrize_another_way(tmp_path):
    db = tmp_path / "x.db"
    ok("demo", "--db", db)  # alignment runs 1 (gold) and 2 (simulated): imported, without directions
    aligned = json.loads(
        ok("align", "--corpus", "demo-en-es", "-o", "n_samplers=1", "-o", "rel_iterations=0.3", "--db", db, "--json")
        .stdout
    )  # fmt: skip
    run = aligned["run_id"]
    assert aligned["params"]["symmetrization"] == "grow-diag-final-and"
    text = ok("symmetrize", "demo-en-es", "--run", run, "--method", "intersection", "--db", db).stdout
    derived = run + 1
    assert text.startswith("symmetrized 100 pairs of 'demo-en-es' (intersection, from the forward and reverse ")
    assert text.endswith(f"alignment run {derived}\n")
    original, meet = rows(db, run), rows(db, derived)
    assert meet.keys() == original.keys() and len(meet) == 100
    for pair_id, (links, forward, reverse) in original.items():
        assert forward is not None and reverse is not None
        fwd, rev = parse_pharaoh_line(forward).sure, parse_pharaoh_line(reverse).sure
        assert parse_pharaoh_line(links).sure == symmetrize(fwd, rev, "grow-diag-final-and")
        assert parse_pharaoh_line(meet[pair_id][0]).sure == fwd & rev
    report = json.loads(
        ok("symmetrize", "demo-en-es", "--run", derived, "--method", "grow-diag-final-and", "--db", db, "--json")
        .stdout
    )  # fmt: skip
    assert (report["params"]["derived_from"], report["pairs"]) == (run, 100)
    assert {p: links for p, (links, _, _) in rows(db, report["run_id"]).items()} == {
        p: links for p, (links, _, _) in original.items()
    }


def test_symmetrize_errors(tmp_path):
    db = tmp_path / "x.db"
    ok("demo", "--db", db)
    result = xner("symmetrize", "demo-en-es", "--run", 1, "--method", "union", "--db", db)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: alignment run 1 (gold) has no forward and reverse links to symmetrise")
    result = xner("symmetrize", "demo-en-es", "--run", 1, "--method", "gdfa", "--db", db)
    assert result.exit_code == 1 and "grow-diag-final-and" in result.stderr and "'gdfa'" in result.stderr
    result = xner("symmetrize", "demo-en-es", "--run", 5, "--method", "union", "--db", db, "--json")
    assert json.loads(result.stdout)["error"] == "corpus 'demo-en-es' has no alignment run 5 (its alignment runs: 1, 2)"


def test_extra_text_files_are_streamed_into_the_aligner(tmp_path):
    folder = shared("parallel_europarl", "en-es")
    db = tmp_path / "x.db"
    ok("demo", "--db", db)
    args = ["align", "--corpus", "demo-en-es", "-o", "n_samplers=1", "-o", "rel_iterations=0.3", "--db", db]
    files = ["--extra-src", folder / "train.en", "--extra-tgt", folder / "train.es", "--extra-limit", 500]
    report = json.loads(ok(*args, *files, "--json").stdout)
    assert report["params"]["extra_pairs"] == 500 and report["params"]["extra_text"] == ["train.en", "train.es"]
    first = list(islice(iter_bitext(folder / "train.en", folder / "train.es"), 500))
    assert report["params"]["extra_sha256"] == _digest(first)  # exactly the first 500 pairs went to eflomal

    # files of different lengths: the reader's error (file:line) when the reading gets there, and no run stored
    short = write(tmp_path / "short.es", "uno\ndos\n")
    three = write(tmp_path / "three.en", "one\ntwo\nthree\n")
    result = xner(*args, "--extra-src", three, "--extra-tgt", short)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {three}:3: {short} has only 2 lines but {three} has more")
    result = xner(*args, "--extra-src", three, "--extra-tgt", tmp_path / "missing.es")
    assert (result.exit_code, result.stderr) == (1, f"error: {tmp_path / 'missing.es'}: file not found\n")
    result = xner(*args, "--extra-src", three)
    assert result.exit_code == 1 and "the same number of times" in result.stderr
    assert len(rows(db, report["run_id"])) == 100 and not rows(db, report["run_id"] + 1)
