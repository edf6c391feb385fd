"""Quality measures: word-alignment precision / recall / F1 / AER, and entity-span precision / recall / F1.

Span scores count exact matches of (start, end, label), micro-averaged over all entities and also per label; on
IOB2 tags this equals seqeval's entity-level scores (a test checks that on real data).
Alignment scores follow Och & Ney (2003): with sure links S, possible links P ⊇ S and predicted links A,
precision = |A ∩ P| / |A|, recall = |A ∩ S| / |S|, AER = 1 − (|A ∩ S| + |A ∩ P|) / (|A| + |S|).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from xner.types import Alignment, Span


def _ratio(num: float, den: float) -> float:
    return num / den if den else 0.0


def _f1(precision: float, recall: float) -> float:
    return _ratio(2 * precision * recall, precision + recall)


@dataclass
class AlignmentScores:
    """Counts and scores of predicted links against gold sure/possible links, summed over a corpus."""

    predicted: int = 0
    sure: int = 0
    hit_sure: int = 0  # |A ∩ S|
    hit_possible: int = 0  # |A ∩ P|, P including S

    def add(self, predicted: Iterable[tuple[int, int]], gold: Alignment) -> None:
        links = set(predicted)
        self.predicted += len(links)
        self.sure += len(gold.sure)
        self.hit_sure += len(links & gold.sure)
        self.hit_possible += len(links & gold.links)

    @property
    def precision(self) -> float:
        return _ratio(self.hit_possible, self.predicted)

    @property
    def recall(self) -> float:
        return _ratio(self.hit_sure, self.sure)

    @property
    def f1(self) -> float:
        return _f1(self.precision, self.recall)

    @property
    def aer(self) -> float:
        return 1.0 - _ratio(self.hit_sure + self.hit_possible, self.predicted + self.sure)

    def as_dict(self) -> dict[str, float]:
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "aer": round(self.aer, 4),
            "predicted_links": self.predicted,
            "gold_sure_links": self.sure,
        }


def score_alignments(predicted: Iterable[Iterable[tuple[int, int]]], gold: Iterable[Alignment]) -> AlignmentScores:
    """Corpus-level alignment scores of ``predicted`` against ``gold`` (pair by pair, in order).

    >>> gold = [Alignment(sure=frozenset({(0, 0), (1, 1)}), possible=frozenset({(1, 2)}))]
    >>> s = score_alignments([{(0, 0), (1, 2)}], gold)
    >>> (s.precision, s.recall, round(s.aer, 3))
    (1.0, 0.5, 0.25)
    """
    scores = AlignmentScores()
    for links, reference in zip(predicted, gold, strict=True):
        scores.add(links, reference)
    return scores


@dataclass
class SpanScores:
    """Entity-level true positives, false positives and false negatives, per label."""

    tp: Counter[str] = field(default_factory=Counter)
    fp: Counter[str] = field(default_factory=Counter)
    fn: Counter[str] = field(default_factory=Counter)

    def add(self, predicted: Iterable[Span], gold: Iterable[Span], labels: Collection[str] | None = None) -> None:
        """Count one sentence; with ``labels``, spans of other labels are ignored on both sides."""
        pred = {s for s in predicted if labels is None or s.label in labels}
        true = {s for s in gold if labels is None or s.label in labels}
        for span in pred & true:
            self.tp[span.label] += 1
        for span in pred - true:
            self.fp[span.label] += 1
        for span in true - pred:
            self.fn[span.label] += 1

    @property
    def labels(self) -> list[str]:
        return sorted(set(self.tp) | set(self.fp) | set(self.fn))

    def precision(self, label: str | None = None) -> float:
        tp, fp = self._counts(label)[:2]
        return _ratio(tp, tp + fp)

    def recall(self, label: str | None = None) -> float:
        tp, _, fn = self._counts(label)
        return _ratio(tp, tp + fn)

    def f1(self, label: str | None = None) -> float:
        return _f1(self.precision(label), self.recall(label))

    def _counts(self, label: str | None) -> tuple[int, int, int]:
        if label is None:
            return sum(self.tp.values()), sum(self.fp.values()), sum(self.fn.values())
        return self.tp[label], self.fp[label], self.fn[label]

    def as_dict(self) -> dict[str, dict[str, float]]:
        """``{"overall": {...}, "PER": {...}, ...}`` with precision, recall, f1 and support (gold count)."""
        rows: dict[str, dict[str, float]] = {}
        for label in [None, *self.labels]:
            tp, _, fn = self._counts(label)
            rows[label or "overall"] = {
                "precision": round(self.precision(label), 4),
                "recall": round(self.recall(label), 4),
                "f1": round(self.f1(label), 4),
                "support": tp + fn,
            }
        return rows


def score_spans(
    predicted: Iterable[Iterable[Span]], gold: Iterable[Iterable[Span]], labels: Collection[str] | None = None
) -> SpanScores:
    """Corpus-level span scores, sentence by sentence (in order).

    >>> s = score_spans([[Span(0, 2, "PER"), Span(3, 4, "LOC")]], [[Span(0, 2, "PER"), Span(3, 5, "LOC")]])
    >>> (s.precision(), s.recall(), s.f1("PER"), s.f1("LOC"))
    (0.5, 0.5, 1.0, 0.0)
    """
    scores = SpanScores()
    for pred, true in zip(predicted, gold, strict=True):
        scores.add(pred, true, labels)
    return scores
