"""Checks of the store that the SQLite and the PostgreSQL tests both run (test_db.py, test_postgres.py)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text, update

from xner.errors import XnerError
from xner.services import review
from xner.services.demo import DEMO_CORPUS, load_demo
from xner.store.db import Store
from xner.store.models import ReviewState
from xner.types import Span


def stored_span_json(store: Store, sentence_id: int) -> tuple[str, str, str]:
    """The JSON text of a review state's spans and of its newest event's spans, as the database holds them."""
    cast = "::text" if store.engine.dialect.name == "postgresql" else ""
    with store.session() as session:
        state = session.execute(
            text(f"SELECT spans{cast} FROM review_state WHERE sentence_id = :id"), {"id": sentence_id}
        ).scalar_one()
        before, after = session.execute(
            text(
                f"SELECT spans_before{cast}, spans_after{cast} FROM review_event WHERE sentence_id = :id "
                "ORDER BY id DESC LIMIT 1"
            ),
            {"id": sentence_id},
        ).one()
    return state, before, after


def check_span_lists_store_the_json_they_always_stored(store: Store) -> None:
    """A decision writes span lists through :class:`SpanList` as the exact JSON text written before it (sorted
    ``{"start", "end", "label"}`` objects), and reads them back as sorted spans: no migration needed."""
    load_demo(store)
    item = review.next_item(store, DEMO_CORPUS)
    assert item is not None
    spans = [Span(1, 2, "PER"), Span(0, 1, "LOC")]  # unsorted on purpose
    review.record_decision(
        store, item.sentence_id, reviewer="ana", action="correct", spans=spans, expected_version=item.state.version
    )
    old_format = json.dumps([{"start": s.start, "end": s.end, "label": s.label} for s in sorted(spans)])
    state, before, after = stored_span_json(store, item.sentence_id)
    assert state == after == old_format
    assert before == json.dumps([{"start": s.start, "end": s.end, "label": s.label} for s in item.state.spans])
    with store.session() as session:
        assert session.get(ReviewState, item.sentence_id).spans == tuple(sorted(spans))
        with pytest.raises(Exception, match="a span list column takes Span values"):
            session.execute(
                update(ReviewState)
                .where(ReviewState.sentence_id == item.sentence_id)
                .values(spans=[{"start": 0, "end": 1, "label": "LOC"}])
            )


def check_directional_links_migration_keeps_the_alignments(store: Store) -> None:
    """Migration 0009 adds ``alignment.forward``/``reverse`` (None for the rows already there) and its downgrade
    drops them, keeping every alignment row and its links; after it, eflomal runs fill them again."""
    from alembic import command

    from xner.services.aligning import align_corpus, symmetrize_run
    from xner.store.db import alembic_config

    load_demo(store, ready_to_review=False)  # alignment run 1: the demo's gold links
    query = text("SELECT run_id, pair_id, links FROM alignment ORDER BY run_id, pair_id")
    with store.session() as session:
        before = session.execute(query).all()
    assert len(before) == 100
    config = alembic_config(store.url)
    for target in ("0008", "head"):
        with store.engine.begin() as connection:
            config.attributes["connection"] = connection
            (command.downgrade if target == "0008" else command.upgrade)(config, target)
        with store.session() as session:
            assert session.execute(query).all() == before
    with store.session() as session:
        assert session.execute(text("SELECT COUNT(*) FROM alignment WHERE forward IS NULL")).scalar_one() == 100
    with pytest.raises(XnerError, match="has no forward and reverse links"):
        symmetrize_run(store, DEMO_CORPUS, 1, method="union")
    run = align_corpus(store, DEMO_CORPUS, options={"n_samplers": 1, "rel_iterations": 0.3}).run_id
    assert symmetrize_run(store, DEMO_CORPUS, run, method="union").pairs == 100


def check_empty_runs_are_found_in_sql(store: Store) -> None:
    """``empty_run_reason`` (asked on every review page run) finds a run's first span in SQL: a run of the demo has
    spans, a run whose every pair has none is empty, and so is a run without rows."""
    from sqlalchemy import select

    from xner.store.models import Projection, ProjectionRun, SentencePair

    load_demo(store)
    overview = review.queue_overview(store, DEMO_CORPUS)
    assert review.empty_run_reason(store, DEMO_CORPUS, overview.runs[-1].id) is None
    with store.transaction() as session:
        corpus_id = session.scalar(select(SentencePair.corpus_id).limit(1))
        pairs = session.scalars(select(SentencePair.id).where(SentencePair.corpus_id == corpus_id)).all()
        empty, bare = (
            ProjectionRun(corpus_id=corpus_id, method="heuristic"),
            ProjectionRun(corpus_id=corpus_id, method="x"),
        )
        session.add_all([empty, bare])
        session.flush()
        session.add_all(Projection(run_id=empty.id, pair_id=pair, spans=[], confidence=1.0) for pair in pairs)
        ids = empty.id, bare.id
    for run_id in ids:
        assert review.empty_run_reason(store, DEMO_CORPUS, run_id) == (
            f"the source side of {DEMO_CORPUS!r} has no gold entities"
        )
