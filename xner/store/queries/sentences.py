"""Sentences and their gold entities, read as core types."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from xner.store.models import Entity
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
