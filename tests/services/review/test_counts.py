"""The review counts kept under a corpus's review revision (xner.services.review.counts): after every kind of write
that changes them (queueing, each decision, a vote, undo, an appended split, a write through another store on the
same database) the overview equals a fresh count, and while nothing changed no count runs at all. On SQLite and
PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import event, func, select

from xner.services import review
from xner.services.corpora import get_corpus
from xner.services.demo import DEMO_CORPUS, DEMO_DIR, load_demo
from xner.services.importing import SideOptions, import_parallel
from xner.services.projecting import project_corpus
from xner.store.db import Store, open_store
from xner.store.models import Sentence
from xner.store.queries.review import queued_count, review_progress
from xner.types import ReviewStatus, Span

pytest_plugins = ["tests.pg"]


def fresh(store: Store) -> tuple[dict[str, int], int]:
    """The progress and queued count, counted now."""
    with store.session() as session:
        corpus = get_corpus(session, DEMO_CORPUS)
        return review_progress(session, corpus.id, parallel=True), queued_count(session, corpus.id)


def shown(store: Store) -> tuple[dict[str, int], int]:
    overview = review.queue_overview(store, DEMO_CORPUS)
    assert overview.total == sum(overview.progress.values())
    return overview.progress, overview.queued


class Counting:
    """Counts the COUNT queries a store's engine runs."""

    def __init__(self, store: Store) -> None:
        self.queries = 0
        event.listen(store.engine, "before_cursor_execute", self.seen)

    def seen(self, connection, cursor, statement: str, parameters, context, executemany) -> None:
        self.queries += "count(" in statement.lower()


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'counts.db'}"
    else:
        yield request.getfixturevalue("pg_url")


def test_the_overview_counts_what_every_write_changed_and_nothing_while_nothing_did(url: str) -> None:
    store = open_store(url)
    load_demo(store)
    other = open_store(url)  # another process's store on the same database (another server, the CLI)
    counting = Counting(store)
    try:
        assert shown(store) == fresh(store)
        counting.queries = 0
        shown(store)
        assert counting.queries == 0, "nothing changed: the kept counts are used"

        def check(*, counted: bool = True) -> dict[str, int]:
            """The overview equals a fresh count; ``counted`` False: and it counted nothing (a decision of this
            store moved the kept counts itself)."""
            counting.queries = 0
            progress, queued = shown(store)
            assert counting.queries > 0 if counted else counting.queries == 0
            assert (progress, queued) == fresh(store)
            return progress

        first = review.next_item(store, DEMO_CORPUS)
        assert first is not None
        review.record_decision(
            store, first.sentence_id, reviewer="ana", action="accept", expected_version=first.state.version
        )
        assert check(counted=False)[ReviewStatus.ACCEPTED.value] == 1
        second = review.next_item(store, DEMO_CORPUS, skip=[first.sentence_id])
        assert second is not None
        corrected = review.record_decision(
            store,
            second.sentence_id,
            reviewer="ana",
            action="correct",
            expected_version=second.state.version,
            spans=(Span(0, 1, "PER"),),
        )
        assert check(counted=False)[ReviewStatus.CORRECTED.value] == 1
        review.undo(store, second.sentence_id, reviewer="ana", expected_version=corrected.version)
        assert check(counted=False)[ReviewStatus.CORRECTED.value] == 0
        third = review.next_item(other, DEMO_CORPUS, skip=[first.sentence_id])
        assert third is not None
        review.record_decision(
            other, third.sentence_id, reviewer="bo", action="reject", expected_version=third.state.version
        )
        assert check()[ReviewStatus.REJECTED.value] == 1  # written through the other store
        # a vote beside ana's decision (an item bo loaded before it was decided): the status stays
        review.record_decision(
            store, first.sentence_id, reviewer="bo", action="reject", expected_version=first.state.version
        )
        check(counted=False)  # a vote changes no status, nor the revision
        # queue another run over the same sentences: the unreviewed ones get its suggestions
        ngram = project_corpus(store, DEMO_CORPUS, method="ngram", alignment_run=1).run_id
        review.queue_projection(store, DEMO_CORPUS, ngram)
        check()
        # a new split appended: more reviewable sentences, none queued yet
        total = sum(check(counted=False).values())
        import_parallel(
            store,
            DEMO_DIR / "en.conll",
            DEMO_DIR / "es.conll",
            corpus=DEMO_CORPUS,
            src=SideOptions("en", "conll"),
            tgt=SideOptions("es", "conll"),
            split="dev",
        )
        progress = check()
        assert sum(progress.values()) == 2 * total
        # a decision on a sentence never queued (no state row yet): one more accepted, the queue as it was
        with store.session() as session:
            dev_target = (Sentence.split == "dev", Sentence.side == "tgt")
            unqueued = session.scalar(select(func.min(Sentence.id)).where(*dev_target))
        review.record_decision(store, unqueued, reviewer="ana", action="accept", expected_version=0)
        after = check(counted=False)
        assert after[ReviewStatus.ACCEPTED.value] == progress[ReviewStatus.ACCEPTED.value] + 1
    finally:
        other.dispose()
        store.dispose()
