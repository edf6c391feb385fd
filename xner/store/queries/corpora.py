"""Corpora: rows by name, the condition of a visible corpus, and the sizes of a corpus's contents.

Which corpora a reader may see is decided by :mod:`xner.services.corpora` on top of these queries: a corpus whose
``import_state`` is set is hidden (:func:`is_visible`; see :mod:`xner.store.staging`).
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from xner.store.models import Corpus, Entity, Sentence
from xner.types import CorpusKind


def is_visible() -> ColumnElement[bool]:
    """The SQL condition of a visible corpus: complete, not an import, staging corpus or removal still under way."""
    return Corpus.import_state.is_(None)


def corpus_by_name(session: Session, name: str) -> Corpus | None:
    """The corpus row called ``name``, visible or not (the caller decides what a hidden one means)."""
    return session.scalars(select(Corpus).where(Corpus.name == name)).one_or_none()


def visible_names(session: Session) -> list[str]:
    """The names of the visible corpora, sorted."""
    return list(session.scalars(select(Corpus.name).where(is_visible()).order_by(Corpus.name)))


def visible_rows(session: Session, *, kind: str | None = None) -> list[tuple[str, str, str, str | None]]:
    """``(name, kind, src_lang, tgt_lang)`` of every visible corpus (only those of ``kind`` when given), by name."""
    query = select(Corpus.name, Corpus.kind, Corpus.src_lang, Corpus.tgt_lang).where(is_visible()).order_by(Corpus.name)
    if kind is not None:
        query = query.where(Corpus.kind == kind)
    return [(name, kind_, src, tgt) for name, kind_, src, tgt in session.execute(query)]


def visible_of_language(session: Session, lang: str) -> list[Corpus]:
    """The visible corpora whose source (or only) language is ``lang``, by name."""
    query = select(Corpus).where(is_visible(), Corpus.src_lang == lang).order_by(Corpus.name)
    return list(session.scalars(query).all())


def other_parallel_names(session: Session, corpus_id: int, src_lang: str, tgt_lang: str | None) -> list[str]:
    """The visible parallel corpora of language pair ``src_lang``-``tgt_lang`` other than ``corpus_id``, by name."""
    query = (
        select(Corpus.name)
        .where(
            is_visible(),
            Corpus.kind == CorpusKind.PARALLEL,
            Corpus.id != corpus_id,
            Corpus.src_lang == src_lang,
            Corpus.tgt_lang == tgt_lang,
        )
        .order_by(Corpus.name)
    )
    return list(session.scalars(query))


def languages_by_name(session: Session) -> dict[str, tuple[str, str | None]]:
    """``name -> (src_lang, tgt_lang)`` of every corpus."""
    rows = session.execute(select(Corpus.name, Corpus.src_lang, Corpus.tgt_lang))
    return {name: (src, tgt) for name, src, tgt in rows}


def add_corpus(session: Session, *, name: str, kind: str, src_lang: str, tgt_lang: str | None) -> Corpus:
    """A new empty corpus row (no labels, no description), flushed so it has its id."""
    corpus = Corpus(name=name, kind=kind, src_lang=src_lang, tgt_lang=tgt_lang, labels=[], description="")
    session.add(corpus)
    session.flush()
    return corpus


def sentence_counts(session: Session, corpus_id: int) -> list[tuple[str, str, int, int]]:
    """``(split, side, sentences, tokens)`` of corpus ``corpus_id``, by split and side."""
    rows = session.execute(
        select(Sentence.split, Sentence.side, func.count(), func.coalesce(func.sum(Sentence.n_tokens), 0))
        .where(Sentence.corpus_id == corpus_id)
        .group_by(Sentence.split, Sentence.side)
        .order_by(Sentence.split, Sentence.side)
    )
    return [(split, side, count, int(tokens)) for split, side, count, tokens in rows]


def held_splits(session: Session, corpus_id: int, splits: Collection[str]) -> list[str]:
    """Those of ``splits`` that corpus ``corpus_id`` holds sentences of."""
    query = (
        select(Sentence.split)
        .where(Sentence.corpus_id == corpus_id, Sentence.split.in_(sorted(splits)))
        .group_by(Sentence.split)
        .having(func.count() > 0)
    )
    return list(session.scalars(query).all())


def label_counts(session: Session, corpus_id: int) -> dict[str, int]:
    """The gold entities of corpus ``corpus_id`` per label, by label."""
    rows = session.execute(
        select(Entity.label, func.count())
        .where(Entity.corpus_id == corpus_id)
        .group_by(Entity.label)
        .order_by(Entity.label)
    )
    return {label: count for label, count in rows}


def side_entity_count(session: Session, corpus_id: int, side: str) -> int:
    """The gold entities on side ``side`` of corpus ``corpus_id``."""
    query = (
        select(func.count())
        .select_from(Entity)
        .join(Sentence, Sentence.id == Entity.sentence_id)
        .where(Entity.corpus_id == corpus_id, Sentence.side == side)
    )
    return session.scalar(query) or 0


def has_side_entities(session: Session, corpus_id: int, side: str) -> bool:
    """Whether side ``side`` of corpus ``corpus_id`` has a gold entity (stops at the first one)."""
    query = (
        select(Entity.id)
        .join(Sentence, Sentence.id == Entity.sentence_id)
        .where(Entity.corpus_id == corpus_id, Sentence.side == side)
        .limit(1)
    )
    return session.scalar(query) is not None
