"""A linear-chain CRF tagger (python-crfsuite, L-BFGS): fast on CPU, no model to download.

Tokens are brought to Unicode NFC, described by the standard CoNLL features (:mod:`xner.learning.features`) and
tagged in IOB2. A span's confidence is the mean marginal probability, under the CRF, of the predicted tag of each
of its tokens: 1.0 when the model has no doubt, lower when other tags (a shorter span, another label, ``O``) are
likely too. The trained model lives in memory as bytes, so a tagger pickles (to worker processes) and saves
without the training files.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

from xner.errors import MissingDependencyError, XnerError
from xner.learning.features import sentence_features
from xner.learning.taggers import TAGGERS, ScoredSpan, write_manifest
from xner.schemes import spans_to_tags, tags_to_spans
from xner.text import normalize_tokens
from xner.types import ProgressFn, Sentence, Span

MODEL_FILE = "model.crfsuite"


def _pycrfsuite() -> Any:
    try:
        import pycrfsuite
    except ImportError:  # pragma: no cover - python-crfsuite is in requirements.txt
        raise MissingDependencyError("python-crfsuite", "the crf tagger") from None
    return pycrfsuite


@TAGGERS.register("crf")
@dataclass
class CrfTagger:
    """Options:

    c1: L1 regularisation (higher: fewer, stronger features).
    c2: L2 regularisation.
    max_iterations: L-BFGS iterations at most (it may stop earlier when converged).
    window: how many tokens on each side lend their word, shape and case as features.
    affixes: longest prefix and suffix feature, in letters.
    min_freq: drop features seen fewer times than this in training (crfsuite's ``feature.minfreq``).
    all_transitions: also weigh label transitions never seen in training (so ``O`` → ``I-PER`` is learnt as
        unlikely rather than left at zero).

    ``fit(..., domains=...)`` trains with feature augmentation for domain adaptation (Daumé III 2007,
    "Frustratingly easy domain adaptation"): every feature has a shared copy and a copy specific to the sentence's
    domain (``gold``, ``projected``, ``source``...), so the CRF learns what holds across domains from all the data
    and what holds only in one from that domain alone; it then tags with the shared and ``target_domain`` copies.
    """

    name: ClassVar[str] = "crf"
    takes_domains: ClassVar[bool] = True
    c1: float = 0.1
    c2: float = 0.05
    max_iterations: int = 150
    window: int = 2
    affixes: int = 3
    min_freq: int = 1
    all_transitions: bool = True
    info: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)
    _labels: tuple[str, ...] = field(default=(), init=False, repr=False)
    _model: bytes | None = field(default=None, init=False, repr=False, compare=False)
    _tagger: Any = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for option, value, low in (
            ("c1", self.c1, 0),
            ("c2", self.c2, 0),
            ("max_iterations", self.max_iterations, 1),
            ("window", self.window, 0),
            ("affixes", self.affixes, 0),
            ("min_freq", self.min_freq, 0),
        ):
            if value < low:
                raise XnerError(f"option {option!r} of the crf tagger must be at least {low}, got {value!r}")

    @property
    def labels(self) -> tuple[str, ...]:
        return self._labels

    def features(self, tokens: Sequence[str], domain: str | None = None) -> list[list[str]]:
        """The feature lists of one normalised sentence (with their copies for ``domain`` when given)."""
        features = sentence_features(tokens, window=self.window, affixes=self.affixes)
        if domain is None:
            return features
        return [token + [f"{domain}|{feature}" for feature in token] for token in features]

    def fit(
        self,
        sentences: Sequence[Sentence],
        *,
        on_progress: ProgressFn | None = None,
        domains: Sequence[str] | None = None,
        target_domain: str | None = None,
    ) -> None:
        """Train on ``sentences``; ``on_progress`` gets (iteration, max_iterations).

        Args:
            sentences: the training sentences.
            on_progress: called with (iteration, max_iterations).
            domains: one domain name per sentence: train with domain feature copies (see the class).
            target_domain: the domain whose feature copies tagging uses (one of ``domains``; None: shared only).

        Raises:
            XnerError: no sentence has tokens, a sentence has overlapping spans (IOB2 cannot encode them), or
                ``domains`` does not name one domain per sentence.
        """
        if domains is not None and len(domains) != len(sentences):
            raise XnerError(f"domains: got {len(domains)} for {len(sentences)} sentences; give one per sentence")
        if target_domain is not None and (domains is None or target_domain not in domains):
            target_domain = None  # no sentence of that domain: its copies would all be untrained
        started = time.perf_counter()
        trainer = _trainer_class()(on_progress, self.max_iterations)
        trainer.set_params(
            {
                "c1": self.c1,
                "c2": self.c2,
                "max_iterations": self.max_iterations,
                "feature.minfreq": self.min_freq,
                "feature.possible_transitions": self.all_transitions,
            }
        )
        entities: Counter[str] = Counter()
        used = tokens = 0
        for index, sentence in enumerate(sentences):
            if not sentence.tokens:
                continue
            words = normalize_tokens(sentence.tokens)
            try:
                tags = spans_to_tags(sentence.spans, len(words))
            except XnerError as error:
                raise XnerError(f"training sentence {index}: {error}") from None
            trainer.append(self.features(words, domains[index] if domains is not None else None), tags)
            entities.update(span.label for span in sentence.spans)
            used += 1
            tokens += len(words)
        if not used:
            raise XnerError("nothing to train the crf tagger on: no sentence has tokens")
        if on_progress:
            on_progress(0, self.max_iterations)
        with tempfile.TemporaryDirectory(prefix="xner-crf-") as folder:
            path = os.path.join(folder, MODEL_FILE)
            trainer.train(path)
            self._set_model(Path(path).read_bytes(), tuple(sorted(entities)))
        iterations = len(trainer.logparser.iterations) if trainer.logparser else 0
        if on_progress:
            on_progress(self.max_iterations, self.max_iterations)
        self.info = {
            "sentences": used,
            "tokens": tokens,
            "entities": dict(sorted(entities.items())),
            "iterations": iterations,
            "features": trainer.logparser.featgen_num_features if trainer.logparser else None,
            "seconds": round(time.perf_counter() - started, 3),
        }
        if domains is not None:
            self.info["domains"] = dict(sorted(Counter(domains).items()))
            self.info["target_domain"] = target_domain

    def predict(self, batch: Sequence[Sequence[str]]) -> list[list[Span]]:
        tagger = self._open()
        return [tags_to_spans(self._tag(tagger, tokens)) for tokens in batch]

    def predict_scored(self, batch: Sequence[Sequence[str]]) -> list[list[ScoredSpan]]:
        tagger = self._open()
        result = []
        for tokens in batch:
            tags = self._tag(tagger, tokens)
            result.append([(span, _confidence(tagger, tags, span)) for span in tags_to_spans(tags)])
        return result

    def save(self, directory: str | Path) -> Path:
        if self._model is None:
            raise XnerError("the crf tagger is not trained yet: nothing to save")
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / f".{MODEL_FILE}.partial"
        partial.write_bytes(self._model)
        partial.replace(folder / MODEL_FILE)
        write_manifest(folder, self, labels=self._labels, info=self.info, files=[MODEL_FILE])
        return folder

    def restore(self, directory: Path, manifest: dict[str, Any]) -> None:
        path = directory / MODEL_FILE
        if not path.is_file():
            raise XnerError(f"{directory} has a tagger manifest but no {MODEL_FILE}")
        self._set_model(path.read_bytes(), tuple(manifest.get("labels", ())))
        self.info = dict(manifest.get("info") or {})
        self._open()  # a damaged model file fails here, not at the first prediction

    def _set_model(self, model: bytes, labels: tuple[str, ...]) -> None:
        self._model, self._labels, self._tagger = model, labels, None

    def _open(self) -> Any:
        if self._tagger is None:
            if self._model is None:
                raise XnerError("the crf tagger is not trained: call fit, or load a saved one with load_tagger")
            tagger = _pycrfsuite().Tagger()
            try:
                tagger.open_inmemory(self._model)
            except ValueError as error:
                raise XnerError(f"cannot read the crf model: {error}") from None
            self._tagger = tagger
        return self._tagger

    def _tag(self, tagger: Any, tokens: Sequence[str]) -> list[str]:
        """IOB2 tags of one sentence; the tagger keeps the sentence for marginals."""
        if not tokens:
            return []
        return tagger.tag(self.features(normalize_tokens(tuple(tokens)), self.info.get("target_domain")))

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_tagger"] = None  # the crfsuite handle does not pickle; it is reopened from the bytes
        return state


def _confidence(tagger: Any, tags: list[str], span: Span) -> float:
    """Mean marginal probability of the predicted tags over the span's tokens, in [0, 1]."""
    total = sum(tagger.marginal(tags[t], t) for t in range(span.start, span.end))
    return min(1.0, max(0.0, total / len(span)))


@cache
def _trainer_class() -> type:
    """A crfsuite trainer that reports iterations to a progress callback and prints nothing."""

    class Trainer(_pycrfsuite().Trainer):  # type: ignore[misc]
        def __init__(self, on_progress: ProgressFn | None, total: int) -> None:
            super().__init__(verbose=True)  # verbose: log events reach the quiet handlers below
            self._on_progress = on_progress
            self._total = total

        def on_iteration(self, log: str, info: dict[str, Any]) -> None:
            if self._on_progress:
                self._on_progress(min(info["num"], self._total), self._total)

        def _quiet(self, *args: Any) -> None:
            pass

        on_start = on_featgen_progress = on_featgen_end = on_prepared = _quiet
        on_prepare_error = on_optimization_end = on_end = _quiet

    return Trainer
