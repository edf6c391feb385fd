"""Evaluate use cases: a projection run against the target gold, an alignment run against a gold alignment run."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from xner.evaluation import AlignmentScores, SpanScores
from xner.learning import load_tagger
from xner.services.corpora import get_corpus
from xner.services.exporting import require_splits, side_for
from xner.services.pairs import PairRecord, get_alignment_run, iter_pairs, require_parallel
from xner.services.projecting import get_projection_run
from xner.services.training import evaluate_tagger, read_sentences
from xner.store.db import Store
from xner.store.paging import PAGE_SIZE
from xner.store.queries.corpora import side_entity_count
from xner.store.queries.projections import projected_spans
from xner.types import Side


@dataclass
class ProjectionEvaluation:
    corpus: str
    run_id: int
    method: str
    pairs: int
    labels: list[str] | None
    scores: dict[str, dict[str, float]]  # "overall" and per label: precision, recall, f1, support


@dataclass
class AlignmentEvaluation:
    corpus: str
    run_id: int
    gold_run_id: int
    pairs: int
    scores: dict[str, Any]


def _pages(pairs: Iterator[PairRecord]) -> Iterator[list[PairRecord]]:
    while page := list(islice(pairs, PAGE_SIZE)):
        yield page


def evaluate_projection(
    store: Store,
    corpus: str,
    *,
    run_id: int | None = None,
    labels: Collection[str] | None = None,
    splits: Collection[str] | None = None,
) -> ProjectionEvaluation:
    """Span precision / recall / F1 (overall and per label) of projection run ``run_id`` (default the newest)
    against target gold.

    ``labels`` restricts both sides to those labels (e.g. PER, ORG, LOC as in the paper).
    """
    return evaluate_projections(store, corpus, [run_id], labels=labels, splits=splits)[0]


def evaluate_projections(
    store: Store,
    corpus: str,
    run_ids: Sequence[int | None],
    *,
    labels: Collection[str] | None = None,
    splits: Collection[str] | None = None,
) -> list[ProjectionEvaluation]:
    """:func:`evaluate_projection` of several runs of ``corpus`` side by side, reading the gold once.

    Args:
        run_ids: projection runs (None: the newest), scored in this order.
        labels: score only these labels, on both sides.
        splits: only the pairs of these splits (default all).

    Raises:
        XnerError: an unknown or monolingual corpus, or a run the corpus does not have.
    """
    with store.session() as session:
        found = get_corpus(session, corpus)
        require_parallel(found)
        runs = [get_projection_run(session, found, run_id) for run_id in run_ids]
        scores = [SpanScores() for _ in runs]
        count = 0
        for page in _pages(iter_pairs(session, found, splits=splits)):
            pair_ids = [p.pair_id for p in page]
            for run, score in zip(runs, scores, strict=True):
                predicted = projected_spans(session, run.id, pair_ids)
                for pair in page:
                    score.add(predicted.get(pair.pair_id, []), pair.tgt_spans, labels)
            count += len(page)
        described = [(run.id, run.method) for run in runs]
    chosen = sorted(labels) if labels else None
    return [
        ProjectionEvaluation(corpus, run_id, method, count, chosen, score.as_dict())
        for (run_id, method), score in zip(described, scores, strict=True)
    ]


def target_gold_entities(store: Store, corpus: str) -> int:
    """How many gold entities the target side of parallel ``corpus`` has (0: projections cannot be scored)."""
    with store.session() as session:
        found = get_corpus(session, corpus)
        require_parallel(found)
        return side_entity_count(session, found.id, Side.TGT)


@dataclass
class TaggerEvaluation:
    corpus: str
    tagger: str
    side: str
    splits: list[str] | None
    sentences: int
    labels: list[str] | None
    scores: dict[str, dict[str, float]]  # "overall" and per label: precision, recall, f1, support


def evaluate_tagger_on(
    store: Store,
    corpus: str,
    *,
    tagger: str | Path,
    side: str | None = None,
    splits: Collection[str] | None = None,
    labels: Collection[str] | None = None,
) -> TaggerEvaluation:
    """Entity P/R/F1 of a saved tagger on the sentences of one side of ``corpus`` (default: all splits).

    With a tagger trained on another language this is the model-transfer baseline (method notes §5): e.g. an
    English tagger scored on the MasakhaNER 2.0 test split of a target language.

    Raises:
        XnerError: an unknown corpus, a split the side lacks, or no saved tagger in ``tagger``.
    """
    model = load_tagger(tagger)
    with store.session() as session:
        found = get_corpus(session, corpus)
        chosen = side_for(found, side)
        wanted = sorted(set(splits)) if splits else None
        if wanted:
            require_splits(session, found, chosen, wanted)
        sentences = read_sentences(session, found, chosen, wanted or (), ())
    scores = evaluate_tagger(model, sentences, labels).as_dict()
    return TaggerEvaluation(
        corpus, str(tagger), chosen, wanted, len(sentences), sorted(labels) if labels else None, scores
    )


def evaluate_alignment(
    store: Store, corpus: str, *, run_id: int | None, gold_run_id: int, splits: Collection[str] | None = None
) -> AlignmentEvaluation:
    """Precision / recall / F1 / AER of alignment run ``run_id`` (default newest) against ``gold_run_id``."""
    scores = AlignmentScores()
    count = 0
    with store.session() as session:
        found = get_corpus(session, corpus)
        require_parallel(found)
        gold = get_alignment_run(session, found, gold_run_id)
        run = get_alignment_run(session, found, run_id, exclude=gold.id)
        gold_links = iter_pairs(session, found, splits=splits, alignment_run=gold.id, with_spans=False)
        predicted = iter_pairs(session, found, splits=splits, alignment_run=run.id, with_spans=False)
        for reference, guess in zip(gold_links, predicted, strict=True):
            assert reference.alignment is not None and guess.alignment is not None
            scores.add(guess.alignment.links, reference.alignment)
            count += 1
        ids = (run.id, gold.id)
    return AlignmentEvaluation(corpus, ids[0], ids[1], count, scores.as_dict())
