"""The review services on the demo corpus (projected by two methods over eflomal links) and on Europarl:
queue order and filters, every action, optimistic concurrency, undo, history, agreement and adjudication."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import delete, insert, select

from tests.conftest import import_europarl, snapshot
from xner.errors import ConflictError, UnknownNameError, XnerError
from xner.services import review
from xner.services.aligning import align_corpus
from xner.services.corpora import corpus_stats, get_corpus
from xner.services.demo import load_demo
from xner.services.exporting import export_corpus
from xner.services.projecting import project_corpus
from xner.services.review import ReviewItem
from xner.stats import span_f1
from xner.store.db import Store, alembic_config, open_store
from xner.store.models import (
    Alignment,
    Corpus,
    Projection,
    ReviewEvent,
    ReviewState,
    Sentence,
    SentencePair,
    utcnow,
)
from xner.store.queries.review import curated_count, reviewed_count, status_counts
from xner.store.queries.review_states import raise_review_revision
from xner.types import CURATED_STATUSES, REVIEWED_STATUSES, ReviewStatus, Span

pytest_plugins = ["tests.pg"]

DEMO = "demo-en-es"


def build_demo(store: Store) -> dict[str, int]:
    """The demo with three projection runs: heuristic over the gold links (1), then ngram (2) and heuristic (3)
    over eflomal links."""
    load_demo(store, ready_to_review=False)
    gold = project_corpus(store, DEMO, method="heuristic").run_id
    links = align_corpus(store, DEMO, options={"symmetrization": "intersection"}).run_id
    ngram = project_corpus(store, DEMO, method="ngram", alignment_run=links).run_id
    heuristic = project_corpus(store, DEMO, method="heuristic", alignment_run=links).run_id
    return {"gold": gold, "ngram": ngram, "heuristic": heuristic, "eflomal": links}


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    path = tmp_path_factory.mktemp("review") / "demo.db"
    store = open_store(str(path))
    runs = build_demo(store)
    store.dispose()
    return path, runs


@pytest.fixture
def demo(demo_file: tuple[Path, dict[str, int]], tmp_path: Path) -> Iterator[tuple[Store, dict[str, int]]]:
    """A private copy of the projected demo store (not yet queued) and its run ids."""
    source, runs = demo_file
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{source}{suffix}").exists():
            shutil.copy(f"{source}{suffix}", tmp_path / f"demo.db{suffix}")
    store = open_store(str(tmp_path / "demo.db"))
    yield store, runs
    store.dispose()


@pytest.fixture
def queued(demo: tuple[Store, dict[str, int]]) -> tuple[Store, dict[str, int]]:
    store, runs = demo
    review.queue_projection(store, DEMO)
    return store, runs


def walk(store: Store, **filters) -> list[ReviewItem]:
    """Every item of a queue, in order, skipping each one as it comes (what a reviewer's 'skip' does)."""
    items: list[ReviewItem] = []
    while (item := review.next_item(store, DEMO, skip=[i.sentence_id for i in items], **filters)) is not None:
        items.append(item)
    return items


def run_rows(store: Store, run_id: int) -> dict[int, tuple[list[Span], float]]:
    """Projection run ``run_id`` by target sentence id: (sorted spans, pair confidence)."""
    with store.session() as session:
        rows = session.execute(
            select(SentencePair.tgt_sentence_id, Projection.spans, Projection.confidence)
            .join(SentencePair, SentencePair.id == Projection.pair_id)
            .where(Projection.run_id == run_id)
        ).all()
    return {sid: (sorted(Span(s["start"], s["end"], s["label"]) for s in spans), conf) for sid, spans, conf in rows}


def events(store: Store, sentence_id: int | None = None) -> list[ReviewEvent]:
    with store.session() as session:
        query = select(ReviewEvent).order_by(ReviewEvent.id)
        if sentence_id is not None:
            query = query.where(ReviewEvent.sentence_id == sentence_id)
        return list(session.scalars(query))


# --- queueing ------------------------------------------------------------------------------------------------


def test_queue_takes_the_newest_run_and_scores_disagreement_between_methods(demo) -> None:
    store, runs = demo
    report = review.queue_projection(store, DEMO, created_by="lead")

    assert (report.run_id, report.method) == (runs["heuristic"], "heuristic")
    # the newest run of each method: the older heuristic run (over gold links) is not compared
    assert report.compared_runs == {runs["ngram"]: "ngram", runs["heuristic"]: "heuristic"}
    assert (report.queued, report.updated, report.kept) == (100, 0, 0)
    heuristic, ngram = run_rows(store, runs["heuristic"]), run_rows(store, runs["ngram"])
    with store.session() as session:
        states = {s.sentence_id: s for s in session.scalars(select(ReviewState))}
    assert set(states) == set(heuristic)
    for sid, state in states.items():
        spans, confidence = heuristic[sid]
        assert (state.status, state.version, state.run_id, state.updated_by) == ("unreviewed", 0, report.run_id, "lead")
        assert state.spans == tuple(sorted(spans))
        assert state.confidence == confidence
        assert state.disagreement == pytest.approx(1 - span_f1(spans, ngram[sid][0]), abs=1e-4)
    assert any(state.disagreement > 0 for state in states.values())  # eflomal links: the methods do differ


def test_queue_with_one_method_has_no_disagreement_and_explicit_runs_are_checked(demo) -> None:
    store, runs = demo
    report = review.queue_projection(store, DEMO, runs["gold"], methods_runs=[runs["gold"]])
    assert report.compared_runs == {runs["gold"]: "heuristic"}
    with store.session() as session:
        assert set(session.scalars(select(ReviewState.disagreement))) == {0.0}
    with pytest.raises(XnerError, match=r"has no projection run 99; its runs: 1, 2, 3"):
        review.queue_projection(store, DEMO, methods_runs=[99])
    with pytest.raises(XnerError, match="has no projection run 42"):
        review.queue_projection(store, DEMO, 42)
    with pytest.raises(UnknownNameError, match="unknown corpus 'nope'; known: demo-en-es"):
        review.queue_projection(store, "nope")


def test_requeue_never_touches_reviewed_items_and_versions_unseen_suggestions(queued) -> None:
    store, runs = queued
    first = review.next_item(store, DEMO)
    assert first is not None
    decided = review.record_decision(
        store, first.sentence_id, reviewer="ana", action="correct", spans=[], expected_version=0
    )

    same = review.queue_projection(store, DEMO)  # the same run again: nothing a page shows changes
    assert (same.queued, same.updated, same.kept) == (0, 99, 1)
    other = review.queue_projection(store, DEMO, runs["gold"])
    assert (other.queued, other.updated, other.kept) == (0, 99, 1)

    gold = run_rows(store, runs["gold"])
    with store.session() as session:
        states = {s.sentence_id: s for s in session.scalars(select(ReviewState))}
    kept = states[first.sentence_id]
    assert (kept.status, kept.spans, kept.version, kept.run_id) == ("corrected", (), decided.version, runs["heuristic"])
    for sid, state in states.items():
        if sid != first.sentence_id:  # a new suggesting run: a new version, so a stale page cannot accept it
            assert (state.run_id, state.version, state.confidence) == (runs["gold"], 1, gold[sid][1])
    assert len(events(store)) == 1  # queueing is not a decision
    stale = walk(store)[0]  # shown at version 1; a newer queue replaces its suggestion before the reviewer saves
    review.queue_projection(store, DEMO, runs["ngram"], created_by="lead")
    with pytest.raises(ConflictError, match="changed by a new projection queue by 'lead' after you loaded version 1"):
        review.record_decision(store, stale.sentence_id, reviewer="ana", action="accept", expected_version=1)


# --- the queue -----------------------------------------------------------------------------------------------


def test_queue_order_by_confidence_then_sentence_with_counts(queued) -> None:
    store, _ = queued
    items = walk(store)
    assert len(items) == 100
    keys = [(item.state.confidence, item.sentence_id) for item in items]
    assert keys == sorted(keys)
    assert [item.remaining for item in items] == list(range(100, 0, -1))
    assert keys[0][0] < 1.0 and keys[-1][0] == 1.0
    # browsing with ``after`` follows the same order without skipping anything
    browsed, after = [], None
    while (item := review.next_item(store, DEMO, after=after)) is not None:
        browsed.append(item.sentence_id)
        after = item.sentence_id
    assert browsed == [item.sentence_id for item in items]


def test_queue_order_by_disagreement_most_disputed_first(queued) -> None:
    store, _ = queued
    items = walk(store, order="disagreement")
    keys = [(item.state.disagreement, item.sentence_id) for item in items]
    assert len(keys) == 100 and keys == sorted(keys, reverse=True)
    top = items[0]
    heuristic, ngram = ({p.span for p in s.spans} for s in top.suggestions[1:])
    assert top.state.disagreement == pytest.approx(1 - span_f1(heuristic, ngram), abs=1e-4)
    assert top.state.disagreement > 0
    with pytest.raises(UnknownNameError, match="unknown queue order 'random'; known: confidence, disagreement"):
        review.next_item(store, DEMO, order="random")


@pytest.mark.slow  # many queue reads over every filter (~20 s)
def test_queue_filters_labels_confidence_and_statuses(queued) -> None:
    store, _ = queued
    per = walk(store, labels=["PER"])
    assert per and all("PER" in {s.label for s in item.state.spans} for item in per)
    with store.session() as session:
        expected = sum("PER" in {s.label for s in spans} for spans in session.scalars(select(ReviewState.spans)))
    assert len(per) == expected == per[0].remaining
    both = walk(store, labels=["PER", "DATE"])
    assert len(both) > len(per)

    assert [item.remaining for item in per] == list(range(len(per), 0, -1))
    low = walk(store, max_confidence=0.8)
    assert low and all(item.state.confidence <= 0.8 for item in low)
    assert [item.remaining for item in low] == list(range(len(low), 0, -1))  # skipped ones are not counted
    middle = walk(store, min_confidence=0.6, max_confidence=0.9)
    assert all(0.6 <= item.state.confidence <= 0.9 for item in middle)
    assert len(walk(store, min_confidence=0.0)) == 100

    assert walk(store, statuses=["accepted"]) == []
    first = low[0]
    review.record_decision(store, first.sentence_id, reviewer="ana", action="accept", expected_version=0)
    accepted = walk(store, statuses=["accepted"])
    assert [item.sentence_id for item in accepted] == [first.sentence_id]
    assert accepted[0].state.status == ReviewStatus.ACCEPTED and accepted[0].reviewed == 1
    assert len(walk(store)) == 99
    assert len(walk(store, statuses=["unreviewed", "accepted"])) == 100
    with pytest.raises(UnknownNameError, match="unknown review status 'done'"):
        review.next_item(store, DEMO, statuses=["done"])


def test_row_checked_filters_count_up_to_a_cap(queued, monkeypatch: pytest.MonkeyPatch) -> None:
    store, _ = queued
    monkeypatch.setattr(review.queue, "REMAINING_CAP", 5)
    capped = review.next_item(store, DEMO, labels=["LOC"])
    assert capped is not None and (capped.remaining, capped.remaining_exact) == (5, False)
    plain = review.next_item(store, DEMO, skip=[capped.sentence_id])  # index-only filters: always exact
    assert plain is not None and (plain.remaining, plain.remaining_exact) == (99, True)


def test_reviewer_filters_and_the_second_review_queue(queued) -> None:
    store, _ = queued
    first, second, third = walk(store)[:3]
    review.record_decision(store, first.sentence_id, reviewer="ana", action="accept", expected_version=0)
    review.record_decision(store, second.sentence_id, reviewer="bob", action="reject", expected_version=0)
    review.record_decision(store, third.sentence_id, reviewer="ana", action="correct", spans=[], expected_version=0)

    mine = walk(store, statuses=REVIEWED_STATUSES, reviewer="ana")
    assert [item.sentence_id for item in mine] == [first.sentence_id, third.sentence_id]
    # bob's second review: items somebody reviewed that bob has not decided
    to_check = walk(store, statuses=REVIEWED_STATUSES, not_decided_by="bob")
    assert [item.sentence_id for item in to_check] == [first.sentence_id, third.sentence_id]
    # the page shows bob the queued suggestion, not ana's correction
    assert to_check[1].state.spans == () and to_check[1].suggestion.spans


def test_item_carries_sentences_suggestions_links_and_labels(queued) -> None:
    store, runs = queued
    item = review.next_item(store, DEMO)
    assert item is not None
    with store.session() as session:
        pair = session.scalars(select(SentencePair).where(SentencePair.tgt_sentence_id == item.sentence_id)).one()
        src = session.get(Sentence, pair.src_sentence_id)
        tgt = session.get(Sentence, item.sentence_id)
        links = session.scalar(
            select(Alignment.links).where(Alignment.run_id == runs["eflomal"], Alignment.pair_id == pair.id)
        )
    assert (item.corpus, item.src_lang, item.tgt_lang, item.pair_id) == (DEMO, "en", "es", pair.id)
    assert (item.split, item.position) == (tgt.split, tgt.position)
    assert (list(item.src_tokens), list(item.tgt_tokens)) == (src.tokens, tgt.tokens)
    assert item.src_spans and item.tgt_gold  # the demo has gold on both sides
    assert [(s.run_id, s.method, s.queued) for s in item.suggestions] == [
        (runs["gold"], "heuristic", False),
        (runs["ngram"], "ngram", False),
        (runs["heuristic"], "heuristic", True),
    ]
    assert item.suggestion is item.suggestions[2]
    assert tuple(p.span for p in item.suggestion.spans) == item.state.spans
    for projected in item.suggestion.spans:
        assert projected.src_span is not None and projected.links
        assert all(projected.src_span.start <= i < projected.src_span.end for i, _ in projected.links)
        assert all(projected.span.start <= j < projected.span.end for _, j in projected.links)
    assert {f"{i}-{j}" for i, j in item.links} == set(links.split())
    assert item.labels == ("DATE", "LOC", "ORG", "PER")
    assert review.get_item(store, item.sentence_id).state == item.state


# --- decisions -----------------------------------------------------------------------------------------------


def test_every_action_writes_state_and_one_event(queued) -> None:
    store, _ = queued
    a, b, c, d = walk(store)[:4]
    suggested = a.state.spans

    accepted = review.record_decision(store, a.sentence_id, reviewer="ana", action="accept", expected_version=0)
    assert (accepted.status, accepted.spans, accepted.version, accepted.updated_by) == (
        ReviewStatus.ACCEPTED,
        suggested,
        1,
        "ana",
    )
    added = (*b.state.spans, Span(len(b.tgt_tokens) - 1, len(b.tgt_tokens), "LOC"))
    if any(s.end == len(b.tgt_tokens) for s in b.state.spans):
        added = b.state.spans[:-1]  # delete the last entity instead
    corrected = review.record_decision(
        store, b.sentence_id, reviewer="ana", action="correct", spans=[s for s in reversed(added)], expected_version=0
    )
    assert (corrected.status, corrected.spans) == (ReviewStatus.CORRECTED, tuple(sorted(added)))
    rejected = review.record_decision(store, c.sentence_id, reviewer="ana", action="reject", expected_version=0)
    assert (rejected.status, rejected.spans) == (ReviewStatus.REJECTED, c.state.spans)

    before = snapshot(store)
    skipped = review.record_decision(store, d.sentence_id, reviewer="ana", action="skip", expected_version=0)
    assert skipped == d.state and snapshot(store) == before  # a skip writes nothing

    log = events(store)
    assert [(e.sentence_id, e.action, e.status_before, e.status_after, e.version, e.reviewer) for e in log] == [
        (a.sentence_id, "accept", "unreviewed", "accepted", 1, "ana"),
        (b.sentence_id, "correct", "unreviewed", "corrected", 1, "ana"),
        (c.sentence_id, "reject", "unreviewed", "rejected", 1, "ana"),
    ]
    assert log[1].spans_before == tuple(sorted(b.state.spans))
    assert log[1].spans_after == tuple(sorted(added))
    assert all(e.created_at is not None for e in log)
    progress = review.next_item(store, DEMO)
    assert progress is not None and progress.reviewed == 3 and progress.remaining == 97


def test_a_sentence_never_queued_starts_from_its_gold_entities(demo) -> None:
    store, _ = demo
    with store.session() as session:
        sid = session.scalar(select(Sentence.id).where(Sentence.side == "tgt").order_by(Sentence.id))
    item = review.get_item(store, sid)
    assert item.state.version == 0 and item.state.spans == item.tgt_gold and item.suggestion is None
    state = review.record_decision(store, sid, reviewer="ana", action="accept", expected_version=0)
    assert (state.status, state.spans, state.version) == (ReviewStatus.ACCEPTED, item.tgt_gold, 1)
    with pytest.raises(ConflictError):
        review.record_decision(store, sid, reviewer="bob", action="accept", expected_version=0)


def test_concurrent_save_second_reviewer_gets_the_first_decision(queued) -> None:
    store, _ = queued
    item = review.next_item(store, DEMO)
    assert item is not None
    sid, version = item.sentence_id, item.state.version  # both reviewers loaded the same version
    first = review.record_decision(store, sid, reviewer="ana", action="correct", spans=[], expected_version=version)

    with pytest.raises(ConflictError) as conflict:
        review.record_decision(store, sid, reviewer="bob", action="accept", expected_version=version)

    error = conflict.value
    assert f"sentence {sid} was changed by 'ana' (correct: corrected, 0 spans)" in str(error)
    assert "after you loaded version 0 (now version 1): reload it" in str(error)
    assert error.current == review.get_item(store, sid).state == first
    assert (error.decision.reviewer, error.decision.status_after, error.decision.spans_after) == (
        "ana",
        ReviewStatus.CORRECTED,
        (),
    )
    assert error.decision.at == first.updated_at
    assert [e.reviewer for e in events(store, sid)] == ["ana"]  # bob's write left nothing behind
    # bob reloads and decides on what ana saved: his decision is a vote beside hers, never a replacement
    again = review.record_decision(store, sid, reviewer="bob", action="reject", expected_version=error.current.version)
    assert (again.status, again.spans, again.version, again.votes) == (ReviewStatus.CORRECTED, (), 2, 2)
    assert [(e.reviewer, e.version, e.applied) for e in events(store, sid)] == [("ana", 1, True), ("bob", 2, False)]
    assert [d.sentence_id for d in review.disagreements(store, DEMO)] == [sid]  # to adjudication


def test_racing_writers_exactly_one_wins(queued) -> None:
    store, _ = queued
    item = review.next_item(store, DEMO)
    assert item is not None
    outcomes: dict[str, str] = {}
    barrier = threading.Barrier(6)

    def decide(name: str) -> None:
        barrier.wait()
        try:
            review.record_decision(store, item.sentence_id, reviewer=name, action="accept", expected_version=0)
            outcomes[name] = "saved"
        except ConflictError:
            outcomes[name] = "conflict"

    threads = [threading.Thread(target=decide, args=(f"r{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [name for name, outcome in outcomes.items() if outcome == "saved"]
    assert len(outcomes) == 6 and len(winners) == 1
    log = events(store, item.sentence_id)
    assert [(e.reviewer, e.version) for e in log] == [(winners[0], 1)]
    assert review.get_item(store, item.sentence_id).state.updated_by == winners[0]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"action": "approve"}, "unknown review action 'approve'; known: accept, adjudicate, correct, reject, skip"),
        ({"action": "accept", "reviewer": " "}, "needs the reviewer's name"),
        ({"action": "correct"}, "a correction needs the corrected spans"),
        ({"action": "reject", "spans": []}, "a rejection keeps the spans"),
        ({"action": "accept", "status": "rejected"}, "only an adjudication sets the status"),
        ({"action": "adjudicate"}, "an adjudication needs the final status"),
        ({"action": "adjudicate", "status": "unreviewed"}, "an adjudication decides accepted, corrected or rejected"),
        ({"action": "correct", "spans": [Span(0, 99, "PER")]}, r"span \[0, 99\) 'PER' is beyond the sentence's"),
        ({"action": "correct", "spans": [{"start": 2, "end": 1, "label": "PER"}]}, r"invalid span \[2, 1\)"),
        ({"action": "correct", "spans": [{"start": 0, "label": "PER"}]}, "a span needs integer start and end"),
        (
            {"action": "correct", "spans": [Span(0, 2, "PER"), Span(1, 3, "LOC")]},
            r"spans \[0, 2\) 'PER' and \[1, 3\) 'LOC' overlap",
        ),
        ({"action": "correct", "spans": [Span(0, 1, "PER"), Span(0, 1, "PER")]}, "overlap"),
        ({"action": "correct", "spans": [Span(0, 1, "FOO")]}, "unknown label 'FOO'; known: DATE, LOC, ORG, PER"),
        ({"action": "accept", "expected_version": 3}, "after you loaded version 3 \\(now version 0\\)"),
        ({"action": "accept", "expected_version": "0"}, "expected_version must be a version number"),
    ],
)
def test_bad_decisions_are_refused_with_the_item_and_reason(queued, kwargs: dict, message: str) -> None:
    store, _ = queued
    item = review.next_item(store, DEMO)
    assert item is not None
    before = snapshot(store)
    arguments = {"reviewer": "ana", "expected_version": 0, **kwargs}
    with pytest.raises(XnerError, match=message) as error:
        review.record_decision(store, item.sentence_id, **arguments)
    if "unknown review action" not in message and "reviewer's name" not in message:
        assert f"sentence {item.sentence_id}" in str(error.value)
    assert snapshot(store) == before


def test_unknown_and_source_sentences_are_refused(queued) -> None:
    store, _ = queued
    with pytest.raises(XnerError, match="no sentence 999999 in the store"):
        review.record_decision(store, 999999, reviewer="ana", action="accept", expected_version=0)
    with pytest.raises(XnerError, match="no sentence 999999"):
        review.get_item(store, 999999)
    with pytest.raises(XnerError, match="no sentence 999999"):
        review.history(store, 999999)
    with store.session() as session:
        src = session.scalar(select(Sentence.id).where(Sentence.side == "src").limit(1))
    with pytest.raises(XnerError, match=f"sentence {src} is a source sentence of corpus 'demo-en-es'"):
        review.get_item(store, src)
    with pytest.raises(XnerError, match="sentence 999999 is not in the review queue"):
        review.next_item(store, DEMO, after=999999)


# --- undo and history ----------------------------------------------------------------------------------------


def test_undo_restores_the_state_before_as_a_new_event(queued) -> None:
    store, _ = queued
    item = review.next_item(store, DEMO)
    assert item is not None
    sid = item.sentence_id
    review.record_decision(store, sid, reviewer="ana", action="correct", spans=[], expected_version=0)
    review.record_decision(store, sid, reviewer="ana", action="reject", expected_version=1)
    frozen = [(e.id, e.action, e.spans_after, e.version) for e in events(store, sid)]

    back = review.undo(store, sid, reviewer="ana", expected_version=2)
    assert (back.status, back.spans, back.version) == (ReviewStatus.CORRECTED, (), 3)
    start = review.undo(store, sid, reviewer="ana", expected_version=3)
    assert (start.status, start.spans, start.version) == (ReviewStatus.UNREVIEWED, item.state.spans, 4)
    assert review.next_item(store, DEMO).sentence_id == sid  # back in the queue

    log = review.history(store, sid)
    assert [(e.action, e.status_after, e.version) for e in log] == [
        ("correct", ReviewStatus.CORRECTED, 1),
        ("reject", ReviewStatus.REJECTED, 2),
        ("undo", ReviewStatus.CORRECTED, 3),
        ("undo", ReviewStatus.UNREVIEWED, 4),
    ]
    assert [e.undoes for e in log] == [None, None, log[1].id, log[0].id]
    assert [(e.id, e.action, e.spans_after, e.version) for e in events(store, sid)][:2] == frozen  # append-only
    with pytest.raises(XnerError, match=f"sentence {sid}: 'ana' has no decision on it to undo"):
        review.undo(store, sid, reviewer="ana", expected_version=4)
    with pytest.raises(ConflictError, match="after you loaded version 2"):
        review.record_decision(store, sid, reviewer="ana", action="accept", expected_version=2)


def test_undo_never_discards_another_reviewers_later_decision(queued) -> None:
    store, _ = queued
    item = review.next_item(store, DEMO)
    assert item is not None
    sid = item.sentence_id
    review.record_decision(store, sid, reviewer="ana", action="accept", expected_version=0)
    review.record_decision(store, sid, reviewer="bob", action="reject", expected_version=1)
    before = snapshot(store)
    with pytest.raises(ConflictError, match="'bob' decided it \\(rejected\\) after your decision") as error:
        review.undo(store, sid, reviewer="ana", expected_version=2)
    assert error.value.decision.reviewer == "bob" and snapshot(store) == before
    assert review.undo(store, sid, reviewer="bob", expected_version=2).status == ReviewStatus.ACCEPTED
    assert review.undo(store, sid, reviewer="ana", expected_version=3).status == ReviewStatus.UNREVIEWED


def test_reviewer_history_newest_first_within_the_corpus(queued) -> None:
    store, _ = queued
    items = walk(store)[:4]
    for i, item in enumerate(items):
        reviewer = "ana" if i % 2 == 0 else "bob"
        review.record_decision(store, item.sentence_id, reviewer=reviewer, action="accept", expected_version=0)
    ana = review.reviewer_history(store, DEMO, "ana")
    assert [e.sentence_id for e in ana] == [items[2].sentence_id, items[0].sentence_id]
    assert [e.sentence_id for e in review.reviewer_history(store, DEMO, "bob", limit=1)] == [items[3].sentence_id]
    assert review.reviewer_history(store, DEMO, "cy") == []


def test_fix_alignment_keeps_a_whole_manual_run_per_corpus(queued) -> None:
    store, runs = queued
    item = review.next_item(store, DEMO)
    assert item is not None and item.manual_links is None
    fixed = sorted({*item.links[1:], (0, 0)})
    run_id = review.fix_alignment(store, item.pair_id, fixed, reviewer="ana")

    again = review.get_item(store, item.sentence_id)
    assert again.manual_links == tuple(fixed) and again.links == item.links  # the suggestion's links stay
    with store.session() as session:
        query = select(Alignment.pair_id, Alignment.links)
        copied = dict(session.execute(query.where(Alignment.run_id == run_id)).all())
        base = dict(session.execute(query.where(Alignment.run_id == runs["eflomal"])).all())
    assert len(copied) == 100  # a copy of the suggestion's alignment run, with the one correction
    assert {p: links for p, links in copied.items() if p != item.pair_id} == {
        p: links for p, links in base.items() if p != item.pair_id
    }
    assert review.fix_alignment(store, item.pair_id, [(0, 0)], reviewer="bob") == run_id
    assert review.get_item(store, item.sentence_id).manual_links == ((0, 0),)
    projected = project_corpus(store, DEMO, method="heuristic", alignment_run=run_id)
    assert projected.pairs == 100

    with pytest.raises(XnerError, match=rf"pair {item.pair_id}: link 0-99 is beyond the sentences \(\d+ source"):
        review.fix_alignment(store, item.pair_id, [(0, 99)], reviewer="ana")
    with pytest.raises(XnerError, match=r"a link is a \(source index, target index\) pair"):
        review.fix_alignment(store, item.pair_id, [(0,)], reviewer="ana")
    with pytest.raises(XnerError, match="no sentence pair 99999"):
        review.fix_alignment(store, 99999, [], reviewer="ana")


# --- agreement and adjudication ------------------------------------------------------------------------------

A, C, R = "accept", "correct", "reject"
# ten items decided by ana and bob: statuses, and the entity each one keeps (None: rejected)
ANA = [A, A, A, A, A, C, C, C, R, R]
BOB = [A, A, A, C, C, C, C, A, R, A]
PER, LOC, ORG = Span(0, 1, "PER"), Span(0, 1, "LOC"), Span(0, 1, "ORG")
ANA_SPANS = [[PER], [PER], [PER], [PER], [PER], [PER, Span(2, 3, "LOC")], [PER, Span(2, 3, "LOC")], [ORG], None, None]
BOB_SPANS = [[PER], [PER], [PER], [LOC], [LOC], [PER], [PER], [ORG], None, [PER]]


def decide_all(store: Store) -> list[int]:
    items = walk(store)[:10]
    for item, *decisions in zip(items, ANA, ANA_SPANS, BOB, BOB_SPANS, strict=True):
        version = item.state.version
        for reviewer, action, spans in (("ana", *decisions[:2]), ("bob", *decisions[2:])):
            state = review.record_decision(
                store, item.sentence_id, reviewer=reviewer, action=action, spans=spans, expected_version=version
            )
            version = state.version
    return [item.sentence_id for item in items]


def test_agreement_kappa_and_span_f1_on_a_hand_computed_case(queued) -> None:
    store, _ = queued
    decide_all(store)
    report = review.agreement(store, DEMO)

    # statuses: observed 6/10; marginals ana A5 C3 R2, bob A5 C4 R1: chance (25 + 12 + 2) / 100 = 0.39
    # kappa = (0.6 - 0.39) / (1 - 0.39) = 0.3443
    assert (report.items, report.reviewers) == (10, ("ana", "bob"))
    assert report.observed == pytest.approx(0.6)
    assert report.kappa == pytest.approx(0.21 / 0.61)
    # spans, items 1-8 (a rejection leaves the item out): matches 3 + 0 + 2 + 1 = 6 of 9 + 9 spans: F1 = 12/18
    assert report.span_f1 == pytest.approx(12 / 18)
    (pair,) = report.pairs
    assert (pair.first, pair.second, pair.items, pair.span_items) == ("ana", "bob", 10, 8)
    assert (pair.kappa, pair.span_f1) == (report.kappa, report.span_f1)
    sklearn = pytest.importorskip("sklearn.metrics")
    assert pair.kappa == pytest.approx(sklearn.cohen_kappa_score(ANA, BOB))


def test_agreement_counts_each_reviewers_standing_decision(queued) -> None:
    store, _ = queued
    first, second, third = walk(store)[:3]
    review.record_decision(store, first.sentence_id, reviewer="ana", action="reject", expected_version=0)
    review.record_decision(store, first.sentence_id, reviewer="ana", action="accept", expected_version=1)  # changed
    review.record_decision(store, first.sentence_id, reviewer="bob", action="accept", expected_version=2)
    review.record_decision(store, second.sentence_id, reviewer="ana", action="accept", expected_version=0)
    review.record_decision(store, second.sentence_id, reviewer="bob", action="reject", expected_version=1)
    review.undo(store, second.sentence_id, reviewer="bob", expected_version=2)  # bob withdrew: one reviewer left
    review.record_decision(store, third.sentence_id, reviewer="cy", action="accept", expected_version=0)

    report = review.agreement(store, DEMO)
    assert (report.items, report.reviewers, report.observed, report.kappa) == (1, ("ana", "bob"), 1.0, 1.0)
    assert review.disagreements(store, DEMO) == []


def test_agreement_without_double_reviews_is_empty(queued) -> None:
    store, _ = queued
    item = review.next_item(store, DEMO)
    review.record_decision(store, item.sentence_id, reviewer="ana", action="accept", expected_version=0)
    report = review.agreement(store, DEMO)
    assert (report.items, report.pairs, report.kappa, report.span_f1) == (0, (), None, None)


def test_disagreements_and_adjudication(queued) -> None:
    store, _ = queued
    sids = decide_all(store)
    found = review.disagreements(store, DEMO)
    # differ: status (items 4, 5, 8, 10) or spans (6, 7); items 1-3 agree and 9 is rejected by both
    assert [d.sentence_id for d in found] == sorted(sids[i] for i in (3, 4, 5, 6, 7, 9))
    fourth = next(d for d in found if d.sentence_id == sids[3])
    assert [(v.reviewer, v.status_after, v.spans_after) for v in fourth.votes] == [
        ("ana", ReviewStatus.ACCEPTED, (PER,)),
        ("bob", ReviewStatus.CORRECTED, (LOC,)),
    ]
    assert fourth.adjudication is None

    current = review.get_item(store, fourth.sentence_id).state
    ruled = review.adjudicate(
        store, fourth.sentence_id, reviewer="lead", status="corrected", spans=[PER], expected_version=current.version
    )
    assert (ruled.status, ruled.spans, ruled.updated_by) == (ReviewStatus.CORRECTED, (PER,), "lead")
    assert fourth.sentence_id not in [d.sentence_id for d in review.disagreements(store, DEMO)]
    resolved = {d.sentence_id: d for d in review.disagreements(store, DEMO, include_adjudicated=True)}
    assert len(resolved) == 6 and resolved[fourth.sentence_id].adjudication.reviewer == "lead"
    # an adjudication is not a vote: agreement is unchanged
    assert review.agreement(store, DEMO).kappa == pytest.approx(0.21 / 0.61)
    assert review.history(store, fourth.sentence_id)[-1].action == "adjudicate"


# --- export, migration, real data, PostgreSQL ---------------------------------------------------------------


def test_export_uses_curated_spans_only_for_reviewed_sentences(queued, tmp_path: Path) -> None:
    import json

    store, _ = queued
    item = review.next_item(store, DEMO)
    assert item is not None
    review.record_decision(store, item.sentence_id, reviewer="ana", action="correct", spans=[], expected_version=0)
    out = tmp_path / "es.jsonl"
    export_corpus(store, DEMO, out, fmt="jsonl")
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    by_position = {r["meta"]["position"]: r for r in records}
    assert by_position[item.position]["meta"]["status"] == "corrected"
    assert by_position[item.position].get("spans", []) == []
    # unreviewed sentences keep their gold entities, not the queued suggestion
    assert sum(len(r.get("spans", [])) for r in records) == 217 - len(item.tgt_gold)


def test_migration_from_0001_keeps_review_rows(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    config = alembic_config(url)
    command.upgrade(config, "0001")
    store = open_store(url, upgrade=False)
    try:
        with store.engine.begin() as connection:
            connection.execute(
                insert(Corpus.__table__).values(
                    id=1, name="c", kind="mono", src_lang="en", labels=[], created_at=utcnow(), description=""
                )
            )
            connection.execute(
                insert(Sentence.__table__).values(
                    id=1, corpus_id=1, split="train", side="mono", position=0, lang="en", tokens=["Ada"], n_tokens=1
                )
            )
            connection.exec_driver_sql(
                "INSERT INTO review_state (sentence_id, corpus_id, status, spans, confidence, version, updated_by, "
                'updated_at) VALUES (1, 1, \'accepted\', \'[{"start": 0, "end": 1, "label": "PER"}]\', 0.5, 3, '
                "'ana', '2026-01-01 00:00:00')"
            )
        command.upgrade(config, "head")
        with store.session() as session:
            state = session.get(ReviewState, 1)
            assert (state.status, state.version, state.disagreement, state.labels, state.run_id) == (
                "accepted",
                3,
                0.0,
                "",
                None,
            )
        assert review.get_item(store, 1).state.spans == (Span(0, 1, "PER"),)
        command.downgrade(config, "0001")
        with store.engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT version FROM review_state").scalar() == 3
    finally:
        store.dispose()


@pytest.mark.slow
def test_europarl_disagreement_and_confidence_point_at_projection_errors(tmp_path: Path) -> None:
    """On real EN-DE Europarl with eflomal links, sentences where the methods disagree, or whose confidence is
    low, need corrections far more often than the others: the queue orders put the reviewers' time there."""
    store = open_store(str(tmp_path / "ep.db"))
    try:
        import_europarl(store)
        links = align_corpus(store, "ep", options={"symmetrization": "intersection"}).run_id
        project_corpus(store, "ep", method="heuristic", alignment_run=links)
        project_corpus(store, "ep", method="ngram", alignment_run=links)
        report = review.queue_projection(store, "ep")
        assert report.queued == 799 and report.method == "ngram"

        def needing_correction(items: list[ReviewItem]) -> float:
            return sum(set(i.state.spans) != set(i.tgt_gold) for i in items) / len(items)

        items: list[ReviewItem] = []
        after = None
        while item := review.next_item(store, "ep", order="disagreement", after=after):
            items.append(item)
            after = item.sentence_id
        assert len(items) == 799
        keys = [(i.state.disagreement, i.sentence_id) for i in items]
        assert keys == sorted(keys, reverse=True)
        disputed = [i for i in items if i.state.disagreement > 0]
        calm = [i for i in items if i.state.disagreement == 0]
        assert len(disputed) > 20 and len(calm) > 300
        # about a third of the disputed sentences need a correction, a tenth of the others
        assert needing_correction(disputed) > needing_correction(calm) + 0.1
        unsure = [i for i in items if i.state.confidence < 0.8]
        sure = [i for i in items if i.state.confidence >= 0.8]
        assert len(unsure) > 20 and needing_correction(unsure) > needing_correction(sure) + 0.05
    finally:
        store.dispose()


@pytest.mark.postgres
@pytest.mark.slow  # a PostgreSQL server round (~13 s)
def test_conflict_path_on_postgresql(pg_url: str) -> None:
    store = open_store(pg_url)
    try:
        build_demo(store)
        review.queue_projection(store, DEMO)
        item = review.next_item(store, DEMO)
        assert item is not None
        review.record_decision(store, item.sentence_id, reviewer="ana", action="accept", expected_version=0)
        # bob loaded version 0 too: his reject goes beside ana's decision, to adjudication, not over it
        vote = review.record_decision(store, item.sentence_id, reviewer="bob", action="reject", expected_version=0)
        assert (vote.status, vote.version, vote.votes, vote.updated_by) == (ReviewStatus.ACCEPTED, 2, 2, "ana")
        assert [d.sentence_id for d in review.disagreements(store, DEMO)] == [item.sentence_id]
        with pytest.raises(ConflictError) as error:  # an accept that does not say what it accepted cannot stand
            review.record_decision(store, item.sentence_id, reviewer="cyd", action="accept", expected_version=0)
        assert error.value.decision.reviewer == "bob" and error.value.current.version == 2

        second = review.next_item(store, DEMO)
        outcomes: list[str] = []
        barrier = threading.Barrier(4)

        def decide(name: str) -> None:
            barrier.wait()
            try:
                review.record_decision(store, second.sentence_id, reviewer=name, action="accept", expected_version=0)
                outcomes.append("saved")
            except ConflictError:
                outcomes.append("conflict")

        threads = [threading.Thread(target=decide, args=(f"r{i}",)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes) == ["conflict"] * 3 + ["saved"]
        assert [e.version for e in review.history(store, second.sentence_id)] == [1]
        keys = [(i.state.disagreement, i.sentence_id) for i in walk(store, order="disagreement")]
        assert len(keys) == 98 and keys == sorted(keys, reverse=True)
        assert review.agreement(store, DEMO).items == 1  # ana's accept and bob's reject vote, above
    finally:
        store.dispose()


def test_home_review_and_export_count_unreviewed_reviewed_and_curated_alike(
    queued: tuple[Store, dict[str, int]], tmp_path: Path
) -> None:
    """One definition each (xner.store.queries.review): reviewed = accepted, corrected or rejected; curated =
    accepted or corrected; unreviewed = every other reviewable sentence, queued or never queued. The Home page's
    numbers (corpus_stats), the Review page's (queue_overview, the item) and a curated export agree."""
    store, _ = queued
    items = walk(store)[:8]
    for item, action in zip(items, ("accept", "correct", "correct", "reject"), strict=False):
        spans = list(item.state.spans)[:-1] if action == "correct" else None
        review.record_decision(
            store, item.sentence_id, reviewer="ana", action=action, spans=spans, expected_version=item.state.version
        )
    never_queued = [item.sentence_id for item in items[4:]]  # as if no run covered them: no review state
    with store.transaction() as session:  # a write of review states: it raises the revision, as every writer does
        session.execute(delete(ReviewState).where(ReviewState.sentence_id.in_(never_queued)))
        raise_review_revision(session, get_corpus(session, DEMO).id)

    stats = corpus_stats(store, DEMO)
    home = stats.review
    overview = review.queue_overview(store, DEMO)
    expected = {"unreviewed": 96, "accepted": 1, "corrected": 2, "rejected": 1}
    assert home == overview.progress == expected
    assert overview.total == sum(expected.values()) == 100
    assert overview.reviewed == stats.reviewed == reviewed_count(home) == 4
    assert overview.curated == stats.curated == curated_count(home) == 3
    assert stats.reviewable == overview.total
    assert overview.queued == 100 - 4 - len(never_queued)  # the queue's own count: queued, not every unreviewed
    first = review.next_item(store, DEMO)
    assert first is not None and (first.reviewed, first.remaining) == (overview.reviewed, overview.queued)
    with store.session() as session:  # the overview's counts are the ones next_item would count (the page hands them)
        assert overview.status_counts == status_counts(session, get_corpus(session, DEMO).id)
    for filters in ({}, {"statuses": REVIEWED_STATUSES}, {"min_confidence": 0.5}, {"skip": [first.sentence_id]}):
        assert review.next_item(store, DEMO, **filters, counts=overview.status_counts) == review.next_item(
            store, DEMO, **filters
        )
    report = export_corpus(store, DEMO, tmp_path / "curated.conll", statuses=CURATED_STATUSES)
    assert report.sentences == curated_count(home) == 3
    reviewed = export_corpus(store, DEMO, tmp_path / "reviewed.conll", statuses=REVIEWED_STATUSES)
    assert reviewed.sentences == reviewed_count(home)
    unreviewed = export_corpus(store, DEMO, tmp_path / "unreviewed.conll", statuses=[ReviewStatus.UNREVIEWED])
    assert unreviewed.sentences == home["unreviewed"]
