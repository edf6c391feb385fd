"""Import use cases: CoNLL/JSONL corpora, parallel text, alignments. Each import is one transaction.

Files are streamed and written in batches, so memory stays flat whatever the file's size; any error rolls the
whole import back, so after a failed import the database is exactly as it was.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from xner.errors import InputError, XnerError
from xner.formats.conll import ConllOptions, ReadStats, read_conll_numbered, repair_warning
from xner.formats.jsonl import read_jsonl_numbered
from xner.formats.parallel import ParallelItem, SideOptions, iter_parallel, iter_parallel_single
from xner.formats.pharaoh import LinkError, check_bounds, read_pharaoh
from xner.formats.text import PathLike, ProgressFn
from xner.services.corpora import allowed_labels, ensure_corpus, get_corpus
from xner.store.db import Store
from xner.store.models import Alignment, AlignmentRun, Corpus, Entity, Sentence, SentencePair
from xner.types import Sentence as SentenceData

BATCH = 2000
SPLIT_NAMES = ("train", "dev", "test", "valid", "validation")
CORPUS_FORMATS = ("conll", "jsonl")


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

    @property
    def rate(self) -> float:
        """Sentences (or pairs) per second."""
        return (self.pairs or self.sentences) / self.seconds if self.seconds else 0.0


def guess_split(path: PathLike) -> str:
    """The split named by a file's stem (``train.txt`` → ``train``), else ``train``."""
    stem = Path(path).name.split(".")[0].lower()
    return stem if stem in SPLIT_NAMES else "train"


def batches(items: Iterable, size: int = BATCH) -> Iterator[list]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def next_position(session: Session, corpus: Corpus, split: str, side: str, *, append: bool) -> int:
    count = session.scalar(
        select(func.count()).where(Sentence.corpus_id == corpus.id, Sentence.split == split, Sentence.side == side)
    )
    if count and not append:
        raise XnerError(
            f"corpus {corpus.name!r} already has {count} sentences in split {split!r}: "
            "pass --append to add more, or choose another --split"
        )
    if not count:
        return 0
    return (
        session.scalar(
            select(func.max(Sentence.position)).where(
                Sentence.corpus_id == corpus.id, Sentence.split == split, Sentence.side == side
            )
        )
        + 1
    )


def _insert_sentences(
    session: Session,
    corpus: Corpus,
    split: str,
    side: str,
    start: int,
    sentences: list[tuple[int | None, SentenceData]],
) -> list[int]:
    """Insert sentences (with their file lines) and their entities; returns the new ids in order."""
    rows = [
        {
            "corpus_id": corpus.id,
            "split": split,
            "side": side,
            "position": start + offset,
            "lang": sentence.lang or corpus.src_lang,
            "tokens": list(sentence.tokens),
            "text": sentence.text,
            "n_tokens": len(sentence.tokens),
            "source_line": line,
        }
        for offset, (line, sentence) in enumerate(sentences)
    ]
    session.execute(insert(Sentence.__table__), rows)
    # Read the new ids back by position (unique per corpus, split and side): one indexed range query, much
    # faster than RETURNING with parameter order, and the same on every database.
    by_position = dict(
        session.execute(
            select(Sentence.position, Sentence.id).where(
                Sentence.corpus_id == corpus.id,
                Sentence.split == split,
                Sentence.side == side,
                Sentence.position.between(start, start + len(rows) - 1),
            )
        ).all()
    )
    ids = [by_position[start + offset] for offset in range(len(rows))]
    entities = [
        {"sentence_id": sid, "corpus_id": corpus.id, "start": s.start, "end": s.end, "label": s.label}
        for sid, (_, sentence) in zip(ids, sentences, strict=False)
        for s in sentence.spans
    ]
    if entities:
        session.execute(insert(Entity.__table__), entities)
    return ids


def _count_labels(report: ImportReport, sentences: Iterable[SentenceData]) -> None:
    for sentence in sentences:
        for span in sentence.spans:
            report.entities[span.label] = report.entities.get(span.label, 0) + 1


def _finish_labels(corpus: Corpus, declared: Collection[str] | None, seen: Iterable[str]) -> None:
    corpus.labels = sorted(set(corpus.labels) | set(declared or ()) | set(seen))


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
    """Import a labelled monolingual file (CoNLL or JSONL) into ``corpus`` as one transaction.

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
    if fmt not in CORPUS_FORMATS:
        raise XnerError(f"unknown corpus format {fmt!r}; use one of {', '.join(CORPUS_FORMATS)}")
    name = display_name or str(path)
    split = split or guess_split(display_name or path)
    started = time.perf_counter()
    report = ImportReport(corpus=corpus, split=split)
    stats = ReadStats()
    with store.transaction() as session:
        target = ensure_corpus(session, corpus, kind="mono", src_lang=lang)
        base = options or ConllOptions()
        read_options = ConllOptions(
            base.scheme, base.tag_column, base.label_map, allowed_labels(target, labels), base.normal_form
        )
        reader = read_conll_numbered if fmt == "conll" else read_jsonl_numbered
        sentences = reader(path, read_options, lang=lang, stats=stats, on_progress=on_progress, display_name=name)
        position = next_position(session, target, split, "mono", append=append)
        for batch in batches(sentences):  # (line, sentence) pairs: CoNLL's first-token line, JSONL's record line
            _insert_sentences(session, target, split, "mono", position, batch)
            position += len(batch)
            report.sentences += len(batch)
            _count_labels(report, [s for _, s in batch])
        _finish_labels(target, labels, stats.labels)
    report.warnings = _repair_warning(name, stats)
    report.seconds = time.perf_counter() - started
    return report


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
    entities. One transaction: on any error nothing is written.

    Raises:
        InputError: bad input on either side or sides of different lengths (file, line, reason).
        XnerError: a corpus/split conflict.
    """
    names = display_names or (str(src_path), str(tgt_path) if tgt_path is not None else "")
    split = split or guess_split(names[0])
    started = time.perf_counter()
    report = ImportReport(corpus=corpus, split=split)
    src_stats, tgt_stats = ReadStats(), ReadStats()
    with store.transaction() as session:
        target = ensure_corpus(session, corpus, kind="parallel", src_lang=src.lang, tgt_lang=tgt.lang)
        allowed = allowed_labels(target, labels)
        src, tgt = (_with_labels(side, allowed) for side in (src, tgt))
        if tgt_path is None:
            items = iter_parallel_single(src_path, src, tgt, on_progress=on_progress, display_name=names[0])
        else:
            items = iter_parallel(
                src_path, tgt_path, src, tgt, stats=(src_stats, tgt_stats), on_progress=on_progress, display_names=names
            )
        position = next_position(session, target, split, "src", append=append)
        for batch in batches(items):
            insert_pairs(session, target, split, position, batch)
            position += len(batch)
            report.pairs += len(batch)
            _count_labels(report, (s for item in batch for s in (item.src, item.tgt)))
        _finish_labels(target, labels, src_stats.labels | tgt_stats.labels)
    report.sentences = 2 * report.pairs
    report.warnings = _repair_warning(names[0], src_stats) + _repair_warning(names[1], tgt_stats)
    report.seconds = time.perf_counter() - started
    return report


def _with_labels(side: SideOptions, allowed: frozenset[str] | None) -> SideOptions:
    base = side.conll or ConllOptions(normal_form=side.normal_form)
    conll = ConllOptions(base.scheme, base.tag_column, base.label_map, allowed, base.normal_form)
    return SideOptions(side.lang, side.format, side.pretokenized, side.normal_form, conll)


def insert_pairs(session: Session, corpus: Corpus, split: str, start: int, batch: list[ParallelItem]) -> None:
    src_ids = _insert_sentences(session, corpus, split, "src", start, [(i.src_line, i.src) for i in batch])
    tgt_ids = _insert_sentences(session, corpus, split, "tgt", start, [(i.tgt_line, i.tgt) for i in batch])
    session.execute(
        insert(SentencePair),
        [
            {
                "corpus_id": corpus.id,
                "split": split,
                "position": start + offset,
                "src_sentence_id": s,
                "tgt_sentence_id": t,
            }
            for offset, (s, t) in enumerate(zip(src_ids, tgt_ids, strict=False))
        ],
    )


def _pair_pages(session: Session, corpus: Corpus, split: str, page: int = 5000) -> Iterator[tuple[int, int, int]]:
    """``(pair_id, src_tokens, tgt_tokens)`` in position order, a page at a time (keyset paging)."""
    src, tgt = Sentence.__table__.alias("src"), Sentence.__table__.alias("tgt")
    last = -1
    while True:
        rows = session.execute(
            select(SentencePair.id, src.c.n_tokens, tgt.c.n_tokens, SentencePair.position)
            .join(src, src.c.id == SentencePair.src_sentence_id)
            .join(tgt, tgt.c.id == SentencePair.tgt_sentence_id)
            .where(SentencePair.corpus_id == corpus.id, SentencePair.split == split, SentencePair.position > last)
            .order_by(SentencePair.position)
            .limit(page)
        ).all()
        if not rows:
            return
        for pair_id, src_len, tgt_len, _ in rows:
            yield pair_id, src_len, tgt_len
        last = rows[-1][3]


def resolve_pair_split(session: Session, corpus: Corpus, split: str | None) -> str:
    """The split to use for a per-pair file: the given one, or the corpus's only split."""
    splits = list(session.scalars(select(SentencePair.split).where(SentencePair.corpus_id == corpus.id).distinct()))
    if not splits:
        raise XnerError(f"corpus {corpus.name!r} has no sentence pairs: import parallel text first")
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
    with store.transaction() as session:
        target = get_corpus(session, corpus)
        split = resolve_pair_split(session, target, split)
        report = ImportReport(corpus=corpus, split=split)
        run = AlignmentRun(
            corpus_id=target.id,
            aligner=aligner,
            created_by=created_by,
            params={"source": Path(name).name, "index_base": index_base, **(params or {})},
        )
        session.add(run)
        session.flush()
        pairs = _pair_pages(session, target, split)
        rows = _alignment_rows(
            read_pharaoh(path, index_base=index_base, on_progress=on_progress, display_name=name),
            pairs,
            run.id,
            name,
            index_base,
        )
        for batch in batches(rows):
            session.execute(insert(Alignment), batch)
            report.pairs += len(batch)
        leftover = next(pairs, None)
        if leftover is not None:
            raise InputError(
                name,
                report.pairs + 1,
                f"file ends after {report.pairs} lines but split {split!r} has more pairs: "
                "one line per sentence pair is needed (an empty line for a pair without links)",
            )
        report.run_id = run.id
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
