"""Candidate extraction + matching (Politov et al. 2025, method.md §2).

Every target n-gram is a candidate for every source entity; a candidate's score for an entity is how well the
alignment supports the pair, and a matching picks at most one candidate per entity with no two chosen candidates
overlapping. Only n-grams that start and end on a token linked to the entity can score best (adding an unlinked
token at an edge only lowers the score), so those are the candidates enumerated: the result equals scoring all
n-grams, at a fraction of the cost.

Scores (``score`` option), both in [0, 1]:

* ``coverage``: share of the tokens of the entity and of the candidate that have a link into the other;
* ``links``: ``2 · links(e, c) / (len(e) + len(c))`` as in the paper, capped at 1 (many-to-many links can exceed it).

Matching (``matching``): ``greedy`` takes the best-scoring (entity, candidate) pair, removes that entity and every
candidate overlapping the chosen one, and repeats; ``optimal`` maximises the total score with a one-to-one
assignment (Hungarian algorithm, scipy) under the non-overlap constraint (see :func:`_optimal`). The chosen
score is the projection's confidence.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal

from xner.engine.project.base import PROJECTORS, PairProjector, is_punctuation
from xner.engine.project.lexical import lexical_links
from xner.types import Link, ProjectedSpan, Sentence, Span

# (score, entity index, candidate start, candidate end)
Scored = tuple[float, int, int, int]


@PROJECTORS.register("ngram")
@dataclass
class NgramProjector(PairProjector):
    """Options:

    max_length: longest candidate, in tokens.
    score: ``coverage`` or ``links`` (see the module docstring).
    matching: ``greedy`` or ``optimal``.
    min_score: a pair must score above this to be chosen.
    punctuation_edges: allow candidates that start or end on punctuation (off: the paper's filter).
    lexical: links between entity tokens and target tokens spelled alike (names, numbers, cognates): ``off``,
        ``unaligned`` (only for entity tokens the aligner left without a link: it rescues rare names and keeps
        its links for the rest) or ``all``.
    lexical_prefix: compare words of at least this many letters on their first ``lexical_prefix`` letters.
    """

    name: ClassVar[str] = "ngram"
    max_length: int = 10
    score: Literal["coverage", "links"] = "coverage"
    matching: Literal["greedy", "optimal"] = "greedy"
    min_score: float = 0.0
    punctuation_edges: bool = False
    lexical: Literal["off", "unaligned", "all"] = "unaligned"
    lexical_prefix: int = 4

    def project(self, src: Sentence, tgt_tokens: Sequence[str], links: Collection[Link]) -> list[ProjectedSpan]:
        if not src.spans or not tgt_tokens:
            return []
        entities = list(src.spans)
        by_entity = self._entity_targets(src, entities, tgt_tokens, links)
        scored = self._scored(entities, tgt_tokens, links, by_entity)
        chosen = greedy_match(scored) if self.matching == "greedy" else _optimal(scored, len(entities))
        result = []
        for score, k, start, end in sorted(chosen, key=lambda item: item[2]):
            entity = entities[k]
            target = Span(start, end, entity.label)
            evidence = _evidence(by_entity[k], start, end)
            result.append(ProjectedSpan(target, self.name, score, entity, evidence))
        return result

    def _entity_targets(
        self, src: Sentence, entities: Sequence[Span], tgt_tokens: Sequence[str], links: Collection[Link]
    ) -> list[dict[int, set[int]]]:
        """For each entity, target token → the entity's tokens linked to it, through the aligner's links inside the
        target plus lexical links (see ``lexical``). The links are read once for all the entities.

        >>> src = Sentence(("Mr", "Hicks", "of", "Europe"), (Span(1, 2, "PER"), Span(3, 4, "LOC")))
        >>> NgramProjector()._entity_targets(src, src.spans, ["Herr", "Hicks", "aus", "Europas"], [(0, 0), (3, 9)])
        [{1: {1}}, {}]
        """
        n_tokens = len(tgt_tokens)
        by_entity: list[dict[int, set[int]]] = [{} for _ in entities]
        owners: dict[int, list[dict[int, set[int]]]] = {}  # source token → the maps of the entities it is in
        for entity, targets in zip(entities, by_entity, strict=True):
            for i in range(entity.start, entity.end):
                if i in owners:
                    owners[i].append(targets)
                else:
                    owners[i] = [targets]
        entity_links = [link for link in links if link[0] in owners]  # the few links of the entities, picked in C
        if self.lexical != "off":
            entity_tokens = set(owners)
            if self.lexical == "unaligned":  # a link past the target's end counts: the aligner saw the token
                entity_tokens -= {i for i, _ in entity_links}
            if entity_tokens:
                entity_links += lexical_links(src.tokens, entity_tokens, tgt_tokens, prefix=self.lexical_prefix)
        for i, j in entity_links:
            if j < n_tokens:
                for targets in owners[i]:
                    if j in targets:
                        targets[j].add(i)
                    else:
                        targets[j] = {i}
        return by_entity

    def _scored(
        self,
        entities: list[Span],
        tgt_tokens: Sequence[str],
        links: Collection[Link],
        by_entity: list[dict[int, set[int]]] | None = None,
    ) -> list[Scored]:
        """Every (entity, candidate) pair scoring above ``min_score``; ``by_entity`` (from :meth:`_entity_targets`)
        when the caller has it, else the entities' targets are read from ``links`` as they are."""
        if by_entity is None:
            by_entity = [_targets(entity, links) for entity in entities]
        return [
            (score, k, start, end)
            for k, entity in enumerate(entities)
            for (start, end), score in self._candidates(entity, tgt_tokens, by_entity[k]).items()
            if score > self.min_score
        ]

    def _candidates(
        self, entity: Span, tgt_tokens: Sequence[str], targets: dict[int, set[int]]
    ) -> dict[tuple[int, int], float]:
        """Candidate span → score, for the spans starting and ending on tokens linked to ``entity``.

        For each start, the candidates are scored in one sweep to the right over the linked tokens, adding each
        one's links to running counts (the score of a span is that of the span before it plus what it adds)."""
        if not targets:
            return {}
        linked = sorted(targets)
        if self.punctuation_edges:
            is_edge = [True] * len(linked)
        else:
            is_edge = [not is_punctuation(tgt_tokens[j], "unicode") for j in linked]
        links_score = self.score == "links"
        max_length = self.max_length
        length = len(entity)
        scored = {}
        for a, start in enumerate(linked):
            if not is_edge[a]:
                continue
            covered: set[int] = set()
            n_links = 0
            for b in range(a, len(linked)):
                end_token = linked[b]
                if end_token - start + 1 > max_length:
                    break
                sources = targets[end_token]
                if links_score:
                    n_links += len(sources)
                else:
                    covered |= sources
                if not is_edge[b]:
                    continue
                total = length + end_token + 1 - start
                if links_score:
                    scored[(start, end_token + 1)] = min(1.0, 2 * n_links / total)
                else:
                    scored[(start, end_token + 1)] = (len(covered) + b - a + 1) / total
        return scored

    def _score(self, entity: Span, start: int, end: int, targets: dict[int, set[int]]) -> float:
        """The score of one candidate (what :meth:`_candidates` computes for all of them in a sweep)."""
        inside = [targets[j] for j in range(start, end) if j in targets]
        total = len(entity) + end - start
        if self.score == "links":
            return min(1.0, 2 * sum(len(sources) for sources in inside) / total)
        covered_src = set().union(*inside)
        return (len(covered_src) + len(inside)) / total


def _targets(entity: Span, links: Collection[Link]) -> dict[int, set[int]]:
    """Target token → the tokens of ``entity`` linked to it."""
    targets: dict[int, set[int]] = {}
    for i, j in links:
        if entity.start <= i < entity.end:
            targets.setdefault(j, set()).add(i)
    return targets


def _evidence(targets: dict[int, set[int]], start: int, end: int) -> tuple[Link, ...]:
    """The links from the entity (whose ``targets`` these are) into ``[start, end)``, sorted."""
    return tuple(sorted((i, j) for j, sources in targets.items() if start <= j < end for i in sources))


def greedy_match(scored: list[Scored]) -> list[Scored]:
    """Best pair first (ties: the longer candidate, then the earlier entity); no entity twice, no overlap."""
    chosen: list[Scored] = []
    done: set[int] = set()
    for item in sorted(scored, key=lambda s: (-s[0], -(s[3] - s[2]), s[1], s[2])):
        _, k, start, end = item
        if k in done or any(start < e and s < end for _, _, s, e in chosen):
            continue
        chosen.append(item)
        done.add(k)
    return chosen


def _optimal(scored: list[Scored], n_entities: int, depth: int = 8) -> list[Scored]:
    """Maximum total score, one candidate per entity, no two chosen candidates overlapping.

    The assignment problem (Hungarian algorithm) ignores overlaps between different candidates; when its
    solution has two overlapping pairs, both ways out (drop one pair or the other) are solved again and the better
    total wins: exact, and cheap because real sentences have few conflicts. Past ``depth`` nested conflicts the
    weaker pair is dropped without branching.
    """
    chosen = _assign(scored, n_entities)
    clash = _first_clash(chosen)
    if clash is None:
        return chosen
    a, b = clash
    if depth == 0:
        weaker = a if a[0] <= b[0] else b
        return _optimal([s for s in scored if s[1:] != weaker[1:]], n_entities, 0)
    options = [_optimal([s for s in scored if s[1:] != drop[1:]], n_entities, depth - 1) for drop in (a, b)]
    return max(options, key=lambda result: sum(item[0] for item in result))


def _assign(scored: list[Scored], n_entities: int) -> list[Scored]:
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    if not scored:
        return []
    spans = sorted({(s, e) for _, _, s, e in scored})
    column = {span: c for c, span in enumerate(spans)}
    weights = np.zeros((n_entities, len(spans)))
    for score, k, s, e in scored:
        weights[k, column[(s, e)]] = score
    rows, cols = linear_sum_assignment(weights, maximize=True)
    return [(float(weights[r, c]), int(r), *spans[c]) for r, c in zip(rows, cols, strict=True) if weights[r, c] > 0]


def _first_clash(chosen: list[Scored]) -> tuple[Scored, Scored] | None:
    """Two chosen pairs whose candidates overlap, or None."""
    for x, a in enumerate(chosen):
        for b in chosen[x + 1 :]:
            if a[2] < b[3] and b[2] < a[3]:
                return a, b
    return None
