"""Export use case: a corpus side, filtered by split and review status, to CoNLL/IOB2 or JSONL.

The entities written for a sentence are its curated spans when it has been reviewed, else its gold entities.
Output goes to a temporary file that replaces the target only when the export is complete, so a failed export
never leaves a half-written file.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from sqlalchemy import Row, func, or_, select
from sqlalchemy.orm import Session

from xner.errors import XnerError
from xner.formats.conll import sentence_to_conll
from xner.formats.jsonl import sentence_to_json_line
from xner.formats.text import PathLike
from xner.services.corpora import entity_spans, get_corpus
from xner.store.db import Store
from xner.store.models import Corpus, ReviewState, Sentence
from xner.types import ReviewStatus, Span
from xner.types import Sentence as SentenceData

EXPORT_FORMATS = ("conll", "jsonl")
PAGE = 2000


@dataclass
class ExportReport:
    corpus: str
    path: str
    format: str
    sentences: int
    entities: int


def side_for(corpus: Corpus, side: str | None) -> str:
    """The side to read: ``mono`` for a monolingual corpus, else ``side`` (default ``tgt``), checked."""
    if corpus.kind == "mono":
        if side not in (None, "mono"):
            raise XnerError(f"corpus {corpus.name!r} is monolingual: it has no {side!r} side")
        return "mono"
    side = side or "tgt"
    if side not in ("src", "tgt"):
        raise XnerError(f"side must be 'src' or 'tgt' for parallel corpus {corpus.name!r}, got {side!r}")
    return side


def iter_export_sentences(
    session: Session,
    corpus: Corpus,
    *,
    side: str,
    splits: Collection[str] | None = None,
    statuses: Collection[ReviewStatus] | None = None,
) -> Iterator[tuple[SentenceData, dict]]:
    """Yield ``(sentence, meta)`` split by split (in import order), by position, a page at a time.

    Keyset paging on (corpus, split, side, position) follows the unique index, so each page is one index range
    read however large the corpus. Plain columns, not ORM objects: an export reads every row once, and the
    identity map would only slow it down.
    """
    query = (
        select(
            Sentence.id,
            Sentence.split,
            Sentence.position,
            Sentence.tokens,
            Sentence.text,
            Sentence.lang,
            ReviewState.status,
            ReviewState.spans,
        )
        .outerjoin(ReviewState, ReviewState.sentence_id == Sentence.id)
        .where(Sentence.corpus_id == corpus.id, Sentence.side == side)
    )
    if statuses:
        wanted = [status.value for status in statuses]
        condition = ReviewState.status.in_(wanted)
        if ReviewStatus.UNREVIEWED in statuses:
            condition = or_(condition, ReviewState.status.is_(None))
        query = query.where(condition)
    for split in splits_in_import_order(session, corpus, side):
        if splits and split not in splits:
            continue
        last_position = -1
        while True:
            page = session.execute(
                query.where(Sentence.split == split, Sentence.position > last_position)
                .order_by(Sentence.position)
                .limit(PAGE)
            ).all()
            if not page:
                break
            yield from _page_sentences(session, page)
            last_position = page[-1].position


def splits_in_import_order(session: Session, corpus: Corpus, side: str) -> list[str]:
    """The splits of ``corpus`` that have sentences on ``side``, in the order they were first imported."""
    rows = session.execute(
        select(Sentence.split, func.min(Sentence.id))
        .where(Sentence.corpus_id == corpus.id, Sentence.side == side)
        .group_by(Sentence.split)
    ).all()
    return [split for split, _ in sorted(rows, key=lambda row: row[1])]


def _page_sentences(session: Session, page: Sequence[Row]) -> Iterator[tuple[SentenceData, dict]]:
    gold = entity_spans(session, [row.id for row in page if row.spans is None])
    for row in page:
        if row.spans is not None:  # reviewed: the curated spans replace the gold ones
            spans = [Span(s["start"], s["end"], s["label"]) for s in row.spans]
        else:
            spans = gold.get(row.id, [])
        meta = {"split": row.split, "position": row.position, "status": row.status or ReviewStatus.UNREVIEWED.value}
        yield SentenceData(tuple(row.tokens), tuple(sorted(spans)), row.text, row.lang), meta


def export_corpus(
    store: Store,
    corpus: str,
    out: PathLike,
    *,
    fmt: str = "conll",
    side: str | None = None,
    splits: Collection[str] | None = None,
    statuses: Collection[ReviewStatus] | None = None,
) -> ExportReport:
    """Write one side of ``corpus`` to ``out`` (atomically), filtered by splits and review statuses.

    Args:
        fmt: ``conll`` (IOB2, space-separated) or ``jsonl`` (Prodigy/spaCy shape).
        side: ``src`` or ``tgt`` for a parallel corpus (default ``tgt``); monolingual corpora have one side.
        splits: only these splits (default all).
        statuses: only sentences in these review statuses (default all).
    """
    if fmt not in EXPORT_FORMATS:
        raise XnerError(f"unknown export format {fmt!r}; use one of {', '.join(EXPORT_FORMATS)}")
    write_line = sentence_to_conll if fmt == "conll" else sentence_to_json_line
    target = Path(out)
    count = entities = 0
    with store.session() as session, _atomic_write(target) as handle:
        found = get_corpus(session, corpus)
        rows = iter_export_sentences(session, found, side=side_for(found, side), splits=splits, statuses=statuses)
        for sentence, meta in rows:
            handle.write(write_line(sentence, meta))
            count += 1
            entities += len(sentence.spans)
    return ExportReport(corpus, str(target), fmt, count, entities)


class _atomic_write:
    """Write to a temporary file beside ``path``; move it into place only when the block succeeds."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.handle: TextIO | None = None
        self.tmp = ""

    def __enter__(self) -> TextIO:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, self.tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        self.handle = os.fdopen(fd, "w", encoding="utf-8", newline="\n")
        return self.handle

    def __exit__(self, exc_type, exc, tb) -> None:
        assert self.handle is not None
        self.handle.close()
        if exc_type is None:
            os.replace(self.tmp, self.path)
        else:
            os.unlink(self.tmp)
