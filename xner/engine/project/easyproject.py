"""EasyProject as a projection method (Chen et al. 2023; method notes §4): no aligner, a marker-preserving translation.

Each source sentence is translated with its entities between markers (:mod:`xner.engine.translate.markers`); the
marked spans of the translation get their labels by fuzzy matching against the source entities (and, by default,
each entity's own translation). Two uses:

* translate-train (``xner translate --markers``): the translation *is* the new target sentence, and the marked
  spans are its entities (:meth:`EasyProject.translate_marked`);
* onto a given target (``xner project --method easyproject``: a human translation, or the original sentence in the
  translate-test protocol): each labelled marked span is located in the target by fuzzy matching of its text
  against the target's n-grams, best matches first, without overlaps. This is what lets EasyProject be scored
  with ``xner eval projection`` like the alignment-based methods.

The marker models are EasyProject's fine-tuned NLLB-200 checkpoints (``easyproject-1.3b``, ``easyproject-3.3b``);
plain NLLB keeps markers less often, and a model that drops them projects nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

from xner.engine.project.base import PROJECTORS, BatchProjector, SpanTagger
from xner.engine.project.ngram import Scored, greedy_match
from xner.engine.translate import TRANSLATORS, Translator
from xner.engine.translate.markers import Marked, find_in, mark, read_marked, recover_labels
from xner.errors import XnerError
from xner.text import detokenize
from xner.types import Link, ProgressFn, ProjectedSpan, Sentence, Span


@dataclass(frozen=True)
class MarkedTranslation:
    """A source sentence's marked translation, read back, with the source entity (index, similarity) of each span."""

    source: Sentence
    marked: Marked
    labels: tuple[tuple[int, float] | None, ...]

    def projected(self) -> list[ProjectedSpan]:
        """The labelled marked spans as spans of the translation itself (translate-train)."""
        spans = []
        for (start, end), found in zip(self.marked.spans, self.labels, strict=True):
            if found is not None:
                entity = self.source.spans[found[0]]
                spans.append(ProjectedSpan(Span(start, end, entity.label), EasyProject.name, found[1], entity))
        return _without_overlaps(spans)


def _without_overlaps(spans: list[ProjectedSpan]) -> list[ProjectedSpan]:
    kept: list[ProjectedSpan] = []
    for span in sorted(spans, key=lambda s: -s.confidence):
        if not any(span.span.overlaps(other.span) for other in kept):
            kept.append(span)
    return sorted(kept, key=lambda s: s.span)


@PROJECTORS.register("easyproject")
@dataclass
class EasyProject(BatchProjector):
    """Options:

    translator: ``nllb`` (transformers) or ``ctranslate2`` (a converted marker model).
    model: the marker model: ``easyproject-1.3b`` (default), ``easyproject-3.3b``, a hub name in the cache or a
        folder (for ctranslate2, the converted folder).
    device, batch_size, num_beams, max_length: the translator's options.
    entity_translations: also translate each entity alone and match labels against it (EasyProject's way).
    min_similarity: least fuzzy similarity for a label match and for locating a span in a given target.
    slack: a span is looked for among target n-grams up to this many tokens shorter or longer than itself.
    src_lang, tgt_lang: the languages (default: the corpus's).
    """

    name: ClassVar[str] = "easyproject"
    needs_alignment: ClassVar[bool] = False
    needs_languages: ClassVar[bool] = True
    translator: str = "nllb"
    model: str = "easyproject-1.3b"
    device: str = "auto"
    batch_size: int = 16
    num_beams: int = 4
    max_length: int = 256
    entity_translations: bool = True
    min_similarity: float = 0.5
    slack: int = 2
    src_lang: str = ""
    tgt_lang: str = ""
    _engine: Translator | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        TRANSLATORS.lookup(self.translator)  # an unknown name fails now, not at the first translation
        if not 0.0 <= self.min_similarity <= 1.0:
            raise XnerError(f"option min_similarity must be in [0, 1], got {self.min_similarity}")

    def bind(
        self,
        *,
        src_lang: str = "",
        tgt_lang: str = "",
        tagger: SpanTagger | None = None,
        translator: Translator | None = None,
    ) -> Self:
        """The languages where the options leave them empty (the options win), and a ``translator`` to use instead
        of building one from the options (no tagger is used); returns itself."""
        self.src_lang = self.src_lang or src_lang
        self.tgt_lang = self.tgt_lang or tgt_lang
        if translator is not None:
            self._engine = translator
        return self

    def _translator(self) -> Translator:
        if self._engine is None:
            options: dict[str, Any] = {
                "model": self.model,
                "device": self.device,
                "batch_size": self.batch_size,
                "num_beams": self.num_beams,
                "max_length": self.max_length,
            }
            self._engine = TRANSLATORS.create(self.translator, options)
        return self._engine

    def translate_marked(
        self,
        sources: Sequence[Sentence],
        *,
        translations: Sequence[str] | None = None,
        skip_without_entities: bool = False,
        on_progress: ProgressFn | None = None,
    ) -> list[MarkedTranslation]:
        """Translate each source with its entities marked (or read the given marked ``translations``), read the
        spans back and recover their labels."""
        if not (self.src_lang and self.tgt_lang):
            raise XnerError("the easyproject method needs the languages: set src_lang and tgt_lang")
        entity_texts = [[detokenize(s.tokens[e.start : e.end]) for e in s.spans] for s in sources]
        wanted = [bool(s.spans) or not skip_without_entities for s in sources]
        texts = [mark(s.tokens, s.spans) if keep else "" for s, keep in zip(sources, wanted, strict=True)]
        alone: list[str] = [text for entities in entity_texts for text in entities] if self.entity_translations else []
        if translations is None:
            outputs = self._translator().translate(
                texts + alone, src_lang=self.src_lang, tgt_lang=self.tgt_lang, on_progress=on_progress
            )
            translations, alone = outputs[: len(texts)], outputs[len(texts) :]
        elif alone:
            alone = self._translator().translate(alone, src_lang=self.src_lang, tgt_lang=self.tgt_lang)
        result = []
        offset = 0
        for source, entities, text in zip(sources, entity_texts, translations, strict=True):
            marked = read_marked(text)
            own = alone[offset : offset + len(entities)] if alone else None
            offset += len(entities)
            spans = [marked.text(i) for i in range(len(marked.spans))]
            labels = recover_labels(spans, entities, own, min_similarity=self.min_similarity)
            result.append(MarkedTranslation(source, marked, tuple(labels)))
        return result

    def project_batch(
        self,
        sources: Sequence[Sentence],
        targets: Sequence[Sequence[str]],
        links: Sequence[Collection[Link]],
    ) -> list[list[ProjectedSpan]]:
        """Marked translations of the sources, their labelled spans located in the given targets."""
        translated = self.translate_marked(sources, skip_without_entities=True)
        return [self.locate(item, target) for item, target in zip(translated, targets, strict=True)]

    def locate(self, item: MarkedTranslation, target: Sequence[str]) -> list[ProjectedSpan]:
        """The labelled marked spans of ``item`` found in ``target``: best fuzzy matches first, no overlaps."""
        scored: list[Scored] = []
        for i, found in enumerate(item.labels):
            if found is None:
                continue
            for score, start, end in find_in(target, item.marked.text(i), slack=self.slack):
                if score < self.min_similarity:
                    break
                scored.append((score, i, start, end))
        spans = []
        for score, i, start, end in greedy_match(scored):
            k, label_score = item.labels[i]  # type: ignore[misc]
            entity = item.source.spans[k]
            spans.append(ProjectedSpan(Span(start, end, entity.label), self.name, min(score, label_score), entity))
        return sorted(spans, key=lambda s: s.span)
