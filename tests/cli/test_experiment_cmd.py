"""``xner experiment`` steered from the command line (ks, seeds, languages, evaluation split), its up-front data
checks and its account of missing points; plain progress lines and quiet logging when the output is not a terminal.

The data is the demo corpus (data/demo/en.conll, 100 sentences) imported twice, as a ``train`` pool and a ``dev``
evaluation split, under two language codes; the CRF runs 5 iterations, so each point trains in well under a second.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.runner import ok, xner
from tests.conftest import DEMO, REPO

CONFIG = """\
name: demo-sweep
tagger: crf
tagger_options: {max_iterations: 5}
languages:
  en: {gold: demo-en, test: {corpus: demo-en, split: test}}
  xx: {gold: demo-xx, test: {corpus: demo-xx, split: test}}
ks: [0, 10, 30, all]
seeds: [0, 1, 2]
strategies:
  gold: {mix: gold}
  projected: {mix: projected}
"""


@pytest.fixture
def sweep(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    """The config file and the database URL, with both corpora imported as ``train`` and ``dev`` (no ``test``)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("XNER_DB", raising=False)
    monkeypatch.delenv("XNER_LOG", raising=False)
    db = f"sqlite:///{tmp_path / 'sweep.db'}"
    for corpus in ("demo-en", "demo-xx"):
        for split in ("train", "dev"):
            ok("import", "conll", DEMO / "en.conll", "--corpus", corpus, "--lang", "en", "--split", split, "--db", db)
    config = tmp_path / "sweep.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    return config, db


def test_a_missing_evaluation_split_is_reported_before_any_training(sweep) -> None:
    config, db = sweep
    result = xner("experiment", config, "--db", db, "--json")
    assert result.exit_code == 1
    error = json.loads(result.stdout)["error"]
    # every language's problem in one message, with the splits the corpus does have
    assert "en: evaluation split 'test' of 'demo-en' is empty (it has: dev, train)" in error
    assert "xx: evaluation split 'test' of 'demo-xx' is empty" in error
    assert "trained" not in result.stdout
    unknown = xner("experiment", config, "--db", db, "--langs", "en,yor")
    assert unknown.exit_code == 1
    assert "has no language 'yor'; its languages: en, xx" in unknown.stderr
    bad_seeds = xner("experiment", config, "--db", db, "--seeds", "one")
    assert bad_seeds.exit_code == 1 and "'one' is not a seed" in bad_seeds.stderr
    elsewhere = xner("experiment", config, "--db", db, "--executor", "ray://head:6379")
    assert elsewhere.exit_code == 1 and "use local or dask://HOST:PORT" in elsewhere.stderr


def test_options_override_ks_seeds_languages_and_split(sweep) -> None:
    config, db = sweep
    args = ["experiment", config, "--db", db, "--eval-split", "dev", "--langs", "xx", "--ks", "10,30", "--seeds", "0-1"]
    report = json.loads(ok(*args, "--json").stdout)
    # 1 language × 2 strategies × 2 ks × 2 seeds; the config's 0 and all, seed 2 and language en are left out
    assert report["experiment"] == "demo-sweep-dev" and report["points"] == 8
    assert report["trained"] == 4  # gold at k = 10, 30 for 2 seeds; projected fails: there is no projected data
    # the failed points are named with the seeds they lack, not folded silently into a curve
    assert report["missing"] == [
        "xx projected k=10: no result (seeds 0, 1)",
        "xx projected k=30: no result (seeds 0, 1)",
    ]
    text = ok(*args).stdout
    assert "8 points, 0 trained" in text  # the gold points are cached; the failed ones are retried, and fail
    assert "missing: xx projected k=10: no result (seeds 0, 1)" in text


def test_progress_is_plain_lines_when_not_on_a_terminal(sweep, monkeypatch: pytest.MonkeyPatch) -> None:
    config, db = sweep
    monkeypatch.setattr("xner.cli._util.PLAIN_PROGRESS_DELAY_S", 0.0)  # lines even for work this short
    result = ok("experiment", config, "--db", db, "--eval-split", "dev", "--langs", "en", "--ks", "10", "--seeds", "0")
    lines = [line for line in result.stderr.splitlines() if line.startswith("experiment demo-sweep-dev")]
    assert lines[0] == "experiment demo-sweep-dev 0/2 runs (0%)"
    assert lines[-1] == "experiment demo-sweep-dev 2/2 runs (100%)"
    assert "\r" not in result.stderr  # no bar redrawn in place
    monkeypatch.setattr("xner.cli._util.PLAIN_PROGRESS_DELAY_S", 60.0)  # work that ends sooner prints no lines
    result = ok("experiment", config, "--db", db, "--eval-split", "dev", "--langs", "en", "--ks", "10", "--seeds", "0")
    assert "runs (" not in result.stderr


def test_no_migration_log_by_default_and_back_with_verbose(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key not in ("XNER_LOG", "XNER_DB")}

    def run(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "xner", *args]
        return subprocess.run(command, capture_output=True, text=True, cwd=REPO, env={**env, **extra}, check=True)

    base = ["import", "conll", str(DEMO / "en.conll"), "--corpus", "d", "--lang", "en"]
    quiet = run(*base, "--db", str(tmp_path / "quiet.db"))
    assert quiet.stderr == ""  # no migration log, no progress lines for a 0.1 s import
    verbose = run("--verbose", *base, "--db", str(tmp_path / "verbose.db"))
    assert "alembic.runtime.migration" in verbose.stderr and "Running upgrade" in verbose.stderr
    by_env = run(*base, "--db", str(tmp_path / "env.db"), XNER_LOG="info")
    assert "Running upgrade" in by_env.stderr
