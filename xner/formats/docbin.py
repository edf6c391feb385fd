"""spaCy's binary training format (``.spacy``): a DocBin with one Doc per sentence, the spans as ``doc.ents``.

This is the file ``spacy train`` reads (``--paths.train train.spacy``). A sentence's tokens become the Doc's words,
each followed by one space except the last; its spans become entities with their labels (half-open token ranges,
as spaCy's ``Span(doc, start, end)`` takes them). spaCy is optional: it is imported when a DocBin is written or read.

>>> import tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "t.spacy")
>>> write_docbin([Sentence(("Ọlá", "sùn", "ní", "Èkó"), (Span(0, 1, "PER"), Span(3, 4, "LOC")))], path)
1
>>> [(s.tokens, s.spans) for s in read_docbin(path)]
[(('Ọlá', 'sùn', 'ní', 'Èkó'), (Span(start=0, end=1, label='PER'), Span(start=3, end=4, label='LOC')))]
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from xner.errors import MissingDependencyError, XnerError
from xner.formats.base import WRITERS, ExportSource
from xner.formats.text import PathLike
from xner.types import Sentence, Span

if TYPE_CHECKING:
    from spacy.tokens import Doc
    from spacy.vocab import Vocab

FEATURE = "the spaCy export (--format spacy)"


def _spacy() -> Any:
    """The ``spacy.tokens`` module, imported on first use; a missing spaCy names the package."""
    try:
        import spacy.tokens
    except ImportError:
        raise MissingDependencyError("spacy", FEATURE) from None
    return spacy.tokens


def sentence_to_doc(sentence: Sentence, vocab: Vocab) -> Doc:
    """A spaCy Doc of ``sentence``: its tokens as words (one space between them), its spans as ``doc.ents``.

    Raises:
        XnerError: spans overlap (spaCy's entities cannot).
    """
    tokens = _spacy()
    words = list(sentence.tokens)
    doc = tokens.Doc(vocab, words=words, spaces=[index < len(words) - 1 for index in range(len(words))])
    try:
        doc.ents = [tokens.Span(doc, span.start, span.end, label=span.label) for span in sentence.spans]
    except ValueError:
        raise XnerError(f"overlapping spans cannot be spaCy entities: {list(sentence.spans)}") from None
    return doc


def doc_to_sentence(doc: Doc) -> Sentence:
    """The tokens and entities of a spaCy Doc as a sentence (spans sorted)."""
    spans = sorted(Span(ent.start, ent.end, ent.label_) for ent in doc.ents)
    return Sentence(tuple(token.text for token in doc), tuple(spans))


def write_docbin(sentences: Iterable[Sentence], path: PathLike) -> int:
    """Write ``sentences`` to ``path`` as one DocBin; returns how many were written.

    Sentences are consumed one at a time, but a DocBin holds every Doc's token attributes in memory (about
    100 bytes a token, plus the distinct strings) until it is compressed and written in one piece at the end:
    a corpus of ten million tokens needs about a gigabyte here. Split larger exports by ``--split``.
    """
    tokens = _spacy()
    from spacy.vocab import Vocab

    vocab = Vocab()
    docbin = tokens.DocBin()
    count = 0
    for sentence in sentences:
        docbin.add(sentence_to_doc(sentence, vocab))
        count += 1
    docbin.to_disk(path)
    return count


@WRITERS.register("spacy")
@dataclass
class DocBinWriter:
    """spaCy export: one DocBin for ``spacy train`` (see :func:`write_docbin` for its memory use)."""

    name: ClassVar[str] = "spacy"
    folder: ClassVar[bool] = False

    def write(self, source: ExportSource, path: Path) -> None:
        write_docbin((sentence for sentence, _ in source.rows()), path)


def read_docbin(path: PathLike) -> Iterator[Sentence]:
    """Yield the sentences of a DocBin file: each Doc's tokens and entities."""
    tokens = _spacy()
    from spacy.vocab import Vocab

    for doc in tokens.DocBin().from_disk(path).get_docs(Vocab()):
        yield doc_to_sentence(doc)
