"""Spot checks: estimate a projection run's precision from a stratified random sample of its spans.

:func:`draw_sample` splits the run's projected spans into strata (by label and confidence bucket by default),
allocates N draws proportionally (at least one per non-empty stratum) and stores the sample. Reviewers
:func:`judge` each sampled span right or wrong; :func:`estimate` gives the precision per stratum (Wilson 95%
interval) and overall (the stratified estimate, each stratum weighted by its share of the run's spans), and
:func:`checks_needed` how many judgments a narrower interval takes. Drawing and judging are short writes through
:meth:`xner.store.db.Store.write`: retried for a moment while another process holds the database, then a
:class:`xner.errors.BusyError` that says to try again.
"""

from __future__ import annotations

import hashlib
import heapq
import math
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from xner.errors import UnknownNameError, XnerError
from xner.services.corpora import get_corpus
from xner.services.executing import (
    Executor,
    LocalExecutor,
    id_ranges,
    shard_count,
    shards_read_through,
    worker_store,
)
from xner.services.pairs import require_parallel
from xner.services.projecting import get_projection_run
from xner.services.review import as_utc
from xner.stats import allocate, stratified_proportion, wilson_interval, wilson_sample_size
from xner.store.db import Session, Store
from xner.store.queries import spotchecks
from xner.store.queries.projections import iter_run_spans, projected_details, run_pair_bounds
from xner.store.queries.sentences import pair_tokens
from xner.types import Link, Span

if TYPE_CHECKING:
    from xner.store.models import SpotCheck, SpotCheckItem

STRATA = ("label", "confidence_bucket")
BUCKETS = (0.0, 0.5, 0.8, 1.0)


@dataclass(frozen=True, slots=True)
class SampleReport:
    check_id: int
    corpus: str
    run_id: int
    requested: int
    drawn: int
    populations: dict[str, int]  # the run's spans per stratum
    allocation: dict[str, int]  # the draws per stratum


@dataclass(frozen=True, slots=True)
class CheckItem:
    """A sampled projected span with what a judge needs to see."""

    id: int
    check_id: int
    pair_id: int
    span: Span
    confidence: float
    stratum: str
    correct: bool | None
    judged_by: str
    judged_at: datetime | None
    tgt_tokens: tuple[str, ...] = ()
    src_tokens: tuple[str, ...] = ()
    src_span: Span | None = None
    links: tuple[Link, ...] = ()


@dataclass(frozen=True, slots=True)
class StratumEstimate:
    stratum: str
    population: int  # spans of the run in the stratum
    sampled: int
    judged: int
    correct: int
    precision: float | None  # None until something is judged
    low: float
    high: float


@dataclass(frozen=True, slots=True)
class PrecisionEstimate:
    """Precision of a projection run from one spot check: per stratum and overall (stratified)."""

    check_id: int
    run_id: int
    overall: StratumEstimate
    strata: tuple[StratumEstimate, ...]
    effective_n: float  # the sample size a simple random sample would need for the same interval
    coverage: float  # the share of the run's spans in strata with at least one judgment
    details: dict[str, Any] = field(default_factory=dict)

    def more_checks(self, target_half_width: float) -> int:
        """Judgments still needed for an overall interval of ``±target_half_width`` (at the current precision,
        with the sample's design effect); 0 when the interval is narrow enough already."""
        if self.overall.judged == 0 or self.effective_n <= 0:
            return checks_needed(0.5, target_half_width)
        design = self.overall.judged / self.effective_n
        needed = checks_needed(self.overall.precision or 0.0, target_half_width) * design
        return max(0, math.ceil(needed) - self.overall.judged)


def checks_needed(p: float, target_half_width: float) -> int:
    """Judgments a simple random sample needs for a Wilson 95% interval of ``±target_half_width`` around ``p``.

    >>> checks_needed(0.8, 0.05), checks_needed(0.95, 0.02)
    (245, 469)
    """
    return wilson_sample_size(p, target_half_width)


def bucket_label(confidence: float, buckets: Sequence[float] = BUCKETS) -> str:
    """The confidence bucket of ``confidence``: ``[0, 0.5]``, then half-open-below ``(0.5, 0.8]``, ...

    >>> [bucket_label(c) for c in (0.0, 0.5, 0.51, 1.0)]
    ['[0, 0.5]', '[0, 0.5]', '(0.5, 0.8]', '(0.8, 1]']
    """
    for i, (low, high) in enumerate(pairwise(buckets)):
        if confidence <= high:
            return f"{'[' if i == 0 else '('}{low:g}, {high:g}]"
    raise XnerError(f"confidence {confidence} is beyond the last bucket edge {buckets[-1]:g}")


def stratum_of(label: str, confidence: float, strata: Sequence[str], buckets: Sequence[float]) -> str:
    """The stratum key of a span, e.g. ``"LOC / (0.5, 0.8]"``; ``"all"`` without strata.

    >>> stratum_of("LOC", 0.7, STRATA, BUCKETS)
    'LOC / (0.5, 0.8]'
    """
    parts = [label if name == "label" else bucket_label(confidence, buckets) for name in strata]
    return " / ".join(parts) or "all"


def draw_sample(
    store: Store,
    corpus: str,
    run_id: int | None,
    n: int,
    *,
    strata: Sequence[str] = STRATA,
    buckets: Sequence[float] = BUCKETS,
    seed: int = 0,
    reviewer: str = "",
    executor: Executor | None = None,
) -> SampleReport:
    """Draw and store a stratified random sample of ``n`` spans of projection run ``run_id`` (default: newest).

    Proportional allocation with at least one span per non-empty stratum (so a sample may hold a few more than
    ``n``); the same seed and run always draw the same spans, wherever the scan runs. Each span gets a random
    priority from a hash of (seed, pair, index), and each stratum's sample is its spans of lowest priority: a
    uniform sample without replacement that shards of the run (pair-id ranges, scanned by ``executor``'s
    workers, :mod:`xner.services.executing`) draw in parallel, each keeping at most ``n`` spans per stratum, and
    that merges to the same spans as one scan of the whole run.

    Raises:
        XnerError: unknown corpus, run or stratum name, bad buckets, ``n`` < 1 or a run without spans.
    """
    checked_strata, edges = _check_strata(strata), _check_buckets(buckets)
    if n < 1:
        raise XnerError(f"a spot check needs at least 1 span, got n={n}")
    with store.session() as session:
        found = get_corpus(session, corpus)
        require_parallel(found)
        run = get_projection_run(session, found, run_id)
        bounds = run_pair_bounds(session, run.id)
        corpus_id, run_id = found.id, run.id
    if bounds is None:
        raise XnerError(f"projection run {run_id} of corpus {corpus!r} has no spans to check")
    executor = executor or LocalExecutor(1)
    settings = _SampleSettings(store.url, run_id, n, checked_strata, edges, seed)
    sizes: Counter[str] = Counter()
    candidates: dict[str, list[tuple[int, SampledSpan]]] = {}
    shards = id_ranges(*bounds, shard_count(executor))
    with shards_read_through(store):
        for _, (shard_sizes, shard_candidates) in executor.map_unordered(partial(_scan_shard, settings), shards):
            sizes.update(shard_sizes)
            for key, items in shard_candidates.items():
                candidates.setdefault(key, []).extend(items)
    if not sizes:
        raise XnerError(f"projection run {run_id} of corpus {corpus!r} has no spans to check")
    allocation = allocate(sizes, n)
    chosen = [(key, item) for key, k in allocation.items() for item in _lowest(candidates[key], k)]
    add = partial(
        spotchecks.add_spot_check,
        corpus_id=corpus_id,
        run_id=run_id,
        requested=n,
        strata=settings.strata,
        buckets=settings.buckets,
        populations=dict(sizes),
        seed=seed,
        created_by=reviewer,
        items=[(key, *item) for key, item in chosen],
    )
    check_id = store.write(add, what="storing the spot-check sample")
    return SampleReport(check_id, corpus, run_id, n, len(chosen), dict(sorted(sizes.items())), allocation)


SampledSpan = tuple[int, int, int, int, str, float]  # pair id, index in the pair's spans, start, end, label, confidence


@dataclass(frozen=True)
class _SampleSettings:
    """What a shard scan needs (the context of :func:`_scan_shard`)."""

    url: str
    run_id: int
    n: int
    strata: tuple[str, ...]
    buckets: tuple[float, ...]
    seed: int


def _scan_shard(
    settings: _SampleSettings, pair_range: tuple[int, int]
) -> tuple[Counter[str], dict[str, list[tuple[int, SampledSpan]]]]:
    """The span count of each stratum in ``pair_range``, and its ``n`` spans of lowest priority (with it)."""
    sizes: Counter[str] = Counter()
    kept: dict[str, list[tuple[int, SampledSpan]]] = {}  # max-heaps by priority (negated), at most n each
    with worker_store(settings.url).session() as session:
        for pair_id, index, span, confidence in iter_run_spans(session, settings.run_id, pair_range):
            key = stratum_of(span.label, confidence, settings.strata, settings.buckets)
            sizes[key] += 1
            entry = (
                -_priority(settings.seed, pair_id, index),
                (pair_id, index, span.start, span.end, span.label, confidence),
            )
            heap = kept.setdefault(key, [])
            if len(heap) < settings.n:
                heapq.heappush(heap, entry)
            elif entry > heap[0]:
                heapq.heapreplace(heap, entry)
    return sizes, {key: [(-priority, item) for priority, item in heap] for key, heap in kept.items()}


def _lowest(candidates: list[tuple[int, SampledSpan]], k: int) -> list[SampledSpan]:
    """The ``k`` spans of lowest priority, in pair order."""
    return sorted(item for _, item in heapq.nsmallest(k, candidates))


def _priority(seed: int, pair_id: int, index: int) -> int:
    """A span's random rank for ``seed``: the same on every machine and in every process."""
    digest = hashlib.blake2b(f"{seed}:{pair_id}:{index}".encode("ascii"), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def _check_strata(strata: Sequence[str]) -> tuple[str, ...]:
    for name in strata:
        if name not in STRATA:
            raise UnknownNameError("spot-check stratum", name, STRATA)
    if len(set(strata)) != len(strata):
        raise XnerError(f"spot-check strata repeat a name: {', '.join(strata)}")
    return tuple(strata)


def _check_buckets(buckets: Sequence[float]) -> tuple[float, ...]:
    edges = tuple(float(edge) for edge in buckets)
    if len(edges) < 2 or edges[0] != 0.0 or edges[-1] != 1.0 or any(a >= b for a, b in pairwise(edges)):
        raise XnerError(f"confidence buckets must rise strictly from 0 to 1, e.g. 0,0.5,0.8,1; got {list(buckets)}")
    return edges


def judge(store: Store, check_id: int, item_id: int, correct: bool, reviewer: str) -> CheckItem:
    """Record ``reviewer``'s judgment of sampled span ``item_id``: is the projected span right? (Judging again
    replaces the earlier judgment.)"""
    if not isinstance(correct, bool):
        raise XnerError(f"a spot-check judgment is True (correct) or False (wrong), got {correct!r}")
    name = (reviewer or "").strip()
    if not name:
        raise XnerError("a spot-check judgment needs the reviewer's name")
    return store.write(partial(_judge, check_id, item_id, correct, name), what="saving the judgment")


def _judge(check_id: int, item_id: int, correct: bool, reviewer: str, session: Session) -> CheckItem:
    _get_check(session, check_id)
    item = spotchecks.set_judgment(session, check_id, item_id, correct, reviewer)
    if item is None:
        raise XnerError(f"spot check {check_id} has no item {item_id}")
    return _item_view(item)


def check_items(store: Store, check_id: int, *, judged: bool | None = None) -> list[CheckItem]:
    """The sampled spans of a spot check by id, with their sentences (``judged``: only judged / unjudged ones)."""
    with store.session() as session:
        check = _get_check(session, check_id)
        items = spotchecks.check_items(session, check_id, judged=judged)
        return _with_sentences(session, check.run_id, items)


def next_check_item(store: Store, check_id: int) -> CheckItem | None:
    """The first sampled span not yet judged, with its sentences; None when all are judged."""
    return next_unjudged_item(store, check_id)


def next_unjudged_item(store: Store, check_id: int, *, skip: Collection[int] = ()) -> CheckItem | None:
    """The first sampled span not yet judged and not in ``skip`` (item ids a judge passed over), with its
    sentences; None when none is left."""
    with store.session() as session:
        check = _get_check(session, check_id)
        item = spotchecks.first_unjudged_item(session, check_id, skip)
        return _with_sentences(session, check.run_id, [item])[0] if item is not None else None


@dataclass(frozen=True, slots=True)
class CheckSummary:
    """A stored spot check and how far its judging got (what a page lists to resume one)."""

    id: int
    run_id: int
    requested: int
    drawn: int
    judged: int
    correct: int
    strata: tuple[str, ...]
    buckets: tuple[float, ...]
    seed: int
    created_by: str
    created_at: datetime | None


def list_checks(store: Store, corpus: str, *, run_id: int | None = None) -> list[CheckSummary]:
    """The spot checks of ``corpus`` (only those of projection run ``run_id`` when given), oldest first.

    Raises:
        UnknownNameError: unknown corpus.
    """
    with store.session() as session:
        found = get_corpus(session, corpus)
        return [
            CheckSummary(
                check.id,
                check.run_id,
                check.requested,
                drawn,
                judged,
                correct,
                tuple(check.strata),
                tuple(check.buckets),
                check.seed,
                check.created_by,
                as_utc(check.created_at),
            )
            for check, drawn, judged, correct in spotchecks.spot_checks_with_counts(session, found.id, run_id)
        ]


def estimate(store: Store, check_id: int) -> PrecisionEstimate:
    """Projection precision from spot check ``check_id``: per stratum (Wilson 95%) and overall (stratified)."""
    with store.session() as session:
        check = _get_check(session, check_id)
        counts = spotchecks.stratum_counts(session, check_id)
    strata = []
    for stratum, population in sorted(check.populations.items()):
        sampled, judged, correct = counts.get(stratum, (0, 0, 0))
        low, high = wilson_interval(correct, judged)
        precision = correct / judged if judged else None
        strata.append(StratumEstimate(stratum, population, sampled, judged, correct, precision, low, high))
    overall = stratified_proportion([(s.population, s.judged, s.correct) for s in strata])
    total = sum(s.population for s in strata)
    covered = sum(s.population for s in strata if s.judged)
    summary = StratumEstimate(
        "overall",
        total,
        sum(s.sampled for s in strata),
        overall.judged,
        sum(s.correct for s in strata),
        overall.value if overall.judged else None,
        overall.low,
        overall.high,
    )
    return PrecisionEstimate(
        check.id,
        check.run_id,
        summary,
        tuple(strata),
        overall.effective_n,
        covered / total if total else 0.0,
        {"strata": list(check.strata), "buckets": list(check.buckets), "seed": check.seed},
    )


def _get_check(session: Session, check_id: int) -> SpotCheck:
    check = spotchecks.get_spot_check(session, check_id)
    if check is None:
        known = ", ".join(str(i) for i in spotchecks.spot_check_ids(session))
        raise XnerError(f"no spot check {check_id}; the spot checks: {known or 'none yet'}")
    return check


def _item_view(item: SpotCheckItem, extra: Mapping[str, Any] | None = None) -> CheckItem:
    return CheckItem(
        item.id,
        item.check_id,
        item.pair_id,
        Span(item.start, item.end, item.label),
        item.confidence,
        item.stratum,
        item.correct,
        item.judged_by,
        as_utc(item.judged_at),
        **(extra or {}),
    )


def _with_sentences(session: Session, run_id: int, items: Sequence[SpotCheckItem]) -> list[CheckItem]:
    pair_ids = sorted({item.pair_id for item in items})
    if not pair_ids:
        return []
    tokens = pair_tokens(session, pair_ids)
    details = projected_details(session, run_id, pair_ids)
    result = []
    for item in items:
        src_tokens, tgt_tokens = tokens.get(item.pair_id, ((), ()))
        spans = details.get(item.pair_id) or []
        src_span: Span | None = None
        links: tuple[tuple[int, int], ...] = ()
        if item.span_index < len(spans):
            src_span, links = spans[item.span_index].src_span, spans[item.span_index].links
        extra = {"tgt_tokens": tgt_tokens, "src_tokens": src_tokens, "src_span": src_span, "links": links}
        result.append(_item_view(item, extra))
    return result
