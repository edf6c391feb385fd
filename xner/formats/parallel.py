"""Parallel text: two line-aligned files (plain text or CoNLL per side) or one file with both sides per line.

A plain-text side has one sentence per line; it is tokenised by :func:`xner.text.tokenize` (or split on spaces
when ``pretokenized``). A CoNLL side keeps its gold entities, which is how a parallel NER gold set (Europarl) is
loaded. One-file input separates the sides with a tab or with `` ||| `` (the fast_align/awesome-align form).
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice, zip_longest

from xner.errors import InputError, UnknownNameError
from xner.formats.conll import ConllOptions, ReadStats, iter_raw_sentences, looks_like_conll, raw_to_sentence
from xner.formats.text import PathLike, iter_lines, shared_progress
from xner.text import normalize, normalize_tokens, tokenize
from xner.types import PlainSentence, ProgressFn, Sentence, plain_sentence

SIDE_FORMATS = ("auto", "text", "conll")


@dataclass(frozen=True)
class SideOptions:
    """How to read one side of a parallel corpus."""

    lang: str
    format: str = "auto"  # auto | text | conll
    pretokenized: bool = False
    normal_form: str = "NFC"
    conll: ConllOptions | None = None


def resolve_side_format(path: PathLike, fmt: str) -> str:
    """``text`` or ``conll``: ``auto`` sniffs the first lines of the file."""
    if fmt not in SIDE_FORMATS:
        raise UnknownNameError("side format", fmt, SIDE_FORMATS)
    if fmt != "auto":
        return fmt
    return "conll" if looks_like_conll(path) else "text"


def text_to_sentence(text: str, options: SideOptions, *, name: str, line: int) -> Sentence:
    """One line of plain text as a tokenised sentence; an empty line is an error."""
    text = normalize(text.strip(), options.normal_form)
    tokens = tokenize(text, pretokenized=options.pretokenized)
    if not tokens:
        raise InputError(name, line, "empty sentence: parallel text needs one non-empty sentence per line")
    return Sentence(tokens=tuple(tokens), text=text, lang=options.lang)


def iter_side(
    path: PathLike,
    options: SideOptions,
    *,
    stats: ReadStats | None = None,
    on_progress: ProgressFn | None = None,
    display_name: str | None = None,
) -> Iterator[tuple[int, Sentence]]:
    """Yield ``(line_number, sentence)`` for one side, plain text or CoNLL.

    Blank lines at the end of a plain-text side are ignored (editors leave them); one followed by text is an error.
    """
    name = display_name or str(path)
    fmt = resolve_side_format(path, options.format)
    if fmt == "text":
        blank: int | None = None  # the first blank line of a run, an error only when text follows it
        for number, text in iter_lines(path, on_progress=on_progress, display_name=name):
            if not text.strip():
                blank = blank or number
                continue
            if blank is not None:
                text_to_sentence("", options, name=name, line=blank)  # raises: the empty sentence
            yield number, text_to_sentence(text, options, name=name, line=number)
        return
    conll = options.conll or ConllOptions(normal_form=options.normal_form)
    for raw in iter_raw_sentences(path, tag_column=conll.tag_column, on_progress=on_progress, display_name=name):
        yield raw.line, raw_to_sentence(raw, conll, name=name, lang=options.lang, stats=stats)


@dataclass(frozen=True)
class ParallelItem:
    """One sentence pair with the line each side starts on (None for a sentence made by xner, e.g. a translation)."""

    src: Sentence
    tgt: Sentence
    src_line: int | None
    tgt_line: int | None


def iter_parallel(
    src_path: PathLike,
    tgt_path: PathLike,
    src: SideOptions,
    tgt: SideOptions,
    *,
    stats: tuple[ReadStats, ReadStats] | None = None,
    on_progress: ProgressFn | None = None,
    display_names: tuple[str, str] | None = None,
) -> Iterator[ParallelItem]:
    """Stream the pairs of two line-aligned (or sentence-aligned CoNLL) files.

    Raises:
        InputError: either side's problems, or sides of different lengths (naming the longer file and the line
            of its first sentence without a partner).
    """
    src_name, tgt_name = display_names or (str(src_path), str(tgt_path))
    src_stats, tgt_stats = stats or (None, None)
    src_progress, tgt_progress = shared_progress(on_progress, 2)  # one (done, total) over both files
    src_iter = iter_side(src_path, src, stats=src_stats, on_progress=src_progress, display_name=src_name)
    tgt_iter = iter_side(tgt_path, tgt, stats=tgt_stats, on_progress=tgt_progress, display_name=tgt_name)
    for count, (src_item, tgt_item) in enumerate(zip_longest(src_iter, tgt_iter)):
        if src_item is None or tgt_item is None:
            raise _unequal_lengths(count, (src_name, src_item), (tgt_name, tgt_item), "sentences")
        yield ParallelItem(src_item[1], tgt_item[1], src_item[0], tgt_item[0])


PlainPair = tuple[PlainSentence, PlainSentence]  # a pair as plain values (xner.types.PlainSentence)


def plain_pair(item: ParallelItem) -> PlainPair:
    """``item``'s two sentences as plain values, with their file lines."""
    return plain_sentence(item.src_line, item.src), plain_sentence(item.tgt_line, item.tgt)


def plain_pair_batches(items: Iterable[ParallelItem], size: int) -> Iterator[list[PlainPair]]:
    """``items`` as lists of ``size`` plain pairs (the last one shorter)."""
    iterator = iter(items)
    while batch := [plain_pair(item) for item in islice(iterator, size)]:
        yield batch


def read_pair_batches(
    src_path: PathLike,
    tgt_path: PathLike | None,
    src: SideOptions,
    tgt: SideOptions,
    *,
    size: int,
    display_names: tuple[str, str] | None = None,
    on_progress: ProgressFn | None = None,
) -> Generator[list[PlainPair], None, tuple[ReadStats, ReadStats]]:
    """The pairs of two files (:func:`iter_parallel`) or, ``tgt_path`` None, of one (:func:`iter_parallel_single`)
    as batches of plain pairs; returns the two sides' read statistics (CoNLL sides only). What an import runs in a
    child process (:class:`xner.formats.read_ahead.ReadAhead`)."""
    stats = ReadStats(), ReadStats()
    names = display_names or (str(src_path), str(tgt_path or ""))
    if tgt_path is None:
        items = iter_parallel_single(src_path, src, tgt, on_progress=on_progress, display_name=names[0])
    else:
        items = iter_parallel(src_path, tgt_path, src, tgt, stats=stats, on_progress=on_progress, display_names=names)
    yield from plain_pair_batches(items, size)
    return stats


def iter_parallel_single(
    path: PathLike,
    src: SideOptions,
    tgt: SideOptions,
    *,
    on_progress: ProgressFn | None = None,
    display_name: str | None = None,
) -> Iterator[ParallelItem]:
    """Stream the pairs of one file with ``SRC<TAB>TGT`` or ``SRC ||| TGT`` on each line.

    Raises:
        InputError: a line without exactly one separator, or an empty side.
    """
    name = display_name or str(path)
    for number, text in iter_lines(path, on_progress=on_progress, display_name=name):
        parts = text.split(" ||| ") if " ||| " in text else text.split("\t")
        if len(parts) != 2:
            raise InputError(
                name,
                number,
                f"expected 'source<TAB>target' or 'source ||| target', found {len(parts)} field(s)",
            )
        yield ParallelItem(
            text_to_sentence(parts[0], src, name=name, line=number),
            text_to_sentence(parts[1], tgt, name=name, line=number),
            number,
            number,
        )


def iter_bitext(
    src_path: PathLike, tgt_path: PathLike, *, pretokenized: bool = True, normal_form: str = "NFC"
) -> Iterator[tuple[tuple[str, ...], tuple[str, ...]]]:
    """Token pairs of two line-aligned text files, skipping lines where either side is empty.

    For text that only trains an aligner (e.g. Europarl, MAFAND-MT): unlike :func:`iter_parallel`, an empty line
    is not an error, but files of different lengths still are.
    """
    src_lines = iter_lines(src_path)
    tgt_lines = iter_lines(tgt_path)
    split = str.split if pretokenized else tokenize
    for count, (src_item, tgt_item) in enumerate(zip_longest(src_lines, tgt_lines)):
        if src_item is None or tgt_item is None:
            raise _unequal_lengths(count, (str(src_path), src_item), (str(tgt_path), tgt_item), "lines")
        src_text, tgt_text = src_item[1].strip(), tgt_item[1].strip()
        if src_text and tgt_text:
            yield normalize_tokens(split(src_text), normal_form), normalize_tokens(split(tgt_text), normal_form)


def _unequal_lengths(count: int, src: tuple[str, tuple | None], tgt: tuple[str, tuple | None], unit: str) -> InputError:
    """The error for parallel files of different lengths, naming the longer file and its first unpaired line."""
    (longer, (line, _)), other = (tgt, src[0]) if src[1] is None else (src, tgt[0])
    return InputError(
        longer,
        line,
        f"{other} has only {count} {unit} but {longer} has more: parallel files must have the same "
        f"number of {unit}, in the same order",
    )
