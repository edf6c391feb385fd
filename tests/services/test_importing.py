"""The split of an import named by its file (``split_from_name`` / ``choose_split``), on the real file names of
../shared/data, and what the importers and ``xner import`` make of it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import DEMO, SHARED_DATA, shared
from xner.cli import app
from xner.errors import XnerError
from xner.formats.parallel import SideOptions
from xner.services.corpora import corpus_stats
from xner.services.importing import (
    choose_split,
    import_alignments,
    import_corpus,
    import_parallel,
    split_from_name,
)
from xner.store.db import Store


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("europarl_ner_ixa/en-europarl.test.conll02", "test"),
        ("europarl_ner_ixa/de-europarl.test.conll02", "test"),
        ("masakhaner2/yor/dev.txt", "dev"),
        ("masakhaner2/hau/train.txt", "train"),
        ("conll2003_en_with_misc/en.conll.test.tsv", "test"),
        ("conll2003_en_with_misc/en.conll.dev.tsv", "dev"),
        ("mafand_mt/en-yor/dev.yor", "dev"),
        ("parallel_europarl/en-de/train.de", "train"),
        ("alignment_gold_awesome/enfr.src-tgt", None),
        ("alignment_gold_awesome/zhen.gold", None),
        # names of other corpora: valid/validation/devtest mean dev, a hint anywhere in the name counts
        ("flores200.devtest.yor_Latn", "dev"),
        ("wikiann-yo_validation.jsonl", "dev"),
        ("ner.valid.json", "dev"),
        ("MasakhaNER-Test.TXT", "test"),
        ("train-dev.txt", "dev"),
        ("contest.txt", None),  # "test" inside a word is no hint
        ("latest.conll", None),
    ],
)
def test_split_from_name(name: str, expected: str | None) -> None:
    assert split_from_name(name) == expected
    assert split_from_name(Path("/some/where/test") / Path(name).name) == expected  # folders are not the name


def test_every_shared_data_file_gets_the_split_its_dataset_gives_it() -> None:
    """MasakhaNER 2.0, CoNLL-2003, MAFAND-MT and Europarl name their splits as MANIFEST.md describes; the
    Europarl NER gold is a test set; the alignment gold sets name none."""
    shared("MANIFEST.md")
    files = [p for p in SHARED_DATA.rglob("*") if p.is_file()]
    data = [p for p in files if not p.name.upper().startswith(("LICENSE", "README", "MANIFEST"))]
    assert len(data) > 80
    for path in data:
        dataset = path.relative_to(SHARED_DATA).parts[0]
        if dataset == "alignment_gold_awesome":
            expected = None
        elif dataset == "europarl_ner_ixa":
            expected = "test"
        elif dataset == "conll2003_en_with_misc":
            expected = path.name.split(".")[2]  # en.conll.<split>.tsv
        else:
            expected = path.name.split(".")[0]  # <split>.txt, <split>.<lang>
        assert split_from_name(path) == expected, path


def test_choose_split_says_where_the_split_came_from() -> None:
    assert choose_split(None, "en-europarl.test.conll02") == ("test", "file name")
    assert choose_split(None, "enfr.src-tgt") == ("train", "default")
    assert choose_split("dev", "en-europarl.test.conll02") == ("dev", "given")


def test_a_test_set_imports_as_test_without_a_split(store: Store) -> None:
    dev = shared("masakhaner2", "yor", "dev.txt")
    report = import_corpus(store, dev, corpus="yor", lang="yor")
    assert (report.split, report.split_from) == ("dev", "file name")
    assert list(corpus_stats(store, "yor").sentences) == ["dev/mono"]


def test_the_cli_derives_the_split_and_says_so(tmp_path: Path) -> None:
    en = shared("europarl_ner_ixa", "en-europarl.test.conll02")
    de = shared("europarl_ner_ixa", "de-europarl.test.conll02")
    db = str(tmp_path / "cli.db")
    runner = CliRunner()

    result = runner.invoke(app, ["import", "parallel", str(en), str(de), "--corpus", "ep", "--tgt-lang", "de",
                                 "--db", db])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "into 'ep' split 'test' (from the file name)" in result.stdout

    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("Good morning\tGuten Morgen\n", encoding="utf-8")
    result = runner.invoke(app, ["import", "parallel", str(pairs), "--corpus", "tsv", "--tgt-lang", "de",
                                 "--db", db, "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["split"], report["split_from"]) == ("train", "default")

    result = runner.invoke(app, ["import", "conll", str(shared("masakhaner2", "yor", "dev.txt")), "--corpus", "yor",
                                 "--lang", "yor", "--split", "train", "--db", db])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "into 'yor' split 'train' (DATE " in result.stdout  # given: no origin, the entities follow


def test_alignments_go_to_the_split_their_file_names_when_the_corpus_has_several(store: Store, tmp_path: Path) -> None:
    sides = {"src": SideOptions("en", "conll"), "tgt": SideOptions("es", "conll")}
    for split in ("train", "test"):
        import_parallel(store, DEMO / "en.conll", DEMO / "es.conll", corpus="demo", split=split, **sides)
    named = shutil.copy(DEMO / "en-es.align", tmp_path / "en-es.test.align")

    report = import_alignments(store, named, corpus="demo", aligner="gold")

    assert (report.split, report.split_from, report.pairs) == ("test", "file name", 100)
    with pytest.raises(XnerError, match="has splits test, train: choose one with --split"):
        import_alignments(store, DEMO / "en-es.align", corpus="demo", aligner="gold")
