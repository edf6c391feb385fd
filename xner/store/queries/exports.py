"""What an export reads: the sentences of one side of a corpus with their review state, split by split and a page
at a time, filtered by review status and by the reviewer who decided last; the reviewers of a corpus."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence

from sqlalchemy import ColumnElement, Row, Select, func, null, or_, select
from sqlalchemy.orm import Session

from xner.store.models import ReviewEvent, ReviewState, Sentence, SentencePair
from xner.store.paging import keyset_pages
from xner.store.queries.sentences import splits_in_import_order
from xner.types import ReviewStatus


def decided_last_by(corpus_id: int, reviewer: str) -> Select:
    """The ids of the sentences of the corpus whose latest applied review event (the decision that made the state,
    not a vote beside it) is ``reviewer``'s (a subquery)."""
    latest = (
        select(func.max(ReviewEvent.id))
        .where(ReviewEvent.corpus_id == corpus_id, ReviewEvent.applied.is_(True))  # votes beside it do not count
        .group_by(ReviewEvent.sentence_id)
    )
    return select(ReviewEvent.sentence_id).where(ReviewEvent.id.in_(latest), ReviewEvent.reviewer == reviewer)


def export_row_pages(
    session: Session,
    corpus_id: int,
    side: str,
    *,
    splits: Collection[str] | None = None,
    statuses: Collection[ReviewStatus] | None = None,
    reviewer: str | None = None,
    with_pairs: bool = False,
) -> Iterator[Sequence[Row]]:
    """Pages of rows (id, split, position, tokens, text, lang, status, spans, pair_id) of the sentences on ``side``,
    split by split in import order, by position.

    ``statuses``: only sentences in these review statuses (unreviewed takes sentences without a state too);
    ``reviewer``: only those whose latest review decision is that reviewer's; ``with_pairs``: ``pair_id`` is the
    sentence's pair as target (else None). Keyset paging on (corpus, split, side, position) follows the unique
    index, so each page is one index range read however large the corpus. Plain columns, not ORM objects: an
    export reads every row once, and the identity map would only slow it down.
    """
    query = (
        select(
            Sentence.id,
            Sentence.split,
            Sentence.position,
            Sentence.tokens,
            Sentence.text,
            Sentence.lang,
            ReviewState.status,
            ReviewState.spans,
            (SentencePair.id if with_pairs else null()).label("pair_id"),
        )
        .outerjoin(ReviewState, ReviewState.sentence_id == Sentence.id)
        .where(Sentence.corpus_id == corpus_id, Sentence.side == side)
    )
    if with_pairs:
        query = query.outerjoin(SentencePair, SentencePair.tgt_sentence_id == Sentence.id)
    if statuses:
        wanted = [status.value for status in statuses]
        condition: ColumnElement[bool] = ReviewState.status.in_(wanted)
        if ReviewStatus.UNREVIEWED in statuses:
            condition = or_(condition, ReviewState.status.is_(None))
        query = query.where(condition)
    if reviewer is not None:
        query = query.where(Sentence.id.in_(decided_last_by(corpus_id, reviewer)))
    for split in splits_in_import_order(session, corpus_id, side):
        if splits and split not in splits:
            continue
        yield from keyset_pages(session, query.where(Sentence.split == split), Sentence.position)


def corpus_reviewers(session: Session, corpus_id: int) -> list[str]:
    """The reviewers with a review event in the corpus, sorted."""
    query = select(ReviewEvent.reviewer).where(ReviewEvent.corpus_id == corpus_id).distinct().order_by("reviewer")
    return list(session.scalars(query))
