"""The append-only review history of an item or a reviewer."""

from __future__ import annotations

from xner.services.corpora import get_corpus
from xner.services.review.records import EventView, load_events, target_sentence
from xner.store.db import Store


def history(store: Store, sentence_id: int) -> list[EventView]:
    """Every decision on target sentence ``sentence_id``, oldest first."""
    with store.session() as session:
        target_sentence(session, sentence_id)
        return load_events(session, sentence_id=sentence_id)


def reviewer_history(store: Store, corpus: str, reviewer: str, *, limit: int = 50) -> list[EventView]:
    """``reviewer``'s latest ``limit`` decisions in ``corpus``, newest first."""
    with store.session() as session:
        found = get_corpus(session, corpus)
        return load_events(session, reviewer=reviewer, corpus_id=found.id, newest_first=True, limit=limit)
