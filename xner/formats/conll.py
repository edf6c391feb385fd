"""CoNLL NER files: one token per line with its tag in the last column, a blank line between sentences.

Reads what MasakhaNER 2.0, CoNLL-2003 and the Europarl NER gold use: space or tab separated, two or more columns
(the tag is the last unless ``tag_column`` says otherwise), ``-DOCSTART-`` lines, IOB1/IOB2/BIOES tags. Reading
streams: one sentence at a time, so a file of any size is read in constant memory.

>>> import tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "t.conll")
>>> _ = open(path, "w").write("-DOCSTART- O\\n\\nAda B-PER\\nsang O\\n\\n")
>>> [(s.tokens, s.spans) for s in read_conll(path)]
[(('Ada', 'sang'), (Span(start=0, end=1, label='PER'),))]
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, ParamSpec, TextIO

from xner.errors import InputError
from xner.formats.base import READERS, WRITERS, ExportSource
from xner.formats.text import PathLike, iter_lines, iter_text_chunks
from xner.schemes import OUTSIDE, TagError, decode_tags, spans_to_tags
from xner.text import normalize_tokens
from xner.types import ProgressFn, Sentence, Span

P = ParamSpec("P")

DOCSTART = "-DOCSTART-"


@dataclass
class ConllOptions:
    """How to read a CoNLL file.

    Attributes:
        scheme: ``auto`` (IOB1, IOB2 and BIOES all read; IOB1-style spans are repaired with a warning),
            or a strict scheme name (``iob2``, ``bioes`` ...) under which a forbidden sequence is an error.
        tag_column: column index of the tag (default the last).
        label_map: rename labels; mapping to ``O`` drops them (e.g. ``{"MISC": "O"}``).
        labels: the allowed labels after mapping; None accepts any.
        normal_form: Unicode normal form applied to tokens (``none`` keeps them as they are).
    """

    scheme: str = "auto"
    tag_column: int = -1
    label_map: Mapping[str, str] = field(default_factory=dict)
    labels: frozenset[str] | None = None
    normal_form: str = "NFC"


@dataclass
class ReadStats:
    """What a reader saw, for the import report: sentences, repaired spans and the first line repaired."""

    sentences: int = 0
    repaired_spans: int = 0
    first_repaired_line: int | None = None
    labels: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class RawSentence:
    """Tokens and tags as they stand in the file, with the line number of the first token."""

    line: int
    tokens: list[str]
    tags: list[str]
    one_token_per_line: bool = True  # False for formats with a whole sentence on one line (JSONL)

    def line_of(self, index: int) -> int:
        """The file line of token ``index``."""
        return self.line + max(index, 0) if self.one_token_per_line else self.line

    def where(self, index: int) -> str:
        """Extra position detail for a message: the token, where a line holds a whole sentence."""
        return "" if self.one_token_per_line else f"token {index}: "


def iter_raw_sentences(
    path: PathLike,
    *,
    tag_column: int = -1,
    on_progress: ProgressFn | None = None,
    display_name: str | None = None,
) -> Iterator[RawSentence]:
    """Yield the sentences of a CoNLL file as raw tokens and tags; check the column layout line by line.

    Raises:
        InputError: a line with fewer than two columns, or a column count that differs from the file's first
            token line (a token with a space in it, or a missing tag), or a file without any sentence.
    """
    name = display_name or str(path)
    width = 0  # columns of the file's first token line
    width_line = 0
    count = 0
    tag_fits = False  # tag_column is within the file's width
    tag_index = 0
    whole: re.Pattern[str] | None = None  # a run of lines of exactly `width` columns
    blocks = iter_text_chunks(path, on_progress=on_progress, display_name=display_name, cut="\n\n")
    for base, text in blocks:
        # The text between blank lines a chunk at a time. A run of token lines that all have the file's width is
        # one sentence, split once (str.split over the run, 8x faster than a split per line); anything else (a
        # DOCSTART line, runs of blank or whitespace lines, a bad line) is read line by line below, which raises
        # the errors (that loop is the reference: both read the same sentences).
        number = base
        for block in text.split("\n\n"):
            first = number
            number += block.count("\n") + 2  # the block's lines and the blank line after it
            if whole is not None and DOCSTART not in block and whole.fullmatch(block):
                columns = block.split()
                count += 1
                yield RawSentence(first, columns[0::width], columns[tag_index::width])
                continue
            tokens: list[str] = []
            tags: list[str] = []
            start_line = 0
            for line, line_text in enumerate(block.split("\n"), start=first):
                columns = line_text.split()
                if not columns or columns[0] == DOCSTART:
                    if tokens:
                        count += 1
                        yield RawSentence(start_line, tokens, tags)
                        tokens, tags = [], []
                    continue
                if len(columns) < 2:
                    raise InputError(
                        name, line, f"expected a token and a tag separated by space or tab, found {line_text!r}"
                    )
                if width == 0:
                    width, width_line = len(columns), line
                    tag_fits = -width <= tag_column < width
                    tag_index = tag_column % width
                    run = rf"[^\S\n]*\S+(?:[^\S\n]+\S+){{{width - 1}}}[^\S\n]*"
                    whole = re.compile(rf"{run}(?:\n{run})*") if tag_fits else None
                elif len(columns) != width:
                    raise InputError(
                        name,
                        line,
                        f"found {len(columns)} columns but line {width_line} has {width}: every token line "
                        "needs the same columns (a token containing a space, or a missing tag?)",
                    )
                if not tag_fits:
                    raise InputError(name, line, f"no column {tag_column} for the tag: the line has {width}")
                if not tokens:
                    start_line = line
                tokens.append(columns[0])
                tags.append(columns[tag_column])
            if tokens:
                count += 1
                yield RawSentence(start_line, tokens, tags)
    if count == 0:
        raise InputError(name, None, "no sentences found: expected 'TOKEN TAG' lines separated by blank lines")


def raw_to_sentence(
    raw: RawSentence, options: ConllOptions, *, name: str, lang: str | None = None, stats: ReadStats | None = None
) -> Sentence:
    """Decode a raw sentence's tags into spans, apply the label map and check labels against the label set.

    Raises:
        InputError: an invalid tag or (strict scheme) tag sequence, or a label outside ``options.labels``;
            the line is that of the offending token.
    """
    try:
        spans, repaired = decode_tags(raw.tags, options.scheme, strict=options.scheme != "auto")
    except TagError as error:
        raise InputError(name, raw.line_of(error.index), raw.where(error.index) + error.reason) from None
    kept = _map_labels(spans, raw, options, name)
    if stats is not None:
        stats.sentences += 1
        stats.labels.update(span.label for span in kept)
        if repaired:
            stats.repaired_spans += repaired
            if stats.first_repaired_line is None:
                stats.first_repaired_line = raw.line_of(_first_repaired_index(raw.tags, options.scheme))
    tokens = normalize_tokens(raw.tokens, options.normal_form)
    return Sentence(tokens=tokens, spans=tuple(kept), lang=lang)


def _first_repaired_index(tags: list[str], scheme: str) -> int:
    """The token whose tag needed repair first: the shortest prefix with a repair ends there (runs once a file)."""
    for end in range(1, len(tags) + 1):
        if decode_tags(tags[:end], scheme)[1]:
            return end - 1
    return 0


def _map_labels(spans: Iterable[Span], raw: RawSentence, options: ConllOptions, name: str) -> list[Span]:
    kept = []
    for span in spans:
        label = options.label_map.get(span.label, span.label)
        if label == OUTSIDE:
            continue
        if options.labels is not None and label not in options.labels:
            allowed = ", ".join(sorted(options.labels))
            raise InputError(
                name,
                raw.line_of(span.start),
                f"{raw.where(span.start)}label {label!r} is not in the corpus's label set ({allowed}); "
                f"map it (--label-map {label}=O drops it) or declare it with --labels",
            )
        kept.append(span if label == span.label else Span(span.start, span.end, label))
    return kept


@READERS.register("conll")
def read_conll_numbered(
    path: PathLike,
    options: ConllOptions | None = None,
    *,
    lang: str | None = None,
    stats: ReadStats | None = None,
    on_progress: ProgressFn | None = None,
    display_name: str | None = None,
) -> Iterator[tuple[int, Sentence]]:
    """Stream ``(line, sentence)``: the sentences of a CoNLL file with their spans, and the 1-based line of each
    sentence's first token.

    When spans had to be repaired (IOB1-style ``I-`` starts under ``scheme="auto"``), ``stats`` counts them and
    :func:`repair_warning` words the warning.

    Raises:
        InputError: any problem, naming the file, the line and the reason.
    """
    options = options or ConllOptions()
    stats = stats if stats is not None else ReadStats()
    name = display_name or str(path)
    raws = iter_raw_sentences(path, tag_column=options.tag_column, on_progress=on_progress, display_name=name)
    for raw in raws:
        yield raw.line, raw_to_sentence(raw, options, name=name, lang=lang, stats=stats)


def without_lines(numbered: Callable[P, Iterator[tuple[int, Sentence]]]) -> Callable[P, Iterator[Sentence]]:
    """A reader of sentences only, from a reader of ``(line, sentence)`` pairs (same arguments)."""

    @functools.wraps(numbered)
    def read(*args: P.args, **kwargs: P.kwargs) -> Iterator[Sentence]:
        return (sentence for _, sentence in numbered(*args, **kwargs))

    return read


read_conll = without_lines(read_conll_numbered)


def repair_warning(name: str, stats: ReadStats) -> str | None:
    """The warning for spans read IOB1-style, naming the file and first line; None when nothing was repaired."""
    if not stats.repaired_spans:
        return None
    return (
        f"{name}:{stats.first_repaired_line}: {stats.repaired_spans} span(s) began with I- (IOB1 style); "
        "they were read as IOB2 (B-) starts"
    )


def sentence_to_conll(sentence: Sentence, meta: object = None, *, scheme: str = "iob2", sep: str = " ") -> str:
    """One sentence as CoNLL lines (each ``TOKEN<sep>TAG``) followed by a blank line; ``meta`` is not written."""
    tags = spans_to_tags(sentence.spans, len(sentence.tokens), scheme)
    return "".join(f"{token}{sep}{tag}\n" for token, tag in zip(sentence.tokens, tags, strict=False)) + "\n"


def write_conll(sentences: Iterable[Sentence], out: TextIO, *, scheme: str = "iob2", sep: str = " ") -> int:
    """Write sentences as CoNLL to an open text stream; returns how many were written."""
    count = 0
    for sentence in sentences:
        out.write(sentence_to_conll(sentence, scheme=scheme, sep=sep))
        count += 1
    return count


@WRITERS.register("conll")
@dataclass
class ConllWriter:
    """CoNLL export, IOB2, space-separated (what ``xner import`` and most NER tools read)."""

    name: ClassVar[str] = "conll"
    folder: ClassVar[bool] = False

    def write(self, source: ExportSource, path: Path) -> None:
        with path.open("w", encoding="utf-8", newline="\n") as handle:
            for sentence, meta in source.rows():
                handle.write(sentence_to_conll(sentence, meta))


def looks_like_conll(path: PathLike, *, probe_lines: int = 50) -> bool:
    """Guess whether a file is CoNLL (token-and-tag lines) rather than plain text, from its first lines."""
    seen = 0
    for _, text in iter_lines(path):
        columns = text.split()
        if not columns or columns[0] == DOCSTART:
            continue
        tag = columns[-1]
        if len(columns) < 2 or not (tag == OUTSIDE or (len(tag) > 2 and tag[1] == "-" and tag[0] in "BIESLU")):
            return False
        seen += 1
        if seen >= probe_lines:
            break
    return seen > 0
