"""Spot checks: a stored stratified sample of one projection run's spans, its items and their judgments."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, case, func, insert, select
from sqlalchemy.orm import Session

from xner.store.models import SpotCheck, SpotCheckItem, utcnow

# (stratum, pair id, span index, start, end, label, confidence): one sampled span
SampledSpan = tuple[str, int, int, int, int, str, float]


def _correct_count() -> ColumnElement[Any]:
    return func.coalesce(func.sum(case((SpotCheckItem.correct.is_(True), 1), else_=0)), 0)


def add_spot_check(
    session: Session,
    *,
    corpus_id: int,
    run_id: int,
    requested: int,
    strata: Sequence[str],
    buckets: Sequence[float],
    populations: Mapping[str, int],
    seed: int,
    created_by: str,
    items: Sequence[SampledSpan],
) -> int:
    """Store a spot check and its sampled spans, none judged yet; returns its id."""
    check = SpotCheck(
        corpus_id=corpus_id,
        run_id=run_id,
        requested=requested,
        strata=list(strata),
        buckets=list(buckets),
        populations=dict(populations),
        seed=seed,
        created_by=created_by,
    )
    session.add(check)
    session.flush()
    session.execute(
        insert(SpotCheckItem),
        [
            {
                "check_id": check.id,
                "pair_id": pair_id,
                "span_index": index,
                "start": start,
                "end": end,
                "label": label,
                "confidence": confidence,
                "stratum": stratum,
                "correct": None,
                "judged_by": "",
                "judged_at": None,
            }
            for stratum, pair_id, index, start, end, label, confidence in items
        ],
    )
    return check.id


def get_spot_check(session: Session, check_id: int) -> SpotCheck | None:
    return session.get(SpotCheck, check_id)


def spot_check_ids(session: Session) -> list[int]:
    """The ids of every spot check, in order."""
    return list(session.scalars(select(SpotCheck.id).order_by(SpotCheck.id)))


def set_judgment(session: Session, check_id: int, item_id: int, correct: bool, reviewer: str) -> SpotCheckItem | None:
    """Record ``reviewer``'s judgment of item ``item_id`` of spot check ``check_id``; None when the check has no
    such item."""
    item = session.get(SpotCheckItem, item_id)
    if item is None or item.check_id != check_id:
        return None
    item.correct, item.judged_by, item.judged_at = correct, reviewer, utcnow()
    session.flush()
    return item


def check_items(session: Session, check_id: int, *, judged: bool | None = None) -> list[SpotCheckItem]:
    """The items of spot check ``check_id`` in order (``judged``: only the judged or the unjudged ones)."""
    query = select(SpotCheckItem).where(SpotCheckItem.check_id == check_id).order_by(SpotCheckItem.id)
    if judged is not None:
        query = query.where(SpotCheckItem.correct.is_not(None) if judged else SpotCheckItem.correct.is_(None))
    return list(session.scalars(query))


def first_unjudged_item(session: Session, check_id: int, skip: Collection[int] = ()) -> SpotCheckItem | None:
    """The first item of spot check ``check_id`` not yet judged and not in ``skip``."""
    query = select(SpotCheckItem).where(SpotCheckItem.check_id == check_id, SpotCheckItem.correct.is_(None))
    if skip:
        query = query.where(SpotCheckItem.id.not_in(list(skip)))
    return session.scalars(query.order_by(SpotCheckItem.id).limit(1)).one_or_none()


def spot_checks_with_counts(
    session: Session, corpus_id: int, run_id: int | None = None
) -> list[tuple[SpotCheck, int, int, int]]:
    """The spot checks of the corpus (only those of projection run ``run_id`` when given), oldest first, each with
    its counts of items drawn, judged and judged correct."""
    query = (
        select(SpotCheck, func.count(SpotCheckItem.id), func.count(SpotCheckItem.correct), _correct_count())
        .outerjoin(SpotCheck.items)
        .where(SpotCheck.corpus_id == corpus_id)
        .group_by(SpotCheck.id)
        .order_by(SpotCheck.id)
    )
    if run_id is not None:
        query = query.where(SpotCheck.run_id == run_id)
    return [(check, drawn, judged, int(correct)) for check, drawn, judged, correct in session.execute(query)]


def stratum_counts(session: Session, check_id: int) -> dict[str, tuple[int, int, int]]:
    """Per stratum of spot check ``check_id``: its items sampled, judged and judged correct."""
    rows = session.execute(
        select(SpotCheckItem.stratum, func.count(), func.count(SpotCheckItem.correct), _correct_count())
        .where(SpotCheckItem.check_id == check_id)
        .group_by(SpotCheckItem.stratum)
    ).all()
    return {stratum: (sampled, judged, int(correct)) for stratum, sampled, judged, correct in rows}
