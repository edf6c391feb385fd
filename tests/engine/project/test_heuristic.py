"""The heuristic projection on the documented cases, each with its known answer.

The expected spans follow Easy-Label-Projection's published algorithm (the reference defaults), including its
quirks; the paper's variant and the alternative options are checked where they differ.
"""

from __future__ import annotations

import pytest

from xner.engine.project import PROJECTORS
from xner.engine.project.heuristic import HeuristicProjector
from xner.errors import UnknownNameError, XnerError
from xner.types import Sentence, Span


def project(src_tokens: str, spans: list[Span], tgt_tokens: str, links: str, **options) -> list[tuple[str, str]]:
    """(target text, label) of each projected span, in target order."""
    src = Sentence(tuple(src_tokens.split()), tuple(spans))
    tgt = tgt_tokens.split()
    pairs = {(int(i), int(j)) for i, j in (item.split("-") for item in links.split())}
    projected = PROJECTORS.create("heuristic", options).project(src, tgt, pairs)
    return [(" ".join(p.span.tokens(tgt)), p.span.label) for p in projected]


def test_one_to_many_links_project_onto_every_linked_token():
    # "Obama" is linked to both target tokens of "Barack Obama"
    assert project("Obama spoke", [Span(0, 1, "PER")], "Barack Obama habló", "0-0 0-1 1-2") == [("Barack Obama", "PER")]


def test_crossing_links_inside_an_entity_keep_the_whole_run():
    assert project(
        "the European Parliament met", [Span(1, 3, "ORG")], "el Parlamento Europeo se reunió", "0-0 1-2 2-1 3-4"
    ) == [("Parlamento Europeo", "ORG")]


def test_unaligned_entity_is_not_projected_and_partly_aligned_entity_projects_its_linked_part():
    assert project("Hicks visited Texas", [Span(0, 1, "PER"), Span(2, 3, "LOC")], "Hicks besuchte Texas", "1-1") == []
    assert project("Plooij-van Gorsel spoke", [Span(0, 2, "PER")], "Plooij-van Gorsel sprach", "0-0 2-2") == [
        ("Plooij-van", "PER")
    ]


def test_entity_at_sentence_end():
    assert project(
        "we thank Commissioner Prodi", [Span(3, 4, "PER")], "wir danken Kommissar Prodi", "0-0 1-1 2-2 3-3"
    ) == [("Prodi", "PER")]


def test_split_entity_with_a_one_token_gap_is_merged():
    # links to tokens 1 and 3: the gap token 2 is filled
    assert project(
        "the Committee on Transport met", [Span(1, 4, "ORG")], "der Ausschuss für Verkehr tagte", "1-1 3-3"
    ) == [("Ausschuss für Verkehr", "ORG")]


def test_larger_gaps_keep_the_largest_run_and_the_first_of_equal_runs():
    # runs [1] and [4] (gap 2): not merged, equal length → the first
    assert project("New York is big", [Span(0, 2, "LOC")], "a b c d e", "0-1 1-4") == [("b", "LOC")]
    # runs [1] and [4, 5]: the longer wins
    assert project("New York City", [Span(0, 3, "LOC")], "a b c d e f", "0-1 1-4 2-5") == [("e f", "LOC")]


def test_reference_merge_rule_depends_on_the_merged_length_and_gap_rule_on_the_gap():
    # runs [0, 1] and [3]: gap of one token but the merged run would span 4 > 3 tokens → not merged by reference
    args = ("United Nations Economic Commission", [Span(0, 4, "ORG")], "a b c d e", "0-0 1-1 3-3")
    assert project(*args) == [("a b", "ORG")]
    assert project(*args, merge_rule="gap") == [("a b c d", "ORG")]
    assert project(*args, merge_distance=2) == [("a b c d", "ORG")]


def test_colliding_entities_of_the_same_label_merge():
    spans = [Span(0, 1, "LOC"), Span(2, 3, "LOC")]
    assert project("Belgium and Netherlands", spans, "Benelux", "0-0 2-0") == [("Benelux", "LOC")]


def test_colliding_entities_of_different_labels_keep_the_longer_and_the_later_on_a_tie():
    spans = [Span(0, 2, "ORG"), Span(3, 4, "LOC")]
    # ORG projects onto "a b", LOC onto "b": overlap, ORG longer
    assert project("Social Fund in Europe", spans, "a b c", "0-0 1-1 3-1") == [("a b", "ORG")]
    # equal length: the later one (LOC) wins
    assert project("Fund in Europe", [Span(0, 1, "ORG"), Span(2, 3, "LOC")], "a b c", "0-1 2-1") == [("b", "LOC")]


def test_crossing_entities_count_as_a_collision_in_the_reference_only():
    # "Texas" (LOC) and "Hicks" (PER) appear in the other order in the target: disjoint, but the reference's
    # neighbour test (previous end >= next start) fires and the later of two equal-length projections wins
    args = ("Texas executed Hicks", [Span(0, 1, "LOC"), Span(2, 3, "PER")], "Hicks wurde in Texas hingerichtet")
    assert project(*args, "0-3 2-0") == [("Hicks", "PER")]
    assert project(*args, "0-3 2-0", collisions="overlap") == [("Hicks", "PER"), ("Texas", "LOC")]


def test_crossing_entities_of_the_same_label_merge_into_two_spans_read_back_from_the_tags():
    # same label, swapped order: the reference merges the id lists [3] + [0] → [0, 3]; the tags B-LOC at 0 and
    # I-LOC at 3 read back (as seqeval does) as two single-token spans
    args = ("Texas and Ohio", [Span(0, 1, "LOC"), Span(2, 3, "LOC")], "Ohio und dann Texas", "0-3 2-0")
    assert project(*args) == [("Ohio", "LOC"), ("Texas", "LOC")]


def test_links_to_punctuation_are_ignored_and_punctuation_only_links_project_nothing():
    assert project("Mr Prodi ,", [Span(1, 2, "PER")], "Herr Prodi ,", "0-0 1-1 1-2") == [("Prodi", "PER")]
    assert project("Mr Prodi said", [Span(1, 2, "PER")], "Herr , sagte", "0-0 1-1 2-2") == []
    # kept when punctuation is not dropped; Unicode quotes only count as punctuation with punctuation=unicode
    assert project("Mr Prodi said", [Span(1, 2, "PER")], "Herr , sagte", "1-1", drop_punctuation="false") == [
        (",", "PER")
    ]
    assert project("the Prodi", [Span(1, 2, "PER")], "« Prodi", "1-0 1-1") == [("« Prodi", "PER")]
    assert project("the Prodi", [Span(1, 2, "PER")], "« Prodi", "1-0 1-1", punctuation="unicode") == [("Prodi", "PER")]


def test_paper_variant_shortest_first_skips_overlaps_and_drops_short_runs():
    paper = {"order": "shortest_first", "length_ratio_threshold": "0.8", "collisions": "first_wins"}
    spans = [Span(0, 2, "ORG"), Span(3, 4, "LOC")]
    # the shorter LOC is placed first, so the ORG projection that overlaps it is skipped
    assert project("Social Fund in Europe", spans, "a b c", "0-0 1-1 3-1", **paper) == [("b", "LOC")]
    # a 3-token entity projected onto one token: ratio 1/3 <= 0.8 → dropped
    assert project("New York City", [Span(0, 3, "LOC")], "a b c", "2-1", **paper) == []


def test_projection_carries_confidence_source_entity_and_links():
    src = Sentence(("the", "European", "Parliament"), (Span(1, 3, "ORG"),))
    [full] = HeuristicProjector().project(src, ["el", "Parlamento", "Europeo"], {(0, 0), (1, 2), (2, 1)})
    assert (full.span, full.method, full.confidence, full.src_span) == (
        Span(1, 3, "ORG"),
        "heuristic",
        1.0,
        src.spans[0],
    )
    assert full.links == ((1, 2), (2, 1))
    [partial] = HeuristicProjector().project(src, ["el", "Parlamento", "Europeo"], {(2, 1)})
    assert partial.span == Span(1, 2, "ORG")
    assert partial.confidence == pytest.approx(2 / 3, abs=1e-4)  # Parliament and Parlamento linked, European not


def test_links_beyond_the_target_sentence_are_ignored():
    assert project("Prodi spoke", [Span(0, 1, "PER")], "Prodi", "0-0 0-5") == [("Prodi", "PER")]


def test_options_are_checked_by_name_and_value():
    with pytest.raises(UnknownNameError, match="merge_distance"):
        PROJECTORS.create("heuristic", {"merge_distanse": "2"})
    with pytest.raises(UnknownNameError, match="first_wins"):
        PROJECTORS.create("heuristic", {"collisions": "biggest"})
    with pytest.raises(XnerError, match="number"):
        PROJECTORS.create("heuristic", {"merge_distance": "two"})
    with pytest.raises(UnknownNameError, match="heuristic"):
        PROJECTORS.create("heuristics")
