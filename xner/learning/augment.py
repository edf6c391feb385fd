"""Data augmentation for NER: synthetic sentences with valid entity labels, made from labelled ones.

Augmenters are chosen by name from :data:`AUGMENTERS`; each is a dataclass whose fields are its options, and all
share one method, :meth:`Augmenter.augment`:

- ``mention_replacement`` (Dai & Adel 2020, arXiv 2010.11683): entity mentions swapped for other mentions of the
  same label from a :class:`Gazetteer`; spans are recomputed, as a replacement may have another length.
- ``token_replacement`` (label-wise token replacement, same paper): tokens replaced by tokens drawn from the
  training distribution of their tag; the tag sequence stays.
- ``segment_shuffle`` (same paper): tokens shuffled inside segments of one label (an entity, a run of ``O``).
- ``melm`` (masked entity language modelling, Zhou et al. 2022, arXiv 2108.13655): entity words masked in a
  sentence linearised with label markers and refilled by a masked language model; labels stay.

Each synthetic sentence records its :class:`SyntheticOrigin` (method, index of the sentence it was made from, what
changed). Output is deterministic for a seed, sorted by source index, without duplicates, and never a copy of its
source. ``melm`` lives in :mod:`xner.learning.melm`; torch and transformers are imported only when it runs.

>>> sentences = [Sentence(("Ada", "sang", "in", "Lagos"), (Span(0, 1, "PER"), Span(3, 4, "LOC"))),
...              Sentence(("Musa", "Bello", "left"), (Span(0, 2, "PER"),))]
>>> out = AUGMENTERS.create("mention_replacement", {"p": "0"}).augment(sentences, n=2, seed=1)
>>> [(" ".join(s.sentence.tokens), s.origin.source_index, s.origin.detail) for s in out]
[('Musa Bello sang in Lagos', 0, "PER 'Ada' -> 'Musa Bello'"), ('Ada left', 1, "PER 'Musa Bello' -> 'Ada'")]
>>> out[0].sentence.spans
(Span(start=0, end=2, label='PER'), Span(start=4, end=5, label='LOC'))
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Generic, Protocol, TypeVar

from xner.errors import XnerError
from xner.options import Registry
from xner.schemes import OUTSIDE, spans_to_tags
from xner.text import normalize_tokens
from xner.types import ProgressFn, Sentence, Span, sort_spans

T = TypeVar("T")
Variant = tuple[Sentence, str]  # a synthetic sentence and what changed
Attempt = tuple[int, random.Random]  # source index, the attempt's own random generator
MakeFn = Callable[[Sequence[Attempt]], list[Variant | None]]

AUGMENTERS: Registry[type[Augmenter]] = Registry("augmenter")
ATTEMPTS_PER_RESULT = 4  # at most this many attempts per synthetic sentence asked for
TRIES = (
    10  # redraws before giving up on one replacement (a token equal to the original, a shuffle that changed nothing)
)
_CHUNK = 64  # attempts between two progress reports
_DETAIL_CHARS = 40  # of one quoted token sequence
_DETAIL_CHANGES = 3


@dataclass(frozen=True, slots=True)
class SyntheticOrigin:
    """Where a synthetic sentence comes from.

    Attributes:
        method: the augmenter's name.
        source_index: index of the sentence it was made from, in the list given to ``augment``.
        detail: what changed, e.g. ``PER 'Ada Obi' -> 'Musa Bello'``.
    """

    method: str
    source_index: int
    detail: str


@dataclass(frozen=True, slots=True)
class Synthetic:
    """A synthetic sentence (tokens and spans; the source's ``lang``, no ``text``) and its origin."""

    sentence: Sentence
    origin: SyntheticOrigin


class Augmenter(Protocol):
    """A data augmentation method; registered by name in :data:`AUGMENTERS`, its dataclass fields are its options."""

    name: ClassVar[str]

    def augment(
        self,
        sentences: Sequence[Sentence],
        *,
        n: int,
        seed: int,
        gazetteer: Gazetteer | None = None,
        on_progress: ProgressFn | None = None,
    ) -> list[Synthetic]:
        """Up to ``n`` synthetic sentences made from ``sentences``, the same for the same seed.

        Fewer than ``n`` come back when the sentences give no more distinct variants (after
        ``ATTEMPTS_PER_RESULT * n`` attempts, or a whole pass over the sentences without a new one).
        ``gazetteer`` is the source of replacement mentions (``mention_replacement`` only; built from
        ``sentences`` when None). ``on_progress`` gets (synthetic sentences so far, n).
        """
        ...


@dataclass(frozen=True)
class Gazetteer:
    """Entity mentions by label, with how often each was seen; tokens in Unicode NFC.

    Labels are sorted; the mentions of a label go from the most to the least frequent (ties by tokens).

    >>> gazetteer = Gazetteer.from_sentences([Sentence(("Ada", "met", "Bo"), (Span(0, 1, "PER"), Span(2, 3, "PER"))),
    ...                                       Sentence(("Ada", "sang"), (Span(0, 1, "PER"),))])
    >>> gazetteer.mentions("PER"), gazetteer.count("PER", ("Ada",)), len(gazetteer)
    ((('Ada',), ('Bo',)), 2, 2)
    """

    counts: Mapping[str, Mapping[tuple[str, ...], int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        merged: dict[str, Counter[tuple[str, ...]]] = {}
        for label, mentions in self.counts.items():
            for mention, count in mentions.items():
                if not mention or count < 1:
                    raise XnerError(f"gazetteer entry {label} {mention!r}: need at least one token and a count >= 1")
                merged.setdefault(label, Counter())[normalize_tokens(tuple(mention))] += count
        ordered = {
            label: dict(sorted(merged[label].items(), key=lambda item: (-item[1], item[0]))) for label in sorted(merged)
        }
        object.__setattr__(self, "counts", ordered)

    @classmethod
    def from_sentences(cls, sentences: Iterable[Sentence]) -> Gazetteer:
        """The mentions of every span of ``sentences``, counted."""
        counts: dict[str, Counter[tuple[str, ...]]] = {}
        for sentence in sentences:
            for span in sentence.spans:
                counts.setdefault(span.label, Counter())[tuple(span.tokens(sentence.tokens))] += 1
        return cls(counts)

    @property
    def labels(self) -> tuple[str, ...]:
        """The labels, sorted."""
        return tuple(self.counts)

    def mentions(self, label: str) -> tuple[tuple[str, ...], ...]:
        """The distinct mentions of ``label``, most frequent first (empty for an unknown label)."""
        return tuple(self.counts.get(label, {}))

    def count(self, label: str, mention: Sequence[str]) -> int:
        """How often ``mention`` was seen as ``label`` (0 when never)."""
        return self.counts.get(label, {}).get(normalize_tokens(tuple(mention)), 0)

    def __contains__(self, item: object) -> bool:
        """``(label, mention)`` in the gazetteer."""
        return isinstance(item, tuple) and len(item) == 2 and self.count(*item) > 0

    def __len__(self) -> int:
        """Distinct (label, mention) entries."""
        return sum(len(mentions) for mentions in self.counts.values())


@dataclass(frozen=True)
class _Pool(Generic[T]):
    """Items to draw from, uniformly or by weight."""

    items: tuple[T, ...]
    weights: tuple[int, ...] | None  # None: uniform

    @classmethod
    def of(cls, counts: Mapping[T, int], *, weighted: bool) -> _Pool[T]:
        return cls(tuple(counts), tuple(counts.values()) if weighted else None)

    def draw(self, rng: random.Random, exclude: T) -> T | None:
        """A random item other than ``exclude``; None when there is none."""
        for _ in range(TRIES):
            item = rng.choices(self.items, weights=self.weights)[0]
            if item != exclude:
                return item
        weights = self.weights or (1,) * len(self.items)
        others = [(item, weight) for item, weight in zip(self.items, weights, strict=True) if item != exclude]
        if not others:
            return None
        return rng.choices([item for item, _ in others], weights=[weight for _, weight in others])[0]


def _check_share(method: str, option: str, value: float, *, zero: bool = True) -> None:
    low_ok = value >= 0 if zero else value > 0
    if not (low_ok and value <= 1):
        bounds = "[0, 1]" if zero else "(0, 1]"
        raise XnerError(f"option {option!r} of the {method} augmenter must be in {bounds}, got {value!r}")


def _check_at_least(method: str, option: str, value: float, low: float) -> None:
    if value < low:
        raise XnerError(f"option {option!r} of the {method} augmenter must be at least {low}, got {value!r}")


def _tags(sentence: Sentence, index: int) -> list[str]:
    """IOB2 tags of sentence ``index`` (overlapping spans are an error naming it)."""
    try:
        return spans_to_tags(sentence.spans, len(sentence.tokens))
    except XnerError as error:
        raise XnerError(f"sentence {index}: {error}") from None


def _eligible(sentences: Sequence[Sentence], *, entities_only: bool) -> list[int]:
    """Indices of the sentences with tokens (and entities, when ``entities_only``); their spans are checked."""
    indices = [i for i, s in enumerate(sentences) if s.tokens and (s.spans or not entities_only)]
    for index in indices:
        _tags(sentences[index], index)
    return indices


def _pick(rng: random.Random, candidates: Sequence[T], p: float) -> list[T]:
    """Each candidate with probability ``p``, at least one when there is any (so every attempt changes something)."""
    picked = [c for c in candidates if rng.random() < p]
    if not picked and candidates:
        picked = [rng.choice(candidates)]
    return picked


def _quote(tokens: Sequence[str]) -> str:
    text = " ".join(tokens)
    return f"'{text if len(text) <= _DETAIL_CHARS else text[: _DETAIL_CHARS - 1] + '…'}'"


def _change(label: str, before: Sequence[str], after: Sequence[str]) -> str:
    """One change for :attr:`SyntheticOrigin.detail`: ``PER 'Ada Obi' -> 'Musa Bello'``."""
    return f"{label} {_quote(before)} -> {_quote(after)}"


def _join(changes: Sequence[str]) -> str:
    """Changes for :attr:`SyntheticOrigin.detail`, the first ``_DETAIL_CHANGES`` of them and how many more."""
    shown = "; ".join(changes[:_DETAIL_CHANGES])
    return shown if len(changes) <= _DETAIL_CHANGES else f"{shown}; +{len(changes) - _DETAIL_CHANGES} more"


def _check_n(n: int, seed: int) -> None:
    if not isinstance(n, int) or n < 0:
        raise XnerError(f"n must be a whole number >= 0, got {n!r}")
    if not isinstance(seed, int):
        raise XnerError(f"seed must be a whole number, got {seed!r}")


def _drive(
    method: str,
    sentences: Sequence[Sentence],
    eligible: Sequence[int],
    make: MakeFn,
    *,
    n: int,
    seed: int,
    chunk: int = _CHUNK,
    on_progress: ProgressFn | None = None,
) -> list[Synthetic]:
    """Up to ``n`` distinct synthetic sentences, from passes over ``eligible`` in a seeded random order.

    Each attempt gets its own generator, seeded from ``seed`` and the attempt number, so a variant does not depend
    on how attempts are batched. Stops at ``n``, after ``ATTEMPTS_PER_RESULT * n`` attempts, or after a pass
    that found nothing new.
    """
    found: list[Synthetic] = []
    seen: set[tuple[tuple[str, ...], tuple[Span, ...]]] = set()
    order_rng = random.Random(seed)
    budget = ATTEMPTS_PER_RESULT * n
    attempt = 0
    while eligible and len(found) < n and attempt < budget:
        before = len(found)
        order = order_rng.sample(list(eligible), len(eligible))
        for start in range(0, len(order), chunk):
            indices = order[start : start + chunk][: budget - attempt]
            rngs = [random.Random(f"{seed}:{attempt + k}") for k in range(len(indices))]
            attempt += len(indices)
            for index, variant in zip(indices, make(list(zip(indices, rngs, strict=True))), strict=True):
                if variant is None:
                    continue
                sentence, detail = variant
                key = (sentence.tokens, sentence.spans)
                if key in seen or key == (sentences[index].tokens, sort_spans(sentences[index].spans)):
                    continue
                seen.add(key)
                found.append(Synthetic(sentence, SyntheticOrigin(method, index, detail)))
                if len(found) == n:
                    break
            if on_progress:
                on_progress(len(found), n)
            if len(found) == n or attempt >= budget:
                break
        if len(found) == before:
            break
    return sorted(found, key=lambda synthetic: synthetic.origin.source_index)


@AUGMENTERS.register("mention_replacement")
@dataclass
class MentionReplacement:
    """Options:

    p: chance that each entity mention is replaced (at least one per sentence is).
    weighted: draw replacements by their count in the gazetteer, rather than uniformly over distinct mentions.
    """

    name: ClassVar[str] = "mention_replacement"
    p: float = 0.5
    weighted: bool = False

    def __post_init__(self) -> None:
        _check_share(self.name, "p", self.p)

    def augment(
        self,
        sentences: Sequence[Sentence],
        *,
        n: int,
        seed: int,
        gazetteer: Gazetteer | None = None,
        on_progress: ProgressFn | None = None,
    ) -> list[Synthetic]:
        """See :meth:`Augmenter.augment`; a mention whose label the gazetteer lacks stays."""
        _check_n(n, seed)
        gazetteer = gazetteer if gazetteer is not None else Gazetteer.from_sentences(sentences)
        pools = {label: _Pool.of(gazetteer.counts[label], weighted=self.weighted) for label in gazetteer.labels}

        def make(attempts: Sequence[Attempt]) -> list[Variant | None]:
            return [self._variant(sentences[index], pools, rng) for index, rng in attempts]

        eligible = _eligible(sentences, entities_only=True)
        return _drive(self.name, sentences, eligible, make, n=n, seed=seed, on_progress=on_progress)

    def _variant(
        self, sentence: Sentence, pools: Mapping[str, _Pool[tuple[str, ...]]], rng: random.Random
    ) -> Variant | None:
        spans = sort_spans(sentence.spans)
        mentions = [normalize_tokens(span.tokens(sentence.tokens)) for span in spans]
        replaceable = [
            k
            for k, span in enumerate(spans)
            if span.label in pools and any(other != mentions[k] for other in pools[span.label].items)
        ]
        replacements: dict[int, tuple[str, ...]] = {}
        for k in sorted(_pick(rng, replaceable, self.p)):
            other = pools[spans[k].label].draw(rng, mentions[k])
            if other is not None:
                replacements[k] = other
        if not replacements:
            return None
        tokens: list[str] = []
        new_spans = []
        cursor = 0
        for k, span in enumerate(spans):
            tokens.extend(sentence.tokens[cursor : span.start])
            mention = replacements.get(k, sentence.tokens[span.start : span.end])
            new_spans.append(Span(len(tokens), len(tokens) + len(mention), span.label))
            tokens.extend(mention)
            cursor = span.end
        tokens.extend(sentence.tokens[cursor:])
        detail = _join([_change(spans[k].label, mentions[k], other) for k, other in replacements.items()])
        return Sentence(tuple(tokens), tuple(new_spans), lang=sentence.lang), detail


@AUGMENTERS.register("token_replacement")
@dataclass
class TokenReplacement:
    """Options:

    p: chance that each token is replaced (at least one per sentence is).
    by_tag: draw from the tokens of the same IOB2 tag (``B-PER`` from ``B-PER``, as in the paper), rather than of
        the same label (``PER`` from ``PER``, whether first or inner token). ``O`` tokens come from ``O`` tokens.
    entity_sentences_only: augment only sentences with entities (all sentences feed the token distributions).
    """

    name: ClassVar[str] = "token_replacement"
    p: float = 0.3
    by_tag: bool = True
    entity_sentences_only: bool = True

    def __post_init__(self) -> None:
        _check_share(self.name, "p", self.p)

    def augment(
        self,
        sentences: Sequence[Sentence],
        *,
        n: int,
        seed: int,
        gazetteer: Gazetteer | None = None,
        on_progress: ProgressFn | None = None,
    ) -> list[Synthetic]:
        """See :meth:`Augmenter.augment`; the token distributions come from ``sentences`` (no gazetteer)."""
        _check_n(n, seed)
        eligible = _eligible(sentences, entities_only=self.entity_sentences_only)
        keys = {index: self._keys(_tags(sentences[index], index)) for index, s in enumerate(sentences) if s.tokens}
        counts: dict[str, Counter[str]] = {}
        for index, tags in keys.items():
            for token, key in zip(normalize_tokens(sentences[index].tokens), tags, strict=True):
                counts.setdefault(key, Counter())[token] += 1
        pools = {key: _Pool.of(dict(sorted(c.items())), weighted=True) for key, c in sorted(counts.items())}

        def make(attempts: Sequence[Attempt]) -> list[Variant | None]:
            return [self._variant(sentences[index], keys[index], pools, rng) for index, rng in attempts]

        return _drive(self.name, sentences, eligible, make, n=n, seed=seed, on_progress=on_progress)

    def _keys(self, tags: list[str]) -> list[str]:
        return tags if self.by_tag else [tag.partition("-")[2] or tag for tag in tags]

    def _variant(
        self, sentence: Sentence, keys: list[str], pools: Mapping[str, _Pool[str]], rng: random.Random
    ) -> Variant | None:
        tokens = list(sentence.tokens)  # the tokens not replaced stay exactly as they were
        normal = normalize_tokens(sentence.tokens)
        replaceable = [i for i, key in enumerate(keys) if any(t != normal[i] for t in pools[key].items)]
        changes = []
        for i in _pick(rng, replaceable, self.p):
            other = pools[keys[i]].draw(rng, normal[i])
            if other is not None:
                changes.append(_change(keys[i], [normal[i]], [other]))
                tokens[i] = other
        if not changes:
            return None
        return Sentence(tuple(tokens), sort_spans(sentence.spans), lang=sentence.lang), _join(changes)


def _segments(sentence: Sentence) -> list[tuple[int, int, str]]:
    """``(start, end, label)`` of each entity and each maximal run of ``O`` tokens, in order.

    >>> _segments(Sentence(("a", "b", "Ada", "Obi", "Bo", "c"), (Span(2, 4, "PER"), Span(4, 5, "PER"))))
    [(0, 2, 'O'), (2, 4, 'PER'), (4, 5, 'PER'), (5, 6, 'O')]
    """
    segments = []
    cursor = 0
    for span in sort_spans(sentence.spans):
        if span.start > cursor:
            segments.append((cursor, span.start, OUTSIDE))
        segments.append((span.start, span.end, span.label))
        cursor = span.end
    if cursor < len(sentence.tokens):
        segments.append((cursor, len(sentence.tokens), OUTSIDE))
    return segments


@AUGMENTERS.register("segment_shuffle")
@dataclass
class SegmentShuffle:
    """Options:

    p: chance that each segment (an entity, or a run of ``O`` tokens) is shuffled (at least one per sentence is).
    entity_sentences_only: augment only sentences with entities.
    """

    name: ClassVar[str] = "segment_shuffle"
    p: float = 0.5
    entity_sentences_only: bool = True

    def __post_init__(self) -> None:
        _check_share(self.name, "p", self.p)

    def augment(
        self,
        sentences: Sequence[Sentence],
        *,
        n: int,
        seed: int,
        gazetteer: Gazetteer | None = None,
        on_progress: ProgressFn | None = None,
    ) -> list[Synthetic]:
        """See :meth:`Augmenter.augment` (no gazetteer needed); a segment of one repeated token never counts."""
        _check_n(n, seed)
        eligible = _eligible(sentences, entities_only=self.entity_sentences_only)

        def make(attempts: Sequence[Attempt]) -> list[Variant | None]:
            return [self._variant(sentences[index], rng) for index, rng in attempts]

        return _drive(self.name, sentences, eligible, make, n=n, seed=seed, on_progress=on_progress)

    def _variant(self, sentence: Sentence, rng: random.Random) -> Variant | None:
        tokens = list(sentence.tokens)
        movable = [s for s in _segments(sentence) if len(set(tokens[s[0] : s[1]])) > 1]
        changes = []
        for start, end, label in _pick(rng, movable, self.p):
            before = tokens[start:end]
            after = list(before)
            for _ in range(TRIES):
                rng.shuffle(after)
                if after != before:
                    break
            if after != before:
                tokens[start:end] = after
                changes.append(_change(label, before, after))
        if not changes:
            return None
        return Sentence(tuple(tokens), sort_spans(sentence.spans), lang=sentence.lang), _join(changes)
