"""Text normalisation and tokenisation for untokenised input (plain parallel text).

MasakhaNER stores Yoruba diacritics as combining characters while other sources use precomposed ones, so every
side is brought to the same Unicode normal form (NFC by default) before tokens are compared or aligned.
"""

from __future__ import annotations

import re
import unicodedata

NORMAL_FORMS = ("NFC", "NFD", "NFKC", "NFKD", "none")

# A word: letters/digits with their combining marks, joined by inner apostrophes, hyphens, dots or commas
# ("don't", "Jean-Claude", "3.5", "1,000"). Everything else that is not space is a token of its own.
_MARKS = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
_WORD = rf"(?:\w|[{_MARKS}])+"
_TOKEN = re.compile(rf"{_WORD}(?:['’\-.,]{_WORD})*|\S")


def normalize(text: str, form: str = "NFC") -> str:
    """Bring ``text`` to the Unicode normal form ``form`` (``none`` leaves it as it is)."""
    if form == "none" or text.isascii():  # ASCII is in every normal form; the check is much cheaper
        return text
    return unicodedata.normalize(form, text)  # type: ignore[arg-type]


def normalize_tokens(tokens: list[str] | tuple[str, ...], form: str = "NFC") -> tuple[str, ...]:
    """Normalise a sentence's tokens with one call (normal forms never join characters across a newline)."""
    if form == "none":
        return tuple(tokens)
    joined = "\n".join(tokens)
    if joined.isascii():
        return tuple(tokens)
    return tuple(unicodedata.normalize(form, joined).split("\n"))  # type: ignore[arg-type]


def tokenize(text: str, *, pretokenized: bool = False) -> list[str]:
    """Split a sentence into tokens: on whitespace when ``pretokenized``, else words and punctuation apart.

    >>> tokenize("Dr. Adams met Jean-Claude in Lagos, on 3.5 days' notice.")
    ['Dr', '.', 'Adams', 'met', 'Jean-Claude', 'in', 'Lagos', ',', 'on', '3.5', 'days', "'", 'notice', '.']
    """
    if pretokenized:
        return text.split()
    return _TOKEN.findall(text)


_NO_SPACE_BEFORE = frozenset(",.;:!?%)]}»”’…") | {"'s", "'re", "'ve", "'ll", "'d", "'m", "n't", "'S"}
_NO_SPACE_AFTER = frozenset("([{«“‘$£€")


def detokenize(tokens: list[str] | tuple[str, ...]) -> str:
    """Tokens as running text, for a translation model that was trained on untokenised sentences: no space
    before closing punctuation and English clitics, none after opening brackets and currency signs.

    >>> detokenize(["He", "said", "(", "in", "Lagos", ")", "that", "it", "'s", "5", "%", "."])
    "He said (in Lagos) that it's 5%."
    """
    text: list[str] = []
    glue = True  # no space before the first token
    for token in tokens:
        if text and not glue and token not in _NO_SPACE_BEFORE:
            text.append(" ")
        text.append(token)
        glue = token in _NO_SPACE_AFTER
    return "".join(text)
