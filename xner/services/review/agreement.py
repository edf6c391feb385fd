"""Agreement between reviewers (observed, Cohen's kappa, span F1) and the disagreements awaiting adjudication."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from xner.services.corpora import get_corpus
from xner.services.review.records import VOTES, EventView, load_events, standing_events
from xner.stats import cohen_kappa
from xner.store.db import Store
from xner.types import ReviewStatus

if TYPE_CHECKING:
    from xner.store.db import Session
    from xner.store.models import Corpus


@dataclass(frozen=True, slots=True)
class PairAgreement:
    """How two reviewers agree on the items both decided."""

    first: str
    second: str
    items: int
    observed: float  # share of items with the same status
    kappa: float  # Cohen's kappa on the status
    span_items: int  # items neither rejected: the base of span_f1
    span_f1: float  # micro F1 of exact span matches between their spans (1.0 when no entity on either side)


@dataclass(frozen=True, slots=True)
class AgreementReport:
    corpus: str
    items: int  # items decided by two or more reviewers
    reviewers: tuple[str, ...]
    pairs: tuple[PairAgreement, ...]
    observed: float  # over every reviewer pair's items pooled
    kappa: float | None  # Cohen's kappa over the pooled pairs of decisions; None without any
    span_f1: float | None


@dataclass(frozen=True, slots=True)
class Disagreement:
    """An item whose reviewers differ, with each one's standing decision, for adjudication."""

    sentence_id: int
    votes: tuple[EventView, ...]  # one per reviewer, by reviewer name
    adjudication: EventView | None  # the latest adjudication, when one came after the votes


def agreement(store: Store, corpus: str) -> AgreementReport:
    """Inter-reviewer agreement on ``corpus``: each reviewer's standing decision per item (their latest accept,
    reject or correct that was not undone), compared on items decided by two or more reviewers."""
    with store.session() as session:
        found = get_corpus(session, corpus)
        votes, _ = _votes(session, found)
    shared = {sid: by for sid, by in votes.items() if len(by) >= 2}
    comparisons: dict[tuple[str, str], list[tuple[EventView, EventView]]] = {}
    for by in shared.values():
        names = sorted(by)
        for i, first in enumerate(names):
            for second in names[i + 1 :]:
                comparisons.setdefault((first, second), []).append((by[first], by[second]))
    pairs = tuple(_pair_agreement(a, b, items) for (a, b), items in sorted(comparisons.items()))
    pooled = [item for items in comparisons.values() for item in items]
    return AgreementReport(
        corpus,
        len(shared),
        tuple(sorted({name for by in shared.values() for name in by})),
        pairs,
        _observed(pooled),
        cohen_kappa((a.status_after, b.status_after) for a, b in pooled) if pooled else None,
        _span_f1(pooled) if pooled else None,
    )


def disagreements(store: Store, corpus: str, *, include_adjudicated: bool = False) -> list[Disagreement]:
    """Items of ``corpus`` where reviewers' standing decisions differ (status, or spans unless both rejected),
    by sentence id; adjudicated ones (an adjudication after the last vote) only with ``include_adjudicated``."""
    with store.session() as session:
        found = get_corpus(session, corpus)
        votes, adjudications = _votes(session, found)
    result = []
    for sentence_id, by in sorted(votes.items()):
        if len(by) < 2 or not _differ(list(by.values())):
            continue
        ruling = adjudications.get(sentence_id)
        if ruling is not None and ruling.id < max(vote.id for vote in by.values()):
            ruling = None
        if ruling is not None and not include_adjudicated:
            continue
        result.append(Disagreement(sentence_id, tuple(by[name] for name in sorted(by)), ruling))
    return result


def _votes(session: Session, corpus: Corpus) -> tuple[dict[int, dict[str, EventView]], dict[int, EventView]]:
    """Each reviewer's standing vote per sentence, and each sentence's latest standing adjudication."""
    events = load_events(session, corpus_id=corpus.id)
    votes: dict[int, dict[str, EventView]] = {}
    adjudications: dict[int, EventView] = {}
    for event in standing_events(events):
        if event.action in VOTES:
            votes.setdefault(event.sentence_id, {})[event.reviewer] = event
        elif event.action == "adjudicate":
            adjudications[event.sentence_id] = event
    return votes, adjudications


def _differ(votes: Sequence[EventView]) -> bool:
    if len({vote.status_after for vote in votes}) > 1:
        return True
    if votes[0].status_after == ReviewStatus.REJECTED:
        return False
    return len({vote.spans_after for vote in votes}) > 1


def _pair_agreement(first: str, second: str, items: list[tuple[EventView, EventView]]) -> PairAgreement:
    spans = [(a, b) for a, b in items if ReviewStatus.REJECTED not in (a.status_after, b.status_after)]
    return PairAgreement(
        first,
        second,
        len(items),
        _observed(items),
        cohen_kappa((a.status_after, b.status_after) for a, b in items),
        len(spans),
        _span_f1(items),
    )


def _observed(items: Sequence[tuple[EventView, EventView]]) -> float:
    return sum(a.status_after == b.status_after for a, b in items) / len(items) if items else 0.0


def _span_f1(items: Sequence[tuple[EventView, EventView]]) -> float:
    """Micro F1 of exact span matches over the items neither reviewer rejected (1.0 when no spans at all)."""
    matched = total = 0
    for a, b in items:
        if ReviewStatus.REJECTED in (a.status_after, b.status_after):
            continue
        matched += len(set(a.spans_after) & set(b.spans_after))
        total += len(a.spans_after) + len(b.spans_after)
    return 2 * matched / total if total else 1.0
