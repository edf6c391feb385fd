"""The projection interface: a source sentence with entities, target tokens and links in; target spans out."""

from __future__ import annotations

import string
import unicodedata
from collections.abc import Collection, Sequence
from functools import lru_cache
from typing import ClassVar, Protocol

from xner.options import Registry
from xner.types import Link, ProjectedSpan, Sentence

PROJECTORS = Registry("projection method")

_ASCII_PUNCTUATION = frozenset(string.punctuation)


class Projector(Protocol):
    """Projects the entities of a source sentence onto its translation; registered in :data:`PROJECTORS`."""

    name: ClassVar[str]

    def project(self, src: Sentence, tgt_tokens: Sequence[str], links: Collection[Link]) -> list[ProjectedSpan]:
        """Target spans (sorted, non-overlapping), each with its confidence, source entity and justifying links."""
        ...


class BatchProjector:
    """Base of the methods that work on whole batches (one tagger or translator call): ``project`` is
    ``project_batch`` on one sentence, and the service calls ``project_batch``."""

    def project(self, src: Sentence, tgt_tokens: Sequence[str], links: Collection[Link]) -> list[ProjectedSpan]:
        return self.project_batch([src], [tgt_tokens], [links])[0]

    def project_batch(
        self,
        sources: Sequence[Sentence],
        targets: Sequence[Sequence[str]],
        links: Sequence[Collection[Link]],
    ) -> list[list[ProjectedSpan]]:
        """The projection of each source onto its target (same order)."""
        raise NotImplementedError


@lru_cache(maxsize=65536)
def is_punctuation(token: str, kind: str = "ascii") -> bool:
    """True when every character of ``token`` is punctuation (an empty token counts, as in the reference).

    ``ascii`` uses Python's ``string.punctuation`` (Easy-Label-Projection's test); ``unicode`` any character of
    a Unicode punctuation or symbol category, so that « » „ “ – — count too.

    >>> is_punctuation(","), is_punctuation("«"), is_punctuation("«", "unicode"), is_punctuation("U.S.")
    (True, False, True, False)
    """
    token = token.strip()
    if kind == "ascii":
        return all(char in _ASCII_PUNCTUATION for char in token)
    return all(unicodedata.category(char)[0] in "PS" for char in token)


def covered_score(src_span: tuple[int, int], tgt_span: tuple[int, int], links: Collection[Link]) -> float:
    """Share of the tokens of both spans that have a link into the other span, in [0, 1].

    >>> covered_score((0, 2), (3, 6), {(0, 3), (0, 4)})
    0.6
    """
    between = justifying_links(src_span, tgt_span, links)
    src_hit = {i for i, _ in between}
    tgt_hit = {j for _, j in between}
    total = (src_span[1] - src_span[0]) + (tgt_span[1] - tgt_span[0])
    return (len(src_hit) + len(tgt_hit)) / total if total else 0.0


def justifying_links(src_span: tuple[int, int], tgt_span: tuple[int, int], links: Collection[Link]) -> tuple[Link, ...]:
    """The links between the two spans, sorted."""
    return tuple(sorted((i, j) for i, j in links if src_span[0] <= i < src_span[1] and tgt_span[0] <= j < tgt_span[1]))
