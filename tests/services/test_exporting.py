"""The spaCy DocBin and Hugging Face dataset exports, read back with spaCy and ``datasets`` themselves.

The expected tokens and spans come straight from the source CoNLL text (decoded by seqeval, the reference for
IOB chunks), not from xner's readers; tokens are compared in NFC, the form xner stores.
"""

from __future__ import annotations

import sys
import unicodedata
from pathlib import Path

import datasets
import pytest
import spacy
from seqeval.metrics.sequence_labeling import get_entities
from spacy.tokens import DocBin
from spacy.training import Corpus
from spacy.vocab import Vocab
from sqlalchemy import select

from tests.conftest import DEMO, shared
from xner.errors import MissingDependencyError, XnerError
from xner.formats.hf_datasets import ner_tag_names
from xner.services.demo import DEMO_CORPUS, load_demo
from xner.services.exporting import export_corpus
from xner.services.importing import import_corpus
from xner.store.db import Store
from xner.store.models import ReviewState, Sentence
from xner.types import ReviewStatus, Span

Rows = list[tuple[list[str], list[tuple[int, int, str]]]]
DEMO_NAMES = ["O", "B-DATE", "I-DATE", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-PER", "I-PER"]


def tags_to_triples(tags: list[str]) -> list[tuple[int, int, str]]:
    """Half-open (start, end, label) spans of IOB tags, by seqeval (whose chunk ends are inclusive)."""
    return sorted((start, end + 1, label) for label, start, end in get_entities(tags))


def conll_source(path: Path) -> Rows:
    """(tokens in NFC, spans) of each sentence of a CoNLL file, from the raw lines."""
    rows: Rows = []
    tokens: list[str] = []
    tags: list[str] = []
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        columns = line.split()
        if not columns or columns[0] == "-DOCSTART-":
            if tokens:
                rows.append((tokens, tags_to_triples(tags)))
            tokens, tags = [], []
            continue
        tokens.append(unicodedata.normalize("NFC", columns[0]))
        tags.append(columns[-1])
    return rows


def docbin_rows(path: Path) -> Rows:
    """(tokens, spans) of each Doc of a DocBin, read by spaCy; checks the one-space-between-tokens text."""
    rows: Rows = []
    for doc in DocBin().from_disk(path).get_docs(Vocab()):
        words = [token.text for token in doc]
        assert doc.text == " ".join(words)
        assert [token.whitespace_ for token in doc] == [" "] * (len(words) - 1) + [""]
        rows.append((words, sorted((ent.start, ent.end, ent.label_) for ent in doc.ents)))
    return rows


def hf_rows(dataset: datasets.Dataset) -> Rows:
    """(tokens, spans) of each row of a dataset, the tag ids named by its ClassLabel."""
    names = dataset.features["ner_tags"].feature.names
    return [(row["tokens"], tags_to_triples([names[i] for i in row["ner_tags"]])) for row in dataset]


def features(names: list[str]) -> datasets.Features:
    return datasets.Features(
        {
            "id": datasets.Value("string"),
            "tokens": datasets.List(datasets.Value("string")),
            "ner_tags": datasets.List(datasets.ClassLabel(names=names)),
        }
    )


def review(store: Store, position: int, status: ReviewStatus, spans: list[tuple[int, int, str]]) -> None:
    """Record a curated state for target sentence ``position`` of the demo (as the review service would)."""
    with store.transaction() as session:
        sentence = session.scalars(
            select(Sentence).where(Sentence.side == "tgt", Sentence.split == "train", Sentence.position == position)
        ).one()
        session.add(
            ReviewState(
                sentence_id=sentence.id,
                corpus_id=sentence.corpus_id,
                status=status.value,
                spans=[Span(s, e, label) for s, e, label in spans],
            )
        )


def leftovers(folder: Path) -> list[str]:
    """Hidden temporary files or folders an export may have left beside its target."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.fixture
def demo(store: Store) -> Store:
    assert load_demo(store, ready_to_review=False)
    return store


@pytest.mark.parametrize(("side", "source"), [("tgt", "es.conll"), ("src", "en.conll")])
def test_spacy_round_trip_on_the_demo(demo: Store, tmp_path: Path, side: str, source: str) -> None:
    out = tmp_path / "out" / f"{side}.spacy"
    report = export_corpus(demo, DEMO_CORPUS, out, fmt="spacy", side=side)
    expected = conll_source(DEMO / source)
    assert docbin_rows(out) == expected
    assert (report.format, report.sentences, report.entities) == ("spacy", 100, sum(len(s) for _, s in expected))
    assert leftovers(out.parent) == []
    # What `spacy train` does with the file: read it as training examples against a blank pipeline.
    examples = list(Corpus(out)(spacy.blank("en" if side == "src" else "es")))
    assert [len(e.reference.ents) for e in examples] == [len(spans) for _, spans in expected]


@pytest.mark.parametrize(("side", "source"), [("tgt", "es.conll"), ("src", "en.conll")])
def test_hf_round_trip_on_the_demo(demo: Store, tmp_path: Path, side: str, source: str) -> None:
    out = tmp_path / "out" / side
    report = export_corpus(demo, DEMO_CORPUS, out, fmt="hf", side=side)
    loaded = datasets.load_from_disk(str(out))
    assert isinstance(loaded, datasets.DatasetDict) and list(loaded) == ["train"]
    train = loaded["train"]
    assert train.features == features(DEMO_NAMES)
    assert ner_tag_names(["PER", "ORG", "LOC", "DATE"]) == DEMO_NAMES
    assert list(train["id"]) == [str(i) for i in range(100)]
    assert hf_rows(train) == conll_source(DEMO / source)
    assert (report.format, report.sentences) == ("hf", 100)
    assert leftovers(out.parent) == []


def test_curated_spans_and_status_filters(demo: Store, tmp_path: Path) -> None:
    source = conll_source(DEMO / "es.conll")
    review(demo, 0, ReviewStatus.ACCEPTED, source[0][1])
    review(demo, 1, ReviewStatus.CORRECTED, [(0, 2, "MISC")])  # a label the corpus did not have
    review(demo, 2, ReviewStatus.REJECTED, [])
    curated = [source[0], (source[1][0], [(0, 2, "MISC")])]
    statuses = {ReviewStatus.ACCEPTED, ReviewStatus.CORRECTED}

    out = tmp_path / "curated.spacy"
    report = export_corpus(demo, DEMO_CORPUS, out, fmt="spacy", statuses=statuses)
    assert docbin_rows(out) == curated and report.sentences == 2

    report = export_corpus(demo, DEMO_CORPUS, tmp_path / "curated", fmt="hf", statuses=statuses)
    train = datasets.load_from_disk(str(tmp_path / "curated"))["train"]
    assert hf_rows(train) == curated and list(train["id"]) == ["0", "1"]
    assert train.features["ner_tags"].feature.names == ner_tag_names(["DATE", "LOC", "MISC", "ORG", "PER"])

    export_corpus(demo, DEMO_CORPUS, tmp_path / "rest", fmt="hf", statuses={ReviewStatus.UNREVIEWED})
    rest = datasets.load_from_disk(str(tmp_path / "rest"))["train"]
    assert hf_rows(rest) == source[3:] and rest[0]["id"] == "3"


def test_hf_writes_one_dataset_per_split_in_import_order(store: Store, tmp_path: Path) -> None:
    es = DEMO / "es.conll"
    for split in ("train", "validation", "test"):
        import_corpus(store, es, corpus="es", lang="es", split=split)
    source = conll_source(es)

    export_corpus(store, "es", tmp_path / "all", fmt="hf")
    loaded = datasets.load_from_disk(str(tmp_path / "all"))
    assert list(loaded) == ["train", "validation", "test"]
    assert all(hf_rows(loaded[split]) == source for split in loaded)
    assert loaded["test"].split == "test"

    export_corpus(store, "es", tmp_path / "two", fmt="hf", splits=["test", "train"])
    assert list(datasets.load_from_disk(str(tmp_path / "two"))) == ["train", "test"]

    out = tmp_path / "test.spacy"
    assert export_corpus(store, "es", out, fmt="spacy", splits=["test"]).sentences == 100
    assert docbin_rows(out) == source


def test_empty_selection_gives_valid_empty_outputs(demo: Store, tmp_path: Path) -> None:
    accepted = {ReviewStatus.ACCEPTED}  # nothing is reviewed yet
    report = export_corpus(demo, DEMO_CORPUS, tmp_path / "none.spacy", fmt="spacy", statuses=accepted)
    assert report.sentences == 0 and docbin_rows(tmp_path / "none.spacy") == []

    report = export_corpus(demo, DEMO_CORPUS, tmp_path / "none", fmt="hf", statuses=accepted)
    loaded = datasets.load_from_disk(str(tmp_path / "none"))
    assert report.sentences == 0 and list(loaded) == ["train"]
    assert loaded["train"].num_rows == 0 and loaded["train"].features == features(DEMO_NAMES)

    export_corpus(demo, DEMO_CORPUS, tmp_path / "nosplit", fmt="hf", splits=["dev"])  # no such split
    assert list(datasets.load_from_disk(str(tmp_path / "nosplit"))) == []


@pytest.mark.parametrize(("fmt", "name"), [("spacy", "es.spacy"), ("hf", "es")])
def test_a_failed_export_leaves_nothing_and_keeps_the_previous_output(
    demo: Store, tmp_path: Path, fmt: str, name: str
) -> None:
    out = tmp_path / name
    export_corpus(demo, DEMO_CORPUS, out, fmt=fmt)
    before = sorted((p.relative_to(out).as_posix(), p.read_bytes()) for p in out.rglob("*") if p.is_file())
    before = before or [("", out.read_bytes())]

    review(demo, 50, ReviewStatus.CORRECTED, [(0, 2, "PER"), (1, 3, "ORG")])  # overlapping: no format takes it
    with pytest.raises(XnerError, match="overlap"):
        export_corpus(demo, DEMO_CORPUS, out, fmt=fmt)
    after = sorted((p.relative_to(out).as_posix(), p.read_bytes()) for p in out.rglob("*") if p.is_file())
    assert (after or [("", out.read_bytes())]) == before
    with pytest.raises(XnerError, match="overlap"):
        export_corpus(demo, DEMO_CORPUS, tmp_path / "new" / name, fmt=fmt)
    assert not (tmp_path / "new" / name).exists()
    assert leftovers(tmp_path) == leftovers(tmp_path / "new") == []


def test_hf_replaces_a_saved_dataset_but_not_other_folders_or_files(demo: Store, tmp_path: Path) -> None:
    out = tmp_path / "es"
    export_corpus(demo, DEMO_CORPUS, out, fmt="hf")
    export_corpus(demo, DEMO_CORPUS, out, fmt="hf", side="src")  # a saved dataset is replaced
    assert hf_rows(datasets.load_from_disk(str(out))["train"]) == conll_source(DEMO / "en.conll")

    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "keep.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(XnerError, match="not a saved dataset"):
        export_corpus(demo, DEMO_CORPUS, notes, fmt="hf")
    assert [p.name for p in notes.iterdir()] == ["keep.txt"]
    with pytest.raises(XnerError, match="is a file"):
        export_corpus(demo, DEMO_CORPUS, notes / "keep.txt", fmt="hf")
    with pytest.raises(XnerError, match="is a folder"):
        export_corpus(demo, DEMO_CORPUS, notes, fmt="spacy")
    assert leftovers(tmp_path) == []


def test_hf_refuses_a_split_name_datasets_cannot_take(store: Store, tmp_path: Path) -> None:
    import_corpus(store, DEMO / "es.conll", corpus="es", lang="es", split="dev-2")
    with pytest.raises(XnerError, match="'dev-2' cannot name a Hugging Face dataset split"):
        export_corpus(store, "es", tmp_path / "es", fmt="hf")
    assert not (tmp_path / "es").exists() and leftovers(tmp_path) == []


@pytest.mark.parametrize(("fmt", "package"), [("spacy", "spacy"), ("hf", "datasets")])
def test_a_missing_package_is_named(
    demo: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str, package: str
) -> None:
    monkeypatch.setitem(sys.modules, package, None)  # makes `import package` fail
    with pytest.raises(MissingDependencyError, match=f"pip install {package}"):
        export_corpus(demo, DEMO_CORPUS, tmp_path / "out", fmt=fmt)
    assert not (tmp_path / "out").exists() and leftovers(tmp_path) == []


@pytest.mark.slow
def test_yoruba_round_trip_keeps_combining_characters(store: Store, tmp_path: Path) -> None:
    files = {split: shared("masakhaner2", "yor", f"{split}.txt") for split in ("dev", "test")}
    for split, path in files.items():
        import_corpus(store, path, corpus="yor", lang="yor", split=split)
    expected = {split: conll_source(path) for split, path in files.items()}
    tokens = {token for rows in expected.values() for words, _ in rows for token in words}
    # NFC composes what it can; Yoruba's tone marks on dotted vowels (ẹ̀, ọ́) stay combining characters.
    assert any(unicodedata.combining(ch) for token in tokens for ch in token)

    report = export_corpus(store, "yor", tmp_path / "yor", fmt="hf")
    loaded = datasets.load_from_disk(str(tmp_path / "yor"))
    assert list(loaded) == ["dev", "test"]
    assert {split: hf_rows(loaded[split]) for split in loaded} == expected
    assert report.sentences == sum(len(rows) for rows in expected.values())
    labels = {label for rows in expected.values() for _, spans in rows for _, _, label in spans}
    assert loaded["dev"].features["ner_tags"].feature.names == ner_tag_names(labels)

    out = tmp_path / "yor-dev.spacy"
    export_corpus(store, "yor", out, fmt="spacy", splits=["dev"])
    assert docbin_rows(out) == expected["dev"]
