"""The aligner interface: a batch of token pairs in, one :class:`~xner.types.Alignment` per pair out."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from typing import ClassVar, Protocol, runtime_checkable

from xner.options import Registry
from xner.types import Alignment, Link, ProgressFn

TokenPair = tuple[Sequence[str], Sequence[str]]
PhaseFn = Callable[[str], None]  # a line saying what the aligner is doing now
DirectionalLinks = tuple[frozenset[Link], frozenset[Link]]  # (forward, reverse) links of one pair, source-target

ALIGNERS: Registry[type[Aligner]] = Registry("aligner")


class Aligner(Protocol):
    """Aligns sentence pairs; registered by name in :data:`ALIGNERS`, its dataclass fields are its options."""

    name: ClassVar[str]

    def align(
        self,
        pairs: Sequence[TokenPair],
        *,
        extra: Sequence[TokenPair] = (),
        on_progress: ProgressFn | None = None,
        on_phase: PhaseFn | None = None,
    ) -> list[Alignment]:
        """Links for each pair, in order.

        Args:
            pairs: (source tokens, target tokens) per sentence pair.
            extra: more parallel text that may inform the alignment of ``pairs`` (statistical aligners learn
                from it; others ignore it). No links are returned for it.
            on_progress: called with (pairs done, total) as the work advances.
            on_phase: called with a line as each phase starts (loading a model, a long step without a count).
        """
        ...


@runtime_checkable
class DirectionalAligner(Protocol):
    """An aligner with a forward and a reverse alignment (eflomal) that aligns a stream of pairs in bounded memory.

    The align use case stores both directions beside the symmetrised links, so any other symmetrisation can be
    derived later without aligning again.
    """

    name: ClassVar[str]
    symmetrization: str

    def aligned_links(
        self,
        pairs: Iterable[TokenPair],
        *,
        extra: Iterable[TokenPair] = (),
        priors: str | None = None,
        on_phase: PhaseFn | None = None,
    ) -> AbstractContextManager[Iterable[DirectionalLinks]]:
        """Align ``pairs`` (read once, as they come), guided by ``priors`` when given (:meth:`learn_priors`); the
        context yields their ``(forward, reverse)`` links, in order, one pair at a time."""
        ...

    def learn_priors(self, pairs: Iterable[TokenPair], *, on_phase: PhaseFn | None = None) -> str:
        """Priors learnt by aligning ``pairs``, as text that :meth:`aligned_links` takes: what shards of a corpus
        aligned apart share."""
        ...
