"""The translator interface: sentences in one language in, their translations out, in order.

Translators are registered by name in :data:`TRANSLATORS`; their dataclass fields are their options (like the
aligners'). Languages are given as any code :func:`xner.engine.translate.codes.to_nllb` understands (ISO 639-1,
ISO 639-3, a WikiANN code or an NLLB code); each translator turns them into what its model expects.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar, Protocol

from xner.options import Registry
from xner.types import ProgressFn

TRANSLATORS: Registry[type[Translator]] = Registry("translator")


class Translator(Protocol):
    """Translates sentences; registered by name in :data:`TRANSLATORS`, its dataclass fields are its options."""

    name: ClassVar[str]

    def translate(
        self, texts: Sequence[str], *, src_lang: str, tgt_lang: str, on_progress: ProgressFn | None = None
    ) -> list[str]:
        """The translation of each text, in order (an empty text translates to an empty text)."""
        ...


def length_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Indices grouped into batches of ``batch_size`` by length, longest first: little padding, and a batch that
    runs out of memory does so at once rather than near the end.

    >>> length_batches([3, 9, 1, 7], 2)
    [[1, 3], [0, 2]]
    """
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    return [order[first : first + batch_size] for first in range(0, len(order), batch_size)]


def translate_batched(
    texts: Sequence[str],
    lengths: Sequence[int],
    batch_size: int,
    translate_batch: Callable[[list[str]], list[str]],
    on_progress: ProgressFn | None = None,
) -> list[str]:
    """``translate_batch`` over length-bucketed batches of the non-empty ``texts``; results in input order.

    ``lengths`` are the texts' lengths in the model's units (subwords), used only to group similar lengths.
    """
    result = [""] * len(texts)
    wanted = [i for i, text in enumerate(texts) if text.strip()]
    done = len(texts) - len(wanted)
    if on_progress:
        on_progress(done, len(texts))
    for batch in length_batches([lengths[i] for i in wanted], batch_size):
        indices = [wanted[k] for k in batch]
        for index, translation in zip(indices, translate_batch([texts[i] for i in indices]), strict=True):
            result[index] = translation
        done += len(indices)
        if on_progress:
            on_progress(done, len(texts))
    return result
