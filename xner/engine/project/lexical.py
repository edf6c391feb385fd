"""Lexical links: entity tokens linked to target tokens spelled alike (names, numbers, acronyms, cognates).

Names are often copied across languages (``Hicks`` ↔ ``Hicks``, ``ISO 9002``, ``Prodi``) or change only their
ending (``Europe`` ↔ ``Europas``), and statistical aligners miss rare words: a projection method can add these
links to the aligner's. Tokens are compared lowercased and without diacritics (so Yoruba ``Ọ̀yọ́`` matches
``Oyo``), on their whole form, or on their first ``prefix`` characters when both are at least that long.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache

from xner.engine.project.base import is_punctuation
from xner.types import Link


@lru_cache(maxsize=65536)
def fold(token: str) -> str:
    """Lowercase, without diacritics: the form tokens are compared in.

    >>> fold("Ọ̀yọ́"), fold("Müller")
    ('oyo', 'muller')
    """
    decomposed = unicodedata.normalize("NFD", token.lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def lexical_links(
    src_tokens: Sequence[str],
    src_ids: Iterable[int],
    tgt_tokens: Sequence[str],
    *,
    prefix: int = 4,
    min_length: int = 2,
) -> set[Link]:
    """Links from the source tokens at ``src_ids`` to target tokens with the same folded form or ``prefix``.

    Tokens shorter than ``min_length`` and punctuation are never linked; a token shorter than ``prefix`` only
    matches exactly (so ``de`` or ``EU`` do not match every word starting with them).

    >>> sorted(lexical_links(["Mr", "Hicks", "of", "Europe"], [1, 3], ["Herr", "Hicks", "aus", "Europas"]))
    [(1, 1), (3, 3)]
    """
    wanted = [(i, form) for i in src_ids if _comparable(form := fold(src_tokens[i]), src_tokens[i], min_length)]
    if not wanted:
        return set()
    # the source forms, by what a target form must equal: its first ``prefix`` letters (long forms) or all of it
    by_key: dict[str, list[int]] = {}
    for i, form in wanted:
        by_key.setdefault(form[:prefix] if prefix and len(form) >= prefix else form, []).append(i)
    links: set[Link] = set()
    for j, token in enumerate(tgt_tokens):
        form = fold(token)
        # a long target form meets long source forms on its prefix; a short one only equal (short) forms
        sources = by_key.get(form[:prefix] if prefix and len(form) >= prefix else form)
        if sources and _comparable(form, token, min_length):
            links.update((i, j) for i in sources)
    return links


def _comparable(form: str, token: str, min_length: int) -> bool:
    return len(form) >= min_length and not is_punctuation(token, "unicode")
