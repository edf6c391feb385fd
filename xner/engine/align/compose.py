"""Alignment refinement through a pivot sentence: compose two alignments, combine the result with direct links.

A pivot sentence P of a pair (source S, target T) is a back-translation of T, a machine translation of S, or a
translation into a third language. Aligning S↔P and P↔T and chaining the links (``i → k → j``) gives source ↔
target links that do not come from the direct S↔T aligner; :func:`combine` merges them with the direct links
(method notes §3). Everything here works on plain link sets: ``(src_idx, tgt_idx)`` pairs, 0-based.

>>> direct = {(0, 0), (2, 2)}                         # the direct aligner left source token 1 unaligned
>>> composed = compose({(0, 0), (1, 1), (2, 2)}, {(0, 0), (1, 1), (2, 2)})
>>> sorted(combine(direct, composed, "fill"))         # the pivot rescues it
[(0, 0), (1, 1), (2, 2)]
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

from xner.engine.align.symmetrize import grow_diag
from xner.errors import UnknownNameError, XnerError
from xner.types import Alignment, Link

LinksLike = Iterable[Link] | Alignment

COMBINE_MODES = ("intersection", "union", "fill", "fill-and", "grow", "prune")
REFINE_MODES = (*COMBINE_MODES, "vote")


def _links(links: LinksLike) -> set[Link]:
    return set(links.links) if isinstance(links, Alignment) else set(links)


def compose(src_pivot: LinksLike, pivot_tgt: LinksLike) -> set[Link]:
    """Source ↔ target links through a pivot: ``(i, j)`` whenever ``(i, k)`` and ``(k, j)`` are links for some k.

    Args:
        src_pivot: links source token i ↔ pivot token k (an :class:`~xner.types.Alignment` counts sure and
            possible links alike).
        pivot_tgt: links pivot token k ↔ target token j.

    Returns:
        The composed links; a source token whose pivot tokens are all unaligned to the target gets none.

    >>> sorted(compose({(0, 1), (1, 0), (2, 2)}, {(0, 0), (1, 1), (1, 2)}))
    [(0, 1), (0, 2), (1, 0)]
    """
    by_pivot: defaultdict[int, list[int]] = defaultdict(list)
    for k, j in _links(pivot_tgt):
        by_pivot[k].append(j)
    return {(i, j) for i, k in _links(src_pivot) for j in by_pivot.get(k, ())}


def combine(direct: LinksLike, composed: LinksLike, mode: str = "fill") -> set[Link]:
    """Merge direct source ↔ target links with composed (pivot) links.

    Modes:
        ``intersection``: links both have (precise; loses every link the pivot misses).
        ``union``: links either has (recall; adds every pivot error too).
        ``fill``: the direct links plus each composed link whose source or target token has no direct link
            (rescues tokens the direct aligner left unaligned, never touches aligned ones).
        ``fill-and``: as ``fill``, but both tokens of the composed link must be unaligned in the direct links.
        ``grow``: the direct links grown with composed links next to them (also diagonally) that have an end not
            yet aligned, repeated until nothing changes (Moses' grow-diag with the direct links as the seed).
        ``prune``: the direct links less those the pivot contradicts: a direct link ``(i, j)`` is dropped when
            the composed links align both i and j, but not to each other.

    Raises:
        UnknownNameError: ``mode`` is not one of :data:`COMBINE_MODES`.

    >>> direct, composed = {(0, 0), (1, 2), (3, 3)}, {(0, 0), (1, 1), (2, 2), (3, 2), (3, 4)}
    >>> sorted(combine(direct, composed, "intersection"))
    [(0, 0)]
    >>> sorted(combine(direct, composed, "union"))
    [(0, 0), (1, 1), (1, 2), (2, 2), (3, 2), (3, 3), (3, 4)]
    >>> sorted(combine(direct, composed, "fill"))      # not 3-2: source 3 and target 2 are both aligned
    [(0, 0), (1, 1), (1, 2), (2, 2), (3, 3), (3, 4)]
    >>> sorted(combine(direct, composed, "fill-and"))  # each composed link touches an aligned token
    [(0, 0), (1, 2), (3, 3)]
    >>> sorted(combine({(0, 0), (1, 2)}, {(0, 0)}, "prune"))  # the pivot says nothing about 1 and 2
    [(0, 0), (1, 2)]
    >>> sorted(combine({(0, 0), (1, 2)}, {(0, 0), (1, 1), (2, 2)}, "prune"))  # 1-1 and 2-2 contradict 1-2
    [(0, 0)]
    """
    direct_links, composed_links = _links(direct), _links(composed)
    if mode == "intersection":
        return direct_links & composed_links
    if mode == "union":
        return direct_links | composed_links
    if mode in ("fill", "fill-and"):
        src_aligned = {i for i, _ in direct_links}
        tgt_aligned = {j for _, j in direct_links}
        both = mode == "fill-and"
        added = set()
        for i, j in composed_links - direct_links:
            unaligned = (i not in src_aligned, j not in tgt_aligned)
            if all(unaligned) if both else any(unaligned):
                added.add((i, j))
        return direct_links | added
    if mode == "grow":
        return grow_diag(direct_links, direct_links | composed_links)
    if mode == "prune":
        src_composed = {i for i, _ in composed_links}
        tgt_composed = {j for _, j in composed_links}
        return {
            (i, j)
            for i, j in direct_links
            if (i, j) in composed_links or i not in src_composed or j not in tgt_composed
        }
    raise UnknownNameError("combine mode", mode, COMBINE_MODES)


def vote(alignments: Sequence[LinksLike], *, min_votes: int | None = None) -> set[Link]:
    """Links found in at least ``min_votes`` of ``alignments`` (default: a strict majority).

    With the direct links and the links composed through several pivots, each counts as one voter.

    Raises:
        XnerError: ``min_votes`` outside 1 … number of alignments.

    >>> direct, via_es, via_it = {(0, 0), (1, 1)}, {(0, 0), (1, 2)}, {(0, 0), (1, 2), (2, 2)}
    >>> sorted(vote([direct, via_es, via_it]))
    [(0, 0), (1, 2)]
    >>> sorted(vote([direct, via_es, via_it], min_votes=1))
    [(0, 0), (1, 1), (1, 2), (2, 2)]
    """
    if not alignments:
        return set()
    needed = len(alignments) // 2 + 1 if min_votes is None else min_votes
    if not 1 <= needed <= len(alignments):
        raise XnerError(f"min_votes must be between 1 and {len(alignments)} (the number of alignments), got {needed}")
    counts = Counter(link for links in alignments for link in _links(links))
    return {link for link, count in counts.items() if count >= needed}


def refine_links(
    direct: LinksLike, composed: Sequence[LinksLike], mode: str = "fill", *, min_votes: int | None = None
) -> set[Link]:
    """Refined links of one pair from its direct links and the links composed through one or more pivots.

    ``vote`` counts the direct links and each pivot's composed links as one voter each (:func:`vote`); every
    other mode merges the union of the composed links with the direct ones (:func:`combine`).

    Raises:
        UnknownNameError: ``mode`` is not one of :data:`REFINE_MODES`.

    >>> sorted(refine_links({(0, 0)}, [{(0, 0), (1, 1)}, {(1, 1), (2, 2)}], "vote"))
    [(0, 0), (1, 1)]
    >>> sorted(refine_links({(0, 0)}, [{(0, 0), (1, 1)}, {(1, 1), (2, 2)}], "fill"))
    [(0, 0), (1, 1), (2, 2)]
    """
    if mode == "vote":
        return vote([direct, *composed], min_votes=min_votes)
    if mode not in COMBINE_MODES:
        raise UnknownNameError("combine mode", mode, REFINE_MODES)
    return combine(direct, set().union(*map(_links, composed)), mode)
