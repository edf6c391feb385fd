"""Corpus look-up, creation and statistics (the use cases behind ``xner stats`` and the app's home page).

Visibility lives here: a corpus whose ``import_state`` is set (an import or run still being written, or the rest
of a failed one being removed; see :mod:`xner.store.staging`) is skipped by :func:`list_corpus_info`,
:func:`list_corpora` and :func:`corpus_names`, and :func:`find_corpus` / :func:`get_corpus` refuse its name with
:class:`xner.errors.CorpusImportingError`. Every other reader reaches sentences, pairs, entities and runs through
the id of a corpus found here, so nothing of an unfinished write can be read. The SQL is in
:mod:`xner.store.queries.corpora`.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from xner.errors import CorpusImportingError, UnknownNameError, XnerError
from xner.store.db import Session, Store
from xner.store.models import Corpus
from xner.store.queries import corpora as queries
from xner.store.queries.pairs import pair_count
from xner.store.queries.review import curated_count, review_progress, reviewed_count
from xner.store.staging import DISCARDING


def find_corpus(session: Session, name: str) -> Corpus | None:
    """The corpus called ``name``, or None when there is none.

    Raises:
        CorpusImportingError: ``name`` is a corpus still being imported (or a failed import being removed): it
            cannot be read yet, and the name is not free.
    """
    corpus = queries.corpus_by_name(session, name)
    if corpus is not None and corpus.import_state is not None:
        raise CorpusImportingError(name, corpus.import_started_at, removing=corpus.import_state == DISCARDING)
    return corpus


def get_corpus(session: Session, name: str) -> Corpus:
    """The corpus called ``name``; an unknown name raises an error listing the existing corpora.

    Raises:
        UnknownNameError: no corpus ``name``; the message lists the visible corpora.
        CorpusImportingError: ``name`` is still being imported.
    """
    corpus = find_corpus(session, name)
    if corpus is None:
        raise UnknownNameError("corpus", name, corpus_names(session))
    return corpus


def corpus_names(session: Session) -> list[str]:
    """The names of the visible corpora, sorted."""
    return queries.visible_names(session)


def ensure_corpus(session: Session, name: str, *, kind: str, src_lang: str, tgt_lang: str | None = None) -> Corpus:
    """The corpus ``name``, created when missing; an existing one must have the same kind and languages."""
    check_corpus_name(name)
    corpus = find_corpus(session, name)
    if corpus is None:
        return queries.add_corpus(session, name=name, kind=kind, src_lang=src_lang, tgt_lang=tgt_lang)
    require_kind(corpus, kind=kind, src_lang=src_lang, tgt_lang=tgt_lang)
    return corpus


def check_corpus_name(name: str) -> None:
    """A corpus name must not be blank."""
    if not name.strip():
        raise XnerError("a corpus needs a non-empty name")


def require_kind(corpus: Corpus, *, kind: str, src_lang: str, tgt_lang: str | None = None) -> None:
    """An existing corpus written to must have the kind and languages of the data (an error names both)."""
    wanted = (kind, src_lang, tgt_lang)
    have = (corpus.kind, corpus.src_lang, corpus.tgt_lang)
    if wanted != have:
        raise XnerError(
            f"corpus {corpus.name!r} exists as {_describe(*have)}, not {_describe(*wanted)}: "
            "choose another --corpus name"
        )


def _describe(kind: str, src_lang: str, tgt_lang: str | None) -> str:
    return f"a {kind} corpus ({src_lang}{'-' + tgt_lang if tgt_lang else ''})"


def allowed_labels(corpus: Corpus | None, declared: Collection[str] | None) -> frozenset[str] | None:
    """The label set an import must respect: the declared one, else the corpus's (None: a new corpus), else any
    (None)."""
    if declared:
        return frozenset(declared)
    return frozenset(corpus.labels) if corpus is not None and corpus.labels else None


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
    review: dict[str, int] = field(default_factory=dict)  # reviewable sentences by status (review_progress)

    @property
    def total_sentences(self) -> int:
        return sum(self.sentences.values())

    @property
    def reviewable(self) -> int:
        """The sentences review works on (targets of pairs, or the sentences of a monolingual corpus)."""
        return sum(self.review.values())

    @property
    def reviewed(self) -> int:
        """The reviewable sentences a reviewer decided (:mod:`xner.store.queries.review`)."""
        return reviewed_count(self.review)

    @property
    def curated(self) -> int:
        """The reviewable sentences accepted or corrected (:mod:`xner.store.queries.review`)."""
        return curated_count(self.review)


def corpus_stats(store: Store, name: str) -> CorpusStats:
    """Sentences (per split and side), pairs, tokens, entities per label and review progress of a corpus."""
    with store.session() as session:
        corpus = get_corpus(session, name)
        stats = CorpusStats(corpus.name, corpus.kind, corpus.src_lang, corpus.tgt_lang, list(corpus.labels))
        for split, side, count, tokens in queries.sentence_counts(session, corpus.id):
            stats.sentences[f"{split}/{side}"] = count
            stats.tokens += tokens
        stats.pairs = pair_count(session, corpus.id)
        stats.entities = queries.label_counts(session, corpus.id)
        stats.review = review_progress(session, corpus.id, parallel=corpus.kind == "parallel")
    return stats


def list_corpora(store: Store) -> list[CorpusStats]:
    """Statistics of every corpus, by name."""
    with store.session() as session:
        names = corpus_names(session)
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


def corpus_info(corpus: Corpus) -> CorpusInfo:
    """The name, kind and languages of a corpus row, as the plain data services hand out."""
    return CorpusInfo(corpus.name, corpus.kind, corpus.src_lang, corpus.tgt_lang)


def list_corpus_info(store: Store, *, kind: str | None = None) -> list[CorpusInfo]:
    """Name, kind and languages of every corpus (only those of ``kind`` when given), by name: one small query."""
    with store.session() as session:
        return [CorpusInfo(*row) for row in queries.visible_rows(session, kind=kind)]
