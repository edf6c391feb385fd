"""Words to sub-token windows for token classification: the tag set, the model inputs of whole-word runs that fit
the model's length (a long sentence becomes several consecutive windows), and each sub-token's training label.
Pure code over any Hugging Face tokenizer (passed in); used by :mod:`xner.learning.transformer`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from xner.errors import XnerError
from xner.schemes import OUTSIDE

IGNORE = -100  # the label torch's cross-entropy skips


def iob2_tags(labels: Sequence[str]) -> list[str]:
    """The tag set of entity ``labels``: ``O``, then ``B-`` and ``I-`` of each label, in the given order.

    >>> iob2_tags(["LOC", "PER"])
    ['O', 'B-LOC', 'I-LOC', 'B-PER', 'I-PER']
    """
    return [OUTSIDE] + [f"{prefix}-{label}" for label in labels for prefix in ("B", "I")]


@dataclass(frozen=True)
class Window:
    """One model input: a run of whole words of sentence ``sentence``, as sub-token ids with special tokens.

    ``words[i]`` is the sentence-level index of the word sub-token ``i`` belongs to (-1 for special tokens), and
    ``first[i]`` tells whether it is that word's first sub-token.
    """

    sentence: int
    input_ids: tuple[int, ...]
    words: tuple[int, ...]
    first: tuple[bool, ...]


def special_ids(tokenizer: Any) -> tuple[list[int], list[int]]:
    """The special token ids the tokenizer puts before and after a sentence (``[CLS]`` / ``[SEP]``, ``<s>`` /
    ``</s>``), read from the encoding of one word."""
    encoding = tokenizer([["a"]], is_split_into_words=True, add_special_tokens=True)
    ids, words = encoding["input_ids"][0], encoding.word_ids(0)
    inside = [i for i, word in enumerate(words) if word is not None]
    if not inside:  # pragma: no cover - a tokenizer that drops "a"
        raise XnerError("the model's tokenizer gives no sub-token for the word 'a': cannot find its special tokens")
    return list(ids[: inside[0]]), list(ids[inside[-1] + 1 :])


def sentences_to_windows(tokenizer: Any, sentences: Sequence[Sequence[str]], limit: int) -> list[Window]:
    """The model inputs of ``sentences``: one window per sentence, or several consecutive ones for a sentence
    whose sub-tokens do not fit in ``limit`` ids (special tokens included). Empty sentences and words without
    sub-tokens get no place in any window.

    Raises:
        XnerError: ``limit`` leaves no room for a sub-token beside the special tokens.
    """
    prefix, suffix = special_ids(tokenizer)
    budget = limit - len(prefix) - len(suffix)
    if budget < 1:
        raise XnerError(
            f"max_length {limit} leaves no room beside the model's {len(prefix) + len(suffix)} special tokens"
        )
    indices = [i for i, words in enumerate(sentences) if words]
    if not indices:
        return []
    encoded = tokenizer([list(sentences[i]) for i in indices], is_split_into_words=True, add_special_tokens=False)
    windows: list[Window] = []

    def close(sentence: int, ids: list[int], words: list[int], first: list[bool]) -> None:
        if ids:
            outside = [-1] * len(prefix), [-1] * len(suffix)
            windows.append(
                Window(
                    sentence,
                    input_ids=(*prefix, *ids, *suffix),
                    words=(*outside[0], *words, *outside[1]),
                    first=(*[False] * len(prefix), *first, *[False] * len(suffix)),
                )
            )

    for row, sentence in enumerate(indices):
        pieces: list[list[int]] = [[] for _ in sentences[sentence]]
        for piece, word in zip(encoded["input_ids"][row], encoded.word_ids(row), strict=True):
            if word is not None:
                pieces[word].append(piece)
        ids: list[int] = []
        words: list[int] = []
        first: list[bool] = []
        for word, word_pieces in enumerate(pieces):
            kept = word_pieces[:budget]
            if not kept:
                continue
            if len(ids) + len(kept) > budget:
                close(sentence, ids, words, first)
                ids, words, first = [], [], []
            ids += kept
            words += [word] * len(kept)
            first += [True] + [False] * (len(kept) - 1)
        close(sentence, ids, words, first)
    return windows


def window_labels(
    window: Window, tags: Sequence[str], tag_ids: dict[str, int], *, first_subtoken_only: bool = True
) -> list[int]:
    """The training label of each sub-token of ``window``: the id of its word's tag (``tags`` has one per word of
    the sentence), or -100 (ignored by the loss) for special tokens and, with ``first_subtoken_only``, for the
    sub-tokens after a word's first."""
    return [
        tag_ids[tags[word]] if word >= 0 and (first or not first_subtoken_only) else IGNORE
        for word, first in zip(window.words, window.first, strict=True)
    ]
