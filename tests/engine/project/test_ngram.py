"""Candidate extraction + matching on hand-made cases with known answers."""

from __future__ import annotations

import pytest

from xner.engine.project import PROJECTORS
from xner.engine.project.lexical import lexical_links
from xner.types import Sentence, Span


def project(src: str, spans: list[Span], tgt: str, links: set[tuple[int, int]], **options):
    sentence = Sentence(tuple(src.split()), tuple(spans))
    tokens = tgt.split()
    result = PROJECTORS.create("ngram", options).project(sentence, tokens, links)
    return [(" ".join(p.span.tokens(tokens)), p.span.label, p.confidence) for p in result]


def test_crossing_links_give_the_whole_candidate_full_confidence():
    assert project("European Parliament", [Span(0, 2, "ORG")], "Parlamento Europeo", {(0, 1), (1, 0)}) == [
        ("Parlamento Europeo", "ORG", 1.0)
    ]


def test_an_unlinked_token_at_the_edge_is_not_included():
    # "el" is linked too (a noisy link) but only from the first token: [el Parlamento Europeo] scores
    # (2 + 3) / 5 = 1.0 vs (2 + 2) / 4 = 1.0 -> tie broken towards the longer; with the paper's links score
    # the same; so make the noise partial: "el" linked from a token outside the entity
    assert project(
        "the European Parliament", [Span(1, 3, "ORG")], "el Parlamento Europeo", {(0, 0), (1, 2), (2, 1)}
    ) == [("Parlamento Europeo", "ORG", 1.0)]


def test_greedy_and_optimal_matching_differ_as_expected():
    # e1 = "Kano" (one token) is linked to target 1; e2 = "Abuja City" to targets 1 and 2.
    # greedy takes the best pair first: e2 → [1, 3) (score 1.0, longer than e1's equal-scoring [1, 2)), and e1's
    # only candidate now overlaps it. optimal maximises the total: e1 → [1, 2) (1.0) + e2 → [2, 3) (2/3).
    args = ("Kano Abuja City", [Span(0, 1, "LOC"), Span(1, 3, "LOC")], "x Kano Abuja", {(0, 1), (1, 1), (2, 2)})
    assert project(*args) == [("Kano Abuja", "LOC", 1.0)]
    assert project(*args, matching="optimal") == [("Kano", "LOC", 1.0), ("Abuja", "LOC", pytest.approx(2 / 3))]


def test_chosen_candidates_never_overlap_and_each_entity_is_used_once():
    spans = [Span(0, 1, "PER"), Span(2, 3, "ORG"), Span(4, 5, "LOC")]
    links = {(0, 0), (0, 1), (2, 1), (2, 2), (4, 2), (4, 3)}
    for matching in ("greedy", "optimal"):
        result = PROJECTORS.create("ngram", {"matching": matching}).project(
            Sentence(("Musa", "of", "APC", "in", "Kano"), tuple(spans)), ["a", "b", "c", "d"], links
        )
        chosen = [p.span for p in result]
        assert all(not a.overlaps(b) for a in chosen for b in chosen if a is not b)
        assert len({p.src_span for p in result}) == len(result)


def test_lexical_links_rescue_an_unaligned_name():
    args = ("Hicks was executed in Texas", [Span(0, 1, "PER"), Span(4, 5, "LOC")], "Hicks wurde in Texas hingerichtet")
    assert project(*args, {(4, 3)}) == [("Hicks", "PER", 1.0), ("Texas", "LOC", 1.0)]
    assert project(*args, {(4, 3)}, lexical="off") == [("Texas", "LOC", 1.0)]


def test_lexical_links_match_folded_forms_and_prefixes_but_not_short_words():
    links = lexical_links(
        ["Ọ̀yọ́", "State", "of", "de", "Europe"],
        [0, 1, 3, 4],
        ["Oyo", "states", "de", "Europas", "delegates"],
    )
    # Ọ̀yọ́ ↔ Oyo (diacritics folded), State ↔ states (prefix), de ↔ de (exact, short: never by prefix),
    # Europe ↔ Europas (prefix); "de" does not reach "delegates"
    assert links == {(0, 0), (1, 1), (3, 2), (4, 3)}


def test_candidates_do_not_start_or_end_on_punctuation_unless_allowed():
    args = ("the CEN", [Span(1, 2, "ORG")], "( CEN )", {(1, 0), (1, 1), (1, 2)})
    assert project(*args, lexical="off") == [("CEN", "ORG", 1.0)]
    assert project(*args, lexical="off", punctuation_edges="true") == [("( CEN )", "ORG", 1.0)]


def test_candidates_longer_than_max_length_are_not_considered():
    tokens = [f"w{k}" for k in range(14)]
    entity = Span(0, 1, "LOC")
    for max_length, longest in ((10, 1), (13, 13)):
        projector = PROJECTORS.create("ngram", {"max_length": max_length, "lexical": "off"})
        candidates = {(start, end) for _, _, start, end in projector._scored([entity], tokens, {(0, 0), (0, 12)})}
        # candidates start and end on linked tokens: [0, 1), [12, 13) and, when long enough, [0, 13)
        assert candidates == {(0, 1), (12, 13)} | ({(0, 13)} if longest == 13 else set())


def test_min_score_and_the_papers_links_score():
    args = ("New York City", [Span(0, 3, "LOC")], "Nueva York", {(1, 1)})
    assert project(*args, lexical="off") == [("York", "LOC", 0.5)]  # coverage: (1 + 1) / (3 + 1)
    assert project(*args, lexical="off", min_score=0.5) == []
    assert project(*args, lexical="off", score="links") == [("York", "LOC", 0.5)]  # 2 * 1 / (3 + 1)
