"""The ``xner`` command line, driven through typer's CliRunner on a SQLite file in ``tmp_path``.

The demo data (data/demo) is imported, aligned, counted and exported; the expected counts are taken from the demo
files themselves (counted here from the raw text), not from xner's own readers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.cli.runner import ok, xner
from tests.conftest import DEMO, REPO, write


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run every command from an empty directory with no $XNER_DB, so that a stray default store would show."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.delenv("XNER_DB", raising=False)
    return cwd


def conll_counts(path: Path) -> tuple[int, int, Counter[str]]:
    """Sentences, tokens and entities per label of an IOB2 CoNLL file, counted from the raw lines."""
    sentences = tokens = 0
    entities: Counter[str] = Counter()
    in_sentence = False
    for line in path.read_text(encoding="utf-8").splitlines():
        columns = line.split()
        if not columns:
            sentences += in_sentence
            in_sentence = False
            continue
        in_sentence = True
        tokens += 1
        if columns[-1].startswith("B-"):
            entities[columns[-1][2:]] += 1
    return sentences + in_sentence, tokens, entities


HELP_COMMANDS = [
    [],
    ["import"],
    ["import", "conll"],
    ["import", "jsonl"],
    ["import", "parallel"],
    ["import", "alignments"],
    ["export"],
    ["export", "alignments"],
    ["stats"],
    ["corpora"],
    ["demo"],
    ["align"],
    ["symmetrize"],
    ["project"],
    ["eval"],
    ["eval", "projection"],
    ["eval", "alignment"],
    ["eval", "tagger"],
    ["eval", "translate-test"],
    ["translate"],
    ["convert-model"],
]


@pytest.mark.parametrize("command", HELP_COMMANDS, ids=lambda c: " ".join(c) or "xner")
def test_help(command):
    result = ok(*command, "--help")
    assert "Usage:" in result.stdout
    assert f"xner {' '.join(command)}".strip() in " ".join(result.stdout.split())


def test_top_level_help_lists_the_commands():
    text = ok("--help").stdout
    for name in ("import", "export", "stats", "corpora", "demo"):
        assert name in text
    text = ok("import", "--help").stdout
    for name in ("conll", "jsonl", "parallel", "alignments"):
        assert name in text


def test_python_dash_m_xner_help():
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("XNER_DB", None)
    done = subprocess.run(
        [sys.executable, "-m", "xner", "--help"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Usage:" in done.stdout and "import" in done.stdout and "export" in done.stdout


def test_demo_flow_import_align_stats_export(tmp_path, _isolated):
    db = tmp_path / "flow.db"
    en_sentences, en_tokens, en_entities = conll_counts(DEMO / "en.conll")
    es_sentences, es_tokens, es_entities = conll_counts(DEMO / "es.conll")
    # The figures in data/demo/README.md, checked against the files themselves.
    assert (en_sentences, en_tokens, es_sentences, es_tokens) == (100, 1203, 100, 1330)
    assert en_entities == es_entities == {"PER": 29, "ORG": 54, "LOC": 87, "DATE": 47}
    both_sides = {label: en_entities[label] + es_entities[label] for label in en_entities}

    result = ok(
        "import", "parallel", DEMO / "en.conll", DEMO / "es.conll",
        "--corpus", "demo", "--src-lang", "en", "--tgt-lang", "es",
        "--src-format", "conll", "--tgt-format", "conll", "--split", "train", "--db", db, "--json",
    )  # fmt: skip
    report = json.loads(result.stdout)
    assert (report["corpus"], report["split"], report["pairs"], report["sentences"]) == ("demo", "train", 100, 200)
    assert report["entities"] == both_sides
    assert report["warnings"] == []
    assert db.exists() and not (_isolated / "xner.db").exists()  # --db was used, not a default store

    links = sum(len(line.split()) for line in (DEMO / "en-es.align").read_text(encoding="utf-8").splitlines())
    assert links == 1273
    text = ok("import", "alignments", DEMO / "en-es.align", "--corpus", "demo", "--aligner", "gold", "--db", db).stdout
    assert (
        "imported alignments of 100 pairs into 'demo' split 'train' (the corpus's only split) as alignment run 1"
        in text
    )

    stats = json.loads(ok("stats", "--corpus", "demo", "--db", db, "--json").stdout)
    assert stats["name"] == "demo"
    assert (stats["kind"], stats["src_lang"], stats["tgt_lang"]) == ("parallel", "en", "es")
    assert stats["labels"] == ["DATE", "LOC", "ORG", "PER"]
    assert stats["sentences"] == {"train/src": 100, "train/tgt": 100}
    assert stats["pairs"] == 100
    assert stats["tokens"] == en_tokens + es_tokens
    assert stats["entities"] == both_sides
    assert stats["review"] == {"unreviewed": 100, "accepted": 0, "corrected": 0, "rejected": 0}
    assert "corpus demo (parallel, en → es)" in ok("stats", "--corpus", "demo", "--db", db).stdout

    corpora = json.loads(ok("corpora", "--db", db, "--json").stdout)
    assert [c["name"] for c in corpora] == ["demo"]

    # CoNLL export of the (default) target side: the demo file is canonical IOB2, so it comes back byte for byte.
    out = tmp_path / "out" / "es.conll"
    text = ok("export", out, "--corpus", "demo", "--db", db).stdout
    assert f"wrote 100 sentences ({sum(es_entities.values())} entities) to {out}" in text
    assert out.read_text(encoding="utf-8") == (DEMO / "es.conll").read_text(encoding="utf-8")

    # JSONL export of the source side: tokens as in the file, Prodigy's inclusive token_end.
    out = tmp_path / "out" / "en.jsonl"
    ok("export", out, "--corpus", "demo", "--side", "src", "--format", "jsonl", "--db", db)
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(records) == 100
    first_tokens = [
        line.split()[0] for line in (DEMO / "en.conll").read_text(encoding="utf-8").split("\n\n")[0].splitlines()
    ]
    assert [t["text"] for t in records[0]["tokens"]] == first_tokens  # Pedro Sánchez met Emmanuel Macron in Paris ...
    assert [(s["token_start"], s["token_end"], s["label"]) for s in records[0]["spans"]] == [
        (0, 1, "PER"),  # Pedro Sánchez: tokens 0..1 inclusive
        (3, 4, "PER"),  # Emmanuel Macron
        (6, 6, "LOC"),  # Paris
        (8, 8, "DATE"),  # Tuesday
    ]
    assert records[0]["meta"] == {"lang": "en", "split": "train", "position": 0, "status": "unreviewed"}
    assert sum(len(r["spans"]) for r in records) == sum(en_entities.values())

    # Status filters: nothing is reviewed yet.
    out = tmp_path / "out" / "accepted.conll"
    assert "wrote 0 sentences" in ok("export", out, "--corpus", "demo", "--status", "accepted", "--db", db).stdout
    assert out.read_text(encoding="utf-8") == ""
    text = ok("export", out, "--corpus", "demo", "--status", "unreviewed,accepted", "--db", db).stdout
    assert "wrote 100 sentences" in text


def test_bad_input_exits_non_zero_with_file_line_and_reason(tmp_path, _isolated):
    db = tmp_path / "bad.db"
    path = write(tmp_path / "train.conll", "Amina B-PER\nta O\nKano\n\n")
    result = xner("import", "conll", path, "--corpus", "hausa", "--lang", "hau", "--db", db)
    assert result.exit_code == 1
    assert result.stderr == (f"error: {path}:3: expected a token and a tag separated by space or tab, found 'Kano'\n")
    assert result.stdout == ""
    assert json.loads(ok("corpora", "--db", db, "--json").stdout) == []  # nothing was written
    assert not (_isolated / "xner.db").exists()


def test_bad_input_with_json_reports_file_line_and_reason(tmp_path):
    db = tmp_path / "bad.db"
    path = write(tmp_path / "dev.jsonl", '{"tokens": ["Rais", "Ruto"], "tags": ["O", "B-PER"]}\n{"tokens": []}\n')
    result = xner("import", "jsonl", path, "--corpus", "swahili", "--lang", "swa", "--db", db, "--json")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {path}:2: 'tokens' must be a non-empty list")
    data = json.loads(result.stdout)
    assert (data["type"], data["file"], data["line"]) == ("InputError", str(path), 2)
    assert data["reason"].startswith("'tokens' must be a non-empty list")


def test_bad_alignment_and_strict_scheme_on_the_command_line(tmp_path):
    db = tmp_path / "strict.db"
    path = write(tmp_path / "dev.conll", "Ọlá O\nAdé I-PER\n")
    result = xner("import", "conll", path, "--corpus", "yoruba", "--lang", "yor", "--scheme", "iob2", "--db", db)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {path}:2: 'I-PER' does not continue a PER span")
    # auto (the default) repairs it and warns with the same file and line
    result = ok("import", "conll", path, "--corpus", "yoruba", "--lang", "yor", "--db", db)
    assert f"warning: {path}:2: 1 span(s) began with I- (IOB1 style)" in result.stdout


def test_export_unknown_status_lists_the_allowed_ones(tmp_path):
    db = tmp_path / "demo.db"
    assert "loaded demo corpus 'demo-en-es'" in ok("demo", "--db", db).stdout
    assert "demo not loaded" in ok("demo", "--db", db).stdout  # only into an empty store
    out = tmp_path / "x.conll"
    result = xner("export", out, "--corpus", "demo-en-es", "--status", "approved", "--db", db)
    assert result.exit_code == 1
    assert result.stderr == (
        "error: unknown review status 'approved'; known: accepted, corrected, rejected, unreviewed\n"
    )
    assert not out.exists()


def test_unknown_corpus_lists_the_corpora(tmp_path):
    db = tmp_path / "demo.db"
    ok("demo", "--db", db)
    result = xner("stats", "--corpus", "demo", "--db", db)
    assert result.exit_code == 1
    assert result.stderr == "error: unknown corpus 'demo'; known: demo-en-es\n"
    result = xner("export", tmp_path / "x.conll", "--corpus", "demo", "--db", db)
    assert result.exit_code == 1 and "known: demo-en-es" in result.stderr


def test_export_spacy_and_hf(tmp_path):
    db = tmp_path / "demo.db"
    ok("demo", "--db", db)
    help_text = " ".join(ok("export", "--help").stdout.replace("│", " ").split())  # rich wraps text in a box
    assert "spacy (DocBin" in help_text and "hf (Hugging Face datasets folder" in help_text

    out = tmp_path / "es.spacy"
    text = ok("export", out, "--corpus", "demo-en-es", "--format", "spacy", "--db", db).stdout
    assert f"wrote 100 sentences (217 entities) to {out}" in text
    from spacy.tokens import DocBin  # the exports' contents are checked in tests/services/test_exporting.py

    assert len(DocBin().from_disk(out)) == 100

    out = tmp_path / "en"
    report = json.loads(
        ok("export", out, "--corpus", "demo-en-es", "-f", "hf", "--side", "src", "--split", "train", "--db", db,
           "--json").stdout
    )  # fmt: skip
    assert (report["format"], report["sentences"], report["entities"]) == ("hf", 100, 217)
    assert (out / "dataset_dict.json").is_file() and (out / "train" / "state.json").is_file()

    result = xner("export", tmp_path / "x.spacy", "--corpus", "demo-en-es", "--format", "docx", "--db", db)
    assert result.exit_code == 1
    assert result.stderr == "error: unknown export format 'docx'; known: conll, hf, jsonl, spacy\n"


def test_translate_project_and_baselines_on_the_command_line(tmp_path):
    """Offline translate-train (imported translations), EasyProject from marked translations, model transfer and
    translate-test: every baseline goes through `xner project` / `xner eval` like the projection methods."""
    from xner.engine.translate.markers import mark
    from xner.formats.conll import read_conll

    db = tmp_path / "t.db"
    ok("import", "conll", DEMO / "en.conll", "--corpus", "en", "--lang", "en", "--split", "train", "--db", db)
    ok("import", "conll", DEMO / "es.conll", "--corpus", "es", "--lang", "es", "--split", "test", "--db", db)
    report = json.loads(
        ok(
            "translate", "--corpus", "en", "--new", "en-es", "--to", "es", "--translations", DEMO / "es.conll",
            "--db", db, "--json",
        ).stdout
    )  # fmt: skip
    assert (report["translator"], report["pairs"], report["src_lang"], report["tgt_lang"]) == (
        "imported",
        100,
        "en",
        "es",
    )
    text = ok(
        "translate", "--corpus", "en", "--new", "en-es-q", "--to", "es", "--translations", DEMO / "es.conll",
        "--queue", "--method", "heuristic", "--db", db,
    ).stdout  # fmt: skip
    assert "over alignment run 1" in text and "100 sentences queued for review" in " ".join(text.split())
    marked = write(
        tmp_path / "marked.txt", "".join(mark(s.tokens, s.spans) + "\n" for s in read_conll(DEMO / "es.conll"))
    )
    text = ok(
        "translate", "--corpus", "en", "--new", "en-es-ep", "--to", "es", "--translations", marked, "--markers",
        "--db", db,
    ).stdout  # fmt: skip
    assert "entities from the markers: projection run 2 (DATE 47, LOC 87, ORG 54, PER 29)" in " ".join(text.split())

    ok("train", "--corpus", "en", "--out", tmp_path / "en-crf", "-o", "max_iterations=30", "--db", db)
    transfer = json.loads(
        ok("eval", "tagger", "--corpus", "es", "--tagger", tmp_path / "en-crf", "--db", db, "--json").stdout
    )
    assert transfer["sentences"] == 100 and transfer["side"] == "mono"
    text = ok(
        "project", "--corpus", "en-es", "--method", "model-transfer", "-o", f"model={tmp_path / 'en-crf'}", "--db", db
    ).stdout
    assert "with model-transfer in" in text and "alignment run" not in text.split("projection run")[0]
    scored = json.loads(ok("eval", "projection", "--corpus", "en-es", "--db", db, "--json").stdout)
    assert scored["method"] == "model-transfer"
    assert scored["scores"]["overall"]["f1"] == pytest.approx(transfer["scores"]["overall"]["f1"])

    result = json.loads(
        ok(
            "eval", "translate-test", "--corpus", "es", "--translations", DEMO / "en.conll", "--method", "ngram",
            "--labels", "PER,ORG,LOC", "--db", db, "--json",
        ).stdout
    )  # fmt: skip
    assert result["parallel"] == "es.translate-test.en" and result["translated"] and result["aligned"]
    assert result["evaluation"]["scores"]["overall"]["support"] == 170
    again = json.loads(
        ok(
            "eval", "translate-test", "--corpus", "es", "--method", "heuristic", "--db", db, "--json",
        ).stdout
    )  # fmt: skip
    assert not again["translated"] and not again["aligned"] and again["alignment_run"] == result["alignment_run"]


def test_translate_errors_on_the_command_line(tmp_path):
    db = tmp_path / "t.db"
    ok("import", "conll", DEMO / "en.conll", "--corpus", "en", "--lang", "en", "--split", "train", "--db", db)
    short = write(tmp_path / "short.txt", "Una frase .\n")
    result = xner("translate", "--corpus", "en", "--new", "x", "--to", "es", "--translations", short, "--db", db)
    assert result.exit_code == 1 and "short.txt:1: only 1 translations for 100 sentences" in result.stderr
    result = xner("translate", "--corpus", "en", "--new", "x", "--to", "pcm", "--db", db)
    assert result.exit_code == 1 and "not one of NLLB-200's languages" in result.stderr
    result = xner("convert-model", tmp_path / "nope", tmp_path / "out")
    assert result.exit_code == 1 and "cannot load model" in result.stderr


def test_queue_settings_shown_changed_and_checked() -> None:
    ok("demo")
    assert "1 reviewer(s) per item, items reserved for 300 s" in ok("queue", "--corpus", "demo-en-es").output
    changed = json.loads(ok("queue", "-c", "demo-en-es", "--overlap", "2", "--by", "lead", "--json").output)
    assert (changed["overlap"], changed["lease_seconds"], changed["updated_by"]) == (2, 300, "lead")
    refused = xner("queue", "-c", "demo-en-es", "--lease-seconds", "5")
    assert refused.exit_code != 0 and "a lease lasts at least 30 seconds; got 5" in refused.output


def test_queue_a_projection_run_from_the_command_line(tmp_path) -> None:
    db = f"sqlite:///{tmp_path / 'q.db'}"
    ok("demo", "--db", db)
    ok("project", "--corpus", "demo-en-es", "--method", "ngram", "--db", db)
    runs = json.loads(ok("project", "--corpus", "demo-en-es", "--method", "heuristic", "--db", db, "--json").output)
    queued = json.loads(ok("queue", "-c", "demo-en-es", "--run", str(runs["run_id"]), "--db", db, "--json").output)
    assert queued["run_id"] == runs["run_id"] and queued["method"] == "heuristic"
    assert queued["queued"] + queued["updated"] + queued["kept"] == runs["pairs"]
    assert "ngram" in queued["compared_runs"].values()  # disagreement against the other method's newest run
    again = " ".join(ok("queue", "-c", "demo-en-es", "--run", str(runs["run_id"]), "--db", db).output.split())
    assert f"projection run {runs['run_id']} (heuristic) queued for review in demo-en-es: 0 new items" in again
    unknown = xner("queue", "-c", "demo-en-es", "--run", "999", "--db", db)
    assert unknown.exit_code == 1 and "has no projection run 999" in unknown.stderr
    both = xner("queue", "-c", "demo-en-es", "--run", "1", "--overlap", "2", "--db", db)
    assert both.exit_code == 1 and "in a second command" in both.stderr


def test_spot_check_drawn_from_the_command_line(tmp_path) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    ok("demo", "--db", db)
    run = json.loads(ok("project", "--corpus", "demo-en-es", "--method", "ngram", "--db", db, "--json").output)
    args = ["spot-check", "-c", "demo-en-es", "--n", "12", "--seed", "4", "--db", db]
    one = json.loads(ok(*args, "--json").output)
    two = json.loads(ok(*args, "--workers", "2", "--json").output)  # the run's pairs scanned in 8 shards
    assert one["run_id"] == run["run_id"] and one["drawn"] >= 12
    assert sum(one["populations"].values()) == sum(run["entities"].values())
    assert (two["populations"], two["allocation"]) == (one["populations"], one["allocation"])
    text = " ".join(ok(*args, "--strata", "label").output.split())
    assert f"of projection run {run['run_id']} (demo-en-es): 12 spans drawn for 12 asked" in text
    bad = xner(*args, "--buckets", "0,half,1")
    assert bad.exit_code == 1 and "--buckets: 'half' is not a number" in bad.stderr
