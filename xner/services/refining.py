"""Refine use case: improve a stored alignment run through pivot sentences (back-translation, method notes §3).

A *via* corpus pairs the same source sentences as ``corpus``, in the same order, with pivot sentences: the target
translated back into the source language, the source machine-translated into the target language, or a human
translation into a third language. The source ↔ pivot leg (the via corpus's pairs) and the pivot ↔ target leg
(pivot tokens from the via corpus, target tokens from ``corpus``) are aligned, their links composed
(:func:`xner.engine.align.compose.compose`) and combined with a direct run of ``corpus``
(:func:`xner.engine.align.compose.refine_links`); the result is stored as a new alignment run of ``corpus``
(aligner ``backtranslation``) that projection can use like any other.

Aligning the legs is the slow part and does not depend on the combine mode: :func:`compose_via` computes it once,
:func:`store_refinement` combines and stores (also over several pivots at once, e.g. ``vote``), and
:func:`refine_alignment` does both for one pivot.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import zip_longest
from typing import Any

from xner.engine.align import ALIGNERS, TokenPair
from xner.engine.align.compose import REFINE_MODES, compose, refine_links
from xner.errors import UnknownNameError, XnerError
from xner.options import describe
from xner.services.aligning import AlignReport, write_alignment_run
from xner.services.corpora import get_corpus
from xner.services.pairs import PairRecord, get_alignment_run, iter_pairs, require_parallel
from xner.store.db import Store
from xner.types import Alignment, Link

REFINED_ALIGNER = "backtranslation"
ProgressFn = Callable[[int, int], None]


@dataclass
class Composition:
    """Source ↔ target links of every pair of ``corpus`` composed through the pivots of the ``via`` corpus.

    Attributes:
        corpus: the corpus whose pairs the links belong to.
        via: the corpus that holds the pivot sentences.
        pair_ids: the pairs of ``corpus``, in order.
        links: the composed links of each pair (same order as ``pair_ids``).
        params: how each leg was aligned (stored with the refined run).
        seconds: time spent aligning and composing.
    """

    corpus: str
    via: str
    pair_ids: list[int]
    links: list[set[Link]]
    params: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


def _short(tokens: Sequence[str], limit: int = 8) -> str:
    text = " ".join(tokens[:limit])
    return text + (" ..." if len(tokens) > limit else "")


def check_same_sources(corpus: str, pairs: Sequence[PairRecord], via: str, via_pairs: Sequence[PairRecord]) -> None:
    """Raise unless ``via_pairs`` have the source sentences of ``pairs``, pair by pair, in the same order.

    Raises:
        XnerError: names the first pair (split and position in ``corpus``) without a partner or whose source
            tokens differ, and the two counts or the two sentences.
    """
    for n, (pair, other) in enumerate(zip_longest(pairs, via_pairs)):
        if pair is None or other is None:
            longer, record = (corpus, pair) if other is None else (via, other)
            raise XnerError(
                f"corpus {via!r} cannot serve as pivot of {corpus!r}: it has {len(via_pairs)} pairs and {corpus!r} "
                f"has {len(pairs)}; pair {n + 1} of {longer!r} (split {record.split!r}, position {record.position}) "
                f"has no partner"
            )
        if pair.src_tokens != other.src_tokens:
            raise XnerError(
                f"corpus {via!r} cannot serve as pivot of {corpus!r}: their pair {n + 1} (split {pair.split!r}, "
                f"position {pair.position} in {corpus!r}) has different source sentences: "
                f"{_short(pair.src_tokens)!r} vs {_short(other.src_tokens)!r}"
            )


def compose_via(
    store: Store,
    corpus: str,
    *,
    via: str,
    via_run: int | None = None,
    aligner: str = "eflomal",
    options: Mapping[str, Any] | None = None,
    extra: Sequence[TokenPair] = (),
    pivot_extra: Sequence[TokenPair] = (),
    on_progress: ProgressFn | None = None,
) -> Composition:
    """Align the two legs through the pivot sentences of ``via`` and compose them, pair by pair.

    Args:
        corpus: a parallel corpus (source → target).
        via: a parallel corpus whose k-th pair is (source sentence k of ``corpus``, pivot sentence k).
        via_run: a stored alignment run of ``via`` to use as the source ↔ pivot leg; None aligns it here.
        aligner: the aligner of the legs (a name in :data:`xner.engine.align.ALIGNERS`), with ``options``.
        extra: more source ↔ pivot text for the source ↔ pivot leg (aligners that learn from text).
        pivot_extra: more pivot ↔ target text for the pivot ↔ target leg.
        on_progress: called with (pairs done, total) over both legs.

    Raises:
        XnerError: a monolingual corpus, ``via`` pairs other source sentences (first differing pair named), or
            both ``via_run`` and ``extra``.
        UnknownNameError: an unknown corpus, aligner or option.
    """
    if via_run is not None and extra:
        raise XnerError("extra text is for aligning the source ↔ pivot leg, which via_run replaces: give one of them")
    engine = ALIGNERS.create(aligner, options)
    with store.session() as session:
        found, via_found = get_corpus(session, corpus), get_corpus(session, via)
        require_parallel(found)
        require_parallel(via_found)
        pairs = list(iter_pairs(session, found, with_spans=False))
        stored_leg = get_alignment_run(session, via_found, via_run) if via_run is not None else None
        run_id = stored_leg.id if stored_leg is not None else None
        via_pairs = list(iter_pairs(session, via_found, with_spans=False, alignment_run=run_id))
        leg_params: dict[str, Any] = (
            {"run": stored_leg.id, "aligner": stored_leg.aligner} if stored_leg is not None else {}
        )
    check_same_sources(corpus, pairs, via, via_pairs)
    started = time.perf_counter()
    legs = 1 if stored_leg is not None else 2
    total = legs * len(pairs)

    def progress(offset: int) -> ProgressFn | None:
        return (lambda done, _: on_progress(offset + done, total)) if on_progress else None

    described = {"aligner": aligner, **describe(engine)}
    if stored_leg is not None:
        src_pivot = [p.alignment.links if p.alignment is not None else frozenset() for p in via_pairs]
    else:
        src_pivot = [
            a.links
            for a in engine.align(
                [(p.src_tokens, p.tgt_tokens) for p in via_pairs], extra=extra, on_progress=progress(0)
            )
        ]
        leg_params = {**described, "extra_pairs": len(extra)}
    offset = total - len(pairs)
    pivot_tgt = engine.align(
        [(v.tgt_tokens, p.tgt_tokens) for v, p in zip(via_pairs, pairs, strict=True)],
        extra=pivot_extra,
        on_progress=progress(offset),
    )
    links = [compose(sp, pt.links) for sp, pt in zip(src_pivot, pivot_tgt, strict=True)]
    params = {"src_pivot": leg_params, "pivot_tgt": {**described, "extra_pairs": len(pivot_extra)}}
    return Composition(
        corpus=corpus,
        via=via,
        pair_ids=[p.pair_id for p in pairs],
        links=links,
        params=params,
        seconds=round(time.perf_counter() - started, 3),
    )


def _refined(direct: Alignment, links: set[Link]) -> Alignment:
    """``links`` as an alignment that keeps the direct run's "possible" marks on the links it kept."""
    possible = frozenset(links & (direct.possible - direct.sure))
    return Alignment(sure=frozenset(links - possible), possible=possible)


def store_refinement(
    store: Store,
    corpus: str,
    compositions: Composition | Sequence[Composition],
    *,
    alignment_run: int | None = None,
    combine: str = "fill",
    min_votes: int | None = None,
    created_by: str = "",
) -> AlignReport:
    """Combine a direct run of ``corpus`` with composed links and store the result as a new alignment run.

    Args:
        compositions: from :func:`compose_via`, one per pivot corpus; all for ``corpus``.
        alignment_run: the direct run (default: the newest run of ``corpus``).
        combine: one of :data:`xner.engine.align.compose.REFINE_MODES` (``fill``, ``intersection``, ``union``,
            ``fill-and``, ``grow``, ``prune``, ``vote``). With several pivots, ``vote`` counts the direct run and
            each pivot as one voter (``min_votes``, default a strict majority); the other modes use the union of
            the pivots' links.

    Raises:
        XnerError: a composition of another corpus, or of pairs that changed since.
        UnknownNameError: an unknown combine mode.
    """
    if combine not in REFINE_MODES:
        raise UnknownNameError("combine mode", combine, REFINE_MODES)
    if min_votes is not None and combine != "vote":
        raise XnerError(f"min_votes is an option of the combine mode 'vote', not of {combine!r}")
    found_compositions = [compositions] if isinstance(compositions, Composition) else list(compositions)
    if not found_compositions:
        raise XnerError("store_refinement needs at least one composition (see compose_via)")
    started = time.perf_counter()
    total_links = 0
    with store.session() as session:
        found = get_corpus(session, corpus)
        require_parallel(found)
        base = get_alignment_run(session, found, alignment_run)
        pairs = list(iter_pairs(session, found, alignment_run=base.id, with_spans=False))
    pair_ids = [p.pair_id for p in pairs]
    for composition in found_compositions:
        if composition.corpus != corpus or composition.pair_ids != pair_ids:
            raise XnerError(
                f"the links composed via {composition.via!r} belong to {composition.corpus!r} as it was then, "
                f"not to {corpus!r} now ({len(composition.pair_ids)} vs {len(pair_ids)} pairs): compose again"
            )
    refined: list[tuple[int, Alignment]] = []
    for k, pair in enumerate(pairs):
        direct = pair.alignment or Alignment()
        links = refine_links(direct, [c.links[k] for c in found_compositions], combine, min_votes=min_votes)
        total_links += len(links)
        refined.append((pair.pair_id, _refined(direct, links)))
    params: dict[str, Any] = {
        "base_run": base.id,
        "base_aligner": base.aligner,
        "combine": combine,
        "via": [c.via for c in found_compositions],
        "legs": {c.via: c.params for c in found_compositions},
    }
    if combine == "vote":
        params["min_votes"] = min_votes if min_votes is not None else (len(found_compositions) + 1) // 2 + 1
    run_id = write_alignment_run(
        store, found, aligner=REFINED_ALIGNER, params=params, alignments=refined, created_by=created_by
    )
    seconds = sum(c.seconds for c in found_compositions) + time.perf_counter() - started
    return AlignReport(
        corpus=corpus,
        run_id=run_id,
        aligner=REFINED_ALIGNER,
        pairs=len(pairs),
        links=total_links,
        seconds=round(seconds, 3),
        params=params,
    )


@dataclass(frozen=True)
class Refinement:
    """How to refine the alignment run a projection uses (``xner project --refine backtranslation``).

    Attributes:
        via: the corpus of pivot sentences (see :func:`compose_via`).
        combine: one of :data:`xner.engine.align.compose.REFINE_MODES`.
        via_run: a stored run of ``via`` as the source ↔ pivot leg (None: aligned here).
        aligner: the aligner of the legs; None takes the direct run's aligner and options (eflomal defaults when
            the direct run was imported or refined itself).
        options: the legs' aligner options when ``aligner`` is given.
    """

    via: str
    combine: str = "fill"
    via_run: int | None = None
    aligner: str | None = None
    options: Mapping[str, Any] | None = None


def leg_aligner(store: Store, corpus: str, alignment_run: int | None = None) -> tuple[str, dict[str, Any]]:
    """The aligner name and options of alignment run ``alignment_run`` of ``corpus`` (default newest).

    Used to align the pivot legs like the direct run; a run whose aligner is not registered (imported Pharaoh
    alignments, a refined run) gives eflomal with its defaults.
    """
    with store.session() as session:
        run = get_alignment_run(session, get_corpus(session, corpus), alignment_run)
        name, params = run.aligner, dict(run.params or {})
    if name not in ALIGNERS:
        return "eflomal", {}
    fields = {f.name for f in dataclasses.fields(ALIGNERS[name]) if f.init}
    return name, {key: value for key, value in params.items() if key in fields}


def refine_with(
    store: Store,
    corpus: str,
    refinement: Refinement,
    *,
    alignment_run: int | None = None,
    created_by: str = "",
    on_progress: ProgressFn | None = None,
) -> AlignReport:
    """Refine ``alignment_run`` of ``corpus`` (default newest) as ``refinement`` says; see :func:`refine_alignment`."""
    if refinement.aligner is None:
        aligner, options = leg_aligner(store, corpus, alignment_run)
    else:
        aligner, options = refinement.aligner, dict(refinement.options or {})
    return refine_alignment(
        store,
        corpus,
        via=refinement.via,
        alignment_run=alignment_run,
        via_run=refinement.via_run,
        aligner=aligner,
        options=options,
        combine=refinement.combine,
        created_by=created_by,
        on_progress=on_progress,
    )


def refine_alignment(
    store: Store,
    corpus: str,
    *,
    via: str,
    alignment_run: int | None = None,
    via_run: int | None = None,
    aligner: str = "eflomal",
    options: Mapping[str, Any] | None = None,
    combine: str = "fill",
    min_votes: int | None = None,
    extra: Sequence[TokenPair] = (),
    pivot_extra: Sequence[TokenPair] = (),
    created_by: str = "",
    on_progress: ProgressFn | None = None,
) -> AlignReport:
    """Refine alignment run ``alignment_run`` of ``corpus`` (default newest) through the pivots of ``via``.

    Aligns source ↔ pivot (the pairs of ``via``, or its stored run ``via_run``) and pivot ↔ target with
    ``aligner`` and ``options``, composes the two, combines the composed links with the direct run by ``combine``
    and stores the result as a new run (aligner ``backtranslation``; its params record the base run, the via
    corpus, the combine mode and each leg's aligner and options). See :func:`compose_via` and
    :func:`store_refinement` for the arguments; call those two directly to try several combine modes on one
    composition or to combine several pivots.

    >>> from xner.store.db import open_store
    >>> refine_alignment(open_store("sqlite://"), "none", via="other")
    Traceback (most recent call last):
    xner.errors.UnknownNameError: unknown corpus 'none'; known: none yet
    """
    if combine not in REFINE_MODES:  # fail before the slow part
        raise UnknownNameError("combine mode", combine, REFINE_MODES)
    composition = compose_via(
        store,
        corpus,
        via=via,
        via_run=via_run,
        aligner=aligner,
        options=options,
        extra=extra,
        pivot_extra=pivot_extra,
        on_progress=on_progress,
    )
    return store_refinement(
        store,
        corpus,
        composition,
        alignment_run=alignment_run,
        combine=combine,
        min_votes=min_votes,
        created_by=created_by,
    )
