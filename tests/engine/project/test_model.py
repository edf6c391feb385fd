"""The model projection method: candidates from a target-side tagger, matched through the alignment."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from xner.engine.project import PROJECTORS
from xner.errors import XnerError
from xner.types import Sentence, Span


class FixedTagger:
    """A tagger that predicts given spans for a given sentence (the matching is what is tested here)."""

    def __init__(self, spans: dict[str, list[tuple[Span, float]]]) -> None:
        self.spans = spans
        self.calls = 0

    def predict_scored(self, batch: Sequence[Sequence[str]]) -> list[list[tuple[Span, float]]]:
        self.calls += 1
        return [self.spans.get(" ".join(tokens), []) for tokens in batch]


def project(src, spans, tgt, links, tagged, **options):
    projector = PROJECTORS.create("model", options).bind(tagger=FixedTagger({tgt: tagged}))
    tokens = tgt.split()
    result = projector.project(Sentence(tuple(src.split()), tuple(spans)), tokens, links)
    return [(" ".join(p.span.tokens(tokens)), p.span.label, round(p.confidence, 3)) for p in result]


SRC = "President Buhari visited the Kano State government"
TGT = "Shugaba Buhari ya ziyarci gwamnatin jihar Kano"
ENTITIES = [Span(1, 2, "PER"), Span(4, 6, "LOC")]
# the aligner linked "Kano" but missed "State" ↔ "jihar"
LINKS = {(0, 0), (1, 1), (2, 3), (4, 6), (6, 4)}


def test_the_tagger_span_fixes_a_boundary_the_alignment_misses():
    tagged = [(Span(1, 2, "PER"), 0.9), (Span(5, 7, "LOC"), 0.8)]
    assert project(SRC, ENTITIES, TGT, LINKS, tagged, lexical="off") == [
        ("Buhari", "PER", 0.97),  # 0.7 · 1.0 + 0.3 · 0.9
        ("jihar Kano", "LOC", 0.59),  # 0.7 · (1 + 1) / (2 + 2) + 0.3 · 0.8 beats "Kano": 0.7 · (1 + 1) / (2 + 1)
    ]
    # without the tagger's weight the n-gram candidate "Kano" wins, as in the ngram method
    assert project(SRC, ENTITIES, TGT, LINKS, tagged, lexical="off", model_weight=0)[1][0] == "Kano"


def test_model_only_candidates_skip_entities_the_tagger_missed():
    tagged = [(Span(5, 7, "LOC"), 0.8)]
    assert project(SRC, ENTITIES, TGT, LINKS, tagged, lexical="off", candidates="model") == [
        ("jihar Kano", "LOC", 0.59)
    ]
    # the hybrid still projects Buhari from its n-gram candidate
    assert [p[0] for p in project(SRC, ENTITIES, TGT, LINKS, tagged, lexical="off")] == ["Buhari", "jihar Kano"]


def test_a_tagger_span_of_another_label_or_without_links_earns_no_model_score():
    tagged = [(Span(5, 7, "ORG"), 0.99), (Span(2, 3, "PER"), 0.99)]  # wrong label; "ya" has no link to Buhari
    assert project(SRC, ENTITIES, TGT, LINKS, tagged, lexical="off") == [
        ("Buhari", "PER", 0.7),
        ("Kano", "LOC", 0.467),
    ]


def test_the_tagger_runs_once_per_sentence_and_is_required():
    tagger = FixedTagger({})
    projector = PROJECTORS.create("model").bind(tagger=tagger)
    projector.project(Sentence(tuple(SRC.split()), tuple(ENTITIES)), TGT.split(), LINKS)
    assert tagger.calls == 1
    with pytest.raises(XnerError, match="needs a tagger"):
        PROJECTORS.create("model").project(Sentence(tuple(SRC.split()), tuple(ENTITIES)), TGT.split(), LINKS)
    with pytest.raises(XnerError, match="model_weight"):
        PROJECTORS.create("model", {"model_weight": "1.5"})
