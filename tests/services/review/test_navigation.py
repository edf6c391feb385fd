"""Going to review items out of queue order (xner.services.review.navigation) and the reviewers' saved queue
choices (xner.services.review.preferences), on the real Europarl EN-DE parallel NER gold and the demo corpus.

The token search is checked against a brute-force oracle: every pair read in Python, by split and position.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import import_europarl
from xner.errors import XnerError
from xner.services import review
from xner.services.demo import DEMO_CORPUS, load_demo
from xner.store.db import Store
from xner.store.models import Corpus, Sentence
from xner.store.models import SentencePair as PairRow
from xner.types import ReviewStatus

pytest_plugins = ["tests.pg"]


def pairs(store: Store, corpus: str) -> list[tuple[int, int, str, int, list[str], list[str]]]:
    """(pair id, target id, split, position, source tokens, target tokens) of every pair, by split and position."""
    with store.session() as session:
        corpus_id = session.scalar(select(Corpus.id).where(Corpus.name == corpus))
        rows = session.execute(
            select(PairRow.id, PairRow.tgt_sentence_id, PairRow.split, PairRow.position, PairRow.src_sentence_id)
            .where(PairRow.corpus_id == corpus_id)
            .order_by(PairRow.split, PairRow.position)
        ).all()
        selected = select(Sentence.id, Sentence.tokens).where(Sentence.corpus_id == corpus_id)
        tokens = {row.id: row.tokens for row in session.execute(selected)}
    return [
        (r.id, r.tgt_sentence_id, r.split, r.position, tokens[r.src_sentence_id], tokens[r.tgt_sentence_id])
        for r in rows
    ]


def oracle(store: Store, corpus: str, query: str, sides: tuple[str, ...], limit: int) -> list[tuple[int, str, int]]:
    needle = query.strip().lower()
    found = []
    for _, target, _, _, src, tgt in pairs(store, corpus):
        for side, tokens in (("target", tgt), ("source", src)):
            if side in sides:
                index = next((i for i, token in enumerate(tokens) if needle in token.lower()), None)
                if index is not None:
                    found.append((target, side, index))
    return found[:limit]


@pytest.fixture
def europarl(store: Store) -> Store:
    import_europarl(store)
    return store


@pytest.mark.parametrize(
    ("query", "sides"),
    [
        ("kommission", ("target",)),  # German nouns are capitalised: the case is folded
        ("COMMISSION", ("source",)),
        ("für", ("target", "source")),  # non-ASCII letter between ASCII runs
        ("ä", ("target",)),  # no ASCII at all
        ("Straßburg", ("target",)),
        ("%", ("target", "source")),  # LIKE wildcards are taken literally
        ("_", ("source",)),
        ("zzqx", ("target", "source")),  # no hit: the whole corpus is read once
    ],
)
def test_search_tokens_matches_the_brute_force_oracle(europarl: Store, query: str, sides: tuple[str, ...]) -> None:
    hits = review.search_tokens(europarl, "ep", query, sides=sides, limit=15)
    expected = oracle(europarl, "ep", query, sides, 15)
    assert [(hit.sentence_id, hit.side, hit.token_idx) for hit in hits] == expected
    for hit in hits:
        assert query.lower() in hit.tokens[hit.token_idx].lower()


def test_search_hits_name_their_split_position_and_tokens(europarl: Store) -> None:
    every = {target: (split, position, src, tgt) for _, target, split, position, src, tgt in pairs(europarl, "ep")}
    hits = review.search_tokens(europarl, "ep", "parlament")
    assert len(hits) == review.SEARCH_LIMIT
    for hit in hits:
        split, position, src, tgt = every[hit.sentence_id]
        assert (hit.split, hit.position) == (split, position)
        assert hit.tokens == tuple(tgt if hit.side == "target" else src)


@pytest.mark.parametrize("query", ["", "   ", "x" * 101])
def test_search_refuses_an_empty_or_long_query(europarl: Store, query: str) -> None:
    with pytest.raises(XnerError, match="search"):
        review.search_tokens(europarl, "ep", query)


def test_search_refuses_an_unknown_side(europarl: Store) -> None:
    with pytest.raises(XnerError, match="unknown side 'middle'; known: source, target"):
        review.search_tokens(europarl, "ep", "a", sides=("middle",))


def test_find_sentence_by_number_or_split_and_position(europarl: Store) -> None:
    every = pairs(europarl, "ep")
    _, target, split, position, _, _ = every[42]
    for reference in (str(target), f"Sentence {target}", f"#{target}", f"sentence{target}"):
        assert review.find_sentence(europarl, "ep", reference) == target
    for reference in (f"{split} {position}", f"{split}:{position}", f"{split} #{position}", f" {split}/{position} "):
        assert review.find_sentence(europarl, "ep", reference) == target


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("train 3", "corpus 'ep' has no split 'train'; its splits: test"),
        ("test 799", "split 'test' of corpus 'ep' has positions 0 to 798; got 799"),
        ("Ada Lovelace", "'Ada Lovelace' is not a sentence reference"),
        ("99999999", "corpus 'ep' has no target sentence 99999999"),
    ],
)
def test_find_sentence_explains_a_bad_reference(europarl: Store, reference: str, message: str) -> None:
    with pytest.raises(XnerError, match=message):
        review.find_sentence(europarl, "ep", reference)


def test_a_sentence_never_queued_opens_without_a_reservation(europarl: Store) -> None:
    target = pairs(europarl, "ep")[3][1]
    item = review.open_item(europarl, target, reviewer="ana")
    assert (item.sentence_id, item.leased, item.held_by, item.suggestion) == (target, False, (), None)
    assert review.active_leases(europarl, "ep") == []


def test_a_source_sentence_number_is_not_an_item(europarl: Store) -> None:
    with europarl.session() as session:
        source = session.scalar(select(PairRow.src_sentence_id).limit(1))
    with pytest.raises(XnerError, match=f"has no target sentence {source}"):
        review.find_sentence(europarl, "ep", str(source))


# --- opening an item out of queue order: leases ----------------------------------------------------------------


@pytest.fixture
def demo(store: Store) -> Store:
    load_demo(store)
    return store


def test_open_item_reserves_a_free_item_and_shows_who_holds_a_taken_one(demo: Store) -> None:
    held = review.next_item(demo, DEMO_CORPUS, claim_for="ana")
    assert held is not None and held.leased
    theirs = review.open_item(demo, held.sentence_id, reviewer="ben")
    assert (theirs.leased, theirs.held_by) == (False, ("ana",))
    assert review.open_item(demo, held.sentence_id, reviewer="ana").leased  # their own: still theirs

    free = review.next_item(demo, DEMO_CORPUS, skip=[held.sentence_id])
    assert free is not None
    opened = review.open_item(demo, free.sentence_id, reviewer="ben")
    assert (opened.leased, opened.held_by) == (True, ())
    leases = {(lease.sentence_id, lease.reviewer) for lease in review.active_leases(demo, DEMO_CORPUS)}
    assert leases == {(held.sentence_id, "ana"), (free.sentence_id, "ben")}
    # the queue serves neither to a third reviewer
    served = review.next_item(demo, DEMO_CORPUS, claim_for="cyd")
    assert served is not None and served.sentence_id not in {held.sentence_id, free.sentence_id}


def test_open_item_without_a_name_or_on_a_decided_item_reserves_nothing(demo: Store) -> None:
    item = review.next_item(demo, DEMO_CORPUS)
    assert item is not None
    assert not review.open_item(demo, item.sentence_id).leased
    review.record_decision(demo, item.sentence_id, reviewer="ana", action="reject", expected_version=item.state.version)
    decided = review.open_item(demo, item.sentence_id, reviewer="ben")
    assert decided.state.status == ReviewStatus.REJECTED and not decided.leased and not decided.held_by
    assert review.active_leases(demo, DEMO_CORPUS) == []


# --- saved queue choices ---------------------------------------------------------------------------------------


def test_queue_preferences_are_kept_per_reviewer_and_corpus(demo: Store) -> None:
    assert review.queue_preferences(demo, DEMO_CORPUS, "ana") is None
    chosen = review.QueuePreferences("disagreement", "accepted", ("PER", "LOC"), (0.25, 0.75))
    review.save_queue_preferences(demo, DEMO_CORPUS, "ana", chosen)
    assert review.queue_preferences(demo, DEMO_CORPUS, "ana") == review.QueuePreferences(
        "disagreement", "accepted", ("LOC", "PER"), (0.25, 0.75)
    )
    assert review.queue_preferences(demo, DEMO_CORPUS, "ben") is None
    review.save_queue_preferences(demo, DEMO_CORPUS, "ana", review.QueuePreferences())  # an update, not a second row
    assert review.queue_preferences(demo, DEMO_CORPUS, " ana ") == review.QueuePreferences()


@pytest.mark.parametrize(
    ("preferences", "message"),
    [
        (review.QueuePreferences(order="random"), "unknown queue order 'random'"),
        (review.QueuePreferences(confidence=(0.8, 0.2)), "a confidence range lies within 0..1"),
        (review.QueuePreferences(confidence=(0.0, 1.5)), "a confidence range lies within 0..1"),
    ],
)
def test_bad_queue_preferences_are_refused(demo: Store, preferences: review.QueuePreferences, message: str) -> None:
    with pytest.raises(XnerError, match=message):
        review.save_queue_preferences(demo, DEMO_CORPUS, "ana", preferences)
    with pytest.raises(XnerError, match="needs the reviewer's name"):
        review.save_queue_preferences(demo, DEMO_CORPUS, " ", review.QueuePreferences())


@pytest.mark.postgres
def test_search_find_and_preferences_on_postgresql(pg_url: str) -> None:
    from xner.store.db import open_store

    store = open_store(pg_url)
    try:
        import_europarl(store)
        for query, sides in (("kommission", ("target",)), ("für", ("target", "source")), ("ä", ("target",))):
            hits = review.search_tokens(store, "ep", query, sides=sides, limit=10)
            assert [(hit.sentence_id, hit.side, hit.token_idx) for hit in hits] == oracle(store, "ep", query, sides, 10)
        _, target, split, position, _, _ = pairs(store, "ep")[7]
        assert review.find_sentence(store, "ep", f"{split} {position}") == review.find_sentence(
            store, "ep", str(target)
        )
        chosen = review.QueuePreferences("disagreement", "rejected", ("ORG",), (0.0, 0.5))
        review.save_queue_preferences(store, "ep", "ana", chosen)
        review.save_queue_preferences(store, "ep", "ana", chosen)  # the upsert updates its row
        assert review.queue_preferences(store, "ep", "ana") == chosen
    finally:
        store.dispose()
