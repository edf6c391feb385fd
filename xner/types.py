"""Core types: plain, immutable data shared by every part of xner.

Spans are half-open token ranges ``[start, end)`` everywhere. Alignment links are ``(src_idx, tgt_idx)`` pairs
of 0-based token indices. Nothing here knows about files, databases or the app.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from xner.errors import XnerError

Link = tuple[int, int]

ProgressFn = Callable[[int, int], None]
"""Called with ``(done, total)`` as work advances; what is counted (pairs, sentences, bytes) is the caller's unit."""

StageProgress = Callable[[str, int, int], None]
"""Called with ``(stage, done, total)`` by a use case of several stages (e.g. "train", "project")."""


def stage_progress(on_progress: StageProgress | None, stage: str) -> ProgressFn | None:
    """The :data:`ProgressFn` of one ``stage`` of a :data:`StageProgress` (None when there is none)."""
    return (lambda done, total: on_progress(stage, done, total)) if on_progress else None


@dataclass(frozen=True, order=True, slots=True)
class Span:
    """A labelled half-open token range ``[start, end)``.

    >>> Span(1, 3, "PER").tokens(["Yesterday", "Barack", "Obama", "spoke"])
    ['Barack', 'Obama']
    """

    start: int
    end: int
    label: str

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end:
            raise XnerError(f"invalid span [{self.start}, {self.end}) {self.label!r}: need 0 <= start < end")

    def __len__(self) -> int:
        return self.end - self.start

    def tokens(self, tokens: Sequence[str]) -> list[str]:
        """The tokens this span covers."""
        return list(tokens[self.start : self.end])

    def overlaps(self, other: Span) -> bool:
        """True when the two spans share at least one token."""
        return self.start < other.end and other.start < self.end


def sort_spans(spans: Iterable[Span]) -> tuple[Span, ...]:
    """Spans in the canonical order (start, end, label), as stored and returned everywhere."""
    return tuple(sorted(spans))


@dataclass(frozen=True, slots=True)
class Sentence:
    """A tokenised sentence with its (gold or curated) entity spans.

    Attributes:
        tokens: the tokens, in order.
        spans: entity spans over ``tokens``, sorted.
        text: the original untokenised text, when known.
        lang: language code (ISO 639-1/3, as the user gives it).
    """

    tokens: tuple[str, ...]
    spans: tuple[Span, ...] = ()
    text: str | None = None
    lang: str | None = None

    def __post_init__(self) -> None:
        for span in self.spans:
            if span.end > len(self.tokens):
                raise XnerError(f"span [{span.start}, {span.end}) is beyond the sentence's {len(self.tokens)} tokens")


# A sentence as plain values, for bulk writes and for crossing a process boundary (a child process reads an import,
# this one writes it: plain tuples pickle ~10x faster than Sentence objects): the line of the file it starts on, its
# language, tokens, text and spans as (start, end, label).
PlainSentence = tuple[int | None, str | None, tuple[str, ...], str | None, tuple[tuple[int, int, str], ...]]


def plain_sentence(line: int | None, sentence: Sentence) -> PlainSentence:
    """``sentence`` (from file line ``line``) as a :data:`PlainSentence`.

    >>> plain_sentence(3, Sentence(("Ade", "sùn"), (Span(0, 1, "PER"),), lang="yo"))
    (3, 'yo', ('Ade', 'sùn'), None, ((0, 1, 'PER'),))
    """
    spans = tuple((span.start, span.end, span.label) for span in sentence.spans)
    return line, sentence.lang, sentence.tokens, sentence.text, spans


@dataclass(frozen=True, slots=True)
class Alignment:
    """Word alignment of one sentence pair: sure links plus optional possible links (gold sets have both).

    >>> Alignment(sure=frozenset({(0, 0), (1, 2)}), possible=frozenset({(2, 1)})).to_pharaoh()
    '0-0 1-2 2p1'
    """

    sure: frozenset[Link] = frozenset()
    possible: frozenset[Link] = frozenset()

    @property
    def links(self) -> frozenset[Link]:
        """All links, sure and possible."""
        return self.sure | self.possible

    def src_to_tgt(self) -> dict[int, list[int]]:
        """Map each linked source index to its sorted target indices."""
        mapping: dict[int, list[int]] = {}
        for i, j in sorted(self.links):
            mapping.setdefault(i, []).append(j)
        return mapping

    def to_pharaoh(self) -> str:
        """Pharaoh text, 0-based, sorted; possible links written ``ipj``."""
        items = [(i, j, "-") for i, j in self.sure] + [(i, j, "p") for i, j in self.possible - self.sure]
        return " ".join(f"{i}{sep}{j}" for i, j, sep in sorted(items))


@dataclass(frozen=True, slots=True)
class SentencePair:
    """A source sentence, its translation and (optionally) their word alignment."""

    src: Sentence
    tgt: Sentence
    alignment: Alignment | None = None


@dataclass(frozen=True, slots=True)
class ProjectedSpan:
    """A target span proposed by a projection method.

    Attributes:
        span: the target span.
        method: name of the projection method that produced it.
        confidence: in [0, 1]; higher means more certain.
        src_span: the source entity it was projected from.
        links: the alignment links that justify it (source token, target token).
    """

    span: Span
    method: str
    confidence: float
    src_span: Span | None = None
    links: tuple[Link, ...] = ()

    def __post_init__(self) -> None:
        if not 0.0 <= self.confidence <= 1.0:
            raise XnerError(f"confidence must be in [0, 1], got {self.confidence}")


class CorpusKind(enum.StrEnum):
    """What a corpus holds (the values stored in ``corpus.kind``): one language, or sentence pairs.

    A StrEnum: a member equals its stored string, so rows and plain-string comparisons keep working.

    >>> CorpusKind.PARALLEL == "parallel", str(CorpusKind.MONO)
    (True, 'mono')
    """

    MONO = "mono"
    PARALLEL = "parallel"


class Side(enum.StrEnum):
    """Which side a sentence is on (the values stored in ``sentence.side``): the one side of a monolingual corpus,
    or the source or the target of a parallel one.

    >>> Side.SRC == "src", Side("tgt") is Side.TGT
    (True, True)
    """

    MONO = "mono"
    SRC = "src"
    TGT = "tgt"


class ReviewStatus(enum.StrEnum):
    """Where a target sentence stands in review."""

    UNREVIEWED = "unreviewed"
    ACCEPTED = "accepted"
    CORRECTED = "corrected"
    REJECTED = "rejected"

    @classmethod
    def parse(cls, value: str) -> ReviewStatus:
        """The status named ``value``; raises an error listing the allowed names."""
        try:
            return cls(value.strip().lower())
        except ValueError:
            from xner.errors import UnknownNameError

            raise UnknownNameError("review status", value, [s.value for s in cls]) from None

    @property
    def is_reviewed(self) -> bool:
        """A reviewer decided the sentence (accepted, corrected or rejected): see :data:`REVIEWED_STATUSES`."""
        return self in REVIEWED_STATUSES

    @property
    def is_curated(self) -> bool:
        """The sentence's spans are confirmed by a reviewer (accepted or corrected): training and export data."""
        return self in CURATED_STATUSES


# The one definition of each group of review statuses; every service and page uses these.
#: Decided by a reviewer. "Unreviewed" is every reviewable target sentence not in these (queued or not).
REVIEWED_STATUSES = (ReviewStatus.ACCEPTED, ReviewStatus.CORRECTED, ReviewStatus.REJECTED)
#: Curated: decided and usable as training data (a rejected sentence is reviewed but not curated).
CURATED_STATUSES = (ReviewStatus.ACCEPTED, ReviewStatus.CORRECTED)


@dataclass(frozen=True, slots=True)
class ReviewDecision:
    """One reviewer's decision on a target sentence's entities (one row of the append-only history)."""

    reviewer: str
    status: ReviewStatus
    spans: tuple[Span, ...]
    before: tuple[Span, ...] = ()
    at: datetime | None = None
    note: str = ""
    extra: dict[str, object] = field(default_factory=dict)
