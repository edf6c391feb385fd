"""File formats: CoNLL, JSONL (Prodigy/spaCy shape), Pharaoh alignments, parallel text, and the tokenizer.

Inputs are small multilingual files written to ``tmp_path``; every expected value is derived by hand from the
input text (token positions are counted in the input, spans are half-open ``[start, end)``).
"""

from __future__ import annotations

import io
import json
import unicodedata
from pathlib import Path

import pytest

from tests.conftest import write
from xner.errors import InputError, UnknownNameError
from xner.formats.conll import (
    ConllOptions,
    ReadStats,
    iter_raw_sentences,
    looks_like_conll,
    read_conll,
    repair_warning,
    sentence_to_conll,
    write_conll,
)
from xner.formats.jsonl import read_jsonl, sentence_to_record, token_offsets, write_jsonl
from xner.formats.parallel import SideOptions, iter_parallel, iter_parallel_single, resolve_side_format
from xner.formats.pharaoh import LinkError, check_bounds, parse_pharaoh_line, read_pharaoh, write_pharaoh
from xner.text import normalize, normalize_tokens, tokenize
from xner.types import Alignment, Sentence, Span

YORUBA_CONLL = """\
Ọlá B-PER
Adébáyọ̀ I-PER
lọ O
sí O
Èkó B-LOC
. O

Ìjọba B-ORG
Ìpínlẹ̀ I-ORG
Ọ̀yọ́ I-ORG
kéde O
ní O
ọjọ́ B-DATE
Ajé I-DATE
"""  # no blank line at the end: the last sentence ends with the file

YORUBA_EXPECTED = [
    (("Ọlá", "Adébáyọ̀", "lọ", "sí", "Èkó", "."), (Span(0, 2, "PER"), Span(4, 5, "LOC"))),
    (("Ìjọba", "Ìpínlẹ̀", "Ọ̀yọ́", "kéde", "ní", "ọjọ́", "Ajé"), (Span(0, 3, "ORG"), Span(5, 7, "DATE"))),
]


def _read(path: Path, **options) -> list[tuple[tuple[str, ...], tuple[Span, ...]]]:
    return [(s.tokens, s.spans) for s in read_conll(path, ConllOptions(**options))]


# --- CoNLL --------------------------------------------------------------------------------------------------------


def test_conll_space_separated(tmp_path):
    path = write(tmp_path / "yor.conll", YORUBA_CONLL)
    assert _read(path) == YORUBA_EXPECTED
    assert all(s.lang == "yor" for s in read_conll(path, lang="yor"))


def test_conll_tab_separated(tmp_path):
    path = write(tmp_path / "yor.tsv", YORUBA_CONLL.replace(" ", "\t"))
    assert _read(path) == YORUBA_EXPECTED


def test_conll_multi_column_tag_last_with_docstart(tmp_path):
    text = (
        "-DOCSTART- -X- -X- O\n\n"
        "Kamfanin NN B-NP B-ORG\nDangote NNP I-NP I-ORG\nya VB B-VP O\nbude VB I-VP O\n"
        "masana'anta NN B-NP O\na IN B-PP O\nLagos NNP B-NP B-LOC\n. . O O\n"
    )
    path = write(tmp_path / "hau.conll", text)
    assert _read(path) == [
        (
            ("Kamfanin", "Dangote", "ya", "bude", "masana'anta", "a", "Lagos", "."),
            (Span(0, 2, "ORG"), Span(6, 7, "LOC")),
        )
    ]


MESSY_CONLL = (
    "-DOCSTART- -X- O O\n\nỌlá x B-PER\r\nAdé x I-PER\n \t \n\n\nlọ x O\n-DOCSTART- -X- O O\nsí x B-LOC\n"
    "Èkó x I-LOC\n\n\n"
)


@pytest.mark.parametrize("chunk_chars", [1, 2, 5, 16, 4096])
def test_conll_reads_the_same_sentences_and_lines_whatever_the_chunk_size(tmp_path, monkeypatch, chunk_chars):
    """The reader takes a file in chunks of lines; sentences, their first lines and errors do not depend on where
    the chunks end (a sentence, a CRLF or a DOCSTART line may straddle two)."""
    import functools

    from xner.formats import conll, text

    chunks = functools.partial(text.iter_text_chunks, chunk_chars=chunk_chars)
    monkeypatch.setattr(conll, "iter_text_chunks", chunks)
    path = write(tmp_path / "messy.conll", MESSY_CONLL)
    raws = [(raw.line, raw.tokens, raw.tags) for raw in iter_raw_sentences(path)]
    assert raws == [
        (3, ["Ọlá", "Adé"], ["B-PER", "I-PER"]),
        (8, ["lọ"], ["O"]),
        (10, ["sí", "Èkó"], ["B-LOC", "I-LOC"]),
    ]
    bad = write(tmp_path / "bad.conll", MESSY_CONLL + "Ìbàdàn B-LOC\n")
    with pytest.raises(InputError, match=r"bad.conll:14: found 2 columns but line 3 has 3"):
        list(iter_raw_sentences(bad))
    short = write(tmp_path / "short.conll", "a x O\nb x O\n\nc\n")
    with pytest.raises(InputError, match=r"short.conll:4: expected a token and a tag"):
        list(iter_raw_sentences(short))
    with pytest.raises(InputError, match=r"nul.conll:2: binary data"):
        list(iter_raw_sentences(write(tmp_path / "nul.conll", "a O\nb\x00 O\n")))


def test_conll_tag_column_option(tmp_path):
    # TOKEN TAG CONFIDENCE: the tag is column 1, not the last one.
    path = write(tmp_path / "swa.conll", "Rais O 0.99\nRuto B-PER 0.97\nalitembelea O 0.99\nMombasa B-LOC 0.91\n")
    assert _read(path, tag_column=1) == [
        (("Rais", "Ruto", "alitembelea", "Mombasa"), (Span(1, 2, "PER"), Span(3, 4, "LOC")))
    ]


def test_conll_docstart_and_runs_of_blank_lines_make_no_empty_sentences(tmp_path):
    text = "-DOCSTART- O\n\n\n\nAmina B-PER\nta O\ntafi O\n\n\n\n-DOCSTART- O\nKano B-LOC\nbirni O\n-DOCSTART- O\n\n\n"
    path = write(tmp_path / "hau.conll", text)
    assert _read(path) == [
        (("Amina", "ta", "tafi"), (Span(0, 1, "PER"),)),
        (("Kano", "birni"), (Span(0, 1, "LOC"),)),
    ]
    assert [raw.line for raw in iter_raw_sentences(path)] == [5, 12]  # 1-based line of each first token


def test_conll_crlf_line_endings(tmp_path):
    path = write(tmp_path / "crlf.conll", YORUBA_CONLL.replace("\n", "\r\n").encode("utf-8"))
    assert _read(path) == YORUBA_EXPECTED  # no "\r" left in a token or a tag


def test_conll_byte_order_mark(tmp_path):
    path = write(tmp_path / "bom.conll", "\ufeff" + YORUBA_CONLL)
    assert _read(path) == YORUBA_EXPECTED
    path = write(tmp_path / "bom-docstart.conll", "\ufeff-DOCSTART- O\n\n" + YORUBA_CONLL)
    assert _read(path) == YORUBA_EXPECTED


def test_conll_tokens_are_nfc_normalised(tmp_path):
    # MasakhaNER writes Yoruba tone marks as combining characters.
    decomposed = "Ba\u0300ba\u0301 B-PER\nO\u0323la\u0301 I-PER\nwa\u0301 O\n"
    path = write(tmp_path / "nfd.conll", decomposed)
    [(tokens, spans)] = _read(path)
    assert tokens == ("B\u00e0b\u00e1", "\u1eccl\u00e1", "w\u00e1")  # Bàbá Ọlá wá, precomposed
    assert all(unicodedata.is_normalized("NFC", token) for token in tokens)
    assert spans == (Span(0, 2, "PER"),)
    [(kept, _)] = _read(path, normal_form="none")
    assert kept == ("Ba\u0300ba\u0301", "O\u0323la\u0301", "wa\u0301")
    path = write(tmp_path / "nfc.conll", unicodedata.normalize("NFC", decomposed))
    [(nfd, _)] = _read(path, normal_form="NFD")
    assert nfd == kept


def test_conll_label_map_renames_and_drops(tmp_path):
    path = write(tmp_path / "en.conll", "Pedro B-PERSON\nvisited O\nthe O\nLouvre B-MISC\nin O\nParis B-LOC\n")
    assert _read(path, label_map={"PERSON": "PER", "MISC": "O"}) == [
        (("Pedro", "visited", "the", "Louvre", "in", "Paris"), (Span(0, 1, "PER"), Span(5, 6, "LOC")))
    ]


def test_conll_iob1_is_repaired_and_the_warning_names_the_line_of_the_tag(tmp_path):
    text = "Amina B-PER\nta O\n\nYa O\nje O\nbirnin O\nAbuja I-LOC\n\nKano I-LOC\n"
    path = write(tmp_path / "iob1.conll", text)
    stats = ReadStats()
    sentences = list(read_conll(path, stats=stats))
    assert [s.spans for s in sentences] == [(Span(0, 1, "PER"),), (Span(3, 4, "LOC"),), (Span(0, 1, "LOC"),)]
    assert (stats.sentences, stats.repaired_spans, stats.first_repaired_line) == (3, 2, 7)
    warning = repair_warning(str(path), stats)
    assert warning is not None and warning.startswith(f"{path}:7: 2 span(s) began with I-")
    assert repair_warning(str(path), ReadStats()) is None


def test_conll_unknown_scheme_is_reported_even_when_every_tag_is_outside(tmp_path):
    path = write(tmp_path / "plain.conll", "Habari O\nza O\nasubuhi O\n")
    with pytest.raises(UnknownNameError) as info:
        _read(path, scheme="iob3")
    assert "iob2" in str(info.value)


def test_looks_like_conll(tmp_path):
    assert looks_like_conll(write(tmp_path / "a.conll", YORUBA_CONLL))
    assert looks_like_conll(write(tmp_path / "b.conll", "-DOCSTART- O\n\nKano S-LOC\nbirni O\n"))
    assert looks_like_conll(write(tmp_path / "c.conll", "Kamfanin\tB-ORG\nDangote\tI-ORG\n"))
    assert not looks_like_conll(write(tmp_path / "d.txt", "Ọlá Adébáyọ̀ lọ sí Èkó .\nÌjọba kéde .\n"))
    assert not looks_like_conll(write(tmp_path / "e.tsv", "Amina ta tafi Kano .\tAmina went to Kano .\n"))
    assert not looks_like_conll(write(tmp_path / "f.txt", "Habari\n"))
    assert not looks_like_conll(write(tmp_path / "g.txt", "\n\n\n"))


SENTENCES = [
    Sentence(("Ọlá", "Adébáyọ̀", "lọ", "sí", "Èkó", "."), (Span(0, 2, "PER"), Span(4, 5, "LOC")), lang="yor"),
    Sentence(
        ("Rais", "Ruto", "alifika", "Nairobi", "tarehe", "5", "Machi"),
        (Span(1, 2, "PER"), Span(3, 4, "LOC"), Span(5, 7, "DATE")),
    ),
    Sentence(("Habari", "njema", "."), ()),
    Sentence(("Banco", "Central", "Europeo"), (Span(0, 3, "ORG"),)),
]


def test_sentence_to_conll_text():
    assert sentence_to_conll(SENTENCES[1]) == (
        "Rais O\nRuto B-PER\nalifika O\nNairobi B-LOC\ntarehe O\n5 B-DATE\nMachi I-DATE\n\n"
    )
    assert sentence_to_conll(SENTENCES[3], scheme="bioes", sep="\t") == (
        "Banco\tB-ORG\nCentral\tI-ORG\nEuropeo\tE-ORG\n\n"
    )


@pytest.mark.parametrize(("scheme", "sep"), [("iob2", " "), ("iob2", "\t"), ("bioes", " "), ("bilou", "\t")])
def test_write_conll_round_trip(tmp_path, scheme, sep):
    out = io.StringIO()
    assert write_conll(SENTENCES, out, scheme=scheme, sep=sep) == len(SENTENCES)
    path = write(tmp_path / "round.conll", out.getvalue())
    options = {"scheme": scheme} if scheme != "iob2" else {}
    assert _read(path, **options) == [(s.tokens, s.spans) for s in SENTENCES]


# --- JSONL --------------------------------------------------------------------------------------------------------


def _jsonl(tmp_path: Path, *records: object, name: str = "data.jsonl") -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]
    return write(tmp_path / name, "\n".join(lines) + "\n")


PRODIGY = {
    "text": "Amina Bello ta tafi Kano",
    "tokens": [
        {"text": "Amina", "start": 0, "end": 5, "id": 0, "ws": True},
        {"text": "Bello", "start": 6, "end": 11, "id": 1, "ws": True},
        {"text": "ta", "start": 12, "end": 14, "id": 2, "ws": True},
        {"text": "tafi", "start": 15, "end": 19, "id": 3, "ws": True},
        {"text": "Kano", "start": 20, "end": 24, "id": 4, "ws": False},
    ],
    "spans": [
        {"start": 0, "end": 11, "token_start": 0, "token_end": 1, "label": "PER"},
        {"start": 20, "end": 24, "token_start": 4, "token_end": 4, "label": "LOC"},
    ],
}
HAUSA_TOKENS = ("Amina", "Bello", "ta", "tafi", "Kano")
HAUSA_SPANS = (Span(0, 2, "PER"), Span(4, 5, "LOC"))


def test_jsonl_prodigy_token_end_is_inclusive_on_disk(tmp_path):
    [sentence] = read_jsonl(_jsonl(tmp_path, PRODIGY), lang="hau")
    assert sentence.tokens == HAUSA_TOKENS
    assert sentence.spans == HAUSA_SPANS  # token_end 1 → end 2, token_end 4 → end 5
    assert sentence.text == "Amina Bello ta tafi Kano"
    assert sentence.lang == "hau"


def test_jsonl_tokens_as_strings_and_span_without_token_end(tmp_path):
    record = {"tokens": list(HAUSA_TOKENS), "spans": [{"token_start": 4, "label": "LOC"}]}
    [sentence] = read_jsonl(_jsonl(tmp_path, record))
    assert sentence.spans == (Span(4, 5, "LOC"),)
    assert sentence.text is None


@pytest.mark.parametrize("key", ["tags", "ner_tags"])
def test_jsonl_tag_lists(tmp_path, key):
    record = {"tokens": ["Rais", "Ruto", "alifika", "Nairobi"], key: ["O", "B-PER", "O", "B-LOC"]}
    [sentence] = read_jsonl(_jsonl(tmp_path, record))
    assert sentence.spans == (Span(1, 2, "PER"), Span(3, 4, "LOC"))


def test_jsonl_text_is_kept_with_tag_lists_too(tmp_path):
    record = {
        "text": "Rais Ruto, Nairobi.",
        "tokens": ["Rais", "Ruto", ",", "Nairobi", "."],
        "tags": ["O", "B-PER", "O", "B-LOC", "O"],
    }
    [sentence] = read_jsonl(_jsonl(tmp_path, record))
    assert sentence.text == "Rais Ruto, Nairobi."
    assert sentence.spans == (Span(1, 2, "PER"), Span(3, 4, "LOC"))


def test_jsonl_character_offset_spans(tmp_path):
    record = {**PRODIGY, "spans": [{"start": 0, "end": 11, "label": "PER"}, {"start": 20, "end": 24, "label": "LOC"}]}
    [sentence] = read_jsonl(_jsonl(tmp_path, record))
    assert sentence.spans == HAUSA_SPANS


def test_jsonl_character_offsets_off_token_boundaries_or_reversed_are_input_errors(tmp_path):
    for bad in ({"start": 1, "end": 11, "label": "PER"}, {"start": 20, "end": 11, "label": "PER"}):
        path = _jsonl(tmp_path, {**PRODIGY, "spans": [bad]})
        with pytest.raises(InputError) as info:
            list(read_jsonl(path))
        assert (info.value.line, info.value.path) == (1, str(path))


@pytest.mark.parametrize("scheme", ["auto", "iob2", "bioes", "bilou"])
def test_jsonl_spans_read_under_any_scheme_option(tmp_path, scheme):
    # --scheme describes tag lists; records with spans must not be checked against it.
    [sentence] = read_jsonl(_jsonl(tmp_path, PRODIGY), ConllOptions(scheme=scheme))
    assert sentence.spans == HAUSA_SPANS


def test_jsonl_blank_lines_are_skipped(tmp_path):
    path = write(tmp_path / "gaps.jsonl", "\n" + json.dumps(PRODIGY) + "\n\n  \n" + json.dumps(PRODIGY) + "\n\n")
    assert len(list(read_jsonl(path))) == 2


def test_sentence_to_record_writes_inclusive_token_end_and_char_offsets():
    record = sentence_to_record(Sentence(HAUSA_TOKENS, HAUSA_SPANS, lang="hau"))
    assert record["text"] == "Amina Bello ta tafi Kano"
    assert record["spans"] == [
        {"start": 0, "end": 11, "token_start": 0, "token_end": 1, "label": "PER"},
        {"start": 20, "end": 24, "token_start": 4, "token_end": 4, "label": "LOC"},
    ]
    assert record["tokens"] == PRODIGY["tokens"]
    assert record["meta"] == {"lang": "hau"}
    assert sentence_to_record(Sentence(("a",)), {"split": "dev"})["meta"] == {"split": "dev"}


def test_token_offsets_follow_the_original_text():
    text, offsets = token_offsets(["Rais", "Ruto", ",", "Nairobi", "."], "Rais Ruto, Nairobi.")
    assert text == "Rais Ruto, Nairobi."
    assert offsets == [(0, 4, True), (5, 9, False), (9, 10, True), (11, 18, False), (18, 19, False)]
    # Tokens that are not in the text fall back to the tokens joined by spaces.
    assert token_offsets(["Kano"], "Abuja")[0] == "Kano"


def test_jsonl_round_trip(tmp_path):
    sentences = [
        *SENTENCES,
        Sentence(("Rais", "Ruto", ",", "Nairobi", "."), (Span(3, 4, "LOC"),), "Rais Ruto, Nairobi."),
    ]
    out = io.StringIO()
    assert write_jsonl(sentences, out) == len(sentences)
    path = write(tmp_path / "round.jsonl", out.getvalue())
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert records[1]["spans"][2] == {"start": 33, "end": 40, "token_start": 5, "token_end": 6, "label": "DATE"}
    back = list(read_jsonl(path))
    assert [(s.tokens, s.spans) for s in back] == [(s.tokens, s.spans) for s in sentences]
    assert back[-1].text == "Rais Ruto, Nairobi."
    assert back[0].text == "Ọlá Adébáyọ̀ lọ sí Èkó ."


# --- Pharaoh ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "base", "sure", "possible"),
    [
        ("0-0 1-2 2p1", 0, {(0, 0), (1, 2)}, {(2, 1)}),
        ("1-1 2-3 3?2", 1, {(0, 0), (1, 2)}, {(2, 1)}),
        ("1-1 2p3", 1, {(0, 0)}, {(1, 2)}),
        ("", 0, set(), set()),
        ("   ", 1, set(), set()),
        ("0-0 0p0 3-1", 0, {(0, 0), (3, 1)}, set()),  # a link both sure and possible is sure
        ("10-12\t11-13", 0, {(10, 12), (11, 13)}, set()),
    ],
)
def test_parse_pharaoh_line(text, base, sure, possible):
    alignment = parse_pharaoh_line(text, index_base=base)
    assert alignment.sure == frozenset(sure)
    assert alignment.possible == frozenset(possible)


@pytest.mark.parametrize(
    ("text", "base", "fragment"),
    [
        ("0-0 3-", 0, "malformed link '3-'"),
        ("a-b", 0, "malformed link 'a-b'"),
        ("1--2", 0, "malformed link '1--2'"),
        ("1-2-3", 0, "malformed link '1-2-3'"),
        ("-1-2", 0, "malformed link '-1-2'"),
        ("1:2", 0, "malformed link '1:2'"),
        ("1-1 0-2", 1, "has index 0 but the file is read as 1-based"),
    ],
)
def test_parse_pharaoh_line_errors(text, base, fragment):
    with pytest.raises(LinkError) as info:
        parse_pharaoh_line(text, index_base=base)
    assert fragment in str(info.value)


def test_check_bounds_reports_the_valid_range_in_the_files_indexing():
    check_bounds(parse_pharaoh_line("0-0 3-4"), 4, 5)
    with pytest.raises(LinkError, match=r"source index 4 is beyond the source sentence's 4 tokens \(valid 0\.\.3\)"):
        check_bounds(parse_pharaoh_line("4-0"), 4, 5)
    with pytest.raises(LinkError, match=r"link 2-6: target index 6 is beyond .* 5 tokens \(valid 1\.\.5\)"):
        check_bounds(parse_pharaoh_line("2-6", index_base=1), 4, 5, index_base=1)


def test_read_and_write_pharaoh(tmp_path):
    path = write(tmp_path / "gold.align", "1-1 2p3\n\n3-2 1?1\n")
    rows = list(read_pharaoh(path, index_base=1))
    assert [number for number, _ in rows] == [1, 2, 3]
    assert rows[1][1] == Alignment()
    out = io.StringIO()
    assert write_pharaoh([a for _, a in rows], out) == 3
    assert out.getvalue() == "0-0 1p2\n\n0p0 2-1\n"  # 0-based, sorted
    again = list(read_pharaoh(write(tmp_path / "again.align", out.getvalue())))
    assert [a for _, a in again] == [a for _, a in rows]


# --- parallel text ------------------------------------------------------------------------------------------------

EN = "Amina Bello travelled to Kano on Monday.\nThe ECOWAS summit opened in Abuja.\n"
HA = "Amina Bello ta tafi Kano ranar Litinin.\nTaron ECOWAS ya bude a Abuja.\n"


def test_parallel_two_plain_files(tmp_path):
    src, tgt = write(tmp_path / "train.en", EN), write(tmp_path / "train.ha", HA)
    items = list(iter_parallel(src, tgt, SideOptions("en"), SideOptions("ha")))
    assert [(i.src_line, i.tgt_line) for i in items] == [(1, 1), (2, 2)]
    assert items[0].src.tokens == ("Amina", "Bello", "travelled", "to", "Kano", "on", "Monday", ".")
    assert items[0].tgt.tokens == ("Amina", "Bello", "ta", "tafi", "Kano", "ranar", "Litinin", ".")
    assert items[1].tgt.text == "Taron ECOWAS ya bude a Abuja."
    assert (items[1].src.lang, items[1].tgt.lang) == ("en", "ha")
    assert items[0].src.spans == items[0].tgt.spans == ()


def test_parallel_plain_text_is_normalised(tmp_path):
    src = write(tmp_path / "en.txt", "Father came.\n")
    tgt = write(tmp_path / "yo.txt", "Ba\u0300ba\u0301 wa\u0301.\n")
    [item] = iter_parallel(src, tgt, SideOptions("en"), SideOptions("yo"))
    assert item.tgt.tokens == ("B\u00e0b\u00e1", "w\u00e1", ".")
    assert item.tgt.text == "B\u00e0b\u00e1 w\u00e1."


@pytest.mark.parametrize("sep", ["\t", " ||| "])
def test_parallel_single_file(tmp_path, sep):
    lines = [f"{en}{sep}{ha}" for en, ha in zip(EN.splitlines(), HA.splitlines(), strict=True)]
    path = write(tmp_path / "pairs.txt", "\n".join(lines) + "\n")
    items = list(iter_parallel_single(path, SideOptions("en"), SideOptions("ha")))
    assert len(items) == 2
    assert items[1].src.tokens == ("The", "ECOWAS", "summit", "opened", "in", "Abuja", ".")
    assert items[1].tgt.tokens == ("Taron", "ECOWAS", "ya", "bude", "a", "Abuja", ".")
    assert (items[1].src_line, items[1].tgt_line) == (2, 2)


def test_parallel_pretokenized_awesome_align_style(tmp_path):
    path = write(tmp_path / "roen.src-tgt", "Guvernul a decis . ||| The government decided .\n")
    [item] = iter_parallel_single(path, SideOptions("ro", pretokenized=True), SideOptions("en", pretokenized=True))
    assert item.src.tokens == ("Guvernul", "a", "decis", ".")
    assert item.tgt.tokens == ("The", "government", "decided", ".")


def test_parallel_conll_sides_keep_gold_entities(tmp_path):
    src = write(tmp_path / "en.conll", "Pedro B-PER\nvisited O\nMadrid B-LOC\n\nThe O\nECB B-ORG\nmet O\n")
    tgt = write(tmp_path / "es.conll", "Pedro B-PER\nvisitó O\nMadrid B-LOC\n\nEl O\nBCE B-ORG\nse O\nreunió O\n")
    assert resolve_side_format(src, "auto") == "conll"
    items = list(iter_parallel(src, tgt, SideOptions("en"), SideOptions("es")))
    assert [(i.src_line, i.tgt_line) for i in items] == [(1, 1), (5, 5)]
    assert items[0].tgt.spans == (Span(0, 1, "PER"), Span(2, 3, "LOC"))
    assert items[1].src.spans == (Span(1, 2, "ORG"),)
    assert items[1].tgt.tokens == ("El", "BCE", "se", "reunió")


def test_parallel_conll_source_with_plain_text_target(tmp_path):
    src = write(tmp_path / "en.conll", "Pedro B-PER\nvisited O\nMadrid B-LOC\n")
    tgt = write(tmp_path / "yo.txt", "Pedro ṣèbẹ̀wò sí Madrid.\n")
    assert resolve_side_format(tgt, "auto") == "text"
    [item] = iter_parallel(src, tgt, SideOptions("en"), SideOptions("yo"))
    assert item.src.spans == (Span(0, 1, "PER"), Span(2, 3, "LOC"))
    assert item.tgt.tokens == ("Pedro", "ṣèbẹ̀wò", "sí", "Madrid", ".")


def test_resolve_side_format_rejects_unknown_format(tmp_path):
    path = write(tmp_path / "en.txt", "Hello.\n")
    assert resolve_side_format(path, "text") == "text"
    with pytest.raises(UnknownNameError, match="unknown side format 'xml'; known: auto, conll, text"):
        resolve_side_format(path, "xml")


# --- tokenizer and normalisation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("Ọ̀gbẹ́ni Adé lọ sí Èkó.", ["Ọ̀gbẹ́ni", "Adé", "lọ", "sí", "Èkó", "."]),
        ("Ade\u0301 lo\u0323 si\u0301 ile\u0301.", ["Ade\u0301", "lo\u0323", "si\u0301", "ile\u0301", "."]),
        (
            "Ƙungiyar ECOWAS ta gana a Abuja ranar Litinin.",
            ["Ƙungiyar", "ECOWAS", "ta", "gana", "a", "Abuja", "ranar", "Litinin", "."],
        ),
        (
            "Wakulima wa ng'ombe walikutana Arusha, Tanzania.",
            ["Wakulima", "wa", "ng'ombe", "walikutana", "Arusha", ",", "Tanzania", "."],
        ),
        ("¿Dónde está el Banco Central Europeo?", ["¿", "Dónde", "está", "el", "Banco", "Central", "Europeo", "?"]),
        ("Jean-Claude paid 1,000 euros (3.5%).", ["Jean-Claude", "paid", "1,000", "euros", "(", "3.5", "%", ")", "."]),
        ("I don’t know 'Lagos'.", ["I", "don’t", "know", "'", "Lagos", "'", "."]),
        ("", []),
        ("   ", []),
    ],
)
def test_tokenize(text, tokens):
    assert tokenize(text) == tokens


def test_tokenize_pretokenized_splits_on_whitespace_only():
    assert tokenize("Ọlá  lọ\tsí Èkó .", pretokenized=True) == ["Ọlá", "lọ", "sí", "Èkó", "."]
    assert tokenize("Jean-Claude, (3.5%)", pretokenized=True) == ["Jean-Claude,", "(3.5%)"]


def test_normalize_forms():
    decomposed = "Ba\u0300ba\u0301"
    assert normalize(decomposed) == "B\u00e0b\u00e1"
    assert normalize("B\u00e0b\u00e1", "NFD") == decomposed
    assert normalize(decomposed, "none") == decomposed
    assert normalize("ASCII only") == "ASCII only"
    assert normalize_tokens(("Ba\u0300ba\u0301", "O\u0323la\u0301", "wa")) == ("B\u00e0b\u00e1", "\u1eccl\u00e1", "wa")
    assert normalize_tokens(["Kano"], "NFD") == ("Kano",)
