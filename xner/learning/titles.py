"""Titled copies of person mentions: training data for an English source tagger that meets "Mr Evans".

CoNLL-2003 English (Reuters news) names people by full name and almost never by title (11 "Mr"/"Mrs" in 14k
sentences), while parliamentary, legal and much other English says "Mr Evans", "Mrs Lynne" (66 of the 84 person
mentions of the Europarl English NER gold follow "Mr"/"Mrs"). A CRF trained on CoNLL alone learns nothing from a
preceding title; :func:`titled_copies` adds, for each sentence with person mentions, a copy in which every person
mention is a title and the mention's last token ("John Smith said" → "Mr Smith said").

>>> from xner.types import Span
>>> source = Sentence(("John", "Smith", "met", "Ada", "Obi", "."), (Span(0, 2, "PER"), Span(3, 5, "PER")))
>>> [(" ".join(s.tokens), s.spans) for s in titled_copies([source], seed=1)]
[('Mrs Smith met Mr Obi .', (Span(start=1, end=2, label='PER'), Span(start=4, end=5, label='PER')))]
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from xner.types import Sentence, Span

TITLES = ("Mr", "Mrs", "Ms", "Mr", "Mr")  # drawn uniformly: "Mr" three times as often, as in Europarl
PERSON = "PER"


def titled_copies(sentences: Sequence[Sentence], *, seed: int = 0, label: str = PERSON) -> list[Sentence]:
    """A copy of each sentence that has ``label`` mentions, every such mention written as a title and its last
    token (the title outside the span); mentions already after a title keep their form. Same seed, same copies.

    Args:
        sentences: labelled sentences.
        seed: seeds the choice of titles.
        label: the person label.

    Returns:
        The copies, in the order of their sources (sentences without a person mention give none).
    """
    rng = random.Random(seed)
    copies = []
    for sentence in sentences:
        if not any(span.label == label for span in sentence.spans):
            continue
        tokens: list[str] = []
        spans: list[Span] = []
        position = 0
        for span in sentence.spans:
            tokens += sentence.tokens[position : span.start]
            titled = span.label == label and not (span.start and sentence.tokens[span.start - 1] in TITLES)
            if titled:
                tokens.append(rng.choice(TITLES))
                spans.append(Span(len(tokens), len(tokens) + 1, label))
                tokens.append(sentence.tokens[span.end - 1])
            else:
                spans.append(Span(len(tokens), len(tokens) + span.end - span.start, span.label))
                tokens += sentence.tokens[span.start : span.end]
            position = span.end
        tokens += sentence.tokens[position:]
        copies.append(Sentence(tuple(tokens), tuple(spans), lang=sentence.lang))
    return copies
