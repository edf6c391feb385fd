"""How long deleting a large corpus takes, and how long each of its transactions holds the write lock (SQLite).

Two copies of the real parallel Europarl EN-DE text (``parallel_europarl/en-de``, 27,580 pairs, 55,160 sentences)
are imported into a fresh SQLite store; one is deleted with ``xner.services.deleting.delete_corpus``. Recorded:
the wall time of the delete, the number of batch transactions, and the longest batch (the longest a reviewer's
save could wait behind the delete); then the other copy is checked complete.

Usage::

    .venv/bin/python benchmarks/delete_speed.py            # the whole file
    .venv/bin/python benchmarks/delete_speed.py --pairs 5000

Writes benchmarks/results/delete_speed.json (figures, machine, exact command) and prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
import time
from itertools import islice
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DEFAULT_DATA, RESULTS, machine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import xner.store.staging as staging
from xner.formats.parallel import SideOptions
from xner.services.corpora import corpus_stats
from xner.services.deleting import delete_corpus
from xner.services.importing import import_parallel
from xner.store.db import open_store


def head(path: Path, lines: int | None, folder: Path) -> Path:
    """The first ``lines`` lines of ``path`` (all of it when None), as a file in ``folder``."""
    if lines is None:
        return path
    out = folder / path.name
    with path.open(encoding="utf-8") as source:
        out.write_text("".join(islice(source, lines)), encoding="utf-8")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=None, help="only the first N pairs (default: all)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=RESULTS / "delete_speed.json")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="xner-delete-") as tmp:
        folder = Path(tmp)
        en = head(args.data / "parallel_europarl" / "en-de" / "train.en", args.pairs, folder)
        de = head(args.data / "parallel_europarl" / "en-de" / "train.de", args.pairs, folder)
        store = open_store(f"sqlite:///{folder / 'delete.db'}")
        sides = {"src": SideOptions("en", "text", True), "tgt": SideOptions("de", "text", True)}
        for name in ("doomed", "kept"):
            import_parallel(store, en, de, corpus=name, split="train", **sides)

        batches: list[float] = []
        batch = staging._delete_batch

        def timed(*call_args, **kwargs) -> int:
            started = time.perf_counter()
            removed = batch(*call_args, **kwargs)
            batches.append(time.perf_counter() - started)
            return removed

        staging._delete_batch = timed
        started = time.perf_counter()
        report = delete_corpus(store, "doomed", deleted_by="benchmark")
        seconds = time.perf_counter() - started
        kept = corpus_stats(store, "kept")
        assert kept.pairs == report.plan.counts["pairs"], "the other corpus lost rows"
        store.dispose()

    figures = {
        "pairs": report.plan.counts["pairs"],
        "sentences": report.plan.counts["sentences"],
        "seconds": round(seconds, 3),
        "batches": len(batches),
        "batch_rows": staging.DELETE_BATCH,
        "longest_batch_s": round(max(batches), 3),
        "median_batch_s": round(sorted(batches)[len(batches) // 2], 3),
    }
    result = {"command": shlex.join([sys.executable, *sys.argv]), "machine": machine(), "figures": figures}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print("| pairs | sentences | delete (s) | batches | longest batch (s) | median batch (s) |")
    print("|---|---|---|---|---|---|")
    print(
        f"| {figures['pairs']:,} | {figures['sentences']:,} | {figures['seconds']} | {figures['batches']} | "
        f"{figures['longest_batch_s']} | {figures['median_batch_s']} |"
    )


if __name__ == "__main__":
    main()
