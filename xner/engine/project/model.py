"""Candidate matching over spans predicted by a target-side tagger (Politov et al. 2025 "NER-model candidates").

A tagger trained on the target language (for instance on the sentences reviewers already accepted or corrected)
proposes entity spans on each target sentence; they are scored against each source entity through the alignment,
like the n-gram candidates, and matched with the same greedy or optimal matching. So reviewed data improves
projection: the better the tagger, the better the candidate boundaries.

``candidates="model"`` uses the tagger's spans only (the paper's method). ``candidates="model+ngram"`` also keeps
the n-gram candidates, so an entity the tagger missed is still projected. A candidate's score is
``(1 - model_weight) · alignment score + model_weight · tagger confidence``, where the tagger confidence counts only
for a tagger span of the entity's label (and a candidate needs at least one link to the entity). The projected span
keeps the source entity's label.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Literal

from xner.engine.project.base import PROJECTORS
from xner.engine.project.ngram import NgramProjector, Scored, _targets
from xner.errors import XnerError
from xner.types import Link, Span

if TYPE_CHECKING:
    pass


@PROJECTORS.register("model")
@dataclass
class ModelProjector(NgramProjector):
    """Options: those of ``ngram`` (matching, score, min_score, lexical…) and

    model: directory of a trained target-side tagger (``xner train``); the service loads it.
    candidates: ``model`` (tagger spans only) or ``model+ngram`` (tagger spans and n-grams).
    model_weight: weight of the tagger's confidence in a candidate's score, in [0, 1].
    """

    name: ClassVar[str] = "model"
    needs_tagger: ClassVar[bool] = True
    model: str = ""
    candidates: Literal["model", "model+ngram"] = "model+ngram"
    model_weight: float = 0.3

    def __post_init__(self) -> None:
        if not 0.0 <= self.model_weight <= 1.0:
            raise XnerError(f"option model_weight must be in [0, 1], got {self.model_weight}")
        self._tagger = None

    def tagger_folder(self) -> str:
        if not self.model:
            raise XnerError("the model method needs a trained target-side tagger: -o model=DIR (see `xner train`)")
        return self.model

    def _scored(
        self,
        entities: list[Span],
        tgt_tokens: Sequence[str],
        links: Collection[Link],
        by_entity: list[dict[int, set[int]]] | None = None,
    ) -> list[Scored]:
        if self._tagger is None:
            raise XnerError("the model projection method needs a tagger: give -o model=DIR (see `xner train`)")
        predicted = self._tagger.predict_scored([list(tgt_tokens)])[0]
        tagged = {(span.start, span.end): (span.label, confidence) for span, confidence in predicted}
        scored = []
        for k, entity in enumerate(entities):
            targets = by_entity[k] if by_entity is not None else _targets(entity, links)
            pool = self._candidates(entity, tgt_tokens, targets) if self.candidates == "model+ngram" else {}
            for start, end in tagged:
                if (start, end) not in pool and any(start <= j < end for j in targets):
                    pool[(start, end)] = self._score(entity, start, end, targets)
            for (start, end), alignment_score in pool.items():
                label, confidence = tagged.get((start, end), ("", 0.0))
                model_score = confidence if label == entity.label else 0.0
                score = (1 - self.model_weight) * alignment_score + self.model_weight * model_score
                if score > self.min_score:
                    scored.append((score, k, start, end))
        return scored
