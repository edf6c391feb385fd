"""``xner eval projection`` over one run (as before) and over several runs side by side (``--run A --run B``), on
the demo project (projection runs 1 heuristic and 2 ngram); the scores are checked against span counts made here
from the runs' CoNLL exports and the Spanish gold file."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from tests.cli.runner import ok, xner
from tests.conftest import DEMO

CORPUS = "demo-en-es"


def conll_entities(path: Path) -> list[set[tuple[int, int, str]]]:
    """The IOB2 entities ``(start, end, label)`` of each sentence of a CoNLL file, from the raw lines."""
    sentences: list[set[tuple[int, int, str]]] = []
    tags: list[str] = []
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if line.split():
            tags.append(line.split()[-1])
            continue
        if tags:
            spans, start = set(), None
            for k, tag in enumerate([*tags, "O"]):
                if start is not None and not tag.startswith("I-"):
                    spans.add((start, k, tags[start][2:]))
                    start = None
                if tag.startswith("B-"):
                    start = k
            sentences.append(spans)
            tags = []
    return sentences


def expected_scores(predicted: Path, gold: Path, labels: set[str] | None = None) -> dict[str, tuple[float, ...]]:
    """Exact-match precision, recall and F1, overall and per label, rounded as xner reports them."""
    found, true, right = Counter[str](), Counter[str](), Counter[str]()
    for guess, truth in zip(conll_entities(predicted), conll_entities(gold), strict=True):
        guess = {s for s in guess if labels is None or s[2] in labels}
        truth = {s for s in truth if labels is None or s[2] in labels}
        for counter, spans in ((found, guess), (true, truth), (right, guess & truth)):
            counter.update(s[2] for s in spans)
            counter["overall"] += len(spans)
    scores = {}
    for label in true | found:
        p = right[label] / found[label] if found[label] else 0.0
        r = right[label] / true[label] if true[label] else 0.0
        scores[label] = (round(p, 4), round(r, 4), round(2 * p * r / (p + r) if p + r else 0.0, 4))
    return scores


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("eval")
    db = folder / "demo.db"
    ok("demo", "--db", db)
    for run in (1, 2):
        ok("export", folder / f"run{run}.conll", "--corpus", CORPUS, "--spans", "run", "--run", run, "--db", db)
    return db, folder


def got(run: dict) -> dict[str, tuple[float, ...]]:
    return {label: (row["precision"], row["recall"], row["f1"]) for label, row in run["scores"].items()}


def test_one_run_form_is_unchanged(demo_db):
    db, folder = demo_db
    text = ok("eval", "projection", "--corpus", CORPUS, "--run", 1, "--db", db).stdout
    assert text.splitlines()[:2] == [
        f"projection run 1 (heuristic) on 100 pairs of '{CORPUS}'",
        "label      precision    recall        f1  support",
    ]
    result = json.loads(ok("eval", "projection", "--corpus", CORPUS, "--run", 1, "--db", db, "--json").stdout)
    assert (result["run_id"], result["method"], result["pairs"]) == (1, "heuristic", 100)
    assert got(result) == expected_scores(folder / "run1.conll", DEMO / "es.conll")
    newest = json.loads(ok("eval", "projection", "--corpus", CORPUS, "--db", db, "--json").stdout)
    assert (newest["run_id"], newest["method"]) == (2, "ngram")


def test_several_runs_side_by_side(demo_db):
    db, folder = demo_db
    args = ("eval", "projection", "--corpus", CORPUS, "--run", 2, "--run", 1, "--db", db)
    result = json.loads(ok(*args, "--json").stdout)
    assert (result["corpus"], result["pairs"], result["labels"]) == (CORPUS, 100, None)
    assert [(r["run_id"], r["method"]) for r in result["runs"]] == [(2, "ngram"), (1, "heuristic")]  # as asked
    for run in result["runs"]:
        assert got(run) == expected_scores(folder / f"run{run['run_id']}.conll", DEMO / "es.conll")
        alone = json.loads(
            ok("eval", "projection", "--corpus", CORPUS, "--run", run["run_id"], "--db", db, "--json").stdout
        )
        assert run == alone  # one pass over several runs scores each as its own evaluation does
    assert got(result["runs"][0])["overall"][2] > got(result["runs"][1])["overall"][2]  # ngram beats heuristic here

    lines = ok(*args).stdout.splitlines()
    assert lines[0] == f"2 projection runs on 100 pairs of '{CORPUS}'"
    assert lines[1].split() == ["run", "2", "(ngram)", "run", "1", "(heuristic)"]
    assert lines[2].split() == ["label", "P", "R", "F1", "P", "R", "F1", "support"]
    rows = {line.split()[0]: line.split()[1:] for line in lines[3:]}
    assert list(rows) == ["overall", "DATE", "LOC", "ORG", "PER"]
    ngram, heuristic = got(result["runs"][0]), got(result["runs"][1])
    for label, cells in rows.items():
        assert [float(c) for c in cells[:6]] == [*ngram[label], *heuristic[label]]
        assert int(cells[6]) == result["runs"][0]["scores"][label]["support"]
    assert rows["overall"][6] == "217"  # the demo's Spanish gold entities (data/demo/README.md)


def test_several_runs_with_labels(demo_db):
    db, folder = demo_db
    args = ("eval", "projection", "--corpus", CORPUS, "--run", 1, "--run", 2, "--labels", "PER,LOC", "--db", db)
    result = json.loads(ok(*args, "--json").stdout)
    assert result["labels"] == ["LOC", "PER"]
    for run in result["runs"]:
        wanted = expected_scores(folder / f"run{run['run_id']}.conll", DEMO / "es.conll", {"PER", "LOC"})
        assert got(run) == wanted and set(wanted) == {"overall", "LOC", "PER"}
    assert [line.split()[0] for line in ok(*args).stdout.splitlines()[3:]] == ["overall", "LOC", "PER"]


def test_an_unknown_run_among_several_is_an_error(demo_db):
    db, _ = demo_db
    result = xner("eval", "projection", "--corpus", CORPUS, "--run", 1, "--run", 9, "--db", db)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == f"error: corpus '{CORPUS}' has no projection run 9: run `xner project` first\n"
