"""Symmetrisation of two directional alignments (Och & Ney 2003; Koehn et al. 2005, as in Moses).

Directional aligners (IBM models, eflomal) give a forward alignment (each target word picks source words) and a
reverse one. The intersection is precise, the union has high recall, and the grow-diag family starts from the
intersection and adds union links next to it (``grow-diag``), then links of unaligned words (``-final``), with
``-final-and`` requiring both words of such a link to be unaligned.
"""

from __future__ import annotations

from collections.abc import Callable

from xner.errors import UnknownNameError
from xner.types import Link

_NEIGHBOURS = ((-1, 0), (0, -1), (1, 0), (0, 1), (-1, -1), (-1, 1), (1, -1), (1, 1))
LinkSet = set[Link] | frozenset[Link]


def intersection(fwd: LinkSet, rev: LinkSet) -> set[Link]:
    return set(fwd) & set(rev)


def union(fwd: LinkSet, rev: LinkSet) -> set[Link]:
    return set(fwd) | set(rev)


def grow_diag(fwd: LinkSet, rev: LinkSet) -> set[Link]:
    """The intersection grown with union links adjacent (also diagonally) to it, while one end is unaligned.

    >>> sorted(grow_diag({(0, 0), (1, 1), (1, 2)}, {(0, 0), (1, 1)}))
    [(0, 0), (1, 1), (1, 2)]
    """
    links, _, _ = _grow(fwd, rev)
    return links


def _grow(fwd: LinkSet, rev: LinkSet) -> tuple[set[Link], set[int], set[int]]:
    links = set(fwd) & set(rev)
    candidates = (set(fwd) | set(rev)) - links
    src_aligned = {i for i, _ in links}
    tgt_aligned = {j for _, j in links}
    added = bool(candidates)
    while added:  # until no link is added in a full pass
        added = False
        # Only a link next to a candidate can add one (candidates only shrink during a pass), so visiting just
        # those, in the same sorted order, gives Moses' result while skipping most of the alignment.
        near = {(i - di, j - dj) for i, j in candidates for di, dj in _NEIGHBOURS}
        for i, j in sorted(links & near):
            for di, dj in _NEIGHBOURS:
                point = (i + di, j + dj)
                if point in candidates and (point[0] not in src_aligned or point[1] not in tgt_aligned):
                    links.add(point)
                    candidates.discard(point)
                    src_aligned.add(point[0])
                    tgt_aligned.add(point[1])
                    added = True
    return links, src_aligned, tgt_aligned


def _final(fwd: LinkSet, rev: LinkSet, *, both_unaligned: bool) -> set[Link]:
    links, src_aligned, tgt_aligned = _grow(fwd, rev)
    for direction in (fwd, rev):
        for i, j in sorted(set(direction) - links):
            unaligned = (i not in src_aligned, j not in tgt_aligned)
            if all(unaligned) if both_unaligned else any(unaligned):
                links.add((i, j))
                src_aligned.add(i)
                tgt_aligned.add(j)
    return links


def grow_diag_final(fwd: LinkSet, rev: LinkSet) -> set[Link]:
    """``grow-diag``, then the directional links with at least one unaligned end."""
    return _final(fwd, rev, both_unaligned=False)


def grow_diag_final_and(fwd: LinkSet, rev: LinkSet) -> set[Link]:
    """``grow-diag``, then the directional links whose both ends are unaligned (Moses' default).

    >>> sorted(grow_diag_final_and({(0, 0), (2, 2), (1, 3)}, {(0, 0), (2, 2)}))
    [(0, 0), (1, 3), (2, 2)]
    """
    return _final(fwd, rev, both_unaligned=True)


SYMMETRIZATIONS: dict[str, Callable[[LinkSet, LinkSet], set[Link]]] = {
    "intersection": intersection,
    "union": union,
    "grow-diag": grow_diag,
    "grow-diag-final": grow_diag_final,
    "grow-diag-final-and": grow_diag_final_and,
    "forward": lambda fwd, rev: set(fwd),
    "reverse": lambda fwd, rev: set(rev),
}


def symmetrize(fwd: LinkSet, rev: LinkSet, method: str = "grow-diag-final-and") -> set[Link]:
    """Combine forward and reverse links with ``method`` (see :data:`SYMMETRIZATIONS`)."""
    try:
        return SYMMETRIZATIONS[method](fwd, rev)
    except KeyError:
        raise UnknownNameError("symmetrization", method, SYMMETRIZATIONS) from None
