"""EasyProject (marker-based projection): marking and reading back, label recovery, locating spans in a given
target, the translate-train path with markers, and the method run through `xner project` on a tiny NLLB model.

Without EasyProject's marker model (no model hub here), the translations with markers that exercise the logic on
real data are references: the German (or Spanish) gold sentence with its own gold entities between markers, i.e.
what a perfect marker-preserving translation would return."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import pytest

from tests.conftest import DEMO, shared, write
from tests.tiny_models import build_tiny_nllb, one_torch_thread
from xner.engine.project import PROJECTORS
from xner.engine.translate import TRANSLATORS
from xner.engine.translate.markers import mark, read_marked, recover_labels, similarity, strip_markers
from xner.errors import InputError, UnknownNameError, XnerError
from xner.evaluation import SpanScores
from xner.formats.conll import read_conll
from xner.formats.parallel import SideOptions
from xner.services.corpora import get_corpus
from xner.services.evaluating import evaluate_projection
from xner.services.importing import import_corpus, import_parallel
from xner.services.pairs import iter_pairs
from xner.services.projecting import project_corpus
from xner.services.translating import translate_corpus
from xner.store.queries.projections import projected_spans
from xner.text import detokenize
from xner.types import Sentence, Span

# --- marking and reading back --------------------------------------------------------------------------------


def test_mark_then_read_gives_back_the_entities_of_real_sentences():
    sentences = list(read_conll(DEMO / "en.conll")) + list(read_conll(DEMO / "es.conll"))
    assert len(sentences) == 200 and any(sentence.spans for sentence in sentences)
    for sentence in sentences:
        marked = read_marked(mark(sentence.tokens, sentence.spans))
        assert len(marked.spans) == len(sentence.spans)
        for (start, end), span in zip(marked.spans, sentence.spans, strict=True):
            # the tokenizer may split an abbreviation differently ("St." vs "St ."), never the entity's text
            assert "".join(marked.tokens[start:end]) == "".join(sentence.tokens[span.start : span.end])


@pytest.mark.parametrize(
    ("text", "tokens", "spans"),
    [
        ("[ Obama ] visited [ Lagos ].", ("Obama", "visited", "Lagos", "."), ((0, 1), (2, 3))),
        ("[[Obama]] visited 《Lagos》.", ("Obama", "visited", "Lagos", "."), ((0, 1), (2, 3))),  # model variants
        ("Obama ] visited [ Lagos", ("Obama", "visited", "Lagos"), ()),  # unbalanced: dropped
        ("[ ] Obama [ [ Lagos ]", ("Obama", "Lagos"), ((1, 2),)),  # empty and restarted markers
        ("no markers at all", ("no", "markers", "at", "all"), ()),
    ],
)
def test_read_marked_is_robust_to_what_models_write(text, tokens, spans):
    marked = read_marked(text)
    assert (marked.tokens, marked.spans) == (tokens, spans)
    assert strip_markers(text).split() == [t for t in strip_markers(text).split()]


def test_similarity():
    assert similarity("Lagos", "lagos") == 1.0
    assert similarity("Europäischen Parlament", "European Parliament") > 0.7
    assert similarity("", "x") == 0.0
    assert similarity("Obama", "Kohäsionsfonds") < 0.3


# --- label recovery ------------------------------------------------------------------------------------------


def test_labels_follow_the_strings_when_the_translation_reorders_the_entities():
    entities = ["Barack Obama", "White House"]
    assert recover_labels(["Casa Blanca", "Barack Obama"], entities, ["Barack Obama", "Casa Blanca"]) == [
        (1, 1.0),
        (0, 1.0),
    ]
    # without the entities' own translations, the copied name still anchors the assignment
    found = recover_labels(["Casa Blanca", "Barack Obama"], entities)
    assert [f[0] if f else None for f in found] == [1, 0]


def test_same_count_keeps_the_order_rule_for_dissimilar_spans():
    found = recover_labels(["Ìjọba", "Èkó"], ["Government", "Lagos"])
    assert [f[0] for f in found] == [0, 1]  # nothing alike: EasyProject's order
    assert found[0][1] < 0.5


def test_extra_or_missing_spans():
    entities = ["Angela Merkel", "Berlin"]
    assert recover_labels(["Merkel"], entities)[0][0] == 0
    found = recover_labels(["Angela Merkel", "Berlin", "xyz"], entities)
    assert [f[0] if f else None for f in found] == [0, 1, None]
    assert recover_labels([], entities) == [] and recover_labels(["a"], []) == [None]


# --- the method on real data, with reference translations ----------------------------------------------------


@dataclass
class ReferenceTranslator:
    """Returns the reference translation of each known text: a stand-in for a perfect marker model."""

    name: ClassVar[str] = "reference"
    table: ClassVar[dict[str, str]] = {}
    model: str = ""
    device: str = ""
    batch_size: int = 0
    num_beams: int = 0
    max_length: int = 0

    def translate(self, texts: Sequence[str], *, src_lang: str, tgt_lang: str, on_progress=None) -> list[str]:
        return [self.table.get(text, text) for text in texts]


@pytest.fixture
def reference_translator():
    TRANSLATORS.register("reference")(ReferenceTranslator)
    yield ReferenceTranslator.table
    ReferenceTranslator.table.clear()
    del TRANSLATORS["reference"]


def _references(src_file, tgt_file) -> tuple[list, list, dict[str, str]]:
    sources, targets = list(read_conll(src_file)), list(read_conll(tgt_file))
    table = {mark(s.tokens, s.spans): mark(t.tokens, t.spans) for s, t in zip(sources, targets, strict=True)}
    return sources, targets, table


def test_easyproject_onto_the_german_europarl_gold(reference_translator):
    """English gold → marked reference German → located in the German tokens: span F1 against the German gold."""
    sources, targets, table = _references(
        shared("europarl_ner_ixa", "en-europarl.test.conll02"), shared("europarl_ner_ixa", "de-europarl.test.conll02")
    )
    reference_translator.update(table)
    method = PROJECTORS.create(
        "easyproject", {"translator": "reference", "entity_translations": "false", "src_lang": "en", "tgt_lang": "de"}
    )
    scores = SpanScores()
    projected = method.project_batch(sources, [t.tokens for t in targets], [()] * len(sources))
    for spans, target in zip(projected, targets, strict=True):
        scores.add([p.span for p in spans], target.spans, ["PER", "ORG", "LOC"])
    # spans come back exactly; what is lost is labels the string match and order rule recover wrongly
    assert scores.f1() > 0.85
    assert all(p.method == "easyproject" and 0 <= p.confidence <= 1 for spans in projected for p in spans)


def test_easyproject_through_project_and_eval(store, reference_translator):
    """The same commands as the other methods: `project --method easyproject`, then `eval projection`."""
    _, _, table = _references(DEMO / "en.conll", DEMO / "es.conll")
    reference_translator.update(table)
    import_parallel(
        store, DEMO / "en.conll", DEMO / "es.conll", corpus="demo", src=SideOptions("en"), tgt=SideOptions("es")
    )
    report = project_corpus(store, "demo", method="easyproject", options={"translator": "reference"})
    assert report.alignment_run is None and report.params["src_lang"] == "en" and report.params["tgt_lang"] == "es"
    scores = evaluate_projection(store, "demo").scores["overall"]
    assert scores["support"] == 217 and scores["f1"] > 0.9


def test_translate_train_with_marked_translations_from_a_file(store, tmp_path):
    """translate-train with markers, offline: a file of marked translations (here the Spanish demo's own gold)."""
    import_corpus(store, DEMO / "en.conll", corpus="en", lang="en", split="train")
    spanish = list(read_conll(DEMO / "es.conll"))
    path = write(tmp_path / "marked.es.txt", "".join(mark(s.tokens, s.spans) + "\n" for s in spanish))
    report = translate_corpus(store, "en", new_corpus="en-es", to_lang="es", translations=path, markers=True)
    assert report.translator == "imported+markers" and report.projection_run is not None
    assert sum(report.entities.values()) == 217
    with store.session() as session:
        found = get_corpus(session, "en-es")
        pairs = list(iter_pairs(session, found))
        spans = projected_spans(session, report.projection_run, [p.pair_id for p in pairs])
    assert [" ".join(p.tgt_tokens) for p in pairs][:2] == [detokenize(s.tokens).replace(".", " .") for s in spanish][:2]
    scores = SpanScores()
    for pair, gold in zip(pairs, spanish, strict=True):
        texts = {(" ".join(pair.tgt_tokens[s.start : s.end]), s.label) for s in spans[pair.pair_id]}
        expected = {(" ".join(gold.tokens[s.start : s.end]), s.label) for s in gold.spans}
        as_spans = [[Span(0, 1, f"{label}|{text}") for text, label in found] for found in (texts, expected)]
        scores.add(*as_spans)
    assert scores.f1() > 0.9


def test_marked_translations_file_errors(store, tmp_path):
    import_corpus(store, DEMO / "en.conll", corpus="en", lang="en", split="train")
    short = write(tmp_path / "short.txt", "[ Pedro Sánchez ] se reunió .\n")
    with pytest.raises(InputError, match=r"short.txt:1: only 1 translations for 100 sentences"):
        translate_corpus(store, "en", new_corpus="x", to_lang="es", translations=short, markers=True)
    empty = write(tmp_path / "empty.txt", "[ ]\n")
    with pytest.raises(InputError, match=r"empty.txt:1: empty translation"):
        translate_corpus(store, "en", new_corpus="x", to_lang="es", translations=empty, markers=True)
    with pytest.raises(XnerError, match=r"markers .* go with translate-train"):
        translate_corpus(store, "en", new_corpus="x", mode="test", translations=empty, markers=True)


def test_easyproject_options_are_checked():
    with pytest.raises(UnknownNameError, match="translator 'deepl'"):
        PROJECTORS.create("easyproject", {"translator": "deepl"})
    with pytest.raises(XnerError, match="min_similarity must be in"):
        PROJECTORS.create("easyproject", {"min_similarity": "2"})
    with pytest.raises(XnerError, match="needs the languages"):
        PROJECTORS.create("easyproject").translate_marked([Sentence(("a",))])


# --- the real code path on a tiny random NLLB model -----------------------------------------------------------


def test_easyproject_with_a_tiny_nllb_model(store, tmp_path):
    """Random weights keep no markers, so little or nothing is projected; the run is stored like any other."""
    texts = [detokenize(s.tokens) for s in read_conll(DEMO / "en.conll")]
    with one_torch_thread():
        model = build_tiny_nllb(tmp_path / "nllb", texts)
        options = {"model": model, "device": "cpu", "num_beams": "1", "max_length": "12"}
        import_parallel(
            store, DEMO / "en.conll", DEMO / "es.conll", corpus="demo", src=SideOptions("en"), tgt=SideOptions("es")
        )
        report = project_corpus(store, "demo", method="easyproject", options=options)
        import_corpus(store, DEMO / "en.conll", corpus="en", lang="en", split="train")
        translated = translate_corpus(store, "en", new_corpus="en-yo", to_lang="yor", options=options, markers=True)
    assert report.pairs == 100 and translated.pairs == 100 and translated.projection_run is not None
    assert translated.params["model"] == model


def test_marked_translations_of_a_second_split_project_onto_its_own_pairs(store, tmp_path):
    """A corpus translated split by split: the second split's marker entities go to the second split's pairs."""
    for split in ("train", "dev"):
        import_corpus(store, DEMO / "en.conll", corpus="en", lang="en", split=split)
    spanish = list(read_conll(DEMO / "es.conll"))
    path = write(tmp_path / "marked.es.txt", "".join(mark(s.tokens, s.spans) + "\n" for s in spanish))
    reports = [
        translate_corpus(store, "en", new_corpus="en-es", to_lang="es", translations=path, markers=True, splits=[split])
        for split in ("train", "dev")
    ]
    with store.session() as session:
        found = get_corpus(session, "en-es")
        by_split = {split: list(iter_pairs(session, found, splits=[split])) for split in ("train", "dev")}
        projected = [
            projected_spans(session, report.projection_run, [p.pair_id for p in by_split[split]])
            for report, split in zip(reports, ("train", "dev"), strict=True)
        ]
    assert [sum(r.entities.values()) for r in reports] == [217, 217]
    for spans in projected:  # the same spans on the same sentences, split by split
        assert sum(len(found) for found in spans.values()) == 217
    train_spans = [projected[0][p.pair_id] for p in by_split["train"]]
    dev_spans = [projected[1][p.pair_id] for p in by_split["dev"]]
    assert train_spans == dev_spans
