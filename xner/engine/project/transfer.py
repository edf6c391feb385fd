"""The model-transfer baseline (method notes §5): a tagger trained on the source language (e.g. English CoNLL)
tags the target sentences directly; neither the source entities nor an alignment are used.

It is registered as a projection method so that it runs through the same commands as the projection methods
(``xner project --method model-transfer -o model=DIR``, then ``xner eval projection``) and its output can be
reviewed and compared like theirs. A multilingual tagger (a transformer tagger on XLM-R / mBERT / AfroXLMR) is
the paper's setting; a CRF trained on English shows how far surface features carry across languages.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from xner.engine.project.base import PROJECTORS, BatchProjector, SpanTagger
from xner.errors import XnerError
from xner.types import Link, ProjectedSpan, Sentence

if TYPE_CHECKING:
    pass


@PROJECTORS.register("model-transfer")
@dataclass
class ModelTransfer(BatchProjector):
    """Options:

    model: directory of a tagger trained on the source language (``xner train``); the service loads it.
    """

    name: ClassVar[str] = "model-transfer"
    needs_alignment: ClassVar[bool] = False
    needs_source_entities: ClassVar[bool] = False
    needs_tagger: ClassVar[bool] = True
    model: str = ""
    _tagger: SpanTagger | None = field(default=None, init=False, repr=False, compare=False)

    def tagger_folder(self) -> str:
        if not self.model:
            raise XnerError(
                "the model-transfer method needs a trained source-language tagger: -o model=DIR (see `xner train`)"
            )
        return self.model

    def project_batch(
        self,
        sources: Sequence[Sentence],
        targets: Sequence[Sequence[str]],
        links: Sequence[Collection[Link]],
    ) -> list[list[ProjectedSpan]]:
        """The tagger's spans on each target sentence, with its confidence (one tagger call for the batch)."""
        if self._tagger is None:
            raise XnerError("the model-transfer method needs a tagger: give -o model=DIR (see `xner train`)")
        predicted = self._tagger.predict_scored([list(tokens) for tokens in targets])
        return [
            [ProjectedSpan(span, self.name, min(1.0, max(0.0, confidence))) for span, confidence in spans]
            for spans in predicted
        ]
