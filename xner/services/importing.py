"""Import use cases: CoNLL/JSONL corpora, parallel text, alignments.

Files are streamed (memory stays flat whatever their size) and written :data:`BATCH` sentences (or pairs) at a
time, each batch its own short committed transaction under a hidden corpus (:mod:`xner.store.staging`): an import of any
length holds the database's write lock for one batch at a time, so reviewers keep saving while it runs. Nothing of
an import can be read (corpus lists, stats, review queues, exports, projections) until one short final transaction
publishes it:

- into a new corpus: the corpus is written hidden under its own name, so a second import of that name is refused
  ("corpus X is being imported"), and publishing reveals it (one row);
- into an existing corpus (a new split, ``--append``): the rows go under a hidden staging corpus and publishing
  moves them, positioned after the split's last sentence at that moment (two appends to one split never collide;
  a split that another import filled meanwhile is refused, as at the start);
- alignments: a new run under a hidden staging corpus, pointed at its corpus at publication (one row).

A staging corpus rather than an import id on every row keeps every reader as it was: the one visibility rule is in
:mod:`xner.services.corpora`. Publishing an append rewrites the corpus id of the rows appended (0.29 s for 10,000
pairs on SQLite under load; a new corpus or run publishes in constant time, 0.01 s): see :mod:`xner.store.staging`
for the figures and the reasons.

Any error (a bad line, a conflict at publication, an interrupt) removes what the import wrote, a batch per
transaction, hidden meanwhile: after a failed import the database holds what it held before. An import killed
outright (kill -9) leaves a hidden corpus that the next import, align or project run removes before it starts
(the import's report says so in its warnings).
"""

from __future__ import annotations

import re
import time
from collections.abc import Collection, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, closing, suppress
from dataclasses import dataclass, field
from functools import partial
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xner.errors import InputError, XnerError
from xner.formats import READERS
from xner.formats.conll import ConllOptions, ReadStats, repair_warning
from xner.formats.parallel import PlainPair, SideOptions, read_pair_batches
from xner.formats.pharaoh import LinkError, check_bounds, read_pharaoh
from xner.formats.read_ahead import ReadAhead, read_sentence_batches
from xner.formats.text import PathLike
from xner.services.corpora import allowed_labels, check_corpus_name, find_corpus, get_corpus, require_kind
from xner.store.db import Session, Store
from xner.store.models import Alignment, AlignmentRun
from xner.store.queries import imports
from xner.store.queries.review_states import raise_review_revision
from xner.store.staging import Stage, add_row, insert_rows, move_corpus_rows, move_runs, staged, sweep_abandoned
from xner.types import CorpusKind, PlainSentence, ProgressFn, Side

if TYPE_CHECKING:
    from xner.store.models import Corpus

BATCH = 500  # sentences (or pairs) per committed batch: each holds the write lock ~0.1 s (SQLite, 2 cores)
# Input files at least this large (a parallel corpus's together) are read in a child process while this
# one writes (ReadAhead): ~15k CoNLL pairs; below, the child's start (~0.1 s) costs more than the overlap saves.
READ_AHEAD_BYTES = 4 * 2**20
SPLIT_NAMES = ("train", "dev", "test")  # the splits a file name can name (see split_from_name)
CORPUS_FORMATS = tuple(READERS)  # conll, jsonl


@dataclass
class ImportReport:
    """What an import added."""

    corpus: str
    split: str
    sentences: int = 0
    pairs: int = 0
    entities: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    run_id: int | None = None
    # where the split came from: "given", "file name" or "default" (see choose_split); alignments: or "corpus"
    split_from: str = "given"

    @property
    def rate(self) -> float:
        """Sentences (or pairs) per second."""
        return (self.pairs or self.sentences) / self.seconds if self.seconds else 0.0


# The words of a file name that name its split (compared with the name's lower-cased alphanumeric parts).
SPLIT_HINTS = {
    "train": "train",
    "training": "train",
    "dev": "dev",
    "devel": "dev",
    "development": "dev",
    "valid": "dev",
    "validation": "dev",
    "val": "dev",
    "devtest": "dev",
    "test": "test",
}
DEFAULT_SPLIT = "train"


def split_from_name(name: PathLike) -> str | None:
    """The split a file's name names (``train``, ``dev`` or ``test``), anywhere in its name; None without a hint.

    The name (not its folders) is cut at every character that is not a letter or digit, and each part is looked
    up in :data:`SPLIT_HINTS` (``valid``, ``validation`` and ``devtest`` mean ``dev``). When several parts name a
    split, the last one wins (``train-dev.txt`` → ``dev``).

    Args:
        name: a file name or path.

    Returns:
        ``"train"``, ``"dev"``, ``"test"``, or None when the name has no hint.

    >>> split_from_name("europarl_ner_ixa/en-europarl.test.conll02")
    'test'
    >>> split_from_name("masakhaner2/yor/dev.txt"), split_from_name("en.conll.train.tsv")
    ('dev', 'train')
    >>> split_from_name("flores.devtest.yor"), split_from_name("ner_valid.jsonl")
    ('dev', 'dev')
    >>> split_from_name("enfr.src-tgt") is None
    True
    """
    parts = re.split(r"[^0-9a-z]+", Path(name).name.lower())
    hints = [SPLIT_HINTS[part] for part in parts if part in SPLIT_HINTS]
    return hints[-1] if hints else None


def choose_split(split: str | None, name: PathLike) -> tuple[str, str]:
    """The split of an import and where it came from: ``split`` when given (``"given"``), else the file name's
    hint (``"file name"``), else :data:`DEFAULT_SPLIT` (``"default"``).

    >>> choose_split(None, "en-europarl.test.conll02"), choose_split(None, "pairs.tsv"), choose_split("dev", "x")
    (('test', 'file name'), ('train', 'default'), ('dev', 'given'))
    """
    if split:
        return split, "given"
    hinted = split_from_name(name)
    return (hinted, "file name") if hinted else (DEFAULT_SPLIT, "default")


def batches(items: Iterable, size: int = BATCH) -> Iterator[list]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def next_position(session: Session, corpus: Corpus, split: str, side: str, *, append: bool) -> int:
    count = imports.split_size(session, corpus.id, split, side)
    if count and not append:
        raise XnerError(
            f"corpus {corpus.name!r} already has {count} sentences in split {split!r}: "
            "pass --append to add more, or choose another --split"
        )
    if not count:
        return 0
    last = imports.last_position(session, corpus.id, split, side)
    assert last is not None
    return last + 1


def _insert_sentences(
    session: Session,
    corpus: Corpus,
    split: str,
    side: Side,
    start: int,
    sentences: list[PlainSentence],
) -> list[int]:
    """Insert sentences (with their file lines) and their entities; returns the new ids in order."""
    return imports.insert_sentences(session, corpus.id, split, side, start, sentences, default_lang=corpus.src_lang)


def _count_labels(report: ImportReport, sentences: Iterable[PlainSentence]) -> None:
    for sentence in sentences:
        for _, _, label in sentence[4]:
            report.entities[label] = report.entities.get(label, 0) + 1


def _repair_warning(name: str, stats: ReadStats) -> list[str]:
    warning = repair_warning(name, stats)
    return [warning] if warning else []


def import_corpus(
    store: Store,
    path: PathLike,
    *,
    corpus: str,
    lang: str,
    fmt: str = "conll",
    split: str | None = None,
    options: ConllOptions | None = None,
    labels: Collection[str] | None = None,
    append: bool = False,
    on_progress: ProgressFn | None = None,
    display_name: str | None = None,
) -> ImportReport:
    """Import a labelled monolingual file (CoNLL or JSONL) into ``corpus``, invisible until complete (see above).

    Args:
        store: the open store.
        path: the file.
        corpus: corpus name (created when missing; an existing one must be monolingual in ``lang``).
        lang: language code of the text.
        fmt: ``conll`` or ``jsonl``.
        split: ``train``/``dev``/``test``...; default guessed from the file name.
        options: how to read tags (scheme, label map, normal form).
        labels: the declared label set; labels outside it are errors. Default: the corpus's label set if it
            has one, else any.
        append: add to a split that already has sentences.
        on_progress: called with bytes read.
        display_name: the file name to use in messages (an upload's name).

    Raises:
        InputError: bad input (file, line, reason); nothing is written.
        XnerError: a corpus/split conflict; nothing is written.
    """
    READERS.lookup(fmt)  # an unknown format fails before anything is read or written
    name = display_name or str(path)
    split, split_from = choose_split(split, name)
    started = time.perf_counter()
    report = ImportReport(corpus=corpus, split=split, split_from=split_from)
    swept = sweep_leftovers(store)
    existing = _existing_corpus(
        store, corpus, kind=CorpusKind.MONO, src_lang=lang, split=split, side=Side.MONO, append=append
    )
    base = options or ConllOptions()
    read_options = ConllOptions(
        base.scheme, base.tag_column, base.label_map, allowed_labels(existing, labels), base.normal_form
    )
    reader = ReadAhead(  # in a child process while this one writes, for a large file (see import_parallel)
        read_sentence_batches,
        fmt,
        path,
        read_options,
        lang=lang,
        size=BATCH,
        display_name=name,
        on_progress=on_progress,
        in_child=_large(path),
    )
    stage_corpus = _corpus_stage(store, corpus, existing, name, kind=CorpusKind.MONO, src_lang=lang)
    with stage_corpus as stage, closing(iter(reader)) as read:
        position = 0
        for batch in read:  # plain sentences with their lines: CoNLL's first-token line, JSONL's record line
            write = partial(_insert_sentences, corpus=stage.corpus, split=split, side=Side.MONO, start=position)
            stage.write(partial(write, sentences=batch))
            position += len(batch)
            report.sentences += len(batch)
            _count_labels(report, batch)
        stats = reader.result or ReadStats()
        stage.publish(
            partial(_publish_rows, stage, existing, split, Side.MONO, append, set(labels or ()) | stats.labels)
        )
    report.warnings = swept + _repair_warning(name, stats)
    report.seconds = time.perf_counter() - started
    return report


def sweep_leftovers(store: Store) -> list[str]:
    """Remove what writes killed outright left hidden (:func:`xner.store.staging.sweep_abandoned`); a warning each."""
    return [f"removed the unfinished rows of an interrupted earlier write ({what})" for what in sweep_abandoned(store)]


def _existing_corpus(
    store: Store,
    name: str,
    *,
    kind: CorpusKind,
    src_lang: str,
    tgt_lang: str | None = None,
    split: str,
    side: Side,
    append: bool,
) -> Corpus | None:
    """The corpus an import adds to, None for a new one, after the checks that need no file: its kind and
    languages, and the split (it must be empty unless ``append``); a name still being imported is refused."""
    check_corpus_name(name)
    with store.session() as session:
        existing = find_corpus(session, name)
        if existing is not None:
            require_kind(existing, kind=kind, src_lang=src_lang, tgt_lang=tgt_lang)
            next_position(session, existing, split, side, append=append)
    return existing


def _corpus_stage(
    store: Store,
    corpus: str,
    existing: Corpus | None,
    source: str,
    *,
    kind: CorpusKind,
    src_lang: str,
    tgt_lang: str | None = None,
) -> AbstractContextManager[Stage]:
    """The staged write of an import: the new corpus itself, hidden, or a staging corpus for an existing one."""
    return staged(
        store,
        what=f"import of {source} into {corpus!r}",
        kind=kind,
        src_lang=src_lang,
        tgt_lang=tgt_lang,
        name=corpus if existing is None else None,
    )


def _publish_rows(
    stage: Stage, existing: Corpus | None, split: str, side: Side, append: bool, labels: set[str], session: Session
) -> None:
    """The final transaction of an import: the labels seen, and for an existing corpus the move of the staged rows
    after the split's last position (checked again: another import may have filled the split meanwhile)."""
    if existing is None:
        target_id = stage.id
    else:
        target = imports.corpus_row(session, existing.id)
        if target is None or target.import_state is not None:  # gone, or being deleted (hidden)
            raise XnerError(f"corpus {existing.name!r} was deleted while the import ran: nothing was imported")
        offset = next_position(session, target, split, side, append=append)
        move_corpus_rows(session, stage.id, target.id, position_offset=offset)
        target_id = target.id
    imports.add_labels(session, target_id, labels)
    if existing is not None:
        raise_review_revision(session, target_id)  # more reviewable sentences; last, see review_states


def import_parallel(
    store: Store,
    src_path: PathLike,
    tgt_path: PathLike | None,
    *,
    corpus: str,
    src: SideOptions,
    tgt: SideOptions,
    split: str | None = None,
    labels: Collection[str] | None = None,
    append: bool = False,
    on_progress: ProgressFn | None = None,
    display_names: tuple[str, str] | None = None,
) -> ImportReport:
    """Import a parallel corpus: two line-aligned files, or one TSV / ``|||`` file when ``tgt_path`` is None.

    Each side of two files may be plain text or CoNLL (``SideOptions.format``); a CoNLL side keeps its gold
    entities. Invisible until complete; on any error nothing is left (see the module docstring).

    Raises:
        InputError: bad input on either side or sides of different lengths (file, line, reason).
        XnerError: a corpus/split conflict.
    """
    names = display_names or (str(src_path), str(tgt_path) if tgt_path is not None else "")
    split, split_from = choose_split(split, names[0])
    if split_from == "default" and names[1]:  # the target file's name may name the split
        split, split_from = choose_split(None, names[1])
    started = time.perf_counter()
    report = ImportReport(corpus=corpus, split=split, split_from=split_from)
    swept = sweep_leftovers(store)
    kind: dict[str, Any] = {"kind": CorpusKind.PARALLEL, "src_lang": src.lang, "tgt_lang": tgt.lang}
    existing = _existing_corpus(store, corpus, **kind, split=split, side=Side.SRC, append=append)
    allowed = allowed_labels(existing, labels)
    src, tgt = (_with_labels(side, allowed) for side in (src, tgt))
    # read in a child process while this one writes, when the files are large enough to be worth its start
    reader = ReadAhead(
        read_pair_batches,
        src_path,
        tgt_path,
        src,
        tgt,
        size=BATCH,
        display_names=names,
        on_progress=on_progress,
        in_child=_large(src_path, tgt_path),
    )
    # closed when the block ends, however it ends: a failed write stops the reading at once (and its child)
    with _corpus_stage(store, corpus, existing, names[0], **kind) as stage, closing(iter(reader)) as read:
        position = 0
        for batch in read:
            stage.write(partial(insert_pairs, corpus=stage.corpus, split=split, start=position, batch=batch))
            position += len(batch)
            report.pairs += len(batch)
            _count_labels(report, (sentence for pair in batch for sentence in pair))
        src_stats, tgt_stats = reader.result or (ReadStats(), ReadStats())
        seen = set(labels or ()) | src_stats.labels | tgt_stats.labels
        stage.publish(partial(_publish_rows, stage, existing, split, Side.SRC, append, seen))
    report.sentences = 2 * report.pairs
    report.warnings = swept + _repair_warning(names[0], src_stats) + _repair_warning(names[1], tgt_stats)
    report.seconds = time.perf_counter() - started
    return report


def _with_labels(side: SideOptions, allowed: frozenset[str] | None) -> SideOptions:
    base = side.conll or ConllOptions(normal_form=side.normal_form)
    conll = ConllOptions(base.scheme, base.tag_column, base.label_map, allowed, base.normal_form)
    return SideOptions(side.lang, side.format, side.pretokenized, side.normal_form, conll)


def insert_pairs(session: Session, corpus: Corpus, split: str, start: int, batch: list[PlainPair]) -> None:
    """Insert the pairs of ``batch`` (:func:`xner.formats.parallel.plain_pair`) at positions ``start``..."""
    src_ids = _insert_sentences(session, corpus, split, Side.SRC, start, [src for src, _ in batch])
    tgt_ids = _insert_sentences(session, corpus, split, Side.TGT, start, [tgt for _, tgt in batch])
    imports.insert_pairs(session, corpus.id, split, start, src_ids, tgt_ids)


def _large(*paths: PathLike | None) -> bool:
    """Whether the input files together reach :data:`READ_AHEAD_BYTES` (worth reading in a child process)."""
    size = 0
    for path in paths:
        with suppress(OSError):  # a missing file: the reader says what is wrong with it
            size += Path(path).stat().st_size if path is not None else 0
    return size >= READ_AHEAD_BYTES


def resolve_pair_split(session: Session, corpus: Corpus, split: str | None, *, hint: str | None = None) -> str:
    """The split to use for a per-pair file: the given one, or the corpus's only split, or, of several, the one
    ``hint`` names (the file name's, :func:`split_from_name`)."""
    splits = imports.pair_splits(session, corpus.id)
    if not splits:
        raise XnerError(f"corpus {corpus.name!r} has no sentence pairs: import parallel text first")
    if split is None and len(splits) > 1 and hint in splits:
        return hint
    if split is None:
        if len(splits) > 1:
            raise XnerError(f"corpus {corpus.name!r} has splits {', '.join(sorted(splits))}: choose one with --split")
        return splits[0]
    if split not in splits:
        raise XnerError(f"corpus {corpus.name!r} has no split {split!r}; it has {', '.join(sorted(splits))}")
    return split


def import_alignments(
    store: Store,
    path: PathLike,
    *,
    corpus: str,
    aligner: str,
    split: str | None = None,
    index_base: int = 0,
    params: Mapping[str, object] | None = None,
    created_by: str = "",
    on_progress: ProgressFn | None = None,
    display_name: str | None = None,
) -> ImportReport:
    """Import Pharaoh alignments (one line per pair, in corpus order) as a new alignment run.

    Raises:
        InputError: a malformed link, a link beyond its sentence, or a line count that differs from the number
            of pairs (file, line, reason); nothing is written.
    """
    if index_base not in (0, 1):
        raise XnerError(f"index base must be 0 or 1, got {index_base}")
    name = display_name or str(path)
    started = time.perf_counter()
    swept = sweep_leftovers(store)
    with store.session() as session:
        target = get_corpus(session, corpus)
        given = split
        split = resolve_pair_split(session, target, split, hint=split_from_name(name))
    split_from = "given" if given else "file name" if split == split_from_name(name) else "corpus"
    report = ImportReport(corpus=corpus, split=split, warnings=swept, split_from=split_from)
    params = {"source": Path(name).name, "index_base": index_base, **(params or {})}
    run = {"aligner": aligner, "params": params, "created_by": created_by}
    languages = {"kind": target.kind, "src_lang": target.src_lang, "tgt_lang": target.tgt_lang}
    what = f"import of alignments {name} into {corpus!r}"
    with staged(store, what=what, **languages) as stage, store.session() as reading:
        run_id = stage.write(partial(add_row, AlignmentRun, {"corpus_id": stage.id, **run}))
        pairs = imports.pair_lengths(reading, target.id, split)
        rows = _alignment_rows(
            read_pharaoh(path, index_base=index_base, on_progress=on_progress, display_name=name),
            pairs,
            run_id,
            name,
            index_base,
        )
        for batch in batches(rows):
            stage.write(partial(insert_rows, Alignment, batch))
            report.pairs += len(batch)
        leftover = next(pairs, None)
        if leftover is not None:
            raise InputError(
                name,
                report.pairs + 1,
                f"file ends after {report.pairs} lines but split {split!r} has more pairs: "
                "one line per sentence pair is needed (an empty line for a pair without links)",
            )
        stage.publish(partial(move_runs, from_id=stage.id, to_id=target.id))
    report.run_id = run_id
    report.seconds = time.perf_counter() - started
    return report


def _alignment_rows(
    lines: Iterator[tuple[int, object]],
    pairs: Iterator[tuple[int, int, int]],
    run_id: int,
    name: str,
    index_base: int,
) -> Iterator[dict]:
    for number, alignment in lines:
        pair = next(pairs, None)
        if pair is None:
            raise InputError(name, number, f"more lines than the split's {number - 1} sentence pairs")
        pair_id, src_len, tgt_len = pair
        try:
            check_bounds(alignment, src_len, tgt_len, index_base=index_base)
        except LinkError as error:
            raise InputError(name, number, str(error)) from None
        yield {"run_id": run_id, "pair_id": pair_id, "links": alignment.to_pharaoh()}
