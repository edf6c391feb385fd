"""A review item: everything the review page shows for one target sentence (tokens, state, every projection run's
suggestion, the alignment behind the queued one).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from xner.formats.pharaoh import parse_pharaoh_line
from xner.services.review.alignment import manual_links
from xner.services.review.records import StateView, current_state, target_sentence
from xner.store.columns import record_to_projected
from xner.store.db import Store
from xner.store.queries.review import reviewed_count, status_counts
from xner.store.queries.review_items import alignment_text, pair_of_target, pair_suggestions, sentence_tokens
from xner.store.queries.sentences import entity_spans
from xner.types import Alignment as Links
from xner.types import Link, ProjectedSpan, ReviewStatus, Span

if TYPE_CHECKING:
    from xner.store.db import Session
    from xner.store.models import Corpus


@dataclass(frozen=True, slots=True)
class Suggestion:
    """What one projection run proposes for the item: spans with confidence, source span and justifying links."""

    run_id: int
    method: str
    alignment_run_id: int | None
    confidence: float
    spans: tuple[ProjectedSpan, ...]
    queued: bool = False  # the run whose spans were queued as this item's suggestion


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """Everything the review page shows for one target sentence."""

    sentence_id: int
    corpus: str
    src_lang: str
    tgt_lang: str | None
    split: str
    position: int
    pair_id: int | None
    tgt_tokens: tuple[str, ...]
    src_tokens: tuple[str, ...]
    src_spans: tuple[Span, ...]  # gold source entities (a tagger-sourced run carries its own in its suggestion)
    tgt_gold: tuple[Span, ...]  # gold target entities, when the corpus has any
    state: StateView
    suggestions: tuple[Suggestion, ...]  # one per projection run that covers the pair, oldest run first
    links: tuple[Link, ...]  # the alignment behind the queued suggestion (empty when none was queued)
    labels: tuple[str, ...]  # the labels a decision may use
    remaining: int = 0  # items matching the queue filters, this one included
    remaining_exact: bool = True  # False: at least ``remaining`` (label or reviewer filters count up to a cap)
    reviewed: int = 0  # reviewed sentences of the corpus
    manual_links: tuple[Link, ...] | None = None  # the corpus's reviewer-corrected alignment, when it has one
    possible_links: tuple[Link, ...] = ()  # those of ``links`` that the alignment marks possible (not sure)
    leased: bool = False  # served by next_item(claim_for=...): claimed for that reviewer (see leases)
    independent: bool = False  # served for one more reviewer's vote (overlap > 1): show the suggestion, not the state
    held_by: tuple[str, ...] = ()  # opened out of queue order while other reviewers hold it (navigation.open_item)

    @property
    def suggestion(self) -> Suggestion | None:
        """The queued suggestion (what the reviewer accepts or corrects), if any."""
        return next((s for s in self.suggestions if s.queued), None)


def get_item(store: Store, sentence_id: int) -> ReviewItem:
    """The review item of target sentence ``sentence_id`` (``remaining``: the unreviewed items of its corpus)."""
    with store.session() as session:
        corpus = target_sentence(session, sentence_id)[1]
        progress = status_counts(session, corpus.id)
        remaining = progress[ReviewStatus.UNREVIEWED.value]  # the queued items
        return load_item(session, corpus, sentence_id, progress=progress, remaining=remaining, exact=True)


def load_item(
    session: Session, corpus: Corpus, sentence_id: int, *, progress: Mapping[str, int], remaining: int, exact: bool
) -> ReviewItem:
    target, _ = target_sentence(session, sentence_id)
    state = current_state(session, sentence_id)
    pair = pair_of_target(session, sentence_id)
    src_tokens: tuple[str, ...] = ()
    suggestions: list[Suggestion] = []
    links: tuple[Link, ...] = ()
    possible: tuple[Link, ...] = ()
    manual: tuple[Link, ...] | None = None
    gold = entity_spans(session, [sentence_id] + ([pair.src_sentence_id] if pair else []))
    if pair is not None:
        src_tokens = sentence_tokens(session, pair.src_sentence_id)
        suggestions = _suggestions(session, corpus, pair.id, state.run_id)
        queued_alignment = _queued_alignment(session, pair.id, suggestions)
        links = tuple(sorted(queued_alignment.links))
        possible = tuple(sorted(queued_alignment.possible - queued_alignment.sure))
        manual = manual_links(session, corpus, pair.id)
    labels = set(corpus.labels) | {s.label for s in state.spans}
    labels |= {p.span.label for suggestion in suggestions for p in suggestion.spans}
    return ReviewItem(
        sentence_id=sentence_id,
        corpus=corpus.name,
        src_lang=corpus.src_lang,
        tgt_lang=corpus.tgt_lang,
        split=target.split,
        position=target.position,
        pair_id=pair.id if pair else None,
        tgt_tokens=tuple(target.tokens),
        src_tokens=src_tokens,
        src_spans=tuple(sorted(gold.get(pair.src_sentence_id, ()))) if pair else (),
        tgt_gold=tuple(sorted(gold.get(sentence_id, ()))),
        state=state,
        suggestions=tuple(suggestions),
        links=links,
        labels=tuple(sorted(labels)),
        remaining=remaining,
        remaining_exact=exact,
        reviewed=reviewed_count(progress),
        manual_links=manual,
        possible_links=possible,
    )


def _suggestions(session: Session, corpus: Corpus, pair_id: int, queued_run: int | None) -> list[Suggestion]:
    """The projections of the pair by every run of the corpus (a run still being written belongs to a hidden
    staging corpus until it is complete, so it is left out)."""
    rows = pair_suggestions(session, corpus.id, pair_id)
    return [
        Suggestion(
            row.run_id,
            row.method,
            row.alignment_run_id,
            row.confidence,
            tuple(record_to_projected(record, row.method) for record in row.spans),
            queued=row.run_id == queued_run,
        )
        for row in rows
    ]


def _queued_alignment(session: Session, pair_id: int, suggestions: Sequence[Suggestion]) -> Links:
    """The links (sure and possible) of the alignment behind the queued suggestion; empty when none."""
    queued = next((s for s in suggestions if s.queued), None)
    if queued is None or queued.alignment_run_id is None:
        return Links()
    text = alignment_text(session, queued.alignment_run_id, pair_id)
    return parse_pharaoh_line(text) if text is not None else Links()
