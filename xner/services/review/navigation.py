"""Going to a review item out of queue order: by the sentence number the page shows or by split and position
(:func:`find_sentence`), by a word on either side (:func:`search_tokens`), and opening it with its lease checked
(:func:`open_item`).

The token search reads the tokens' stored JSON text with ``LIKE`` (no index can serve a substring), pair by pair
along the pairs' (corpus, split, position) index, and stops at the first ``limit`` matches: a frequent word
answers at once, and a word found nowhere reads the corpus's sentences once, in the database (about 0.3 s per
100,000 pairs on SQLite; ``benchmarks/review_speed.py``). Each candidate is checked again in Python on its
tokens, so the result is exact (case-insensitive substring of one token) whatever the JSON escaping.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from xner.errors import UnknownNameError, XnerError
from xner.services.corpora import get_corpus
from xner.services.review.items import ReviewItem, get_item
from xner.services.review.leases import claim
from xner.services.review.records import check_reviewer
from xner.store.db import Store
from xner.store.models import utcnow
from xner.store.queries.leases import holders
from xner.store.queries.review_items import pair_splits, split_size, target_at, target_pair, token_search_page
from xner.types import ReviewStatus

if TYPE_CHECKING:
    from xner.store.db import Session
    from xner.store.models import Corpus

SIDES = ("target", "source")
SEARCH_LIMIT = 20  # hits shown for a search
MAX_QUERY = 100
_SCAN_FACTOR = 4  # candidates read per wanted hit (a LIKE match can still fail the exact check)
_NUMBER = re.compile(r"^\s*(?:sentence\s*)?#?\s*(\d+)\s*$", re.IGNORECASE)
_SPLIT_POSITION = re.compile(r"^\s*([A-Za-z][\w.-]*)\s*[\s:#/]\s*#?\s*(\d+)\s*$")


@dataclass(frozen=True, slots=True)
class SearchHit:
    """A sentence pair whose ``side`` has a token containing the query: its review item and where the token is."""

    sentence_id: int  # the target sentence: the review item
    pair_id: int
    split: str
    position: int
    side: str  # "target" | "source"
    tokens: tuple[str, ...]  # the matching side's tokens
    token_idx: int  # the first matching token


def find_sentence(store: Store, corpus: str, reference: str) -> int:
    """The review item (target sentence id) ``reference`` names in ``corpus``: the number the Review page shows
    ("1234", "Sentence 1234", "#1234"), or a split and position ("train 12", "dev:3", "test #0").

    Raises:
        XnerError: a reference in neither form, or one that names no sentence pair of ``corpus``.
    """
    text = reference.strip()
    with store.session() as session:
        found = get_corpus(session, corpus)
        number = _NUMBER.match(text)
        if number:
            return _by_id(session, found, int(number.group(1)))
        split_position = _SPLIT_POSITION.match(text)
        if split_position:
            return _by_position(session, found, split_position.group(1), int(split_position.group(2)))
    raise XnerError(
        f"{text[:50]!r} is not a sentence reference: type its number (as in 'Sentence 1234') or a split and "
        "position (as in 'train 12')"
    )


def _by_id(session: Session, corpus: Corpus, sentence_id: int) -> int:
    pair = target_pair(session, corpus.id, sentence_id)
    if pair is None:
        raise XnerError(f"corpus {corpus.name!r} has no target sentence {sentence_id}")
    return sentence_id


def _by_position(session: Session, corpus: Corpus, split: str, position: int) -> int:
    sentence_id = target_at(session, corpus.id, split, position)
    if sentence_id is not None:
        return sentence_id
    splits = pair_splits(session, corpus.id)
    if split not in splits:
        raise XnerError(f"corpus {corpus.name!r} has no split {split!r}; its splits: {', '.join(splits) or 'none'}")
    size = split_size(session, corpus.id, split)
    raise XnerError(f"split {split!r} of corpus {corpus.name!r} has positions 0 to {(size or 1) - 1}; got {position}")


def search_tokens(
    store: Store, corpus: str, query: str, *, sides: tuple[str, ...] = SIDES, limit: int = SEARCH_LIMIT
) -> list[SearchHit]:
    """The first ``limit`` hits in ``corpus``, by split and position: a pair and one of ``sides`` with a token
    that contains ``query`` (case-insensitive substring); one hit per pair and side at most.

    Raises:
        XnerError: an empty or over-long query, an unknown side or an unknown corpus.
    """
    needle = query.strip().lower()
    if not needle:
        raise XnerError("type a word (or part of one) to search for")
    if len(needle) > MAX_QUERY:
        raise XnerError(f"a search is at most {MAX_QUERY} characters; got {len(needle)}")
    if not sides:
        raise XnerError(f"search at least one side: {', '.join(SIDES)}")
    for side in sides:
        if side not in SIDES:
            raise UnknownNameError("side", side, SIDES)
    hits: list[SearchHit] = []
    with store.session() as session:
        found = get_corpus(session, corpus)
        for side in SIDES:
            if side in sides:
                hits.extend(_search_side(session, found, side, needle, limit))
    hits.sort(key=lambda hit: (hit.split, hit.position, SIDES.index(hit.side)))
    return hits[:limit]


def _search_side(session: Session, corpus: Corpus, side: str, needle: str, limit: int) -> list[SearchHit]:
    after: tuple[str, int] | None = None
    hits: list[SearchHit] = []
    while len(hits) < limit:
        rows = token_search_page(
            session, corpus.id, source=side == "source", needle=needle, after=after, limit=limit * _SCAN_FACTOR
        )
        for row in rows:
            index = _matching_token(row.tokens, needle)
            if index is not None:
                hits.append(
                    SearchHit(row.tgt_sentence_id, row.id, row.split, row.position, side, tuple(row.tokens), index)
                )
        if len(rows) < limit * _SCAN_FACTOR:
            break
        after = (rows[-1].split, rows[-1].position)
    return hits[:limit]


def _matching_token(tokens: list[str], needle: str) -> int | None:
    return next((i for i, token in enumerate(tokens) if needle in token.lower()), None)


def open_item(store: Store, sentence_id: int, *, reviewer: str = "") -> ReviewItem:
    """The review item of ``sentence_id``, opened out of queue order. An unreviewed item is leased to ``reviewer``
    when it has room; when others hold it, ``item.held_by`` names them and ``item.leased`` is False: the page shows
    it without decisions. A reviewed item is not leased (a decision on it is a vote, or a change of one's own), nor
    is a sentence no projection run was queued for.

    Raises:
        XnerError: an unknown sentence or a source sentence.
    """
    item = get_item(store, sentence_id)
    if not reviewer or item.state.status != ReviewStatus.UNREVIEWED:
        return item
    reviewer = check_reviewer(reviewer)
    if claim(store, sentence_id, reviewer):
        return replace(item, leased=True)
    # no room: others hold it; or nothing to hold, for a sentence never queued (a decision on it stands alone)
    return replace(item, held_by=tuple(_holders(store, sentence_id, reviewer)))


def _holders(store: Store, sentence_id: int, reviewer: str) -> list[str]:
    with store.session() as session:
        return holders(session, sentence_id, reviewer, utcnow())
