"""Token features for sequence taggers: the standard CoNLL set, computed once per distinct word.

A token's own features (lowercased word, prefixes and suffixes, shape, case and digit flags) and the features it
lends to its neighbours depend on the word alone, so both are cached by word; a sentence's feature lists are then
mostly concatenations of cached tuples. This is the hot path of training and tagging.

>>> sentence_features(["Ada", "sang"], window=1, affixes=2)[0]
['b', 'w=ada', 'p1=a', 's1=a', 'p2=ad', 's2=da', 'sh=Xx', 't', 'BOS', '-1:BOS', '+1:w=sang', '+1:sh=x']
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from functools import lru_cache

_CACHE = 1 << 17  # distinct words kept; CoNLL-2003 train has about 24k


def word_shape(word: str) -> str:
    """Upper letters as ``X``, lower as ``x``, digits as ``d``, other characters kept; runs collapsed.

    >>> word_shape("McDonald's"), word_shape("1996-08-22"), word_shape("U.S.")
    ("XxXx'x", 'd-d-d', 'X.X.')
    """
    shape: list[str] = []
    for char in word:
        if char.isupper():
            kind = "X"
        elif char.isalpha():
            kind = "x"
        elif char.isdigit():
            kind = "d"
        else:
            kind = char
        if not shape or shape[-1] != kind:
            shape.append(kind)
    return "".join(shape)


def _is_punctuation(word: str) -> bool:
    return all(unicodedata.category(char)[0] in "PS" for char in word)


@lru_cache(maxsize=_CACHE)
def word_features(word: str, affixes: int) -> tuple[str, ...]:
    """The features of a token that depend on its word only (prefixes and suffixes up to ``affixes`` letters)."""
    lower = word.lower()
    features = ["b", f"w={lower}"]
    for n in range(1, min(affixes, len(lower)) + 1):
        features += (f"p{n}={lower[:n]}", f"s{n}={lower[-n:]}")
    features.append(f"sh={word_shape(word)}")
    if word.istitle():
        features.append("t")
    if word.isupper():
        features.append("u")
    if word.isdigit():
        features.append("d")
    elif any(char.isdigit() for char in word):
        features.append("hd")
    if "-" in word and len(word) > 1:
        features.append("hy")
    if _is_punctuation(word):
        features.append("pu")
    return tuple(features)


@lru_cache(maxsize=_CACHE)
def neighbour_features(word: str, offset: int) -> tuple[str, ...]:
    """What a token tells the token ``offset`` positions away from it: its word, shape and case."""
    prefix = f"{offset:+d}:"
    features = [f"{prefix}w={word.lower()}", f"{prefix}sh={word_shape(word)}"]
    if word.istitle():
        features.append(f"{prefix}t")
    if word.isupper():
        features.append(f"{prefix}u")
    return tuple(features)


def sentence_features(tokens: Sequence[str], *, window: int = 2, affixes: int = 3) -> list[list[str]]:
    """One feature list per token: its own features, those of its neighbours within ``window``, BOS/EOS marks.

    Args:
        tokens: the sentence's tokens (already normalised).
        window: how many tokens on each side contribute features (0: none).
        affixes: longest prefix and suffix, in letters.

    Returns:
        A list of feature strings per token (each feature's value is 1), as python-crfsuite takes them.
    """
    n = len(tokens)
    result = []
    for i, word in enumerate(tokens):
        features = list(word_features(word, affixes))
        if i == 0:
            features.append("BOS")
        if i == n - 1:
            features.append("EOS")
        for offset in range(-window, window + 1):
            j = i + offset
            if offset == 0:
                continue
            if 0 <= j < n:
                features += neighbour_features(tokens[j], offset)
            elif j == -1 or j == n:  # one mark per side is enough: further out adds nothing
                features.append(f"{offset:+d}:{'BOS' if j < 0 else 'EOS'}")
        result.append(features)
    return result
