"""Speed of the projection engine alone: ``project_batch`` over pairs already in memory (no database, no CRF).

Data: the 799 English–German Europarl sentences of ../shared/data/europarl_ner_ixa, with the English *gold*
entities as the source entities and the German tokens as the target. Links: eflomal (grow-diag-final-and) on those
799 pairs, aligned jointly with the first ``--extra`` pairs of parallel_europarl/en-de for better statistics;
aligned once and cached in ``--cache``. The 799 pairs are repeated up to ``--pairs`` (each repeat a new object, so
per-pair caches cannot help).

Each measurement runs in a child process that loads the cached pairs and times ``project_batch`` over all of them
for each method (wall and CPU seconds), best of ``--repeats``. With ``--baseline PATH`` (another checkout, e.g. the
main one), the children alternate between that checkout's ``xner`` (first on the child's ``PYTHONPATH``) and this
one's, A B A B, so that a busy machine weighs on both alike; the JSON holds both figures and their ratio.

Usage::

    .venv/bin/python benchmarks/engine_speed.py                                # this checkout only
    .venv/bin/python benchmarks/engine_speed.py --baseline ../main --rounds 3  # old vs new, alternating
    .venv/bin/python benchmarks/engine_speed.py --dump new.pkl                 # pickle the projections (checks)
    .venv/bin/python benchmarks/engine_speed.py --dump old.pkl --baseline ../main

Writes benchmarks/results/engine_speed.json and prints a markdown table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import pickle
import subprocess
import sys
import time
from pathlib import Path

from common import DEFAULT_DATA, REPO, RESULTS, command_line, machine, write_results

METHODS = ("heuristic", "ngram")


def read_iob(path: Path) -> list[tuple[list[str], list[tuple[int, int, str]]]]:
    """Sentences of a "token<TAB>tag" IOB2 file: tokens and (start, end, label) spans."""
    sentences: list[tuple[list[str], list[tuple[int, int, str]]]] = []
    tokens: list[str] = []
    tags: list[str] = []

    def close() -> None:
        if tokens:
            sentences.append((list(tokens), _spans(tags)))
            tokens.clear()
            tags.clear()

    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            line = line.rstrip("\n")
            if not line.strip():
                close()
                continue
            fields = line.split("\t") if "\t" in line else line.split()
            if len(fields) < 2:
                raise SystemExit(f"{path}:{number}: expected 'token<TAB>tag', got {line!r}")
            tokens.append(fields[0])
            tags.append(fields[-1])
    close()
    return sentences


def _spans(tags: list[str]) -> list[tuple[int, int, str]]:
    spans = []
    start, label = -1, ""
    for k, tag in enumerate([*tags, "O"]):
        inside = tag.startswith("I-") and start >= 0 and tag[2:] == label
        if start >= 0 and not inside:
            spans.append((start, k, label))
            start = -1
        if tag[:2] in ("B-", "I-") and not inside:
            start, label = k, tag[2:]
    return spans


def prepare(data: Path, cache: Path, extra: int) -> Path:
    """The cached (source tokens, spans, target tokens, links) of the 799 gold pairs; aligned when missing."""
    path = cache / f"engine-europarl-en-de-{extra}.pkl"
    if path.exists():
        return path
    from xner.engine.align.eflomal_aligner import EflomalAligner
    from xner.formats.parallel import iter_bitext

    folder = data / "europarl_ner_ixa"
    english, german = read_iob(folder / "en-europarl.test.conll02"), read_iob(folder / "de-europarl.test.conll02")
    if len(english) != len(german):
        raise SystemExit(f"{folder}: {len(english)} English and {len(german)} German sentences")
    bitext = data / "parallel_europarl" / "en-de"
    more = []
    for pair in iter_bitext(bitext / "train.en", bitext / "train.de", pretokenized=True):
        if len(more) >= extra:
            break
        more.append(pair)
    started = time.perf_counter()
    pairs = [(en, de) for (en, _), (de, _) in zip(english, german, strict=True)]
    alignments = EflomalAligner().align(pairs, extra=more)
    print(f"aligned {len(pairs)} + {len(more)} pairs in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    rows = [
        (en, spans, de, sorted(alignment.sure))
        for (en, spans), (de, _), alignment in zip(english, german, alignments, strict=True)
    ]
    cache.mkdir(parents=True, exist_ok=True)
    path.with_suffix(".tmp").write_bytes(pickle.dumps(rows))
    path.with_suffix(".tmp").replace(path)
    return path


def load(cached: Path, n_pairs: int) -> tuple[list, list, list]:
    """``n_pairs`` pairs (the cached ones repeated) as the engine takes them: sentences, targets, link sets."""
    from xner.types import Sentence, Span

    rows = pickle.loads(cached.read_bytes())
    sources, targets, links = [], [], []
    for k in range(n_pairs):
        src, spans, tgt, pair_links = rows[k % len(rows)]
        sources.append(Sentence(tuple(src), tuple(Span(s, e, label) for s, e, label in spans)))
        targets.append(list(tgt))
        links.append({tuple(link) for link in pair_links})
    return sources, targets, links


def child(cached: Path, n_pairs: int, repeats: int, dump: Path | None) -> None:
    """(Child process) time ``project_batch`` for each method; print JSON (seconds: the best run)."""
    import xner
    from xner.engine.project import PROJECTORS

    sources, targets, links = load(cached, n_pairs)
    report: dict = {"xner": str(Path(xner.__file__).parent), "pairs": n_pairs}
    projections = {}
    for method in METHODS:
        projector = PROJECTORS.create(method)
        times, cpu_times = [], []
        for _ in range(repeats):
            started, cpu_started = time.perf_counter(), time.process_time()
            result = projector.project_batch(sources, targets, links)
            times.append(time.perf_counter() - started)
            cpu_times.append(time.process_time() - cpu_started)
        projections[method] = result
        report[method] = {
            "seconds": round(min(times), 4),
            "cpu_seconds": round(min(cpu_times), 4),
            "spans": sum(len(spans) for spans in result),
        }
    if dump:
        dump.write_bytes(pickle.dumps(projections))
    print(json.dumps(report))


def run(checkout: Path, cached: Path, n_pairs: int, repeats: int, dump: Path | None = None) -> dict:
    """A child that imports the ``xner`` of ``checkout`` (first on its path, ahead of any installed one)."""
    command = [sys.executable, __file__, "--child", str(cached), "--pairs", str(n_pairs), "--repeats", str(repeats)]
    command += ["--dump", str(dump.resolve())] if dump else []
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    done = subprocess.run(command, capture_output=True, text=True, cwd=checkout, env=env)
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=10_000, help="pairs projected per run (default 10000)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per method in each child; the best counts")
    parser.add_argument("--rounds", type=int, default=1, help="children per checkout, alternating with --baseline")
    parser.add_argument("--baseline", type=Path, help="another checkout (its xner) to compare with")
    parser.add_argument("--extra", type=int, default=5_000, help="parallel_europarl en-de pairs aligned alongside")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--cache", type=Path, default=REPO / "benchmarks" / ".cache")
    parser.add_argument("--dump", type=Path, help="pickle {method: projections} of this checkout here")
    parser.add_argument("--out", type=Path, default=RESULTS / "engine_speed.json")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.pairs, args.repeats, args.dump)
        return 0
    if not (args.data / "europarl_ner_ixa").is_dir():
        print(f"skipped: {args.data / 'europarl_ner_ixa'} is missing (the shared data sits beside the checkout)")
        return 0
    cached = prepare(args.data, args.cache, args.extra)
    if args.dump:  # the projections of --baseline's xner if given, else this checkout's
        print(json.dumps(run(args.baseline.resolve() if args.baseline else REPO, cached, args.pairs, 1, args.dump)))
        return 0
    checkouts = {"new": REPO}
    if args.baseline:
        checkouts = {"old": args.baseline.resolve(), **checkouts}
    runs: dict[str, list[dict]] = {name: [] for name in checkouts}
    for _ in range(args.rounds):
        for name, checkout in checkouts.items():
            runs[name].append(run(checkout, cached, args.pairs, args.repeats))
    results: dict = {}
    for name, reports in runs.items():
        results[name] = {"xner": reports[0]["xner"]}
        for method in METHODS:
            best = min(report[method]["seconds"] for report in reports)
            results[name][method] = {
                "seconds": best,
                "pairs_per_second": round(args.pairs / best),
                "cpu_seconds": min(report[method]["cpu_seconds"] for report in reports),
                "spans": reports[0][method]["spans"],
                "all_seconds": [report[method]["seconds"] for report in reports],
            }
    if "old" in results:
        results["speedup"] = {
            method: round(results["old"][method]["seconds"] / results["new"][method]["seconds"], 2)
            for method in METHODS
        }
    payload = {
        "benchmark": "engine_speed",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": command_line(),
        "machine": machine(),
        "pairs": args.pairs,
        "repeats": args.repeats,
        "rounds": args.rounds,
        "results": results,
    }
    write_results(args.out, payload)
    print(
        "| method | "
        + " | ".join(f"{name} pairs/s" for name in checkouts)
        + (" | speedup |" if "old" in results else " |")
    )
    print("|---|" + "---|" * (len(checkouts) + ("old" in results)))
    for method in METHODS:
        cells = [f"{results[name][method]['pairs_per_second']:,}" for name in checkouts]
        if "old" in results:
            cells.append(f"{results['speedup'][method]}×")
        print(f"| {method} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
