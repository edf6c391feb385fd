"""Sentence pairs of a parallel corpus and the stored links of alignment runs, as plain columns.

The Pharaoh text of the links is returned as stored: parsing it is a format's work, done by
:mod:`xner.services.pairs`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xner.store.models import Alignment, Sentence, SentencePair
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
