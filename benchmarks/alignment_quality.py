"""Word-alignment quality against gold: precision / recall / F1 / AER of eflomal on the four gold sets.

Data: ../shared/data/alignment_gold_awesome (from awesome-align's examples): en-fr (447 pairs, WPT Hansards), ro-en
(248), ja-en (582, KFTT) and zh-en (450), tokenised, with sure and possible gold links. Each set is imported with
the services (as ``xner import parallel`` / ``xner import alignments --index-base 1`` do), aligned with eflomal
on its own sentences only (no extra text: the shared data has no bitext in these languages) and scored with
``evaluate_alignment`` (``xner eval alignment``), once per symmetrisation. eflomal has no seed: ``--runs`` repeats
each alignment and the table gives the mean and standard deviation.

ja-en's gold has 6 links past the end of a sentence (see the data's MANIFEST); they are dropped from a copy of the
gold file before import (the importer rightly refuses them, naming the line).

Neural aligners (simalign, awesome) need a model from the hub, which this machine cannot reach: run them with
``--aligner simalign -o model=PATH`` where a model is at hand.

Usage::

    .venv/bin/python benchmarks/alignment_quality.py             # 3 runs (about 2 minutes on 2 cores)
    .venv/bin/python benchmarks/alignment_quality.py --runs 1 --aligner simalign -o model=/models/mbert

Writes benchmarks/results/alignment_quality.json and prints a markdown table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DEFAULT_DATA, RESULTS, command_line, machine, write_results

from xner.formats.parallel import SideOptions
from xner.options import parse_assignments
from xner.services.aligning import align_corpus
from xner.services.evaluating import evaluate_alignment
from xner.services.importing import import_alignments, import_parallel
from xner.store.db import open_store

SETS = {"enfr": ("en", "fr"), "roen": ("ro", "en"), "jaen": ("ja", "en"), "zhen": ("zh", "en")}
SYMMETRIZATIONS = ("intersection", "grow-diag-final-and", "union")
FIGURES = ("precision", "recall", "f1", "aer")


def in_range_gold(pairs_path: Path, gold_path: Path, out: Path) -> tuple[Path, int]:
    """A copy of ``gold_path`` without links beyond their sentence (1-based); returns it and how many were dropped."""
    dropped = 0
    lines = []
    with pairs_path.open(encoding="utf-8") as pairs, gold_path.open(encoding="utf-8") as gold:
        for pair, links in zip(pairs, gold, strict=True):
            src, tgt = (side.split() for side in pair.split(" ||| "))
            kept = []
            for link in links.split():
                i, j = (int(x) for x in link.replace("p", "-").split("-"))
                if 1 <= i <= len(src) and 1 <= j <= len(tgt):
                    kept.append(link)
                else:
                    dropped += 1
            lines.append(" ".join(kept) + "\n")
    out.write_text("".join(lines), encoding="utf-8")
    return out, dropped


def measure(name: str, data: Path, workdir: Path, aligner: str, options: dict, runs: int) -> dict:
    folder = data / "alignment_gold_awesome"
    src_lang, tgt_lang = SETS[name]
    store = open_store(f"sqlite:///{workdir / f'{name}.db'}")
    pretokenized = {"pretokenized": True, "format": "text"}
    pairs_path = folder / f"{name}.src-tgt"
    import_parallel(
        store,
        pairs_path,
        None,
        corpus=name,
        src=SideOptions(src_lang, **pretokenized),
        tgt=SideOptions(tgt_lang, **pretokenized),
        split="test",
    )
    gold_path, dropped = in_range_gold(pairs_path, folder / f"{name}.gold", workdir / f"{name}.gold")
    gold = import_alignments(store, gold_path, corpus=name, aligner="gold", index_base=1).run_id
    result: dict = {"pairs": None, "gold_links_dropped": dropped, "scores": {}}
    symmetrizations = SYMMETRIZATIONS if aligner == "eflomal" else ("",)
    for symmetrization in symmetrizations:
        chosen = {**options, "symmetrization": symmetrization} if symmetrization else dict(options)
        per_run = []
        for _ in range(runs):
            run = align_corpus(store, name, aligner=aligner, options=chosen).run_id
            evaluation = evaluate_alignment(store, name, run_id=run, gold_run_id=gold)
            result["pairs"] = evaluation.pairs
            per_run.append({key: evaluation.scores[key] for key in FIGURES})
        result["scores"][symmetrization or aligner] = {
            key: {
                "mean": round(statistics.mean(r[key] for r in per_run), 4),
                "std": round(statistics.stdev(r[key] for r in per_run), 4) if runs > 1 else 0.0,
                "runs": [round(r[key], 4) for r in per_run],
            }
            for key in FIGURES
        }
        print(
            f"{name} {symmetrization or aligner}: AER {result['scores'][symmetrization or aligner]['aer']}",
            file=sys.stderr,
        )
    store.dispose()
    return result


def markdown(results: dict[str, dict]) -> str:
    lines = [
        "| gold set | pairs | symmetrisation | precision | recall | F1 | AER |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    for name, result in results.items():
        for setting, scores in result["scores"].items():
            cells = " | ".join(
                f"{scores[key]['mean']:.3f} ± {scores[key]['std']:.3f}"
                if key == "aer"
                else f"{scores[key]['mean']:.3f}"
                for key in FIGURES
            )
            lines.append(f"| {name} | {result['pairs']} | {setting} | {cells} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--aligner", default="eflomal")
    parser.add_argument("-o", "--option", action="append", default=[], help="aligner option NAME=VALUE")
    parser.add_argument("--sets", default=",".join(SETS), help="comma-separated gold sets")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=RESULTS / "alignment_quality.json")
    args = parser.parse_args()
    if not (args.data / "alignment_gold_awesome").is_dir():
        print(f"skipped: {args.data / 'alignment_gold_awesome'} is missing (the shared data sits beside the checkout)")
        return 0
    options = parse_assignments(args.option)
    with tempfile.TemporaryDirectory(prefix="xner-aq-") as folder:
        results = {
            name: measure(name, args.data, Path(folder), args.aligner, options, args.runs)
            for name in args.sets.split(",")
        }
    payload = {
        "benchmark": "alignment_quality",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": command_line(),
        "machine": machine(),
        "aligner": args.aligner,
        "options": options,
        "runs": args.runs,
        "results": results,
    }
    write_results(args.out, payload)
    print(markdown(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
