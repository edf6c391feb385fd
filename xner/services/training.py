"""Train use case: fit a tagger on one side of a stored corpus, save it, and record the run with its scores.

The training sentences are what ``xner export`` would write for the same side and splits: curated spans where a
sentence has been reviewed, gold spans elsewhere; rejected sentences are left out by default. A run is identified
by its configuration (corpus, side, splits, review statuses, tagger and all its options): training the same
configuration again replaces the earlier run's row and scores instead of adding one.

The model is saved into a fresh directory beside ``out`` and moved into place only when training and evaluation
succeeded, so a failed training leaves no half-written model (and an earlier model at ``out`` untouched).
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
import uuid
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xner.errors import XnerError
from xner.evaluation import SpanScores
from xner.formats.text import PathLike, replace_dir
from xner.learning import TAGGERS, Tagger
from xner.learning.taggers import MANIFEST
from xner.learning.titles import titled_copies
from xner.options import describe
from xner.services.corpora import get_corpus
from xner.services.exporting import iter_export_sentences, require_splits, side_for, side_name
from xner.services.managed import derive_name
from xner.store.db import Store
from xner.store.queries import training as run_queries
from xner.types import ProgressFn, ReviewStatus, Sentence

if TYPE_CHECKING:
    from xner.store.db import Session
    from xner.store.models import Corpus

log = logging.getLogger(__name__)

TRAIN_STATUSES = (ReviewStatus.UNREVIEWED, ReviewStatus.ACCEPTED, ReviewStatus.CORRECTED)
PREDICT_BATCH = 1000


@dataclass
class TrainReport:
    """What a training produced: the run, the data it learnt from, where the model is, and its scores."""

    corpus: str
    side: str
    splits: list[str]
    tagger: str
    run_id: int
    model_path: str
    sentences: int
    tokens: int
    entities: dict[str, int]
    seconds: float  # training alone
    options: dict[str, Any] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)  # the tagger's own account (iterations, features...)
    replaced: bool = False  # an earlier run of the same configuration was replaced
    eval_splits: list[str] = field(default_factory=list)
    eval_sentences: int = 0
    eval_seconds: float = 0.0  # predicting the evaluation sentences
    scores: dict[str, dict[str, float]] | None = None  # "overall" and per label: precision, recall, f1, support

    @property
    def f1(self) -> float | None:
        """The overall entity F1 on the evaluation splits; None when there were none."""
        return self.scores["overall"]["f1"] if self.scores else None


def config_hash(config: Mapping[str, Any]) -> str:
    """The SHA-256 of the canonical JSON of a run configuration (sorted keys, no spaces).

    >>> config_hash({"b": [1, 2], "a": "x"}) == config_hash({"a": "x", "b": [1, 2]})
    True
    """
    canonical = json.dumps(config, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def data_sizes(sentences: Iterable[Sentence]) -> dict[str, Any]:
    """Sentences, tokens and entities per label of a data set, as stored in ``training_run.data_sizes``.

    >>> from xner.types import Span
    >>> data_sizes([Sentence(("Ada", "sang"), (Span(0, 1, "PER"),)), Sentence(("Hi",))])
    {'sentences': 2, 'tokens': 3, 'entities': {'PER': 1}}
    """
    count = tokens = 0
    entities: Counter[str] = Counter()
    for sentence in sentences:
        count += 1
        tokens += len(sentence.tokens)
        entities.update(span.label for span in sentence.spans)
    return {"sentences": count, "tokens": tokens, "entities": dict(sorted(entities.items()))}


def train_tagger(
    store: Store,
    corpus: str,
    *,
    out: PathLike,
    side: str | None = None,
    splits: Collection[str] = ("train",),
    eval_splits: Collection[str] = (),
    statuses: Collection[ReviewStatus] | None = None,
    tagger: str = "crf",
    options: Mapping[str, Any] | None = None,
    created_by: str = "",
    on_progress: ProgressFn | None = None,
    titled: bool = False,
) -> TrainReport:
    """Train ``tagger`` on one side of ``corpus``, save it to ``out`` and record the run (and its scores).

    Args:
        store: the open store.
        corpus: the corpus name.
        out: the directory to save the tagger in; one that already holds a saved tagger is replaced.
        side: ``src`` or ``tgt`` for a parallel corpus (default ``tgt``); monolingual corpora have one side.
        splits: the training splits.
        eval_splits: splits of the same side to score the trained tagger on (entity precision, recall, F1).
        statuses: review statuses of the sentences to use (default: all but rejected).
        tagger: a name in :data:`xner.learning.TAGGERS` (``crf``).
        options: the tagger's options (text or typed values), e.g. ``{"c1": "0.2"}``.
        created_by: who trained it; written into the saved model's manifest.
        on_progress: called with (step, total steps) while training.
        titled: also train on titled copies of the person mentions ("Mr Smith";
            :func:`xner.learning.titles.titled_copies`): for an English tagger that meets titled names. Recorded
            in the configuration (``titled_copies``) and the data sizes.

    Returns:
        The report; ``run_id`` is the :class:`~xner.store.models.TrainingRun` row, done, with its scores as
        :class:`~xner.store.models.RunMetric` rows (label ``""`` for overall).

    Raises:
        XnerError: an unknown corpus, tagger or option; a split the corpus side lacks; no training sentences or
            no entities in them; ``out`` is a file or a directory that is not a saved tagger. Nothing is recorded.
            An error during training itself marks the run ``failed`` and leaves ``out`` as it was.
    """
    model = TAGGERS.create(tagger, options)
    target = Path(out)
    _check_out(target)
    train_splits, held_out_splits = _unique(splits), _unique(eval_splits)
    if not train_splits:
        raise XnerError("give at least one training split, e.g. train")
    wanted = sorted(set(statuses) if statuses else set(TRAIN_STATUSES))
    with store.session() as session:
        found = get_corpus(session, corpus)
        side = side_for(found, side)
        require_splits(session, found, side, train_splits + held_out_splits)
        train = read_sentences(session, found, side, train_splits, wanted)
        held_out = read_sentences(session, found, side, held_out_splits, wanted) if held_out_splits else []
    sizes = data_sizes(train)
    if titled:
        copies = titled_copies(train)
        sizes["titled_copies"] = len(copies)
        train = train + copies
    where = f"the {side_name(side)}sentences of corpus {corpus!r} in split(s) {', '.join(train_splits)}"
    if not sizes["sentences"]:
        raise XnerError(f"nothing to train on: {where} have none in review status {', '.join(wanted)}")
    if not sizes["entities"]:
        raise XnerError(f"nothing to learn: {where} have no entities ({sizes['sentences']} sentences)")
    if held_out_splits:
        sizes["eval"] = {"splits": held_out_splits, **data_sizes(held_out)}
    config = {
        "corpus": corpus,
        "side": side,
        "splits": sorted(train_splits),
        "statuses": [status.value for status in wanted],
        "tagger": tagger,
        "options": describe(model),
    }
    if titled:  # only then: the configurations (and hashes) of earlier runs stay as they were
        config["titled_copies"] = True
    run_id, replaced = _start_run(store, config, sizes)
    try:
        started = time.perf_counter()
        model.fit(train, on_progress=on_progress)
        seconds = time.perf_counter() - started
        report = TrainReport(
            corpus=corpus,
            side=side,
            splits=train_splits,
            tagger=tagger,
            run_id=run_id,
            model_path=str(target.resolve()),
            sentences=sizes["sentences"],
            tokens=sizes["tokens"],
            entities=sizes["entities"],
            seconds=round(seconds, 3),
            options=config["options"],
            info=dict(getattr(model, "info", {}) or {}),
            replaced=replaced,
            eval_splits=held_out_splits,
            eval_sentences=len(held_out),
        )
        if titled:  # in the saved manifest too: whoever picks a saved tagger sees how it was trained
            report.info["titled_copies"] = sizes["titled_copies"]
        if held_out:
            started = time.perf_counter()
            report.scores = evaluate_tagger(model, held_out).as_dict()
            report.eval_seconds = round(time.perf_counter() - started, 3)
        _save_and_finish(store, model, target, report, created_by)
    except BaseException:
        _fail_run(store, run_id)
        raise
    return report


def default_model_name(
    corpus: str, tagger: str, statuses: Collection[ReviewStatus] = TRAIN_STATUSES, *, when: datetime | None = None
) -> str:
    """The name a tagger trained on ``corpus`` gets by default in the managed ``models/`` folder: tagger, corpus,
    ``reviewed`` (only reviewed sentences) or ``all``, and the minute (see :func:`xner.services.managed.derive_name`).

    >>> reviewed = (ReviewStatus.ACCEPTED, ReviewStatus.CORRECTED)
    >>> default_model_name("yor", "crf", reviewed, when=datetime(2026, 12, 7, 14, 12))
    'crf-yor-reviewed-20261207-1412'
    """
    reviewed = ReviewStatus.UNREVIEWED not in set(statuses)
    return derive_name(tagger, corpus, "reviewed" if reviewed else "all", when=when or datetime.now())


def evaluate_tagger(tagger: Tagger, sentences: Sequence[Sentence], labels: Collection[str] | None = None) -> SpanScores:
    """Entity-level scores (exact span and label) of ``tagger``'s predictions against the spans of ``sentences``;
    with ``labels``, other labels are ignored on both sides."""
    scores = SpanScores()
    for first in range(0, len(sentences), PREDICT_BATCH):
        batch = sentences[first : first + PREDICT_BATCH]
        for predicted, sentence in zip(tagger.predict([s.tokens for s in batch]), batch, strict=True):
            scores.add(predicted, sentence.spans, labels)
    return scores


def _unique(names: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(name.strip() for name in names if name.strip()))


def _check_out(target: Path) -> None:
    """``out`` must be new, empty, or a saved tagger (which training replaces): never someone's other files."""
    if target.is_file():
        raise XnerError(f"{target} is a file: give a directory to save the tagger in")
    if target.is_dir() and any(target.iterdir()) and not (target / MANIFEST).is_file():
        raise XnerError(f"{target} is not empty and holds no saved tagger ({MANIFEST}): choose another directory")


def read_sentences(
    session: Session, corpus: Corpus, side: str, splits: Collection[str], statuses: Collection[ReviewStatus]
) -> list[Sentence]:
    rows = iter_export_sentences(session, corpus, side=side, splits=splits, statuses=statuses)
    return [sentence for sentence, _ in rows]


def _start_run(store: Store, config: dict[str, Any], sizes: dict[str, Any]) -> tuple[int, bool]:
    """Create the run of ``config`` as running, or reset the existing one (dropping its scores)."""
    with store.transaction() as session:
        return run_queries.start_training_run(session, config_hash(config), config, sizes)


def _save_and_finish(store: Store, model: Tagger, target: Path, report: TrainReport, created_by: str) -> None:
    """Save into a new directory beside ``target``, record the run as done, then move the model into place."""
    info = getattr(model, "info", None)
    if isinstance(info, dict):  # the manifest tells where the model came from
        info.update(
            corpus=report.corpus, side=report.side, splits=report.splits, run_id=report.run_id, created_by=created_by
        )
        if "titled_copies" in report.info:
            info["titled_copies"] = report.info["titled_copies"]
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.partial")
    partial.mkdir()
    try:
        model.save(partial)
        with store.transaction() as session:
            run_queries.finish_training_run(session, report.run_id, report.model_path, report.seconds, report.scores)
            replace_dir(partial, target)  # last: a failure here rolls the run back to running, then failed
    finally:
        if partial.exists():
            shutil.rmtree(partial, ignore_errors=True)


def _fail_run(store: Store, run_id: int) -> None:
    try:
        with store.transaction() as session:
            run_queries.fail_training_run(session, run_id)
    except Exception as error:  # never hide the error that failed the training
        log.warning("could not mark training run %s as failed: %s", run_id, error)
