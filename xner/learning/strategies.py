"""Hybrid training strategies: which gold, projected and synthetic sentences a tagger learns from, how much each
counts, and in which order.

A :class:`Strategy` turns the three pools into a :class:`TrainingPlan` of one or more stages (two with a
curriculum: projected first, then gold). Every :class:`Example` carries its origin and a weight; :func:`fit_plan`
trains a tagger on a plan: a tagger that takes weights and continues training across calls gets each stage with
its weights, any other (the CRF) one fit on the union with each example repeated in proportion to its weight.

The pools are core types, so strategies are pure computation: the experiment service reads them from the store.

>>> from xner.types import Span
>>> gold = [Example(Sentence(("Ada", "sang"), (Span(0, 1, "PER"),)), "gold")]
>>> projected = [Example(Sentence(("Bo", "ran"), (Span(0, 1, "PER"),)), "projected", confidence=0.9)] * 4
>>> plan = Strategy(mix="gold+projected", gold_weight="balance").plan(gold, projected, seed=0)
>>> [(e.origin, e.weight) for e in plan.examples][:2]
[('gold', 4.0), ('projected', 1.0)]
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from xner.errors import UnknownNameError, XnerError
from xner.learning.taggers import Tagger
from xner.types import CURATED_STATUSES, ProgressFn, Sentence

ExampleOrigin = Literal["gold", "projected", "synthetic", "source"]
MIXES = ("gold", "projected", "synthetic", "gold+projected", "gold+synthetic", "gold+projected+synthetic")
MAX_REPEATS = 50  # weight → repetitions for taggers without weights: a cap keeps a tiny weight ratio from exploding

# (sentences, n, seed, names) -> synthetic sentences; names: the sentences whose mentions may be swapped in
Augment = Callable[[Sequence[Sentence], int, int, Sequence[Sentence]], list[Sentence]]
SYNTHETIC_NAMES = ("gold", "projected")
# with domain features, tag with the copies of the first of these the plan has: target-language text, best first
TARGET_DOMAINS = ("gold", "projected")


@dataclass(frozen=True, slots=True)
class Example:
    """A training sentence with where it comes from and how much it counts.

    Attributes:
        sentence: tokens and entity spans.
        origin: ``gold`` (a reviewed target sentence of the gold corpus), ``projected``, ``synthetic`` or
            ``source`` (a labelled sentence of the source language, e.g. the English corpus the projection used).
        weight: the example's share of the loss (or of the repetitions, for taggers without weights).
        confidence: the projection's confidence (projected examples), else None.
        status: review status of a projected sentence (``unreviewed``, ``accepted``, ``corrected``).
    """

    sentence: Sentence
    origin: ExampleOrigin
    weight: float = 1.0
    confidence: float | None = None
    status: str | None = None


@dataclass(frozen=True)
class TrainingPlan:
    """The stages of a training, each a list of examples trained in turn; ``domain_features``: train with a feature
    copy per origin where the tagger can (see :attr:`Strategy.domain_features`)."""

    stages: tuple[tuple[Example, ...], ...]
    domain_features: bool = False

    @property
    def examples(self) -> list[Example]:
        return [example for stage in self.stages for example in stage]

    def sizes(self) -> dict[str, Any]:
        """Sentences and weight per origin, and the number of stages (stored with each run)."""
        sizes: dict[str, Any] = {"stages": len(self.stages)}
        for example in self.examples:
            row = sizes.setdefault(example.origin, {"sentences": 0, "weight": 0.0})
            row["sentences"] += 1
            row["weight"] = round(row["weight"] + example.weight, 4)
        return sizes


@dataclass(frozen=True)
class Strategy:
    """How to mix gold, projected and synthetic sentences (each field is an option of ``xner experiment``).

    Attributes:
        mix: which pools are used, one of :data:`MIXES`.
        projected_min_confidence: keep projected sentences whose (least) projection confidence is at least this.
        projected_empty_share: projected sentences without any entity, as a share of those with entities (0: none;
            they teach ``O`` but many of them are entities the projection missed).
        projected_ratio: at most this many projected sentences per gold sentence (None: all); with no gold
            sentence, all selected ones.
        gold_weight: weight of each gold sentence, or ``balance``: gold and projected (+synthetic) weigh the same in
            total, so a few hundred gold sentences are not swamped by thousands of projected ones.
        reviewed_weight: weight of projected sentences a reviewer accepted or corrected (unreviewed weigh 1).
        confidence_weighting: multiply each projected sentence's weight by its confidence.
        curriculum: train on projected (+synthetic) sentences first, then continue on gold (taggers that continue
            training only; a CRF trains on the union).
        synthetic_per_gold: synthetic sentences made per gold sentence (from gold; from projected when no gold).
        synthetic_weight: weight of each synthetic sentence.
        synthetic_names: where mention replacement takes its names from: ``gold`` (the sentences it augments) or
            ``projected`` (the selected projected sentences as well, even when the mix does not train on them:
            gold contexts, projected names).
        source_sentences: add this many labelled source-language sentences with entities (0: none), drawn with
            the run's seed from the pool's source corpus; they weigh 1.
        domain_features: train with a copy of every feature per origin (Daumé III 2007) and tag with the gold
            copies, for taggers that support it (the CRF); other taggers ignore it. This is what lets noisy
            projected and foreign source data help instead of drowning the few gold sentences (docs/study).
    """

    mix: str = "gold"
    projected_min_confidence: float = 0.0
    projected_empty_share: float = 0.0
    projected_ratio: float | None = None
    gold_weight: float | Literal["balance"] = 1.0
    reviewed_weight: float = 2.0
    confidence_weighting: bool = False
    curriculum: bool = False
    synthetic_per_gold: float = 1.0
    synthetic_weight: float = 1.0
    synthetic_names: str = "gold"
    source_sentences: int = 0
    domain_features: bool = False

    def __post_init__(self) -> None:
        if self.mix not in MIXES:
            raise UnknownNameError("strategy mix", self.mix, MIXES)
        if not 0.0 <= self.projected_min_confidence <= 1.0:
            raise XnerError("projected_min_confidence must be within [0, 1]")
        for name in (
            "projected_empty_share",
            "reviewed_weight",
            "synthetic_per_gold",
            "synthetic_weight",
            "source_sentences",
        ):
            if getattr(self, name) < 0:
                raise XnerError(f"strategy option {name} must not be negative, got {getattr(self, name)!r}")
        if self.synthetic_names not in SYNTHETIC_NAMES:
            raise XnerError(
                f"synthetic_names must be one of {', '.join(SYNTHETIC_NAMES)}, got {self.synthetic_names!r}"
            )
        if self.projected_ratio is not None and self.projected_ratio <= 0:
            raise XnerError("projected_ratio must be positive (or None for all projected sentences)")
        if self.gold_weight != "balance" and (not isinstance(self.gold_weight, int | float) or self.gold_weight <= 0):
            raise XnerError(f"gold_weight must be a positive number or 'balance', got {self.gold_weight!r}")

    @property
    def uses(self) -> set[str]:
        return set(self.mix.split("+"))

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> Strategy:
        """A strategy from a config mapping; an unknown option is an error naming the known ones."""
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(options) - known)
        if unknown:
            raise UnknownNameError("strategy option", ", ".join(unknown), known)
        values = dict(options)
        if values.get("gold_weight") not in (None, "balance"):
            values["gold_weight"] = float(values["gold_weight"])
        return cls(**values)

    def plan(
        self,
        gold: Sequence[Example],
        projected: Sequence[Example],
        *,
        seed: int,
        augment: Augment | None = None,
        source: Sequence[Sentence] = (),
    ) -> TrainingPlan:
        """The training plan of this strategy over the pools (``gold`` is the k sampled gold sentences, ``source``
        the labelled source-language sentences to draw ``source_sentences`` from).

        Raises:
            XnerError: the strategy needs synthetic data but no augmenter is given, or the plan is empty.
        """
        rng = random.Random(seed)
        uses = self.uses
        chosen_gold = list(gold) if "gold" in uses else []
        chosen_projected = self.select_projected(projected, len(chosen_gold), rng) if "projected" in uses else []
        synthetic: list[Example] = []
        if "synthetic" in uses:
            if augment is None:
                raise XnerError(f"strategy {self.mix!r} needs an augmenter for its synthetic sentences")
            base = [e.sentence for e in (chosen_gold or chosen_projected or projected)]
            n = round(self.synthetic_per_gold * len(base))
            names = base
            if self.synthetic_names == "projected":  # the selected projected sentences, trained on or not
                pool = chosen_projected if "projected" in uses else self.select_projected(projected, 0, rng)
                names = base + [e.sentence for e in pool]
            synthetic = [Example(s, "synthetic", self.synthetic_weight) for s in augment(base, n, seed, names)]
        extra = chosen_projected + synthetic + self.select_source(source, rng)
        chosen_gold = self._weigh_gold(chosen_gold, extra)
        if not chosen_gold and not extra:
            raise XnerError(f"strategy {self.mix!r} has nothing to train on (no gold and no selected projected data)")
        if self.curriculum and chosen_gold and extra:
            return TrainingPlan((tuple(extra), tuple(chosen_gold)), self.domain_features)
        return TrainingPlan((tuple(chosen_gold + extra),), self.domain_features)

    def select_source(self, source: Sequence[Sentence], rng: random.Random) -> list[Example]:
        """``source_sentences`` source-language sentences with entities, drawn at random."""
        if not self.source_sentences:
            return []
        with_entities = [sentence for sentence in source if sentence.spans]
        if not with_entities:
            raise XnerError("the strategy asks for source_sentences but the pools have no source sentences")
        chosen = rng.sample(with_entities, min(self.source_sentences, len(with_entities)))
        return [Example(sentence, "source") for sentence in chosen]

    def select_projected(self, projected: Sequence[Example], n_gold: int, rng: random.Random) -> list[Example]:
        """The projected examples this strategy keeps, weighted (review status, confidence)."""
        confident = [
            e
            for e in projected
            if e.status in CURATED_STATUSES or (e.confidence or 0.0) >= self.projected_min_confidence
        ]
        with_entities = [e for e in confident if e.sentence.spans]
        empty = [e for e in confident if not e.sentence.spans]
        rng.shuffle(empty)
        kept = with_entities + empty[: round(self.projected_empty_share * len(with_entities))]
        if self.projected_ratio is not None and n_gold:
            limit = round(self.projected_ratio * n_gold)
            if len(kept) > limit:  # the most confident first, reviewed ones before all
                kept.sort(key=lambda e: (e.status not in CURATED_STATUSES, -(e.confidence or 0.0)))
                kept = kept[:limit]
        return [self._weigh_projected(e) for e in kept]

    def _weigh_projected(self, example: Example) -> Example:
        weight = self.reviewed_weight if example.status in CURATED_STATUSES else 1.0
        if self.confidence_weighting and example.confidence is not None:
            weight *= example.confidence
        return replace(example, origin="projected", weight=weight)

    def _weigh_gold(self, gold: list[Example], extra: list[Example]) -> list[Example]:
        if not gold:
            return []
        if self.gold_weight == "balance":
            weight = max(1.0, sum(e.weight for e in extra) / len(gold))
        else:
            weight = float(self.gold_weight)
        return [replace(e, origin="gold", weight=weight) for e in gold]


def takes_weights(tagger: Tagger) -> bool:
    """True when the tagger's ``fit`` takes per-sentence weights and continues training when called again."""
    return bool(getattr(tagger, "continues_training", False))


def repeated(examples: Sequence[Example]) -> list[Sentence]:
    """The examples' sentences, each repeated in proportion to its weight (the smallest positive weight once;
    at most :data:`MAX_REPEATS` times; weight 0 drops it) — weights for taggers that take none.

    >>> from xner.types import Sentence
    >>> a, b = Sentence(("a",)), Sentence(("b",))
    >>> [s.tokens[0] for s in repeated([Example(a, "gold", 3.0), Example(b, "projected", 1.5)])]
    ['a', 'a', 'b']
    """
    return [example.sentence for example in repeated_examples(examples)]


def repeated_examples(examples: Sequence[Example]) -> list[Example]:
    """Like :func:`repeated`, keeping each repetition's example (and so its origin)."""
    positive = [e.weight for e in examples if e.weight > 0]
    if not positive:
        return []
    unit = min(positive)
    result = []
    for example in examples:
        if example.weight > 0:
            result += [example] * min(MAX_REPEATS, max(1, round(example.weight / unit)))
    return result


def fit_plan(tagger: Tagger, plan: TrainingPlan, *, on_progress: ProgressFn | None = None) -> None:
    """Train ``tagger`` on ``plan``: stage by stage with weights when it can, else once on the weighted union."""
    if takes_weights(tagger):
        for stage in plan.stages:
            sentences = [e.sentence for e in stage]
            tagger.fit(sentences, on_progress=on_progress, weights=[e.weight for e in stage])  # type: ignore[call-arg]
        return
    examples = repeated_examples(plan.examples)
    sentences = [e.sentence for e in examples]
    if plan.domain_features and getattr(tagger, "takes_domains", False):
        domains = [e.origin for e in examples]
        target = next((origin for origin in TARGET_DOMAINS if origin in domains), None)
        tagger.fit(sentences, on_progress=on_progress, domains=domains, target_domain=target)  # type: ignore[call-arg]
        return
    tagger.fit(sentences, on_progress=on_progress)
