"""Word-alignment projection heuristic (García-Ferrero et al. 2022, Easy-Label-Projection; method.md §1).

For each source entity: collect the target tokens linked to it, drop punctuation, split them into runs of
consecutive tokens, merge runs separated by a small gap, keep the largest run. Then resolve collisions between
the projected entities. The defaults reproduce Easy-Label-Projection's published algorithm, quirks included:

* runs are merged when the merged run spans at most ``merge_distance + 2`` tokens (its test is
  ``next_run_end - run_start <= 2``), so ``[3] [5]`` merge but ``[3 4] [6]`` do not (``merge_rule="gap"`` merges on
  the gap alone);
* collisions are checked between neighbours in *source* order with ``previous_end >= next_start``, so two
  entities whose projections cross (the target has them in the other order) also count as colliding: of the same
  label they merge, else the longer one (the later one on a tie) wins (``collisions="overlap"`` resolves only
  true overlaps);
* merged same-label projections may have holes; tags are then written B- at the first token and I- on the rest,
  later entities overwriting earlier ones, and the spans are what those tags decode to (seqeval's reading).

The paper's variant (Politov et al. 2025) is ``order="shortest_first"``, ``length_ratio_threshold=0.8``,
``collisions="first_wins"``: entities are processed shortest first and a projection overlapping one already made
is skipped; a run is dropped unless its length divided by the entity's length is above the threshold.

Confidence is the share of the tokens of the source entity and the projected span that have a link into the
other (1.0: every token of both is linked across).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import ClassVar, Literal

from xner.engine.project.base import PROJECTORS, PairProjector, is_punctuation
from xner.types import Link, ProjectedSpan, Sentence, Span


@dataclass(slots=True)
class _Projected:
    """A projection under construction: target token ids (sorted) and the source entities behind it."""

    label: str
    ids: list[int]
    sources: list[Span]
    links: list[Link]  # the links of the source entities (to tokens inside the target sentence)


@PROJECTORS.register("heuristic")
@dataclass
class HeuristicProjector(PairProjector):
    """Options (defaults = Easy-Label-Projection):

    drop_punctuation: ignore target tokens that are punctuation only.
    punctuation: ``ascii`` (string.punctuation, the reference) or ``unicode`` (also « » „ – …).
    merge_distance: runs separated by up to this many tokens are merged (see ``merge_rule``).
    merge_rule: ``reference`` (merged run at most merge_distance + 2 long) or ``gap`` (gap at most merge_distance).
    length_ratio_threshold: drop a run unless len(run) / len(entity) is above this (0 keeps all; paper 0.8).
    order: ``source`` (sentence order) or ``shortest_first`` (the paper's variant).
    collisions: ``reference``, ``overlap`` (only overlapping projections collide) or ``first_wins``.
    """

    name: ClassVar[str] = "heuristic"
    drop_punctuation: bool = True
    punctuation: Literal["ascii", "unicode"] = "ascii"
    merge_distance: int = 1
    merge_rule: Literal["reference", "gap"] = "reference"
    length_ratio_threshold: float = 0.0
    order: Literal["source", "shortest_first"] = "source"
    collisions: Literal["reference", "overlap", "first_wins"] = "reference"

    def project(self, src: Sentence, tgt_tokens: Sequence[str], links: Collection[Link]) -> list[ProjectedSpan]:
        if not src.spans or not links or not tgt_tokens:
            return []
        n_tokens = len(tgt_tokens)
        entities = sorted(src.spans, key=len) if self.order == "shortest_first" else src.spans
        # the links sorted once (stored lines come sorted: a linear pass), then each entity's links are one slice
        ordered = sorted(links)
        projected = []
        for entity in entities:
            start, end = entity.start, entity.end
            between = ordered[bisect_left(ordered, (start,)) : bisect_left(ordered, (end,))]
            entity_links = [link for link in between if link[1] < n_tokens]
            run = self._run(entity, entity_links, tgt_tokens)
            if run:
                projected.append(_Projected(entity.label, run, [entity], entity_links))
        if len(projected) == 1:  # nothing can collide, and a run from _run has no holes
            item = projected[0]
            return [_projected_span(item, Span(item.ids[0], item.ids[-1] + 1, item.label), self.name)]
        if self.collisions == "first_wins":
            projected = _first_wins(projected)
        else:
            projected = _resolve_collisions(projected, crossing=self.collisions == "reference")
        return _to_spans(projected, n_tokens, self.name)

    def _run(self, entity: Span, entity_links: list[Link], tgt_tokens: Sequence[str]) -> list[int]:
        """The target run chosen for ``entity``: empty when nothing (usable) is linked to it."""
        if self.drop_punctuation:
            ids = {j for _, j in entity_links if not is_punctuation(tgt_tokens[j], self.punctuation)}
        else:
            ids = {j for _, j in entity_links}
        if not ids:
            return []
        run = sorted(ids)
        if run[-1] - run[0] + 1 != len(run):  # several runs: merge, then the first of the longest
            run = max(self._merge(_runs(run)), key=len)
        if self.length_ratio_threshold and len(run) / len(entity) <= self.length_ratio_threshold:
            return []
        return run

    def _merge(self, groups: list[list[int]]) -> list[list[int]]:
        i = 0
        while i < len(groups) - 1:
            if self.merge_rule == "reference":
                merge = groups[i + 1][-1] - groups[i][0] <= self.merge_distance + 1
            else:
                merge = groups[i + 1][0] - groups[i][-1] - 1 <= self.merge_distance
            if merge:
                groups[i] = list(range(groups[i][0], groups[i + 1][-1] + 1))
                del groups[i + 1]
            else:
                i += 1
        return groups


def _runs(ids: list[int]) -> list[list[int]]:
    """Sorted ids split into runs of consecutive numbers: [1, 2, 4] → [[1, 2], [4]]."""
    groups = [[ids[0]]]
    for j in ids[1:]:
        if j == groups[-1][-1] + 1:
            groups[-1].append(j)
        else:
            groups.append([j])
    return groups


def _resolve_collisions(items: list[_Projected], *, crossing: bool) -> list[_Projected]:
    """Neighbours (in processing order) that collide: same label → merge, else keep the longer (later on a tie)."""

    def collide(a: _Projected, b: _Projected) -> bool:
        if crossing:  # the reference test: true also when b lies wholly before a
            return a.ids[-1] >= b.ids[0]
        return a.ids[-1] >= b.ids[0] and b.ids[-1] >= a.ids[0]

    i = 0
    while i < len(items) - 1:
        a, b = items[i], items[i + 1]
        if collide(a, b) and a.label == b.label:
            items[i] = _Projected(a.label, sorted(set(a.ids) | set(b.ids)), a.sources + b.sources, a.links + b.links)
            del items[i + 1]
        else:
            i += 1
    i = 0
    while i < len(items) - 1:
        if collide(items[i], items[i + 1]):
            del items[i + 1 if len(items[i].ids) > len(items[i + 1].ids) else i]
        else:
            i += 1
    return items


def _first_wins(items: list[_Projected]) -> list[_Projected]:
    """Keep each projection that overlaps none kept before it."""
    taken: set[int] = set()
    kept = []
    for item in items:
        if taken.isdisjoint(item.ids):
            kept.append(item)
            taken.update(item.ids)
    return kept


def _to_spans(items: list[_Projected], n_tokens: int, method: str) -> list[ProjectedSpan]:
    """Write B-/I- tags in order (later items overwrite) and read the spans back as seqeval does."""
    if _disjoint_runs(items):  # the common case: each item reads back as itself
        return [
            _projected_span(item, Span(item.ids[0], item.ids[-1] + 1, item.label), method)
            for item in sorted(items, key=lambda item: item.ids[0])
        ]
    labels: list[str | None] = [None] * n_tokens
    begins = [False] * n_tokens
    owners: list[int] = [-1] * n_tokens
    for number, item in enumerate(items):
        for k, j in enumerate(item.ids):
            labels[j], begins[j], owners[j] = item.label, k == 0, number
    spans = []
    start = -1
    for j in range(n_tokens + 1):
        label = labels[j] if j < n_tokens else None
        continues = label is not None and not begins[j] and start >= 0 and labels[j - 1] == label
        if start >= 0 and not continues:
            spans.append(_projected_span(items[owners[start]], Span(start, j, labels[start]), method))
            start = -1
        if label is not None and not continues:
            start = j
    return spans


def _disjoint_runs(items: list[_Projected]) -> bool:
    """True when every item is a run of consecutive tokens and no two items share a token."""
    if any(item.ids[-1] - item.ids[0] + 1 != len(item.ids) for item in items):
        return False
    ordered = sorted((item.ids[0], item.ids[-1]) for item in items)
    return all(previous[1] < following[0] for previous, following in pairwise(ordered))


def _projected_span(item: _Projected, span: Span, method: str) -> ProjectedSpan:
    """``span`` with the links between it and the item's source entities, and their coverage as confidence."""
    sources = item.sources
    src_length = len(sources[0])
    if len(sources) > 1:  # merged entities: the source range from the first to the last
        src_length = max(s.end for s in sources) - min(s.start for s in sources)
    start, end = span.start, span.end
    evidence = sorted({link for link in item.links if start <= link[1] < end})  # the input's tuples, not copies
    # share of the tokens of both sides with a link across: the evidence is all that counts
    covered = len({link[0] for link in evidence}) + len({link[1] for link in evidence})
    return ProjectedSpan(span, method, covered / (src_length + end - start), sources[0], tuple(evidence))
