"""Bad input through the import services: every error names the file, the 1-based line and the reason, and the
database is exactly as it was before the import (nothing half-written), whether the corpus is new or already holds
data, and also when the error comes after a first batch of rows was already inserted.

Line numbers are those of the offending line in the files written here; each file is built from a list of lines so
that the numbering can be read off the test.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import event, select

from tests.conftest import snapshot, write
from xner.errors import InputError, UnknownNameError, XnerError
from xner.formats.conll import ConllOptions
from xner.formats.parallel import SideOptions
from xner.services import importing
from xner.services.importing import import_alignments, import_corpus, import_parallel
from xner.store.db import Store
from xner.store.models import Alignment as AlignmentRow
from xner.store.models import Corpus, Entity, Sentence, SentencePair


def lines(*items: str) -> str:
    """File text from its lines (line 1 first), each ended by a newline."""
    return "".join(f"{item}\n" for item in items)


def expect_input_error(
    store: Store, call: Callable[[], object], path: Path, line: int | None, reason: str
) -> InputError:
    """Run ``call``; it must raise an InputError for ``path:line`` whose reason contains ``reason``, and leave every
    table of the store unchanged."""
    before = snapshot(store)
    with pytest.raises(InputError) as info:
        call()
    error = info.value
    assert error.path == str(path)
    assert error.line == line
    assert reason in error.reason, error.reason
    where = str(path) if line is None else f"{path}:{line}"
    assert str(error) == f"{where}: {error.reason}"
    assert path.name in str(error)
    assert snapshot(store) == before
    return error


class InsertCounter:
    """Counts INSERT statements per table on an engine, to prove that a batch was written before an error."""

    def __init__(self, store: Store) -> None:
        self.counts: dict[str, int] = {}
        event.listen(store.engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn, _cursor, statement: str, *_args) -> None:
        words = statement.split()
        if len(words) > 2 and words[0].upper() == "INSERT":
            table = words[2].strip('"')
            self.counts[table] = self.counts.get(table, 0) + 1


# --- monolingual CoNLL / JSONL ------------------------------------------------------------------------------------

CORPUS, LANG = "hausa-news", "hau"

GOOD_HAUSA = lines(
    "Amina B-PER",
    "Bello I-PER",
    "ta O",
    "tafi O",
    "Kano B-LOC",
    ".  O",
    "",
    "Kamfanin B-ORG",
    "Dangote I-ORG",
    "ya O",
    "bude O",
    "masana'anta O",
    "a O",
    "Lagos B-LOC",
)  # labels LOC, ORG, PER: 2 sentences


@pytest.fixture(params=["new-corpus", "corpus-with-data"])
def mono_store(request: pytest.FixtureRequest, store: Store, tmp_path: Path) -> Store:
    """The store empty, or holding corpus ``hausa-news`` with two train sentences (labels LOC, ORG, PER)."""
    if request.param == "corpus-with-data":
        report = import_corpus(store, write(tmp_path / "train.conll", GOOD_HAUSA), corpus=CORPUS, lang=LANG)
        assert (report.split, report.sentences) == ("train", 2)
    return store


CONLL_CASES = [
    pytest.param(
        lines("Amina B-PER", "Bello I-PER", "ta O", "tafi O", "", "Ya O", "isa", "Kano B-LOC"),
        {},
        None,
        7,
        "expected a token and a tag separated by space or tab, found 'isa'",
        id="one-column",
    ),
    pytest.param(
        lines("Rais\tO", "Ruto\tB-PER", "", "Alitembelea\tO", "Dar es Salaam\tB-LOC"),
        {},
        None,
        5,
        "found 4 columns but line 1 has 2",
        id="token-with-spaces",
    ),
    pytest.param(
        lines("Kamfanin NN B-ORG", "Dangote NNP I-ORG", "ya VB O", "", "Lagos NNP"),
        {},
        None,
        5,
        "found 2 columns but line 1 has 3",
        id="missing-tag",
    ),
    pytest.param(
        lines("Ọlá B-PER", "lọ O", "", "Ìjọba B-ORG", "kéde O", "Adé B_PER"),
        {},
        None,
        6,
        "invalid tag 'B_PER'",
        id="invalid-tag",
    ),
    pytest.param(
        lines("Amina B-PER", "ta O", "", "Ya O", "gana O", "da O", "Bello I-PER"),
        {"scheme": "iob2"},
        None,
        7,
        "'I-PER' does not continue a PER span",
        id="strict-iob2-i-after-o",
    ),
    pytest.param(
        lines("Rais O", "William B-PER", "Ruto I-PER", "alisafiri O"),
        {"scheme": "bioes"},
        None,
        4,
        "span PER opened at token 1 is not closed by E-PER",
        id="strict-bioes-unclosed",
    ),
    pytest.param(
        lines("Ọlá B-PER", "lọ O", "sí O", "Èkó B-LOC", "", "Ìjọba B-ORG", "Ìpínlẹ̀ I-ORG", "Ọ̀yọ́ I-ORG"),
        {},
        ["PER", "LOC"],
        6,
        "label 'ORG' is not in the corpus's label set (LOC, PER)",
        id="label-outside-declared-set",
    ),
    pytest.param(
        lines("Kano B-LOC", "birni O"),
        {"tag_column": 3},
        None,
        1,
        "no column 3 for the tag: the line has 2",
        id="tag-col",
    ),
    pytest.param(b"", {}, None, None, "file is empty", id="empty-file"),
    pytest.param("\n\n  \n\t\n\n", {}, None, None, "no sentences found", id="only-blank-lines"),
    pytest.param(
        b"Amina B-PER\nta O\n\nJos\xe9 B-PER\nya O\n",
        {},
        None,
        4,
        "byte 0xe9 at column 4 is not valid UTF-8",
        id="latin-1-byte",
    ),
    pytest.param(
        "Ọlá B-PER\nlọ O\n\n".encode() + "Ọlá Jos".encode() + b"\xe9 B-PER\n",
        {},
        None,
        4,
        "byte 0xe9 at column 8 is not valid UTF-8",  # column in characters: "Ọlá Jos" is 7 of them, 10 bytes
        id="latin-1-byte-after-yoruba",
    ),
    pytest.param(
        "Amina B-PER\nta O\n\n\x00\x00\x00\x00\n",
        {},
        None,
        4,
        "binary data (NUL byte): this is not a text file",
        id="nul-bytes",
    ),
    pytest.param(
        b"PK\x03\x04\x14\x00\x00\x00\x00\x00\x00\x00\x00\x00\x05\x00\x00\x00\x05\x00\x00\x00\x07\x00\x00\x00"
        b"en.conllKano O",
        {},
        None,
        1,
        "binary data (NUL byte)",
        id="zip-header",
    ),
    pytest.param(
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00",
        {},
        None,
        1,
        "byte 0x89 at column 1 is not valid UTF-8",
        id="png-header",
    ),
    pytest.param(
        "Amina B-PER\nta O\n".encode("utf-16"), {}, None, 1, "byte 0xff at column 1 is not valid UTF-8", id="utf-16"
    ),
]


@pytest.mark.parametrize(("content", "options", "labels", "line", "reason"), CONLL_CASES)
def test_bad_conll(mono_store, tmp_path, content, options, labels, line, reason):
    path = write(tmp_path / "dev.conll", content)
    expect_input_error(
        mono_store,
        lambda: import_corpus(
            mono_store, path, corpus=CORPUS, lang=LANG, options=ConllOptions(**options), labels=labels
        ),
        path,
        line,
        reason,
    )


PRODIGY_OK = (
    '{"text": "Amina ta tafi Kano", "tokens": ["Amina", "ta", "tafi", "Kano"], '
    '"spans": [{"token_start": 0, "token_end": 0, "label": "PER"}, {"token_start": 3, "token_end": 3, "label": "LOC"}]}'
)
JSONL_CASES = [
    pytest.param(
        '{"tokens": ["Rais", "Ruto"], "tags": ["O", "B-PER"]',
        None,
        "invalid JSON at column",
        id="invalid-json",
    ),
    pytest.param(
        '{"tokens": ["Rais", "Ruto", "alifika", "Nairobi"], "tags": ["O", "B-PER", "O"]}',
        None,
        "token/label count mismatch: 4 tokens but 3 tags",
        id="count-mismatch",
    ),
    pytest.param(
        '{"tokens": ["Rais", "Ruto", "alifika"], "ner_tags": "O B-PER O"}',
        None,
        "token/label count mismatch: 3 tokens but no list of tags",
        id="tags-not-a-list",
    ),
    pytest.param(
        '{"tokens": ["Amina", "ta", "tafi", "Kano", "."], '
        '"spans": [{"token_start": 3, "token_end": 5, "label": "LOC"}]}',
        None,
        "token_start/token_end (inclusive) must satisfy 0 <= start <= end < 5",
        id="span-out-of-range",
    ),
    pytest.param(
        '{"tokens": ["Amina", "Bello", "Kano"], "spans": [{"token_start": 0, "token_end": 1, "label": "PER"}, '
        '{"token_start": 1, "token_end": 2, "label": "ORG"}]}',
        None,
        "span [1, 3) ORG overlaps another span",
        id="overlapping-spans",
    ),
    pytest.param('["Amina", "B-PER"]', None, "expected a JSON object per line, got list", id="non-object-line"),
    pytest.param(
        '{"tokens": ["Rais", "Ruto"], "ner_tags": [0, 1]}', None, "token 0: invalid tag '0'", id="numeric-ner-tags"
    ),
    pytest.param('{"text": "Amina ta tafi Kano"}', None, "'tokens' must be a non-empty list", id="no-tokens"),
    pytest.param(
        '{"tokens": ["Alifika", "Dar es Salaam"], "tags": ["O", "B-LOC"]}',
        None,
        "token 1 must be a non-empty string without spaces, got 'Dar es Salaam'",
        id="token-with-spaces",
    ),
    pytest.param(
        '{"tokens": ["Amina", "ta", "tafi", "Kano", "Ltd"], "spans": [{"token_start": 3, "token_end": 4, '
        '"label": "ORG"}]}',
        ["PER", "LOC"],
        "token 3: label 'ORG' is not in the corpus's label set (LOC, PER)",
        id="label-outside-declared-set",
    ),
]


@pytest.mark.parametrize(("bad", "labels", "reason"), JSONL_CASES)
def test_bad_jsonl(mono_store, tmp_path, bad, labels, reason):
    # line 1 good, line 2 blank (still counted), line 3 bad, line 4 good
    path = write(tmp_path / "dev.jsonl", lines(PRODIGY_OK, "", bad, PRODIGY_OK))
    expect_input_error(
        mono_store,
        lambda: import_corpus(mono_store, path, corpus=CORPUS, lang=LANG, fmt="jsonl", labels=labels),
        path,
        3,
        reason,
    )


def test_jsonl_without_records(mono_store, tmp_path):
    path = write(tmp_path / "dev.jsonl", "\n\n   \n")
    expect_input_error(
        mono_store,
        lambda: import_corpus(mono_store, path, corpus=CORPUS, lang=LANG, fmt="jsonl"),
        path,
        None,
        "no records",
    )


def test_label_outside_an_existing_corpus_label_set(store, tmp_path):
    import_corpus(store, write(tmp_path / "train.conll", GOOD_HAUSA), corpus=CORPUS, lang=LANG)
    path = write(tmp_path / "dev.conll", lines("Amina B-PER", "ta O", "", "ranar O", "Litinin B-DATE"))
    expect_input_error(
        store,
        lambda: import_corpus(store, path, corpus=CORPUS, lang=LANG),
        path,
        5,
        "label 'DATE' is not in the corpus's label set (LOC, ORG, PER)",
    )
    # Declaring the label set explicitly widens it, and then the file imports.
    report = import_corpus(store, path, corpus=CORPUS, lang=LANG, labels=["PER", "ORG", "LOC", "DATE"])
    assert report.entities == {"PER": 1, "DATE": 1}
    with store.session() as session:
        assert session.scalars(select(Corpus.labels)).one() == ["DATE", "LOC", "ORG", "PER"]


def test_label_map_dropping_misc_imports(store, tmp_path):
    text = lines(
        "Pedro B-PER",
        "visited O",
        "the O",
        "Louvre B-MISC",
        "in O",
        "Paris B-LOC",
        "",
        "The O",
        "Euro B-MISC",
        "fell O",
    )
    path = write(tmp_path / "train.conll", text)
    expect_input_error(
        store,
        lambda: import_corpus(store, path, corpus="en-news", lang="en", labels=["PER", "ORG", "LOC"]),
        path,
        4,
        "label 'MISC' is not in the corpus's label set (LOC, ORG, PER)",
    )
    report = import_corpus(
        store,
        path,
        corpus="en-news",
        lang="en",
        labels=["PER", "ORG", "LOC"],
        options=ConllOptions(label_map={"MISC": "O"}),
    )
    assert (report.sentences, report.entities, report.warnings) == (2, {"PER": 1, "LOC": 1}, [])
    with store.session() as session:
        assert sorted(session.scalars(select(Entity.label))) == ["LOC", "PER"]
        assert session.scalars(select(Corpus.labels)).one() == ["LOC", "ORG", "PER"]


def _many_sentences(count: int) -> list[str]:
    """``count`` two-token sentences, 3 lines each: sentence k starts on line 3k + 1."""
    names = ["Amina", "Bello", "Ọlá", "Wanjiru", "Musa", "Adébáyọ̀"]
    out: list[str] = []
    for k in range(count):
        out += [f"{names[k % len(names)]} B-PER", f"{k} O", ""]
    return out


@pytest.mark.parametrize("existing", [False, True])
def test_error_after_a_batch_was_inserted_leaves_nothing(store, tmp_path, existing):
    if existing:
        import_corpus(store, write(tmp_path / "train.conll", GOOD_HAUSA), corpus=CORPUS, lang=LANG)
    bad = importing.BATCH + 600  # well after the first batch, beyond the text reader's 8 KiB decoding chunk
    text = _many_sentences(importing.BATCH + 700)
    text[3 * bad + 1] = "Kano X-LOC"  # second token of sentence ``bad``
    path = write(tmp_path / "dev.conll", lines(*text))
    counter = InsertCounter(store)
    expect_input_error(
        store,
        lambda: import_corpus(store, path, corpus=CORPUS, lang=LANG),
        path,
        3 * bad + 2,
        "invalid tag 'X-LOC'",
    )
    assert counter.counts.get("sentence", 0) >= 1, "the first batch should have been inserted before the error"


def test_undecodable_byte_after_a_batch_was_inserted(store, tmp_path):
    bad = importing.BATCH + 600
    text = "".join(f"{line}\n" for line in _many_sentences(importing.BATCH + 700)).encode("utf-8")
    marker = f"\n{bad} O\n".encode()
    assert text.count(marker) == 1
    text = text.replace(marker, f"\n{bad} O\xe9\n".encode("latin-1"))
    path = write(tmp_path / "train.conll", text)
    counter = InsertCounter(store)
    expect_input_error(
        store,
        lambda: import_corpus(store, path, corpus=CORPUS, lang=LANG),
        path,
        3 * bad + 2,
        f"byte 0xe9 at column {len(str(bad)) + 3} is not valid UTF-8",
    )
    assert counter.counts.get("sentence", 0) >= 1


def test_split_with_sentences_needs_append(store, tmp_path):
    path = write(tmp_path / "train.conll", GOOD_HAUSA)
    import_corpus(store, path, corpus=CORPUS, lang=LANG)
    before = snapshot(store)
    with pytest.raises(XnerError) as info:
        import_corpus(store, path, corpus=CORPUS, lang=LANG)
    assert not isinstance(info.value, InputError)
    assert "corpus 'hausa-news' already has 2 sentences in split 'train'" in str(info.value)
    assert "--append" in str(info.value)
    assert snapshot(store) == before


def test_append_continues_positions(store, tmp_path):
    import_corpus(store, write(tmp_path / "train.conll", GOOD_HAUSA), corpus=CORPUS, lang=LANG)
    more = write(tmp_path / "more.conll", lines("Musa B-PER", "ya O", "isa O", "", "Abuja B-LOC", "", "Ruwa O"))
    report = import_corpus(store, more, corpus=CORPUS, lang=LANG, split="train", append=True)
    assert (report.sentences, report.entities) == (3, {"PER": 1, "LOC": 1})
    with store.session() as session:
        rows = session.execute(
            select(Sentence.position, Sentence.tokens).where(Sentence.split == "train").order_by(Sentence.position)
        ).all()
    assert [position for position, _ in rows] == [0, 1, 2, 3, 4]
    assert [tokens[0] for _, tokens in rows] == ["Amina", "Kamfanin", "Musa", "Abuja", "Ruwa"]


def test_mono_import_keeps_the_source_line_of_each_sentence(store, tmp_path):
    import_corpus(store, write(tmp_path / "train.conll", GOOD_HAUSA), corpus=CORPUS, lang=LANG)
    with store.session() as session:
        assert list(session.scalars(select(Sentence.source_line).order_by(Sentence.position))) == [1, 8]


def test_iob1_file_imports_with_a_warning_naming_file_and_line(store, tmp_path):
    path = write(
        tmp_path / "train.conll",
        lines("Amina B-PER", "ta O", "", "Ya O", "je O", "birnin O", "Abuja I-LOC", "", "Kano I-LOC", "birni O"),
    )
    report = import_corpus(store, path, corpus=CORPUS, lang=LANG)
    assert (report.sentences, report.entities) == (3, {"PER": 1, "LOC": 2})
    assert report.warnings == [
        f"{path}:7: 2 span(s) began with I- (IOB1 style); they were read as IOB2 (B-) starts",
    ]
    with store.session() as session:
        assert sorted(session.execute(select(Entity.start, Entity.end, Entity.label)).all()) == [
            (0, 1, "LOC"),
            (0, 1, "PER"),
            (3, 4, "LOC"),
        ]


def test_existing_corpus_of_another_kind_or_language(store, tmp_path):
    import_corpus(store, write(tmp_path / "train.conll", GOOD_HAUSA), corpus=CORPUS, lang=LANG)
    before = snapshot(store)
    with pytest.raises(XnerError, match=r"exists as a mono corpus \(hau\), not a mono corpus \(yor\)"):
        import_corpus(store, write(tmp_path / "dev.conll", "Ọlá B-PER\n"), corpus=CORPUS, lang="yor")
    assert snapshot(store) == before


# --- parallel text ------------------------------------------------------------------------------------------------

PAIR_CORPUS = "en-ha"
EN_LINES = ["Amina Bello travelled to Kano .", "The summit opened in Abuja on Monday .", "Rain fell ."]
HA_LINES = ["Amina Bello ta tafi Kano .", "Taron ya bude a Abuja ranar Litinin .", "Ruwa ya sauka ."]
TOKENS = [(6, 6), (8, 8), (3, 4)]  # (source, target) tokens per pair


def _sides(fmt: str = "auto") -> dict[str, SideOptions]:
    return {"src": SideOptions("en", fmt, pretokenized=True), "tgt": SideOptions("ha", fmt, pretokenized=True)}


@pytest.fixture(params=["new-corpus", "corpus-with-data"])
def pair_store(request: pytest.FixtureRequest, store: Store, tmp_path: Path) -> Store:
    """The store empty, or holding the parallel corpus ``en-ha`` with 3 train pairs."""
    if request.param == "corpus-with-data":
        good = tmp_path / "good"
        good.mkdir()
        src, tgt = write(good / "train.en", lines(*EN_LINES)), write(good / "train.ha", lines(*HA_LINES))
        assert import_parallel(store, src, tgt, corpus=PAIR_CORPUS, **_sides()).pairs == 3
    return store


def _import_pairs(store: Store, src_path: Path, tgt_path: Path | None, **kwargs) -> Callable[[], object]:
    options = {"split": "dev", **_sides(), **kwargs}
    return lambda: import_parallel(store, src_path, tgt_path, corpus=PAIR_CORPUS, **options)


@pytest.mark.parametrize("longer", ["src", "tgt"])
def test_parallel_files_of_different_lengths(pair_store, tmp_path, longer):
    src_lines, tgt_lines = EN_LINES, HA_LINES[:2]
    if longer == "tgt":
        src_lines, tgt_lines = EN_LINES[:2], HA_LINES
    src, tgt = write(tmp_path / "dev.en", lines(*src_lines)), write(tmp_path / "dev.ha", lines(*tgt_lines))
    longer_path, shorter_path = (src, tgt) if longer == "src" else (tgt, src)
    expect_input_error(
        pair_store,
        _import_pairs(pair_store, src, tgt),
        longer_path,
        3,
        f"{shorter_path} has only 2 sentences but {longer_path} has more",
    )


@pytest.mark.parametrize("side", ["src", "tgt"])
@pytest.mark.parametrize("empty", ["", "   "])
def test_parallel_empty_line_in_plain_text(pair_store, tmp_path, side, empty):
    src_lines, tgt_lines = list(EN_LINES), list(HA_LINES)
    (src_lines if side == "src" else tgt_lines)[1] = empty
    src, tgt = write(tmp_path / "dev.en", lines(*src_lines)), write(tmp_path / "dev.ha", lines(*tgt_lines))
    expect_input_error(
        pair_store,
        _import_pairs(pair_store, src, tgt, src=SideOptions("en", "text"), tgt=SideOptions("ha", "text")),
        src if side == "src" else tgt,
        2,
        "empty sentence: parallel text needs one non-empty sentence per line",
    )


EN_CONLL = lines(
    "Pedro B-PER", "visited O", "Madrid B-LOC", "", "The O", "ECB B-ORG", "met O", "", "Prices O", "rose O", ". O"
)
ES_CONLL = lines("Pedro B-PER", "visitó O", "Madrid B-LOC", "", "El O", "BCE B-ORG", "se O", "reunió O")


def test_parallel_conll_sides_with_different_sentence_counts(store, tmp_path):
    src, tgt = write(tmp_path / "en.conll", EN_CONLL), write(tmp_path / "es.conll", ES_CONLL)
    sides = {"src": SideOptions("en", "conll"), "tgt": SideOptions("es", "conll")}
    expect_input_error(
        store,
        lambda: import_parallel(store, src, tgt, corpus="en-es", **sides),
        src,
        9,  # the first token line of the 3rd English sentence
        f"{tgt} has only 2 sentences but {src} has more",
    )


def test_parallel_conll_side_bad_tag_and_label_outside_set(store, tmp_path):
    src = write(tmp_path / "en.conll", EN_CONLL)  # ORG on line 6
    tgt = write(tmp_path / "es.conll", ES_CONLL + lines("", "Precios O", "subieron O", ". O"))
    tgt_bad = write(tmp_path / "es-bad.conll", ES_CONLL.replace("BCE B-ORG", "BCE ORG"))
    expect_input_error(
        store,
        lambda: import_parallel(
            store, src, tgt_bad, corpus="en-es", src=SideOptions("en", "conll"), tgt=SideOptions("es", "conll")
        ),
        tgt_bad,
        6,
        "invalid tag 'ORG'",
    )
    expect_input_error(
        store,
        lambda: import_parallel(
            store,
            src,
            tgt,
            corpus="en-es",
            src=SideOptions("en", "conll"),
            tgt=SideOptions("es", "conll"),
            labels=["PER", "LOC"],
        ),
        src,
        6,
        "label 'ORG' is not in the corpus's label set (LOC, PER)",
    )


def test_parallel_undecodable_target(pair_store, tmp_path):
    src = write(tmp_path / "dev.en", lines(*EN_LINES))
    tgt = write(tmp_path / "dev.ha", lines(*HA_LINES).encode("utf-8").replace(b"Taron", b"Tar\xf3n"))
    expect_input_error(pair_store, _import_pairs(pair_store, src, tgt), tgt, 2, "byte 0xf3 at column 4")


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("Rain fell . Ruwa ya sauka .", "expected 'source<TAB>target' or 'source ||| target', found 1 field(s)"),
        ("Rain fell .\tRuwa ya sauka .\tx", "found 3 field(s)"),
        ("Rain fell . ||| Ruwa ya sauka . ||| x", "found 3 field(s)"),
        ("Rain fell .\t ", "empty sentence"),
        ("", "found 1 field(s)"),
    ],
)
def test_single_file_parallel_bad_line(pair_store, tmp_path, bad, reason):
    good = [f"{en}\t{ha}" for en, ha in zip(EN_LINES[:2], HA_LINES[:2], strict=True)]
    path = write(tmp_path / "dev.tsv", lines(*good, bad, "Ruwa ya sauka .\tRain fell ."))
    expect_input_error(pair_store, _import_pairs(pair_store, path, None), path, 3, reason)


def test_parallel_error_after_a_batch_was_inserted(store, tmp_path):
    count = importing.BATCH + 100
    src = write(tmp_path / "train.en", lines(*(f"Amina visited Kano on day {k} ." for k in range(count))))
    tgt = write(tmp_path / "train.ha", lines(*(f"Amina ta ziyarci Kano rana {k} ." for k in range(count - 1))))
    counter = InsertCounter(store)
    expect_input_error(
        store,
        lambda: import_parallel(store, src, tgt, corpus=PAIR_CORPUS, **_sides()),
        src,
        count,
        f"{tgt} has only {count - 1} sentences",
    )
    assert counter.counts.get("sentence_pair", 0) >= 1


def test_parallel_split_needs_append_and_append_continues(store, tmp_path):
    src, tgt = write(tmp_path / "train.en", lines(*EN_LINES)), write(tmp_path / "train.ha", lines(*HA_LINES))
    import_parallel(store, src, tgt, corpus=PAIR_CORPUS, **_sides())
    before = snapshot(store)
    with pytest.raises(XnerError, match="already has 3 sentences in split 'train'"):
        import_parallel(store, src, tgt, corpus=PAIR_CORPUS, **_sides())
    assert snapshot(store) == before
    report = import_parallel(store, src, tgt, corpus=PAIR_CORPUS, append=True, **_sides())
    assert (report.pairs, report.sentences) == (3, 6)
    with store.session() as session:
        assert list(session.scalars(select(SentencePair.position).order_by(SentencePair.position))) == list(range(6))


def test_parallel_iob1_side_warns_with_its_own_file(store, tmp_path):
    src = write(tmp_path / "en.conll", lines("Pedro I-PER", "visited O", "Madrid I-LOC"))
    tgt = write(tmp_path / "es.conll", lines("Pedro B-PER", "visitó O", "Madrid B-LOC"))
    report = import_parallel(
        store, src, tgt, corpus="en-es", src=SideOptions("en", "conll"), tgt=SideOptions("es", "conll")
    )
    assert report.warnings == [f"{src}:1: 2 span(s) began with I- (IOB1 style); they were read as IOB2 (B-) starts"]


# --- alignments ---------------------------------------------------------------------------------------------------


@pytest.fixture
def aligned_store(store: Store, tmp_path: Path) -> Store:
    """Parallel corpus ``en-ha`` with 3 train pairs of (6, 6), (8, 8) and (3, 4) tokens, and one alignment run."""
    data = tmp_path / "corpus"
    data.mkdir()
    src, tgt = write(data / "train.en", lines(*EN_LINES)), write(data / "train.ha", lines(*HA_LINES))
    import_parallel(store, src, tgt, corpus=PAIR_CORPUS, **_sides())
    with store.session() as session:
        n_tokens = session.execute(
            select(Sentence.side, Sentence.position, Sentence.n_tokens).order_by(Sentence.side, Sentence.position)
        ).all()
    assert [(s, t) for (_, _, s), (_, _, t) in zip(n_tokens[:3], n_tokens[3:], strict=True)] == TOKENS
    good = write(data / "good.align", lines(*GOOD_ALIGN))
    assert import_alignments(store, good, corpus=PAIR_CORPUS, aligner="fast_align").pairs == 3
    return store


GOOD_ALIGN = ["0-0 1-1 2-2 2-3 4-4 5-5", "0-0 1-0 2-2 3-3 4-4 5-5 6-6 7-7", "0-0 1-2 2-3"]


@pytest.mark.parametrize(
    ("content", "base", "line", "reason"),
    [
        pytest.param(["0-0 1-1", "0-0 3-", "0-0"], 0, 2, "malformed link '3-'", id="dangling-dash"),
        pytest.param(["0-0", "1-1", "a-b"], 0, 3, "malformed link 'a-b'", id="letters"),
        pytest.param(
            ["0-0", "1-1", "0-0 3-0"],
            0,
            3,
            "source index 3 is beyond the source sentence's 3 tokens (valid 0..2)",
            id="beyond-source",
        ),
        pytest.param(
            ["0-0", "1-1", "0-4"],
            0,
            3,
            "target index 4 is beyond the target sentence's 4 tokens (valid 0..3)",
            id="beyond-target",
        ),
        pytest.param(["1-1", "1-1 0-1", "1-1"], 1, 2, "has index 0 but the file is read as 1-based", id="zero-1-based"),
        pytest.param(
            ["1-1", "8-8", "4-1"],
            1,
            3,
            "link 4-1: source index 4 is beyond the source sentence's 3 tokens (valid 1..3)",
            id="beyond-source-1-based",
        ),
        pytest.param([*GOOD_ALIGN, "0-0"], 0, 4, "more lines than the split's 3 sentence pairs", id="more-lines"),
        pytest.param([*GOOD_ALIGN, ""], 0, 4, "more lines than the split's 3 sentence pairs", id="trailing-blank-line"),
        pytest.param(
            GOOD_ALIGN[:2], 0, 3, "file ends after 2 lines but split 'train' has more pairs", id="fewer-lines"
        ),
    ],
)
def test_bad_alignments(aligned_store, tmp_path, content, base, line, reason):
    path = write(tmp_path / "en-ha.align", lines(*content))
    expect_input_error(
        aligned_store,
        lambda: import_alignments(aligned_store, path, corpus=PAIR_CORPUS, aligner="gold", index_base=base),
        path,
        line,
        reason,
    )


def test_alignment_file_empty_or_undecodable(aligned_store, tmp_path):
    empty = write(tmp_path / "empty.align", b"")
    expect_input_error(
        aligned_store,
        lambda: import_alignments(aligned_store, empty, corpus=PAIR_CORPUS, aligner="gold"),
        empty,
        None,
        "file is empty",
    )
    latin = write(tmp_path / "latin.align", b"0-0\n1-1 \xb72-2\n0-0\n")
    expect_input_error(
        aligned_store,
        lambda: import_alignments(aligned_store, latin, corpus=PAIR_CORPUS, aligner="gold"),
        latin,
        2,
        "byte 0xb7 at column 5 is not valid UTF-8",
    )


def test_alignment_error_after_a_batch_was_inserted(store, tmp_path):
    count = importing.BATCH + 100
    src = write(tmp_path / "train.en", lines(*(f"Amina visited Kano on day {k} ." for k in range(count))))
    tgt = write(tmp_path / "train.ha", lines(*(f"Amina ta ziyarci Kano ranar {k} ." for k in range(count))))
    import_parallel(store, src, tgt, corpus=PAIR_CORPUS, **_sides())
    links = ["0-0 1-2 2-3 3-4 4-5 5-5 6-6"] * count  # 7 tokens a side
    links[importing.BATCH + 50] = "0-0 7-6"
    path = write(tmp_path / "train.align", lines(*links))
    counter = InsertCounter(store)
    expect_input_error(
        store,
        lambda: import_alignments(store, path, corpus=PAIR_CORPUS, aligner="fast_align"),
        path,
        importing.BATCH + 51,
        "source index 7 is beyond the source sentence's 7 tokens (valid 0..6)",
    )
    assert counter.counts.get("alignment", 0) >= 1


def test_alignments_for_an_unknown_corpus_list_the_corpora(aligned_store, tmp_path):
    path = write(tmp_path / "en-yo.align", lines(*GOOD_ALIGN))
    before = snapshot(aligned_store)
    with pytest.raises(UnknownNameError) as info:
        import_alignments(aligned_store, path, corpus="en-yo", aligner="gold")
    assert info.value.known == [PAIR_CORPUS]
    assert str(info.value) == "unknown corpus 'en-yo'; known: en-ha"
    assert snapshot(aligned_store) == before


def test_alignments_for_a_corpus_without_pairs(store, tmp_path):
    import_corpus(store, write(tmp_path / "train.conll", GOOD_HAUSA), corpus=CORPUS, lang=LANG)
    path = write(tmp_path / "x.align", lines("0-0"))
    before = snapshot(store)
    with pytest.raises(XnerError, match="has no sentence pairs: import parallel text first"):
        import_alignments(store, path, corpus=CORPUS, aligner="gold")
    assert snapshot(store) == before


def test_good_alignments_are_stored_zero_based(aligned_store, tmp_path):
    path = write(tmp_path / "gold.align", lines("1-1 2p3", "", "3-4 1?1"))
    report = import_alignments(aligned_store, path, corpus=PAIR_CORPUS, aligner="gold", index_base=1)
    assert (report.pairs, report.split) == (3, "train")
    with aligned_store.session() as session:
        rows = session.execute(
            select(SentencePair.position, AlignmentRow.links)
            .join(AlignmentRow, AlignmentRow.pair_id == SentencePair.id)
            .where(AlignmentRow.run_id == report.run_id)
            .order_by(SentencePair.position)
        ).all()
    assert rows == [(0, "0-0 1p2"), (1, ""), (2, "0p0 2-3")]
