"""The projection interface: a source sentence with entities, target tokens and links in; target spans out."""

from __future__ import annotations

import gc
import string
import unicodedata
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import TYPE_CHECKING, ClassVar, Protocol, Self

from xner.options import Registry
from xner.types import Link, ProjectedSpan, Sentence, Span

if TYPE_CHECKING:
    from xner.engine.translate.base import Translator

PROJECTORS: Registry[type[Projector]] = Registry("projection method")

_ASCII_PUNCTUATION = frozenset(string.punctuation)


class SpanTagger(Protocol):
    """What the tagger-based methods need from a tagger (any tagger of :mod:`xner.learning` fits)."""

    def predict_scored(self, batch: Sequence[Sequence[str]]) -> list[list[tuple[Span, float]]]:
        """For each token sequence, the predicted spans with a confidence in [0, 1]."""
        ...


class Projector(Protocol):
    """Projects the entities of source sentences onto their translations; registered in :data:`PROJECTORS`.

    A projector declares what it needs as class attributes, so a caller reads them instead of probing: an
    alignment (links between each pair), the source entities (else the sources are passed without spans), a
    tagger (loaded from :meth:`tagger_folder`) and the languages (for a method that translates). Whatever its
    options do not hold comes through one :meth:`bind` call before projecting.
    """

    name: ClassVar[str]
    needs_alignment: ClassVar[bool]
    needs_source_entities: ClassVar[bool]
    needs_tagger: ClassVar[bool]
    needs_languages: ClassVar[bool]

    def bind(
        self,
        *,
        src_lang: str = "",
        tgt_lang: str = "",
        tagger: SpanTagger | None = None,
        translator: Translator | None = None,
    ) -> Self:
        """Give the projector what its options do not hold; what it does not need is ignored. Returns itself."""
        ...

    def tagger_folder(self) -> str:
        """The folder of the saved tagger the method needs (``needs_tagger``); an error names the option to set."""
        ...

    def project_batch(
        self,
        sources: Sequence[Sentence],
        targets: Sequence[Sequence[str]],
        links: Sequence[Collection[Link]],
    ) -> list[list[ProjectedSpan]]:
        """The projection of each source onto its target (same order): target spans, sorted and non-overlapping,
        each with its confidence, source entity and justifying links."""
        ...


class BaseProjector:
    """What every projector shares: the capability defaults (an alignment and source entities, nothing else),
    a :meth:`bind` that ignores what is not needed, and :meth:`project` for one pair."""

    name: ClassVar[str]
    needs_alignment: ClassVar[bool] = True
    needs_source_entities: ClassVar[bool] = True
    needs_tagger: ClassVar[bool] = False
    needs_languages: ClassVar[bool] = False
    _tagger: SpanTagger | None = None  # set by bind() on methods that need a tagger

    def bind(
        self,
        *,
        src_lang: str = "",
        tgt_lang: str = "",
        tagger: SpanTagger | None = None,
        translator: Translator | None = None,
    ) -> Self:
        """Give the projector what its options do not hold; what it does not need is ignored. Returns itself.
        Here: the tagger, kept when the method needs one (``needs_tagger``); methods that need more extend this."""
        if tagger is not None and self.needs_tagger:
            self._tagger = tagger
        return self

    def tagger_folder(self) -> str:
        """The folder of the saved tagger the method needs; "" for methods without one."""
        return ""

    def project(self, src: Sentence, tgt_tokens: Sequence[str], links: Collection[Link]) -> list[ProjectedSpan]:
        """Target spans (sorted, non-overlapping), each with its confidence, source entity and justifying links."""
        return self.project_batch([src], [tgt_tokens], [links])[0]

    def project_batch(
        self,
        sources: Sequence[Sentence],
        targets: Sequence[Sequence[str]],
        links: Sequence[Collection[Link]],
    ) -> list[list[ProjectedSpan]]:
        """The projection of each source onto its target (same order)."""
        raise NotImplementedError


class PairProjector(BaseProjector):
    """Base of the methods that project one pair at a time: they define ``project``, and a batch is a loop."""

    def project(self, src: Sentence, tgt_tokens: Sequence[str], links: Collection[Link]) -> list[ProjectedSpan]:
        raise NotImplementedError

    def project_batch(
        self,
        sources: Sequence[Sentence],
        targets: Sequence[Sequence[str]],
        links: Sequence[Collection[Link]],
    ) -> list[list[ProjectedSpan]]:
        with no_cycle_collection():
            return [self.project(s, t, k) for s, t, k in zip(sources, targets, links, strict=True)]


class BatchProjector(BaseProjector):
    """Base of the methods that work on whole batches (one tagger or translator call): they define
    ``project_batch``, and ``project`` is a batch of one."""


@contextmanager
def no_cycle_collection() -> Iterator[None]:
    """Python's cycle collector paused for the block (reference counting still frees everything).

    A batch allocates a few objects per span and keeps them (the results), none in a cycle; with the collector on,
    each generation-2 pass walks every object alive, the caller's whole corpus in memory included, and on a large
    batch those passes cost more than the projection itself.

    >>> import gc
    >>> with no_cycle_collection():
    ...     gc.isenabled()
    False
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


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
