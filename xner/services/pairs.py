"""Reading the sentence pairs of a parallel corpus as core types, a page at a time.

Used by the align, refine, project, evaluate and translate use cases. Pairs come in (split, position) order
through keyset paging on the pair id, so memory stays flat and each page is one indexed query however large the
corpus.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xner.errors import XnerError
from xner.formats.pharaoh import parse_pharaoh_line
from xner.store.models import Alignment as AlignmentRow
from xner.store.models import AlignmentRun, Corpus, Sentence, SentencePair
from xner.store.paging import PAGE_SIZE, keyset_pages
from xner.store.queries.sentences import entity_spans
from xner.types import Alignment, Span


@dataclass(frozen=True, slots=True)
class PairRecord:
    """One stored sentence pair with its tokens, gold entities and (optionally) the links of one alignment run."""

    pair_id: int
    split: str
    position: int
    src_id: int
    tgt_id: int
    src_tokens: tuple[str, ...]
    tgt_tokens: tuple[str, ...]
    src_spans: tuple[Span, ...] = ()
    tgt_spans: tuple[Span, ...] = ()
    alignment: Alignment | None = None


def require_parallel(corpus: Corpus) -> None:
    if corpus.kind != "parallel":
        raise XnerError(f"corpus {corpus.name!r} is monolingual: alignment and projection need a parallel corpus")


def count_pairs(session: Session, corpus: Corpus, splits: Collection[str] | None = None) -> int:
    query = select(func.count()).select_from(SentencePair).where(SentencePair.corpus_id == corpus.id)
    if splits:
        query = query.where(SentencePair.split.in_(list(splits)))
    return session.scalar(query) or 0


def iter_pairs(
    session: Session,
    corpus: Corpus,
    *,
    splits: Collection[str] | None = None,
    alignment_run: int | None = None,
    with_spans: bool = True,
    page: int = PAGE_SIZE,
) -> Iterator[PairRecord]:
    """The pairs of ``corpus`` in id order (= import order), with gold spans and the links of ``alignment_run``."""
    src, tgt = Sentence.__table__.alias("src"), Sentence.__table__.alias("tgt")
    query = (
        select(
            SentencePair.id,
            SentencePair.split,
            SentencePair.position,
            src.c.id,
            tgt.c.id,
            src.c.tokens,
            tgt.c.tokens,
        )
        .join(src, src.c.id == SentencePair.src_sentence_id)
        .join(tgt, tgt.c.id == SentencePair.tgt_sentence_id)
        .where(SentencePair.corpus_id == corpus.id)
    )
    if splits:
        query = query.where(SentencePair.split.in_(list(splits)))
    for rows in keyset_pages(session, query, SentencePair.id, size=page):
        spans = entity_spans(session, [r[3] for r in rows] + [r[4] for r in rows]) if with_spans else {}
        links = _links(session, alignment_run, [r[0] for r in rows]) if alignment_run is not None else {}
        for pair_id, split, position, src_id, tgt_id, src_tokens, tgt_tokens in rows:
            yield PairRecord(
                pair_id,
                split,
                position,
                src_id,
                tgt_id,
                tuple(src_tokens),
                tuple(tgt_tokens),
                tuple(sorted(spans.get(src_id, ()))),
                tuple(sorted(spans.get(tgt_id, ()))),
                links.get(pair_id, Alignment()) if alignment_run is not None else None,
            )


def _links(session: Session, run_id: int, pair_ids: list[int]) -> dict[int, Alignment]:
    rows = session.execute(
        select(AlignmentRow.pair_id, AlignmentRow.links).where(
            AlignmentRow.run_id == run_id, AlignmentRow.pair_id.in_(pair_ids)
        )
    )
    return {pair_id: parse_pharaoh_line(text) for pair_id, text in rows}


def get_alignment_run(
    session: Session, corpus: Corpus, run_id: int | None, *, exclude: int | None = None
) -> AlignmentRun:
    """Alignment run ``run_id`` of ``corpus``, or its newest run (other than ``exclude``) when None."""
    query = select(AlignmentRun).where(AlignmentRun.corpus_id == corpus.id)
    if exclude is not None:
        query = query.where(AlignmentRun.id != exclude)
    if run_id is not None:
        run = session.scalars(query.where(AlignmentRun.id == run_id)).one_or_none()
        if run is None:
            ids = session.scalars(select(AlignmentRun.id).where(AlignmentRun.corpus_id == corpus.id))
            known = [str(r) for r in ids]
            raise XnerError(
                f"corpus {corpus.name!r} has no alignment run {run_id}; its runs: {', '.join(known) or 'none'}"
            )
        return run
    run = session.scalars(query.order_by(AlignmentRun.id.desc()).limit(1)).one_or_none()
    if run is None:
        raise XnerError(f"corpus {corpus.name!r} has no alignments yet: run `xner align` or import alignments first")
    return run
