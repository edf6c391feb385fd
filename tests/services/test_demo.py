"""The demo project (xner.services.demo): ready to review, realistic, and the same on every load."""

from __future__ import annotations

import random
from pathlib import Path

from sqlalchemy import select

from xner.services import review
from xner.services.demo import DEMO_CORPUS, NOISE, load_demo, simulate_aligner_errors
from xner.services.runs import list_alignment_runs, list_projection_runs
from xner.store.db import Store, open_store
from xner.store.models import ReviewState
from xner.store.queries.sentences import entity_spans
from xner.types import Span


def states(store: Store) -> dict[int, tuple[tuple, float | None, float]]:
    """(spans, confidence, disagreement) of each review state, by sentence id."""
    with store.session() as session:
        rows = session.scalars(select(ReviewState).order_by(ReviewState.sentence_id))
        return {row.sentence_id: (spans_of(row.spans), row.confidence, row.disagreement) for row in rows}


def spans_of(spans: tuple[Span, ...]) -> tuple:
    return tuple(sorted((s.start, s.end, s.label) for s in spans))


def test_the_demo_is_ready_to_review(store: Store) -> None:
    assert load_demo(store)
    assert not load_demo(store)  # only into an empty store

    assert [(r.aligner, r.pairs) for r in list_alignment_runs(store, DEMO_CORPUS)] == [
        ("gold", 100),
        ("simulated", 100),
    ]
    simulated = list_alignment_runs(store, DEMO_CORPUS)[1]
    assert simulated.params == {"source": "simulated.align", "index_base": 0, "base_run": 1, **NOISE}
    runs = list_projection_runs(store, DEMO_CORPUS)
    assert [(r.method, r.alignment_run_id, r.pairs, r.queued) for r in runs] == [
        ("heuristic", 2, 100, 100),
        ("ngram", 2, 100, 0),
    ]
    item = review.next_item(store, DEMO_CORPUS, order="disagreement")
    assert item is not None and item.state.disagreement > 0 and item.suggestion is not None
    assert [s.method for s in item.suggestions] == ["heuristic", "ngram"]


def test_the_suggestions_are_realistic_some_wrong_and_disputed(store: Store) -> None:
    load_demo(store)
    queued = states(store)
    with store.session() as session:
        gold = {sid: {(s.start, s.end, s.label) for s in spans} for sid, spans in entity_spans(session, queued).items()}
    wrong = [sid for sid, (spans, _, _) in queued.items() if set(spans) != gold.get(sid, set())]
    disputed = [sid for sid, (_, _, disagreement) in queued.items() if disagreement > 0]
    right = sum(len(set(spans) & gold.get(sid, set())) for sid, (spans, _, _) in queued.items())
    suggested, expected = sum(len(spans) for spans, _, _ in queued.values()), sum(map(len, gold.values()))
    f1 = 2 * right / (suggested + expected)
    assert 20 <= len(wrong) <= 45 and 8 <= len(disputed) <= 25, (len(wrong), len(disputed))
    assert 0.75 < f1 < 0.95, f1


def test_the_demo_is_the_same_on_every_load(store: Store, tmp_path: Path) -> None:
    load_demo(store)
    other = open_store(f"sqlite:///{tmp_path / 'other.db'}")
    load_demo(other)
    assert states(store) == states(other)
    other.dispose()


def test_simulated_errors_stay_inside_the_sentence() -> None:
    rng = random.Random(0)
    links = {(i, i) for i in range(5)}
    drawn = [link for _ in range(200) for link in simulate_aligner_errors(links, 5, 5, rng)]
    assert len(drawn) > 500  # the check below runs on something (about 5 links per draw)
    assert all(0 <= i < 5 and 0 <= j < 5 for i, j in drawn)


def test_without_review_the_demo_is_the_files_only(store: Store) -> None:
    assert load_demo(store, ready_to_review=False)
    assert [r.aligner for r in list_alignment_runs(store, DEMO_CORPUS)] == ["gold"]
    assert list_projection_runs(store, DEMO_CORPUS) == [] and states(store) == {}
