"""Corpus look-up, creation and statistics (the use cases behind ``xner stats`` and the app's home page)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xner.errors import UnknownNameError, XnerError
from xner.store.db import Store
from xner.store.models import Corpus, Entity, ReviewState, Sentence, SentencePair
from xner.types import REVIEWED_STATUSES, ReviewStatus, Span


def find_corpus(session: Session, name: str) -> Corpus | None:
    """The corpus called ``name``, or None."""
    return session.scalars(select(Corpus).where(Corpus.name == name)).one_or_none()


def get_corpus(session: Session, name: str) -> Corpus:
    """The corpus called ``name``; an unknown name raises an error listing the existing corpora."""
    corpus = find_corpus(session, name)
    if corpus is None:
        raise UnknownNameError("corpus", name, session.scalars(select(Corpus.name)))
    return corpus


def ensure_corpus(session: Session, name: str, *, kind: str, src_lang: str, tgt_lang: str | None = None) -> Corpus:
    """The corpus ``name``, created when missing; an existing one must have the same kind and languages."""
    if not name.strip():
        raise XnerError("a corpus needs a non-empty name")
    corpus = find_corpus(session, name)
    if corpus is None:
        corpus = Corpus(name=name, kind=kind, src_lang=src_lang, tgt_lang=tgt_lang, labels=[], description="")
        session.add(corpus)
        session.flush()
        return corpus
    wanted = (kind, src_lang, tgt_lang)
    have = (corpus.kind, corpus.src_lang, corpus.tgt_lang)
    if wanted != have:
        raise XnerError(
            f"corpus {name!r} exists as {_describe(*have)}, not {_describe(*wanted)}: choose another --corpus name"
        )
    return corpus


def _describe(kind: str, src_lang: str, tgt_lang: str | None) -> str:
    return f"a {kind} corpus ({src_lang}{'-' + tgt_lang if tgt_lang else ''})"


def allowed_labels(corpus: Corpus, declared: Collection[str] | None) -> frozenset[str] | None:
    """The label set an import must respect: the declared one, else the corpus's, else any (None)."""
    if declared:
        return frozenset(declared)
    return frozenset(corpus.labels) if corpus.labels else None


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


@dataclass
class CorpusStats:
    """Sizes and review progress of one corpus."""

    name: str
    kind: str
    src_lang: str
    tgt_lang: str | None
    labels: list[str]
    sentences: dict[str, int] = field(default_factory=dict)  # by "split/side"
    pairs: int = 0
    tokens: int = 0
    entities: dict[str, int] = field(default_factory=dict)  # by label
    review: dict[str, int] = field(default_factory=dict)  # by status

    @property
    def total_sentences(self) -> int:
        return sum(self.sentences.values())


def corpus_stats(store: Store, name: str) -> CorpusStats:
    """Sentences (per split and side), pairs, tokens, entities per label and review progress of a corpus."""
    with store.session() as session:
        corpus = get_corpus(session, name)
        stats = CorpusStats(corpus.name, corpus.kind, corpus.src_lang, corpus.tgt_lang, list(corpus.labels))
        rows = session.execute(
            select(Sentence.split, Sentence.side, func.count(), func.coalesce(func.sum(Sentence.n_tokens), 0))
            .where(Sentence.corpus_id == corpus.id)
            .group_by(Sentence.split, Sentence.side)
            .order_by(Sentence.split, Sentence.side)
        )
        for split, side, count, tokens in rows:
            stats.sentences[f"{split}/{side}"] = count
            stats.tokens += int(tokens)
        stats.pairs = session.scalar(select(func.count()).where(SentencePair.corpus_id == corpus.id)) or 0
        stats.entities = dict(
            session.execute(
                select(Entity.label, func.count())
                .where(Entity.corpus_id == corpus.id)
                .group_by(Entity.label)
                .order_by(Entity.label)
            ).all()
        )
        stats.review = review_progress(session, corpus)
    return stats


def review_progress(session: Session, corpus: Corpus) -> dict[str, int]:
    """Count of reviewable sentences (targets of pairs, or all of a mono corpus) in each review status.

    The one definition every page and command shows: *reviewed* is a status of :data:`REVIEWED_STATUSES`,
    *unreviewed* is every other reviewable sentence, queued for review or not (the review queue's own count of
    queued items is :attr:`xner.services.review.QueueOverview.queued`). Counted along the review-state index, one
    status at a time (cheaper than a GROUP BY pass over the corpus's states).
    """
    progress = {}
    for status in REVIEWED_STATUSES:
        query = select(func.count()).where(ReviewState.corpus_id == corpus.id, ReviewState.status == status.value)
        progress[status.value] = session.scalar(query) or 0
    if corpus.kind == "parallel":
        reviewable = session.scalar(select(func.count()).where(SentencePair.corpus_id == corpus.id)) or 0
    else:
        reviewable = session.scalar(
            select(func.count()).where(Sentence.corpus_id == corpus.id, Sentence.side == "mono")
        )
    return {ReviewStatus.UNREVIEWED.value: (reviewable or 0) - sum(progress.values()), **progress}


def list_corpora(store: Store) -> list[CorpusStats]:
    """Statistics of every corpus, by name."""
    with store.session() as session:
        names = list(session.scalars(select(Corpus.name).order_by(Corpus.name)))
    return [corpus_stats(store, name) for name in names]


@dataclass(frozen=True, slots=True)
class CorpusInfo:
    """A corpus's name, kind and languages, without any counting (for pages that only list corpora)."""

    name: str
    kind: str
    src_lang: str
    tgt_lang: str | None

    @property
    def languages(self) -> str:
        """``"en → es"`` for a parallel corpus, the language code of a monolingual one."""
        return self.src_lang + (f" → {self.tgt_lang}" if self.tgt_lang else "")


def list_corpus_info(store: Store, *, kind: str | None = None) -> list[CorpusInfo]:
    """Name, kind and languages of every corpus (only those of ``kind`` when given), by name: one small query."""
    with store.session() as session:
        query = select(Corpus.name, Corpus.kind, Corpus.src_lang, Corpus.tgt_lang).order_by(Corpus.name)
        if kind is not None:
            query = query.where(Corpus.kind == kind)
        return [CorpusInfo(*row) for row in session.execute(query)]
