"""Sentences, their gold entities and the tokens of sentence pairs, read as core types."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xner.store.models import Entity, Sentence, SentencePair
from xner.types import Span


def entity_spans(session: Session, sentence_ids: Collection[int]) -> dict[int, list[Span]]:
    """The gold entity spans of each of ``sentence_ids`` (sentences without entities are absent)."""
    spans: dict[int, list[Span]] = {}
    if not sentence_ids:
        return spans
    rows = session.execute(
        select(Entity.sentence_id, Entity.start, Entity.end, Entity.label).where(
            Entity.sentence_id.in_(list(sentence_ids))
        )
    )
    for sentence_id, start, end, label in rows:
        spans.setdefault(sentence_id, []).append(Span(start, end, label))
    return spans


def splits_in_import_order(session: Session, corpus_id: int, side: str) -> list[str]:
    """The splits of the corpus that have sentences on ``side``, in the order they were first imported."""
    rows = session.execute(
        select(Sentence.split, func.min(Sentence.id))
        .where(Sentence.corpus_id == corpus_id, Sentence.side == side)
        .group_by(Sentence.split)
    ).all()
    return [split for split, _ in sorted(rows, key=lambda row: row[1])]


def pair_tokens(session: Session, pair_ids: Collection[int]) -> dict[int, tuple[tuple[str, ...], tuple[str, ...]]]:
    """The (source, target) tokens of each of ``pair_ids``, by pair id."""
    src, tgt = Sentence.__table__.alias("src"), Sentence.__table__.alias("tgt")
    rows = session.execute(
        select(SentencePair.id, src.c.tokens, tgt.c.tokens)
        .join(src, src.c.id == SentencePair.src_sentence_id)
        .join(tgt, tgt.c.id == SentencePair.tgt_sentence_id)
        .where(SentencePair.id.in_(list(pair_ids)))
    )
    return {pair_id: (tuple(src_tokens), tuple(tgt_tokens)) for pair_id, src_tokens, tgt_tokens in rows}
