"""EasyProject's marker-based label projection (Chen et al., Findings of ACL 2023; method notes §4), pure parts.

The entities of a source sentence are put between markers (``[ Barack Obama ] visited [ Lagos ]``), a translation
model fine-tuned to keep markers translates the marked text, and the spans between the markers of the translation
are the projected entities. Markers carry no label, so each marked span gets the label of the source entity it
matches best by fuzzy string similarity, with the entity's own translation when one is given (EasyProject
translates each entity alone for this) and the source text itself (names are often copied); a one-to-one
assignment maximises the total similarity, and when the translation has as many marked spans as the source has
entities, the spans that resemble no entity take the entities left, in order (EasyProject's own order rule).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from xner.text import detokenize, normalize, tokenize
from xner.types import Span

OPEN, CLOSE = "[", "]"
# what marker models write instead of the ASCII brackets now and then (EasyProject's decoder maps them too)
_VARIANTS = str.maketrans({"《": "[", "》": "]", "【": "[", "】": "]", "［": "[", "］": "]"})
_DOUBLED = re.compile(r"\[\s*\[|\]\s*\]")
_MARKER = re.compile(r"([\[\]])")
_LITERAL = str.maketrans("[]", "()")  # square brackets in the text itself would read as markers
ORDER_BONUS = 0.05  # breaks ties between equally similar entities in favour of the one in the same position


def mark(tokens: Sequence[str], spans: Sequence[Span]) -> str:
    """The sentence as running text with ``[ ... ]`` around each entity (square brackets of the text itself become
    round ones, so that only the markers are square).

    >>> mark(["Obama", "visited", "Lagos", "[", "sic", "]", "."], [Span(0, 1, "PER"), Span(2, 3, "LOC")])
    '[ Obama ] visited [ Lagos ] (sic).'
    """
    tokens = [token.translate(_LITERAL) for token in tokens]
    parts: list[str] = []
    position = 0
    for span in sorted(spans):
        if span.start > position:
            parts.append(detokenize(tokens[position : span.start]))
        parts.append(f"{OPEN} {detokenize(tokens[span.start : span.end])} {CLOSE}")
        position = span.end
    tail = detokenize(tokens[position:])
    text = " ".join(parts)
    if tail:
        text = text + ("" if tail[0] in ".,;:!?" else " ") + tail if text else tail
    return text


@dataclass(frozen=True)
class Marked:
    """A translation read back: its tokens (markers removed) and the token spans that were between markers."""

    tokens: tuple[str, ...]
    spans: tuple[tuple[int, int], ...]

    def text(self, index: int) -> str:
        start, end = self.spans[index]
        return " ".join(self.tokens[start:end])


def read_marked(text: str) -> Marked:
    """Tokens and marked spans of a translation; unbalanced or empty markers are dropped, a nested ``[`` restarts.

    >>> read_marked("[Obama] a ṣabẹwo si [ Èkó ] .")
    Marked(tokens=('Obama', 'a', 'ṣabẹwo', 'si', 'Èkó', '.'), spans=((0, 1), (4, 5)))
    """
    text = _DOUBLED.sub(lambda m: m.group(0)[0], normalize(text).translate(_VARIANTS))
    tokens: list[str] = []
    spans: list[tuple[int, int]] = []
    opened: int | None = None
    for part in _MARKER.split(text):
        if part == OPEN:
            opened = len(tokens)
        elif part == CLOSE:
            if opened is not None and len(tokens) > opened:
                spans.append((opened, len(tokens)))
            opened = None
        else:
            tokens.extend(tokenize(part))
    return Marked(tuple(tokens), tuple(spans))


def strip_markers(text: str) -> str:
    """The translation without its markers.

    >>> strip_markers("[Obama] a ṣabẹwo si [ Èkó ] .")
    'Obama a ṣabẹwo si Èkó .'
    """
    return " ".join(_MARKER.sub(" ", text.translate(_VARIANTS)).split())


def similarity(a: str, b: str) -> float:
    """Fuzzy string similarity in [0, 1] (difflib's ratio, case-insensitive, spaces ignored)."""
    a, b = a.casefold().replace(" ", ""), b.casefold().replace(" ", "")
    if not a or not b:
        return 0.0
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


def recover_labels(
    marked: Sequence[str],
    entities: Sequence[str],
    translations: Sequence[str] | None = None,
    *,
    min_similarity: float = 0.5,
) -> list[tuple[int, float] | None]:
    """For each marked span's text, ``(index of its source entity, similarity)``, or None when it matches none.

    Args:
        marked: the texts between the markers of the translation, in order.
        entities: the source entities' texts, in sentence order.
        translations: each entity translated alone (same order), or None.
        min_similarity: a span matched to an entity less similar than this keeps it only by the order rule.
    """
    if not marked or not entities:
        return [None] * len(marked)
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    scores = np.array(
        [
            [
                max(similarity(span, entity), similarity(span, translations[k]) if translations else 0.0)
                for k, entity in enumerate(entities)
            ]
            for span in marked
        ]
    )
    same_count = len(marked) == len(entities)
    bonus = np.eye(len(marked), len(entities)) * ORDER_BONUS if same_count else 0.0
    rows, cols = linear_sum_assignment(scores + bonus, maximize=True)
    result: list[tuple[int, float] | None] = [None] * len(marked)
    for i, k in zip(rows, cols, strict=True):
        if scores[i, k] >= min_similarity:
            result[i] = (int(k), float(scores[i, k]))
    unresolved = [i for i, found in enumerate(result) if found is None]
    if same_count:  # the order rule for the rest: the k-th unresolved span takes the k-th unused entity
        used = {found[0] for found in result if found is not None}
        for i, k in zip(unresolved, [k for k in range(len(entities)) if k not in used], strict=True):
            result[i] = (k, float(scores[i, k]))
        return result
    for i in unresolved:  # more or fewer spans than entities: the best entity, if close enough
        k = int(scores[i].argmax())
        if scores[i, k] >= min_similarity:
            result[i] = (k, float(scores[i, k]))
    return result


def find_in(tokens: Sequence[str], text: str, *, slack: int = 2) -> list[tuple[float, int, int]]:
    """``(similarity, start, end)`` of each n-gram of ``tokens`` that could be ``text`` (lengths within ``slack``
    tokens of its own), best first."""
    wanted = len(tokenize(text)) or 1
    found = []
    for length in range(max(1, wanted - slack), wanted + slack + 1):
        for start in range(len(tokens) - length + 1):
            score = similarity(text, " ".join(tokens[start : start + length]))
            if score > 0:
                found.append((score, start, start + length))
    return sorted(found, key=lambda item: (-item[0], item[1], item[2] - item[1]))
