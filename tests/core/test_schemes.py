"""Tagging schemes: decoding (strict and lenient), encoding, IOB1 repair and round trips, as parametrized tables.

Expected spans are written by hand from the scheme definitions (IOB2: ``B-`` starts, ``I-`` continues; IOB1: an
``I-`` may start a span, ``B-`` only separates two adjacent spans of one label; BIOES/BILOU: ``E-``/``L-`` ends and
``S-``/``U-`` is a single-token span).
"""

from __future__ import annotations

import pytest

from xner.errors import UnknownNameError, XnerError
from xner.schemes import TagError, decode_tags, get_scheme, iob1_to_iob2, spans_to_tags, split_tag, tags_to_spans
from xner.types import Span

PER, ORG, LOC, DATE = "PER", "ORG", "LOC", "DATE"

# "Ọ̀gbẹ́ni Bọ́lá Tinúbú lọ sí Èkó ní ọjọ́ Ajé" and friends: one tag per token.
IOB2_CASES = [
    pytest.param([], [], id="empty"),
    pytest.param(["O", "O", "O"], [], id="all-outside"),
    pytest.param(["B-PER"], [Span(0, 1, PER)], id="single-token"),
    pytest.param(
        ["O", "B-PER", "I-PER", "O", "O", "B-LOC", "O", "B-DATE", "I-DATE"],
        [Span(1, 3, PER), Span(5, 6, LOC), Span(7, 9, DATE)],
        id="yoruba-sentence",
    ),
    pytest.param(["B-PER", "B-PER", "I-PER"], [Span(0, 1, PER), Span(1, 3, PER)], id="adjacent-same-label"),
    pytest.param(["B-ORG", "I-ORG", "B-LOC"], [Span(0, 2, ORG), Span(2, 3, LOC)], id="adjacent-other-label"),
    pytest.param(["O", "B-LOC", "I-LOC", "I-LOC"], [Span(1, 4, LOC)], id="span-at-sentence-end"),
    pytest.param(["B-WORK-OF-ART", "I-WORK-OF-ART"], [Span(0, 2, "WORK-OF-ART")], id="label-with-hyphens"),
]


@pytest.mark.parametrize(("tags", "spans"), IOB2_CASES)
@pytest.mark.parametrize("scheme", ["auto", "iob2", "iob1"])
def test_iob2_sequences_decode_strictly_without_repair(tags, spans, scheme):
    assert tags_to_spans(tags, scheme, strict=True) == spans
    assert decode_tags(tags, scheme) == (spans, 0)


# IOB1 sequences: spans may start with I-. Under "auto" each such start counts as a repair; under "iob1" it is the
# scheme's own definition, so nothing is counted.
IOB1_CASES = [
    pytest.param(["I-PER", "I-PER", "O", "I-LOC"], [Span(0, 2, PER), Span(3, 4, LOC)], 2, id="two-i-starts"),
    pytest.param(["O", "I-ORG", "I-ORG", "I-ORG"], [Span(1, 4, ORG)], 1, id="one-long-span"),
    pytest.param(["I-PER", "B-PER", "O"], [Span(0, 1, PER), Span(1, 2, PER)], 1, id="b-separates-same-label"),
    pytest.param(["I-LOC", "I-PER"], [Span(0, 1, LOC), Span(1, 2, PER)], 2, id="label-change-starts-span"),
    pytest.param(["B-ORG", "I-LOC"], [Span(0, 1, ORG), Span(1, 2, LOC)], 1, id="i-of-other-label"),
]


@pytest.mark.parametrize(("tags", "spans", "repaired"), IOB1_CASES)
def test_iob1_under_auto_is_repaired_and_counted(tags, spans, repaired):
    assert decode_tags(tags, "auto") == (spans, repaired)
    assert tags_to_spans(tags) == spans


@pytest.mark.parametrize(("tags", "spans", "repaired"), IOB1_CASES)
def test_iob1_scheme_reads_i_starts_without_counting(tags, spans, repaired):
    assert decode_tags(tags, "iob1", strict=True) == (spans, 0)


@pytest.mark.parametrize(
    ("tags", "index", "fragment"),
    [
        (["O", "I-PER"], 1, "'I-PER' does not continue a PER span"),
        (["I-ORG", "I-ORG"], 0, "'I-ORG' does not continue a ORG span"),
        (["B-ORG", "I-LOC"], 1, "'I-LOC' does not continue a LOC span"),
        (["B-PER", "O", "B-LOC", "O", "I-LOC"], 4, "'I-LOC' does not continue"),
    ],
)
def test_iob1_sequence_is_an_error_under_strict_iob2(tags, index, fragment):
    with pytest.raises(TagError) as info:
        tags_to_spans(tags, "iob2", strict=True)
    assert info.value.index == index
    assert fragment in info.value.reason
    assert str(info.value).startswith(f"token {index}: ")


@pytest.mark.parametrize("strict", [False, True])
def test_iob2_lenient_repairs_what_strict_rejects(strict):
    tags = ["O", "I-PER", "I-PER"]
    if strict:
        with pytest.raises(TagError):
            decode_tags(tags, "iob2", strict=True)
    else:
        assert decode_tags(tags, "iob2") == ([Span(1, 3, PER)], 1)


def _to(tags: list[str], end: str, single: str) -> list[str]:
    """A BIOES-table row rewritten for BILOU (E→L, S→U) so both schemes share one table."""
    return [f"{end}{t[1:]}" if t.startswith("E-") else f"{single}{t[1:]}" if t.startswith("S-") else t for t in tags]


# Well-formed BIOES sequences (and, rewritten, BILOU).
END_SCHEME_VALID = [
    pytest.param(["S-PER"], [Span(0, 1, PER)], id="single"),
    pytest.param(["B-PER", "E-PER"], [Span(0, 2, PER)], id="two-tokens"),
    pytest.param(
        ["O", "B-ORG", "I-ORG", "I-ORG", "E-ORG", "O", "S-LOC"],
        [Span(1, 5, ORG), Span(6, 7, LOC)],
        id="long-and-single",
    ),
    pytest.param(["S-PER", "S-PER"], [Span(0, 1, PER), Span(1, 2, PER)], id="adjacent-singles"),
    pytest.param(["B-DATE", "E-DATE", "B-DATE", "E-DATE"], [Span(0, 2, DATE), Span(2, 4, DATE)], id="adjacent-spans"),
    pytest.param(["O", "O"], [], id="no-entity"),
]


@pytest.mark.parametrize(("tags", "spans"), END_SCHEME_VALID)
@pytest.mark.parametrize(("scheme", "end", "single"), [("bioes", "E", "S"), ("bilou", "L", "U")])
def test_end_schemes_decode_valid_sequences(tags, spans, scheme, end, single):
    tags = _to(tags, end, single)
    assert tags_to_spans(tags, scheme, strict=True) == spans
    assert decode_tags(tags, scheme) == (spans, 0)
    assert decode_tags(tags, "auto") == (spans, 0)


# Ill-formed BIOES sequences: strict names the token, lenient repairs them.
END_SCHEME_INVALID = [
    pytest.param(["B-PER", "O"], 1, "not closed by E-PER", [Span(0, 1, PER)], 0, id="open-then-outside"),
    pytest.param(["O", "B-LOC"], 1, "not closed at sentence end", [Span(1, 2, LOC)], 0, id="open-at-end"),
    pytest.param(["O", "E-ORG"], 1, "never opened", [Span(1, 2, ORG)], 1, id="end-without-begin"),
    pytest.param(
        ["B-PER", "B-PER", "E-PER"],
        1,
        "opens a span while PER",
        [Span(0, 1, PER), Span(1, 3, PER)],
        0,
        id="begin-twice",
    ),
    pytest.param(["B-PER", "S-LOC"], 1, "is not closed", [Span(0, 1, PER), Span(1, 2, LOC)], 0, id="single-inside"),
    pytest.param(["O", "I-PER", "E-PER"], 1, "does not continue", [Span(1, 3, PER)], 1, id="inside-without-begin"),
    pytest.param(["B-ORG", "E-LOC"], 1, "never opened", [Span(0, 1, ORG), Span(1, 2, LOC)], 1, id="end-of-other-label"),
]


@pytest.mark.parametrize(("tags", "index", "fragment", "spans", "repaired"), END_SCHEME_INVALID)
@pytest.mark.parametrize(("scheme", "end", "single"), [("bioes", "E", "S"), ("bilou", "L", "U")])
def test_end_schemes_strict_errors_and_lenient_repair(tags, index, fragment, spans, repaired, scheme, end, single):
    tags = _to(tags, end, single)
    with pytest.raises(TagError) as info:
        tags_to_spans(tags, scheme, strict=True)
    assert info.value.index == index
    assert fragment.replace("E-", f"{end}-") in info.value.reason
    assert decode_tags(tags, scheme) == (spans, repaired)


@pytest.mark.parametrize(
    ("tag", "scheme"),
    [
        ("B-", "auto"),
        ("X-PER", "auto"),
        ("b-PER", "auto"),
        ("PER", "auto"),
        ("o", "auto"),
        ("", "auto"),
        ("-PER", "auto"),
        ("B_PER", "iob2"),
        ("E-PER", "iob2"),  # BIOES prefix in an IOB2 file
        ("S-LOC", "iob1"),
        ("L-PER", "bioes"),  # BILOU prefix in a BIOES file
        ("E-PER", "bilou"),
    ],
)
def test_invalid_tags_name_the_tag_and_the_allowed_prefixes(tag, scheme):
    tags = ["O", "B-PER", tag, "O"]
    for strict in (False, True):
        with pytest.raises(TagError) as info:
            tags_to_spans(tags, scheme, strict=strict)
        assert info.value.index == 2
        assert f"invalid tag {tag!r}" in info.value.reason
        assert "expected O or one of B-LABEL, I-LABEL" in info.value.reason


def test_split_tag():
    assert split_tag("O") == ("O", "")
    assert split_tag("B-PER") == ("B", "PER")
    assert split_tag("I-WORK-OF-ART") == ("I", "WORK-OF-ART")
    assert split_tag("U-LOC", get_scheme("bilou")) == ("U", "LOC")
    with pytest.raises(TagError):
        split_tag("U-LOC", get_scheme("bioes"))


def test_unknown_scheme_lists_the_known_ones():
    with pytest.raises(UnknownNameError) as info:
        tags_to_spans(["O"], "iob3")
    assert info.value.known == ["auto", "bilou", "bioes", "iob1", "iob2"]
    assert "'iob3'" in str(info.value)
    assert get_scheme("IOB2") == get_scheme("iob2")  # names are case-insensitive


@pytest.mark.parametrize(
    ("spans", "length", "scheme", "tags"),
    [
        ([], 3, "iob2", ["O", "O", "O"]),
        ([Span(1, 3, PER)], 4, "iob2", ["O", "B-PER", "I-PER", "O"]),
        ([Span(1, 3, PER)], 4, "bioes", ["O", "B-PER", "E-PER", "O"]),
        ([Span(1, 3, PER)], 4, "bilou", ["O", "B-PER", "L-PER", "O"]),
        ([Span(0, 1, LOC)], 2, "iob2", ["B-LOC", "O"]),
        ([Span(0, 1, LOC)], 2, "bioes", ["S-LOC", "O"]),
        ([Span(0, 1, LOC)], 2, "bilou", ["U-LOC", "O"]),
        ([Span(0, 4, ORG)], 4, "bioes", ["B-ORG", "I-ORG", "I-ORG", "E-ORG"]),
        ([Span(2, 3, DATE), Span(0, 2, PER)], 3, "iob2", ["B-PER", "I-PER", "B-DATE"]),  # unsorted input
        ([Span(0, 1, PER), Span(1, 3, PER)], 3, "iob2", ["B-PER", "B-PER", "I-PER"]),
        ([Span(0, 1, PER), Span(1, 3, PER)], 3, "bilou", ["U-PER", "B-PER", "L-PER"]),
        ([Span(0, 2, PER)], 2, "auto", ["B-PER", "I-PER"]),  # auto writes IOB2
    ],
)
def test_spans_to_tags(spans, length, scheme, tags):
    assert spans_to_tags(spans, length, scheme) == tags


ROUND_TRIP_SPANS = [
    pytest.param([], 5, id="none"),
    pytest.param([Span(0, 1, PER)], 1, id="whole-sentence-single"),
    pytest.param([Span(0, 5, ORG)], 5, id="whole-sentence-long"),
    pytest.param([Span(1, 3, PER), Span(5, 6, LOC), Span(7, 9, DATE)], 9, id="yoruba"),
    pytest.param([Span(0, 1, PER), Span(1, 2, PER), Span(2, 4, PER)], 4, id="adjacent-same-label"),
    pytest.param([Span(0, 2, ORG), Span(2, 3, LOC), Span(3, 4, DATE)], 6, id="adjacent-mixed"),
]


@pytest.mark.parametrize(("spans", "length"), ROUND_TRIP_SPANS)
@pytest.mark.parametrize("scheme", ["iob2", "iob1", "bioes", "bilou"])
def test_round_trip_spans_tags_spans(spans, length, scheme):
    tags = spans_to_tags(spans, length, scheme)
    assert len(tags) == length
    assert tags_to_spans(tags, scheme, strict=True) == spans
    assert tags_to_spans(tags, "auto") == spans  # auto reads every scheme's output too
    assert spans_to_tags(tags_to_spans(tags, scheme), length, scheme) == tags


@pytest.mark.parametrize(
    ("spans", "length", "fragment"),
    [
        ([Span(0, 2, PER), Span(1, 3, ORG)], 4, "overlaps another span"),
        ([Span(0, 1, PER), Span(0, 2, ORG)], 4, "overlaps another span"),
        ([Span(1, 3, LOC), Span(1, 3, LOC)], 4, "overlaps another span"),  # a duplicate is an overlap too
        ([Span(2, 5, LOC)], 4, "beyond the 4 tokens"),
    ],
)
@pytest.mark.parametrize("scheme", ["iob2", "bioes", "bilou"])
def test_spans_to_tags_rejects_overlapping_or_out_of_range_spans(spans, length, fragment, scheme):
    with pytest.raises(XnerError) as info:
        spans_to_tags(spans, length, scheme)
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("iob1", "iob2"),
    [
        (["I-ORG", "I-ORG", "O", "I-PER", "B-PER"], ["B-ORG", "I-ORG", "O", "B-PER", "B-PER"]),
        (["I-LOC", "I-PER"], ["B-LOC", "B-PER"]),
        (["O", "I-DATE", "I-DATE"], ["O", "B-DATE", "I-DATE"]),
        (["B-PER", "I-PER", "O"], ["B-PER", "I-PER", "O"]),  # already IOB2: unchanged
        ([], []),
    ],
)
def test_iob1_to_iob2(iob1, iob2):
    assert iob1_to_iob2(iob1) == iob2
    assert tags_to_spans(iob2, "iob2", strict=True) == tags_to_spans(iob1, "iob1")


def test_span_is_half_open_and_rejects_empty_ranges():
    assert len(Span(2, 5, LOC)) == 3
    assert Span(0, 2, PER).overlaps(Span(1, 3, ORG))
    assert not Span(0, 2, PER).overlaps(Span(2, 3, ORG))  # touching is not overlapping
    for start, end in [(2, 2), (3, 1), (-1, 1)]:
        with pytest.raises(XnerError):
            Span(start, end, PER)


def test_clean_iob2_shortcut_reads_what_the_full_decoder_reads() -> None:
    """Random B/I/O sequences (clean or needing repair) and some invalid tags: the shortcut for clean IOB2 either
    declines or gives the full decoder's spans (IOB1 reads every clean IOB2 sequence the same way, without it)."""
    import random

    from xner.schemes import _decode_clean_iob2

    rng = random.Random(7)
    tags_seen = ["O", "O", "O", "B-PER", "I-PER", "B-LOC", "I-LOC", "I-ORG", "B-", "E-PER", "S-LOC", "X-PER"]
    declined = used = 0
    for _ in range(3000):
        tags = [rng.choice(tags_seen) for _ in range(rng.randint(0, 12))]
        shortcut = _decode_clean_iob2(tags)
        if shortcut is None:
            declined += 1
            continue
        used += 1
        assert shortcut == decode_tags(tags, "iob1")[0] == tags_to_spans(tags, "iob2", strict=True)
        assert decode_tags(tags) == (shortcut, 0)
    assert declined > 100 and used > 100
