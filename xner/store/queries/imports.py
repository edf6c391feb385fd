"""What an import writes and checks: sentences with their entities and sentence pairs inserted a batch at a time
(under a staging corpus, :mod:`xner.store.staging`), the positions and splits already taken, and the token counts of
the pairs an alignment file is checked against."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from typing import cast

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from xner.store.bulk import insert_tuples
from xner.store.models import Corpus, Entity, Sentence, SentencePair
from xner.store.paging import keyset_pages
from xner.types import PlainSentence

_SENTENCE_KEYS = ("corpus_id", "split", "side", "position", "lang", "tokens", "text", "n_tokens", "source_line")
_ENTITY_KEYS = ("sentence_id", "corpus_id", "start", "end", "label")
_PAIR_KEYS = ("corpus_id", "split", "position", "src_sentence_id", "tgt_sentence_id")


def split_size(session: Session, corpus_id: int, split: str, side: str) -> int:
    """How many sentences the corpus has in ``split`` on ``side``."""
    return (
        session.scalar(
            select(func.count()).where(Sentence.corpus_id == corpus_id, Sentence.split == split, Sentence.side == side)
        )
        or 0
    )


def last_position(session: Session, corpus_id: int, split: str, side: str) -> int | None:
    """The last position taken in ``split`` on ``side`` of the corpus; None when the split is empty."""
    return session.scalar(
        select(func.max(Sentence.position)).where(
            Sentence.corpus_id == corpus_id, Sentence.split == split, Sentence.side == side
        )
    )


def insert_sentences(
    session: Session,
    corpus_id: int,
    split: str,
    side: str,
    start: int,
    sentences: Sequence[PlainSentence],
    *,
    default_lang: str,
) -> list[int]:
    """Insert sentences (:data:`~xner.types.PlainSentence`: file line, language, tokens, text, spans) at positions
    ``start``, ``start + 1``... (a sentence without a language gets ``default_lang``) with their entities; returns
    the new ids in order."""
    rows = [
        (corpus_id, split, side, start + offset, lang or default_lang, tokens, text, len(tokens), line)
        for offset, (line, lang, tokens, text, _) in enumerate(sentences)
    ]
    insert_tuples(session, cast(Table, Sentence.__table__), _SENTENCE_KEYS, rows)
    # Read the new ids back by position (unique per corpus, split and side): one indexed range query, much
    # faster than RETURNING with parameter order, and the same on every database.
    by_position = dict(
        session.execute(
            select(Sentence.position, Sentence.id).where(
                Sentence.corpus_id == corpus_id,
                Sentence.split == split,
                Sentence.side == side,
                Sentence.position.between(start, start + len(rows) - 1),
            )
        ).all()
    )
    ids = [by_position[start + offset] for offset in range(len(rows))]
    entities = [
        (sid, corpus_id, first, end, label)
        for sid, sentence in zip(ids, sentences, strict=False)
        for first, end, label in sentence[4]
    ]
    insert_tuples(session, cast(Table, Entity.__table__), _ENTITY_KEYS, entities)
    return ids


def insert_pairs(
    session: Session, corpus_id: int, split: str, start: int, src_ids: Sequence[int], tgt_ids: Sequence[int]
) -> None:
    """Insert the sentence pairs (``src_ids[i]``, ``tgt_ids[i]``) at positions ``start``, ``start + 1``..."""
    pairs = enumerate(zip(src_ids, tgt_ids, strict=False))
    rows = [(corpus_id, split, start + offset, src, tgt) for offset, (src, tgt) in pairs]
    insert_tuples(session, cast(Table, SentencePair.__table__), _PAIR_KEYS, rows)


def pair_lengths(session: Session, corpus_id: int, split: str) -> Iterator[tuple[int, int, int]]:
    """``(pair_id, src_tokens, tgt_tokens)`` of the split's pairs in position order, a page at a time (keyset
    paging)."""
    src, tgt = Sentence.__table__.alias("src"), Sentence.__table__.alias("tgt")
    query = (
        select(SentencePair.id, src.c.n_tokens, tgt.c.n_tokens, SentencePair.position)
        .join(src, src.c.id == SentencePair.src_sentence_id)
        .join(tgt, tgt.c.id == SentencePair.tgt_sentence_id)
        .where(SentencePair.corpus_id == corpus_id, SentencePair.split == split)
    )
    for rows in keyset_pages(session, query, SentencePair.position):
        for pair_id, src_len, tgt_len, _ in rows:
            yield pair_id, src_len, tgt_len


def pair_splits(session: Session, corpus_id: int) -> list[str]:
    """The splits the corpus has sentence pairs in (in no set order)."""
    return list(session.scalars(select(SentencePair.split).where(SentencePair.corpus_id == corpus_id).distinct()))


def corpus_row(session: Session, corpus_id: int) -> Corpus | None:
    """The corpus row of ``corpus_id``, hidden or not; None when it is gone."""
    return session.get(Corpus, corpus_id)


def add_labels(session: Session, corpus_id: int, labels: Collection[str]) -> None:
    """Add ``labels`` to the corpus's label set (kept sorted)."""
    corpus = session.get(Corpus, corpus_id)
    assert corpus is not None
    corpus.labels = sorted(set(corpus.labels) | set(labels))
