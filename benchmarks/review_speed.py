"""Review queue speed on SQLite: p50/p95 of ``next_item``, ``get_item`` and ``record_decision`` with many pairs.

A synthetic parallel corpus (default 100,000 pairs, 8-30 tokens a side, 0-4 entities) is written straight into a
fresh SQLite file with one alignment run and two projection runs of different methods (the second one differs on
about a fifth of the pairs, so the disagreement order has something to sort). The newest run is queued with
``queue_projection`` (timed), then each call is timed ``--samples`` times:

- ``next_item`` by confidence, by disagreement, with a label filter, with a confidence range, and the second-review
  queue (reviewed by somebody else, not by me) once some items are reviewed;
- ``get_item`` of random sentences;
- ``record_decision`` (accept / correct / reject, each on a fresh item) and ``undo``.

The target is p95 ≤ 30 ms per call with 100k pairs: every call reads along an index, never a whole table.

Usage::

    .venv/bin/python benchmarks/review_speed.py                 # 100k pairs, 200 samples per call
    .venv/bin/python benchmarks/review_speed.py --pairs 20k --samples 50

Writes benchmarks/results/review_speed.json (figures, machine, command) and prints a markdown table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import RESULTS, command_line, machine, write_results

from xner.services import review
from xner.store.db import Store, open_store
from xner.store.models import (
    Alignment,
    AlignmentRun,
    Corpus,
    Entity,
    Projection,
    ProjectionRun,
    Sentence,
    SentencePair,
)

LABELS = ("PER", "ORG", "LOC", "DATE")
WORDS = "the of and to in a is that for it as was with be by on not this are or from at ya da na ta ce ba su".split()
BATCH = 5000
CORPUS = "synthetic"


def size(text: str) -> int:
    text = text.strip().lower()
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1], 1)
    return int(float(text[:-1] if factor > 1 else text) * factor)


def random_spans(rng: random.Random, n_tokens: int) -> list[tuple[int, int, str]]:
    spans, position = [], 0
    for _ in range(rng.randint(0, 4)):
        start = position + rng.randint(0, 4)
        end = start + rng.randint(1, 3)
        if end > n_tokens:
            break
        spans.append((start, end, rng.choice(LABELS)))
        position = end + 1
    return spans


def build(store: Store, pairs: int, seed: int) -> None:
    """The synthetic corpus, its alignment run and two projection runs, written in batches with Core inserts."""
    rng = random.Random(seed)
    with store.transaction() as session:
        corpus = Corpus(name=CORPUS, kind="parallel", src_lang="en", tgt_lang="ha", labels=list(LABELS))
        session.add(corpus)
        session.flush()
        aligned = AlignmentRun(corpus_id=corpus.id, aligner="synthetic")
        first = ProjectionRun(corpus_id=corpus.id, method="heuristic")
        session.add_all([aligned, first])
        session.flush()
        second = ProjectionRun(corpus_id=corpus.id, method="ngram")
        session.add(second)
        session.flush()
        corpus_id, align_id, run_ids = corpus.id, aligned.id, (first.id, second.id)
    next_id = 1
    for offset in range(0, pairs, BATCH):
        count = min(BATCH, pairs - offset)
        sentences, entities, pair_rows, links, projections = [], [], [], [], []
        for position in range(offset, offset + count):
            src_id, tgt_id, pair_id = next_id, next_id + 1, position + 1
            next_id += 2
            n_src, n_tgt = rng.randint(8, 30), rng.randint(8, 30)
            for sid, side, n in ((src_id, "src", n_src), (tgt_id, "tgt", n_tgt)):
                tokens = [rng.choice(WORDS) for _ in range(n)]
                sentences.append(
                    {
                        "id": sid,
                        "corpus_id": corpus_id,
                        "split": "train",
                        "side": side,
                        "position": position,
                        "lang": "en" if side == "src" else "ha",
                        "tokens": tokens,
                        "text": None,
                        "n_tokens": n,
                        "source_line": None,
                    }
                )
            src_spans = random_spans(rng, min(n_src, n_tgt))
            entities += [
                {"sentence_id": src_id, "corpus_id": corpus_id, "start": s, "end": e, "label": label}
                for s, e, label in src_spans
            ]
            pair_rows.append(
                {
                    "id": pair_id,
                    "corpus_id": corpus_id,
                    "split": "train",
                    "position": position,
                    "src_sentence_id": src_id,
                    "tgt_sentence_id": tgt_id,
                }
            )
            links.append(
                {
                    "run_id": align_id,
                    "pair_id": pair_id,
                    "links": " ".join(f"{i}-{i}" for i in range(min(n_src, n_tgt))),
                }
            )
            for index, run_id in enumerate(run_ids):
                spans = src_spans if index == 0 or rng.random() > 0.2 else random_spans(rng, min(n_src, n_tgt))
                records = [
                    {
                        "start": s,
                        "end": e,
                        "label": label,
                        "confidence": round(rng.choice((1.0, 1.0, 0.8, 0.6667, 0.5)), 4),
                        "links": [[i, i] for i in range(s, e)],
                        "src_start": s,
                        "src_end": e,
                    }
                    for s, e, label in spans
                ]
                confidence = min((r["confidence"] for r in records), default=1.0)
                projections.append({"run_id": run_id, "pair_id": pair_id, "spans": records, "confidence": confidence})
        with store.transaction() as session:
            session.execute(insert(Sentence), sentences)
            session.execute(insert(SentencePair), pair_rows)
            if entities:
                session.execute(insert(Entity), entities)
            session.execute(insert(Alignment), links)
            session.execute(insert(Projection), projections)


def percentiles(times: list[float]) -> dict[str, float]:
    times = sorted(times)
    return {
        "samples": len(times),
        "p50_ms": round(statistics.median(times), 2),
        "p95_ms": round(times[min(len(times) - 1, int(0.95 * len(times)))], 2),
        "max_ms": round(times[-1], 2),
    }


def timed(call: Callable[[], object], samples: int) -> dict[str, float]:
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return percentiles(times)


def measure(store: Store, samples: int, seed: int) -> dict[str, dict[str, float]]:
    rng = random.Random(seed + 1)
    with store.session() as session:
        targets = list(session.scalars(select(Sentence.id).where(Sentence.side == "tgt")))
    skipped = rng.sample(targets, 50)
    results = {
        "next_item confidence": timed(lambda: review.next_item(store, CORPUS), samples),
        "next_item disagreement": timed(lambda: review.next_item(store, CORPUS, order="disagreement"), samples),
        "next_item label DATE": timed(lambda: review.next_item(store, CORPUS, labels=["DATE"]), samples),
        "next_item confidence 0.6-0.9": timed(
            lambda: review.next_item(store, CORPUS, min_confidence=0.6, max_confidence=0.9), samples
        ),
        "next_item skip 50": timed(lambda: review.next_item(store, CORPUS, skip=skipped), samples),
        "get_item": timed(lambda: review.get_item(store, rng.choice(targets)), samples),
    }

    decided, writes = [], []
    for _ in range(samples):  # the reviewer's loop: next item, then a decision on it (only the write is timed)
        item = review.next_item(store, CORPUS)
        assert item is not None
        action = rng.choice(("accept", "correct", "reject"))
        spans = list(item.state.spans[:-1]) if action == "correct" else None
        started = time.perf_counter()
        review.record_decision(
            store, item.sentence_id, reviewer="ana", action=action, spans=spans, expected_version=item.state.version
        )
        writes.append((time.perf_counter() - started) * 1000)
        decided.append((item.sentence_id, item.state.version + 1))
    results["record_decision"] = percentiles(writes)
    results["next_item second review (reviewed, not by bob)"] = timed(
        lambda: review.next_item(store, CORPUS, statuses=review.REVIEWED, not_decided_by="bob"), samples
    )
    undos = []
    for sentence_id, version in decided:
        started = time.perf_counter()
        review.undo(store, sentence_id, reviewer="ana", expected_version=version)
        undos.append((time.perf_counter() - started) * 1000)
    results["undo"] = percentiles(undos)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=size, default=100_000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--out", type=Path, default=RESULTS / "review_speed.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(str(Path(folder) / "review.db"))
        started = time.perf_counter()
        build(store, args.pairs, args.seed)
        built = time.perf_counter() - started
        started = time.perf_counter()
        report = review.queue_projection(store, CORPUS)
        queued = time.perf_counter() - started
        results = measure(store, args.samples, args.seed)
        store.dispose()
    payload = {
        "benchmark": "review_speed",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": command_line(),
        "machine": machine(),
        "pairs": args.pairs,
        "build_seconds": round(built, 1),
        "queue_projection_seconds": round(queued, 2),
        "queued": report.queued,
        "calls": results,
    }
    write_results(args.out, payload)
    print(f"{args.pairs:,} pairs: built in {built:.1f} s, queued in {queued:.1f} s\n")
    print("| call | p50 ms | p95 ms | max ms |\n|---|---:|---:|---:|")
    for name, row in results.items():
        print(f"| {name} | {row['p50_ms']} | {row['p95_ms']} | {row['max_ms']} |")


if __name__ == "__main__":
    main()
