"""Every MasakhaNER 2.0 split, CoNLL-2003 and the Europarl parallel NER gold through import, stats and export.

Counts are computed independently of xner's readers, straight from the file text, so that a reader bug cannot
hide behind itself. Each file is exported and re-imported; the second import must equal the first.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import SHARED_DATA, shared
from xner.formats.conll import ConllOptions
from xner.formats.parallel import SideOptions
from xner.services.corpora import corpus_stats
from xner.services.exporting import export_corpus
from xner.services.importing import import_alignments, import_corpus, import_parallel
from xner.store.db import Store
from xner.store.models import Entity, Sentence

MASAKHANER = sorted(
    f"masakhaner2/{lang.name}/{split.name}"
    for lang in (SHARED_DATA / "masakhaner2").glob("*")
    if lang.is_dir()
    for split in lang.glob("*.txt")
) or ["masakhaner2/yor/train.txt"]  # keeps one (skipping) case when the data is absent
CONLL2003 = [f"conll2003_en/{s}.txt" for s in ("train", "dev", "test")] + [
    f"conll2003_en_with_misc/en.conll.{s}.tsv" for s in ("train", "dev", "test")
]


def count_file(path: Path) -> tuple[int, Counter[str]]:
    """Sentences and entities per label, read from the raw text: an entity starts at every B- tag and at every
    I- tag that does not continue an entity of its label (IOB1 style)."""
    sentences, entities = 0, Counter()
    previous, in_sentence = "O", False
    for line in path.read_text(encoding="utf-8").splitlines():
        columns = line.split()
        if not columns or columns[0] == "-DOCSTART-":
            sentences += in_sentence
            previous, in_sentence = "O", False
            continue
        in_sentence = True
        tag = columns[-1]
        if tag.startswith("B-") or (tag.startswith("I-") and previous[2:] != tag[2:]):
            entities[tag[2:]] += 1
        previous = tag
    return sentences + in_sentence, entities


def spans_by_position(store: Store, corpus: str) -> list[tuple[tuple[str, ...], tuple]]:
    """(tokens, sorted spans) of every sentence of a corpus, in import order."""
    with store.session() as session:
        rows = session.execute(
            select(Sentence.id, Sentence.tokens)
            .join(Sentence.corpus)
            .where(Sentence.corpus.has(name=corpus))
            .order_by(Sentence.split, Sentence.side, Sentence.position)
        ).all()
        spans: dict[int, list] = {}
        for sid, start, end, label in session.execute(
            select(Entity.sentence_id, Entity.start, Entity.end, Entity.label).where(
                Entity.sentence_id.in_([r[0] for r in rows])
            )
        ):
            spans.setdefault(sid, []).append((start, end, label))
    return [(tuple(tokens), tuple(sorted(spans.get(sid, [])))) for sid, tokens in rows]


@pytest.mark.slow
@pytest.mark.parametrize("relative", MASAKHANER + CONLL2003)
def test_import_counts_and_round_trip(store: Store, tmp_path: Path, relative: str) -> None:
    path = shared(*relative.split("/"))
    expected_sentences, expected_entities = count_file(path)
    lang = "en" if "conll2003" in relative else relative.split("/")[1]

    report = import_corpus(store, path, corpus="real", lang=lang, split="train")

    stats = corpus_stats(store, "real")
    assert report.sentences == expected_sentences == stats.sentences["train/mono"]
    assert stats.entities == dict(expected_entities)
    assert stats.review["unreviewed"] == expected_sentences

    exported = tmp_path / "exported.conll"
    export_report = export_corpus(store, "real", exported, fmt="conll")
    assert export_report.sentences == expected_sentences
    import_corpus(store, exported, corpus="again", lang=lang, split="train", options=ConllOptions(scheme="iob2"))
    assert spans_by_position(store, "again") == spans_by_position(store, "real")


@pytest.mark.slow
def test_jsonl_round_trip_keeps_yoruba_tokens_and_spans(store: Store, tmp_path: Path) -> None:
    path = shared("masakhaner2", "yor", "dev.txt")
    import_corpus(store, path, corpus="yor", lang="yor")
    out = tmp_path / "yor.jsonl"
    export_corpus(store, "yor", out, fmt="jsonl")
    import_corpus(store, out, corpus="yor-jsonl", lang="yor", fmt="jsonl")
    assert spans_by_position(store, "yor-jsonl") == spans_by_position(store, "yor")
    # Yoruba tone marks arrive as combining characters; xner stores every token composed (NFC).
    raw = {line.split()[0] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}
    decomposed = {t for t in raw if unicodedata.normalize("NFC", t) != t}
    tokens = {t for tokens, _ in spans_by_position(store, "yor") for t in tokens}
    assert decomposed, "the file should contain decomposed tokens"
    assert all(unicodedata.normalize("NFC", t) == t for t in tokens)
    assert {unicodedata.normalize("NFC", t) for t in decomposed} <= tokens


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["de", "es", "it"])
def test_europarl_parallel_gold_imports_both_sides(store: Store, lang: str) -> None:
    src = shared("europarl_ner_ixa", "en-europarl.test.conll02")
    tgt = shared("europarl_ner_ixa", f"{lang}-europarl.test.conll02")
    src_sentences, src_entities = count_file(src)
    tgt_sentences, tgt_entities = count_file(tgt)

    report = import_parallel(
        store, src, tgt, corpus=f"europarl-en-{lang}", src=SideOptions("en"), tgt=SideOptions(lang), split="test"
    )

    stats = corpus_stats(store, f"europarl-en-{lang}")
    assert report.pairs == src_sentences == tgt_sentences == 799
    assert stats.pairs == 799
    assert stats.entities == dict(src_entities + tgt_entities)
    assert stats.labels == ["LOC", "MISC", "ORG", "PER"]


@pytest.mark.slow
@pytest.mark.parametrize("pair", ["enfr", "roen"])
def test_gold_alignments_import_one_based_with_possible_links(store: Store, pair: str) -> None:
    text = shared("alignment_gold_awesome", f"{pair}.src-tgt")
    gold = shared("alignment_gold_awesome", f"{pair}.gold")
    src, tgt = pair[:2], pair[2:]
    import_parallel(
        store,
        text,
        None,
        corpus=pair,
        src=SideOptions(src, pretokenized=True),
        tgt=SideOptions(tgt, pretokenized=True),
        split="test",
    )
    report = import_alignments(store, gold, corpus=pair, aligner="gold", index_base=1)
    assert report.pairs == len(gold.read_text(encoding="utf-8").splitlines())
