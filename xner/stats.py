"""Small statistics for review and spot checks: Wilson intervals, sample sizes, Cohen's kappa, span agreement and
disagreement, proportional stratified allocation and the stratified estimate of a proportion.

Pure functions on plain numbers and spans: no database, no files. The services in ``xner.services.review`` and
``xner.services.spotcheck`` call them.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from xner.errors import XnerError
from xner.types import Span

Z95 = 1.959963984540054  # the two-sided 95% quantile of the standard normal


def wilson_bounds(p: float, n: float, *, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of an observed proportion ``p`` over ``n`` trials (``n`` may be fractional).

    >>> [round(x, 3) for x in wilson_bounds(0.5, 100)]
    [0.404, 0.596]
    """
    if n <= 0:
        return 0.0, 1.0
    if not 0.0 <= p <= 1.0:
        raise XnerError(f"a proportion must be in [0, 1], got {p}")
    z2 = z * z
    denominator = 1 + z2 / n
    center = (p + z2 / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator
    return max(0.0, center - half), min(1.0, center + half)


def wilson_interval(successes: int, n: int, *, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval (95% by default) of ``successes`` out of ``n``; ``(0, 1)`` when ``n`` is 0.

    >>> [round(x, 3) for x in wilson_interval(8, 10)]
    [0.49, 0.943]
    >>> [round(x, 3) for x in wilson_interval(0, 10)]
    [0.0, 0.278]
    """
    if n < 0 or not 0 <= successes <= max(n, 0):
        raise XnerError(f"need 0 <= successes <= n, got {successes} of {n}")
    return wilson_bounds(successes / n if n else 0.0, n, z=z)


def wilson_half_width(p: float, n: float, *, z: float = Z95) -> float:
    """Half the width of the Wilson interval of proportion ``p`` over ``n`` trials.

    >>> round(wilson_half_width(0.8, 10), 3)
    0.227
    """
    low, high = wilson_bounds(p, n, z=z)
    return (high - low) / 2


def wilson_sample_size(p: float, half_width: float, *, z: float = Z95) -> int:
    """The fewest trials whose Wilson interval around proportion ``p`` is at most ``±half_width`` wide.

    >>> wilson_sample_size(0.8, 0.05)
    245
    >>> wilson_sample_size(0.5, 0.5)
    0
    """
    if not 0.0 <= p <= 1.0:
        raise XnerError(f"a proportion must be in [0, 1], got {p}")
    if half_width <= 0:
        raise XnerError(f"the target half-width must be positive, got {half_width}")
    if half_width >= 0.5:
        return 0
    low, high = 1, 1
    while wilson_half_width(p, high, z=z) > half_width:
        low, high = high, high * 2
    while low < high:  # the half-width shrinks as n grows: find the first n that is narrow enough
        middle = (low + high) // 2
        if wilson_half_width(p, middle, z=z) > half_width:
            low = middle + 1
        else:
            high = middle
    return high


def cohen_kappa(pairs: Iterable[tuple[Hashable, Hashable]]) -> float:
    """Cohen's kappa of two raters' categorical decisions, one ``(a, b)`` pair per item.

    When both raters used one and the same category throughout (chance agreement 1), kappa is 1.0.

    >>> pairs = [("yes", "yes")] * 20 + [("yes", "no")] * 5 + [("no", "yes")] * 10 + [("no", "no")] * 15
    >>> round(cohen_kappa(pairs), 4)
    0.4
    """
    items = list(pairs)
    if not items:
        raise XnerError("Cohen's kappa needs at least one item decided by both raters")
    n = len(items)
    observed = sum(a == b for a, b in items) / n
    first, second = Counter(a for a, _ in items), Counter(b for _, b in items)
    expected = sum(first[c] * second[c] for c in first) / (n * n)
    if expected >= 1.0:
        return 1.0
    return (observed - expected) / (1 - expected)


def span_f1(first: Iterable[Span], second: Iterable[Span]) -> float:
    """F1 of exact (start, end, label) matches between two span sets (symmetric); 1.0 when both are empty.

    >>> span_f1([Span(0, 2, "PER"), Span(3, 4, "LOC")], [Span(0, 2, "PER")])
    0.6666666666666666
    >>> span_f1([], [])
    1.0
    """
    a, b = set(first), set(second)
    if not a and not b:
        return 1.0
    return 2 * len(a & b) / (len(a) + len(b))


def span_disagreement(versions: Sequence[Iterable[Span]]) -> float:
    """1 − the mean pairwise :func:`span_f1` of several methods' span sets for one sentence; 0 for fewer than two.

    >>> span_disagreement([[Span(0, 1, "PER")], [Span(0, 1, "PER")], [Span(0, 1, "LOC")]])
    0.6666666666666667
    >>> span_disagreement([[Span(0, 1, "PER")]])
    0.0
    """
    sets = [set(spans) for spans in versions]
    pairs = [(a, b) for i, a in enumerate(sets) for b in sets[i + 1 :]]
    if not pairs:
        return 0.0
    return 1.0 - sum(span_f1(a, b) for a, b in pairs) / len(pairs)


def allocate(populations: Mapping[str, int], n: int) -> dict[str, int]:
    """Proportional allocation of ``n`` draws over strata, at least one per non-empty stratum, none beyond a
    stratum's size (largest remainders first, ties by stratum name). The total is ``max(n, non-empty strata)``,
    capped at the whole population.

    >>> allocate({"PER": 50, "LOC": 30, "ORG": 20, "MISC": 0}, 10)
    {'LOC': 3, 'ORG': 2, 'PER': 5}
    >>> allocate({"PER": 97, "LOC": 2, "ORG": 1}, 5)
    {'LOC': 1, 'ORG': 1, 'PER': 3}
    """
    if n < 0:
        raise XnerError(f"the sample size must be >= 0, got {n}")
    sizes = {key: size for key, size in sorted(populations.items()) if size > 0}
    total = sum(sizes.values())
    if not sizes or n == 0:
        return {}
    n = min(n, total)
    quota = {key: n * size / total for key, size in sizes.items()}
    counts = {key: min(size, max(1, math.floor(quota[key]))) for key, size in sizes.items()}
    left = n - sum(counts.values())
    while left > 0:  # give the rest to the strata furthest below their quota that still have room
        open_keys = [key for key in sizes if counts[key] < sizes[key]]
        key = max(open_keys, key=lambda k: quota[k] - counts[k])  # ties: the first by name
        counts[key] += 1
        left -= 1
    while left < 0:  # the one-per-stratum floor overshot: take back from the strata furthest above their quota
        givers = [key for key in sizes if counts[key] > 1]
        if not givers:
            break
        key = max(givers, key=lambda k: counts[k] - quota[k])
        counts[key] -= 1
        left += 1
    return counts


@dataclass(frozen=True, slots=True)
class Proportion:
    """An estimated proportion with its 95% interval and the sample behind it."""

    value: float
    low: float
    high: float
    judged: int
    effective_n: float


def stratified_proportion(strata: Sequence[tuple[int, int, int]], *, z: float = Z95) -> Proportion:
    """The stratified estimate of a proportion from ``(population, judged, successes)`` per stratum.

    Each judged stratum weighs by its population share (strata without judgments are left out and the weights
    renormalised). The interval is Wilson's at the effective sample size ``p(1-p) / var`` with
    ``var = Σ W² p_h (1 - p_h) / n_h`` (no finite-population correction), so one stratum gives exactly its own
    Wilson interval; when the variance is 0 the effective size is the number judged.

    >>> estimate = stratified_proportion([(900, 10, 9), (100, 10, 5)])
    >>> round(estimate.value, 3), [round(x, 3) for x in (estimate.low, estimate.high)]
    (0.86, [0.622, 0.958])
    """
    judged = [(size, n, x) for size, n, x in strata if n > 0]
    for size, n, x in judged:
        if not 0 <= x <= n or size < n:
            raise XnerError(f"need successes <= judged <= population in a stratum, got {x} <= {n} <= {size}")
    total = sum(size for size, _, _ in judged)
    count = sum(n for _, n, _ in judged)
    if not judged or total == 0:
        return Proportion(0.0, 0.0, 1.0, 0, 0.0)
    value = sum(size / total * x / n for size, n, x in judged)
    variance = sum((size / total) ** 2 * (x / n) * (1 - x / n) / n for size, n, x in judged)
    value = min(1.0, max(0.0, value))
    effective = value * (1 - value) / variance if variance > 0 else float(count)
    low, high = wilson_bounds(value, effective, z=z)
    return Proportion(value, low, high, count, effective)
