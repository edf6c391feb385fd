"""Work distribution between concurrent reviewers (xner.services.review.leases and next_item(claim_for=...)):
leases, their expiry and release, race-free claims from many threads, the queue's overlap, on the demo project
(SQLite file) and on PostgreSQL."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from xner.errors import XnerError
from xner.services import review
from xner.services.demo import load_demo
from xner.store.db import Store, open_store
from xner.store.models import ReviewLease, utcnow
from xner.types import ReviewStatus

pytest_plugins = ["tests.pg"]

DEMO = "demo-en-es"


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("leases") / "demo.db"
    store = open_store(str(path))
    load_demo(store)  # projected and queued: 100 unreviewed items
    store.dispose()
    return path


@pytest.fixture
def store(demo_file: Path, tmp_path: Path) -> Iterator[Store]:
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{demo_file}{suffix}").exists():
            shutil.copy(f"{demo_file}{suffix}", tmp_path / f"demo.db{suffix}")
    opened = open_store(str(tmp_path / "demo.db"))
    yield opened
    opened.dispose()


def serve(store: Store, reviewer: str, **filters) -> review.ReviewItem:
    item = review.next_item(store, DEMO, claim_for=reviewer, **filters)
    assert item is not None
    return item


def accept(store: Store, item: review.ReviewItem, reviewer: str) -> review.StateView:
    spans = review.get_item(store, item.sentence_id).suggestion.spans  # type: ignore[union-attr]
    return review.record_decision(
        store,
        item.sentence_id,
        reviewer=reviewer,
        action="accept",
        expected_version=item.state.version,
        spans=[p.span for p in spans],
    )


def expire_all(store: Store) -> None:
    with store.transaction() as session:
        session.execute(update(ReviewLease).values(expires_at=utcnow() - timedelta(seconds=1)))


def test_concurrent_reviewers_are_served_different_items_until_decided_or_released(store: Store) -> None:
    ana = serve(store, "ana")
    bob = serve(store, "bob")
    assert ana.leased and bob.leased and ana.sentence_id != bob.sentence_id
    assert review.next_item(store, DEMO).sentence_id == ana.sentence_id  # type: ignore[union-attr]  # unleased read
    # ana reloads her queue: she gets her own item again, bob still not
    assert serve(store, "ana").sentence_id == ana.sentence_id
    assert {(lease.sentence_id, lease.reviewer) for lease in review.active_leases(store, DEMO)} == {
        (ana.sentence_id, "ana"),
        (bob.sentence_id, "bob"),
    }
    accept(store, ana, "ana")  # a decision releases the lease
    assert [lease.reviewer for lease in review.active_leases(store, DEMO)] == ["bob"]
    review.release_lease(store, bob.sentence_id, "bob")  # skip / leaving the item
    assert serve(store, "cyd").sentence_id == bob.sentence_id  # bob's item is free again


def test_an_expired_lease_is_ignored_and_taken_over(store: Store) -> None:
    ana = serve(store, "ana")
    assert serve(store, "bob").sentence_id != ana.sentence_id
    expire_all(store)  # ana closed her tab: nobody renewed her lease
    taken = serve(store, "cyd")
    assert taken.sentence_id == ana.sentence_id
    assert not review.claim_item(store, ana.sentence_id, "ana")  # cyd holds it now
    assert review.renew_lease(store, taken.sentence_id, "cyd")


def test_claims_from_many_threads_never_share_an_item(store: Store) -> None:
    served = claim_concurrently(store, [f"r{i}" for i in range(8)])
    assert len(set(served.values())) == 8


@pytest.mark.postgres
def test_claims_from_many_threads_never_share_an_item_on_postgresql(pg_url: str) -> None:
    pg = open_store(pg_url)
    try:
        load_demo(pg)
        served = claim_concurrently(pg, [f"r{i}" for i in range(8)])
        assert len(set(served.values())) == 8
        accepted = accept(pg, serve(pg, "r0"), "r0")
        assert accepted.status == ReviewStatus.ACCEPTED and accepted.votes == 1
    finally:
        pg.dispose()


def claim_concurrently(store: Store, reviewers: list[str]) -> dict[str, int]:
    barrier = threading.Barrier(len(reviewers))
    served: dict[str, int] = {}
    errors: list[BaseException] = []

    def take(name: str) -> None:
        barrier.wait()
        try:
            item = review.next_item(store, DEMO, claim_for=name)
            assert item is not None and item.leased
            served[name] = item.sentence_id
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=take, args=(name,)) for name in reviewers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    leases = review.active_leases(store, DEMO)
    assert sorted((lease.reviewer, lease.sentence_id) for lease in leases) == sorted(served.items())
    return served


def test_overlap_serves_each_item_to_that_many_distinct_reviewers(store: Store) -> None:
    settings = review.set_queue_settings(store, DEMO, by="lead", overlap=2)
    assert (settings.overlap, settings.lease_seconds, settings.updated_by) == (2, 300, "lead")
    ana = serve(store, "ana")
    bob = serve(store, "bob")
    assert bob.sentence_id == ana.sentence_id and not bob.independent  # two reviewers at once on one item
    cyd = serve(store, "cyd")
    assert cyd.sentence_id != ana.sentence_id  # but not a third
    first = review.record_decision(
        store, ana.sentence_id, reviewer="ana", action="correct", spans=[], expected_version=ana.state.version
    )
    again = serve(store, "ana")
    assert again.sentence_id != ana.sentence_id  # ana never gets the item she decided back
    # bob decides after ana: his decision is the item's second vote, beside ana's state
    vote = accept(store, bob, "bob")
    assert (vote.status, vote.spans, vote.votes, vote.updated_by) == (first.status, (), 2, "ana")
    assert [d.sentence_id for d in review.disagreements(store, DEMO)] == [ana.sentence_id]
    expire_all(store)
    assert serve(store, "dan").sentence_id != ana.sentence_id  # two votes: the item is complete


def test_overlap_serves_a_decided_item_to_the_next_reviewer_as_an_independent_review(store: Store) -> None:
    review.set_queue_settings(store, DEMO, by="lead", overlap=3)
    ana = serve(store, "ana")
    accept(store, ana, "ana")
    bob = serve(store, "bob")
    assert (bob.sentence_id, bob.independent, bob.state.status) == (ana.sentence_id, True, ReviewStatus.ACCEPTED)
    accept(store, bob, "bob")
    cyd = serve(store, "cyd")
    assert cyd.sentence_id == ana.sentence_id  # the third reviewer
    state = review.adjudicate(store, ana.sentence_id, reviewer="lead", status="rejected", expected_version=2)
    assert state.final
    expire_all(store)
    assert serve(store, "dan").sentence_id != ana.sentence_id  # settled by the adjudication


def test_queue_settings_are_checked(store: Store) -> None:
    with pytest.raises(XnerError, match="overlap is the number of reviewers per item"):
        review.set_queue_settings(store, DEMO, by="lead", overlap=0)
    with pytest.raises(XnerError, match="a lease lasts at least 30 seconds"):
        review.set_queue_settings(store, DEMO, by="lead", lease_seconds=5)
    with pytest.raises(XnerError, match="reviewer's name"):
        review.set_queue_settings(store, DEMO, by=" ", overlap=2)
    assert review.queue_settings(store, DEMO).overlap == 1


def test_undo_of_a_vote_leaves_the_state_and_counts_the_votes_again(store: Store) -> None:
    item = serve(store, "ana")
    mine = accept(store, item, "ana")
    vote = review.record_decision(store, item.sentence_id, reviewer="bob", action="reject", expected_version=0)
    assert (vote.status, vote.votes) == (ReviewStatus.ACCEPTED, 2)  # a stale decision: beside, not over
    undone = review.undo(store, item.sentence_id, reviewer="bob", expected_version=vote.version)
    assert (undone.status, undone.spans, undone.votes, undone.updated_by) == (mine.status, mine.spans, 1, "ana")
    assert review.disagreements(store, DEMO) == []
