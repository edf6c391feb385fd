"""Sentence pairs of a parallel corpus and the stored links of alignment runs, as plain columns.

The Pharaoh text of the links is returned as stored: parsing it is a format's work, done by
:mod:`xner.services.pairs`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence

from sqlalchemy import ColumnElement, func, null, select
from sqlalchemy.orm import Session

from xner.store.models import Alignment, Entity, Sentence, SentencePair
from xner.store.paging import PAGE_SIZE, AnyRow, keyset_pages


def pair_count(session: Session, corpus_id: int, splits: Collection[str] | None = None) -> int:
    """The sentence pairs of corpus ``corpus_id`` (of ``splits`` only, when given)."""
    query = select(func.count()).select_from(SentencePair).where(SentencePair.corpus_id == corpus_id)
    if splits:
        query = query.where(SentencePair.split.in_(list(splits)))
    return session.scalar(query) or 0


def pair_pages(
    session: Session, corpus_id: int, *, splits: Collection[str] | None = None, size: int = PAGE_SIZE
) -> Iterator[Sequence[AnyRow]]:
    """The pairs of corpus ``corpus_id`` (of ``splits`` only, when given) in id order (= import order), ``size`` at
    a time (keyset pages on the pair id), each row ``(pair id, split, position, source sentence id, target
    sentence id, source tokens, target tokens)``."""
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
        .where(SentencePair.corpus_id == corpus_id)
    )
    if splits:
        query = query.where(SentencePair.split.in_(list(splits)))
    return keyset_pages(session, query, SentencePair.id, size=size)


def alignment_texts(session: Session, run_id: int, pair_ids: Collection[int]) -> dict[int, str]:
    """The stored links (Pharaoh text) of ``pair_ids`` in alignment run ``run_id``, by pair id (pairs the run has no
    row for are left out)."""
    rows = session.execute(
        select(Alignment.pair_id, Alignment.links).where(
            Alignment.run_id == run_id, Alignment.pair_id.in_(list(pair_ids))
        )
    )
    return {pair_id: text for pair_id, text in rows}


def pair_id_ranges(
    session: Session, corpus_id: int, *, splits: Collection[str] | None = None, size: int = PAGE_SIZE
) -> list[tuple[int, int]]:
    """The pairs of corpus ``corpus_id`` (of ``splits`` only, when given) cut into id ranges of ``size`` pairs each
    (the last one shorter): ``(first id, last id)``, both included, in id order. One pass over the pair ids."""
    query = select(SentencePair.id).where(SentencePair.corpus_id == corpus_id)
    if splits:
        query = query.where(SentencePair.split.in_(list(splits)))
    ids = session.scalars(query.order_by(SentencePair.id)).all()
    return [(ids[k], ids[min(k + size, len(ids)) - 1]) for k in range(0, len(ids), size)]


def pair_range_rows(
    session: Session,
    corpus_id: int,
    first_id: int,
    last_id: int,
    *,
    splits: Collection[str] | None = None,
    alignment_run: int | None = None,
) -> Sequence[AnyRow]:
    """The pairs of corpus ``corpus_id`` with ids in ``[first_id, last_id]`` (of ``splits`` only, when given), in id
    order, as plain tuples ``(pair id, source sentence id, source tokens, target tokens, links)``: ``links`` is the
    Pharaoh text of alignment run ``alignment_run`` (None without a run, or when the run has no row for the pair).
    One query (the links joined in), no ORM objects."""
    src, tgt = Sentence.__table__.alias("src"), Sentence.__table__.alias("tgt")
    pair = SentencePair.__table__
    links = Alignment.__table__
    columns = [pair.c.id, src.c.id, src.c.tokens, tgt.c.tokens]
    query = (
        select(*columns, links.c.links if alignment_run is not None else null())
        .select_from(pair)
        .join(src, src.c.id == pair.c.src_sentence_id)
        .join(tgt, tgt.c.id == pair.c.tgt_sentence_id)
        .where(*_in_range(corpus_id, first_id, last_id))
    )
    if alignment_run is not None:
        query = query.outerjoin(links, (links.c.pair_id == pair.c.id) & (links.c.run_id == alignment_run))
    if splits:
        query = query.where(pair.c.split.in_(list(splits)))
    return session.execute(query.order_by(pair.c.id)).all()


def pair_range_entities(session: Session, corpus_id: int, first_id: int, last_id: int) -> Sequence[AnyRow]:
    """The gold entities of the source sentences of the pairs of corpus ``corpus_id`` with ids in
    ``[first_id, last_id]``, as ``(source sentence id, start, end, label)`` tuples (in no particular order)."""
    pair = SentencePair.__table__
    query = (
        select(Entity.sentence_id, Entity.start, Entity.end, Entity.label)
        .join(pair, pair.c.src_sentence_id == Entity.sentence_id)
        .where(*_in_range(corpus_id, first_id, last_id))
    )
    return session.execute(query).all()


def _in_range(corpus_id: int, first_id: int, last_id: int) -> tuple[ColumnElement[bool], ...]:
    """The pairs of corpus ``corpus_id`` with ids in ``[first_id, last_id]``, read as one primary-key range: the
    corpus test is written ``corpus_id + 0`` so that SQLite does not pick the (corpus, split, position) index and
    scan every pair of the corpus for each range."""
    pair = SentencePair.__table__
    return (pair.c.id.between(first_id, last_id), (pair.c.corpus_id + 0) == corpus_id)
