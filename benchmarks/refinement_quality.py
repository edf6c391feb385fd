"""Does refining word alignments through pivot sentences improve annotation projection? (method notes §3)

Data: the Europarl parallel NER gold (``europarl_ner_ixa``: the same 799 English sentences with their German,
Spanish and Italian translations, gold entities on every side). For each target language T (de, es, it) the other
two translations serve as pivots P: a stand-in for back-translation, since no MT model runs here. The pivot
sentences are human translations of the same English sentences, so this measures the method at its best case
(a pivot as good as a human translation); machine back-translations would be noisier.

For each eflomal symmetrisation (intersection, grow-diag-final-and), through the services only:

1. import ``en-<l>`` for l in de, es, it (CoNLL, gold entities on both sides) and align each directly with eflomal
   (``align_corpus``): the *direct* runs;
2. for each target T and pivot P: ``compose_via(en-T, via=en-P, via_run=<direct run of en-P>)``: the source ↔
   pivot leg is the direct EN-P run, the pivot ↔ target leg is aligned by eflomal with the same options;
3. ``store_refinement`` with each combine mode, through one pivot and through both pivots at once (``vote``:
   direct + 2 pivots, links with at least 2 of 3 votes; the other modes use the union of both pivots' links);
4. ``project_corpus`` with ``heuristic`` and ``ngram`` (their defaults) over every run, ``evaluate_projection``
   against the target gold: span F1 over PER/ORG/LOC (the paper's measure) and over all labels (with MISC).

Text for eflomal: ``--quick`` aligns the 799 gold pairs alone. The full variant adds
``parallel_europarl/en-<l>/train.*`` (27,580 / 23,978 / 60,000 pairs) to each direct EN-l run; for the pivot ↔
target legs no such bitext exists, so it is *triangulated*: the pivot and target sides of English sentences that
occur in both ``en-P`` and ``en-T`` train files (de-es 4,262, de-it 15,174, es-it 430 pairs); ``--pivot-extra
none`` uses the 799 pairs alone there.

eflomal samples at random (no seed), so every figure varies between runs: ``--repeats N`` redoes everything N
times on a fresh store and reports the mean and the spread (std over repeats of the language-mean change).

Usage::

    .venv/bin/python benchmarks/refinement_quality.py --quick --repeats 3     # 799 pairs alone (~8 min a repeat)
    nice .venv/bin/python benchmarks/refinement_quality.py                    # with extra text (~40 min on 2 cores)

Writes ``benchmarks/results/refinement_quality.json`` (one entry per variant, ``quick`` or ``full``, kept side by
side: every F1 of every repeat, the summary, the machine and the exact command) and prints markdown tables.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DEFAULT_DATA, RESULTS, command_line, machine, write_results

from xner.engine.align.compose import COMBINE_MODES
from xner.formats.parallel import SideOptions
from xner.services.aligning import align_corpus, read_extra_text
from xner.services.corpora import get_corpus
from xner.services.evaluating import evaluate_projection
from xner.services.importing import import_parallel
from xner.services.pairs import iter_pairs
from xner.services.projecting import project_corpus
from xner.services.refining import compose_via, store_refinement
from xner.store.db import Store, open_store

DEFAULT_OUT = RESULTS / "refinement_quality.json"
LANGS = ("de", "es", "it")
SYMMETRIZATIONS = ("intersection", "grow-diag-final-and")
METHODS = ("heuristic", "ngram")
PAPER_LABELS = ("PER", "ORG", "LOC")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- data ----------------------------------------------------------------------------------------------------------


def first_lines(src: Path, tgt: Path) -> dict[str, str]:
    """English line → its translation (first occurrence), from a line-aligned pair of files."""
    mapping: dict[str, str] = {}
    with src.open(encoding="utf-8") as s, tgt.open(encoding="utf-8") as t:
        for en, other in zip(s, t, strict=True):
            en, other = en.strip(), other.strip()
            if en and other:
                mapping.setdefault(en, other)
    return mapping


def triangulate(data: Path, pivot: str, target: str) -> list[tuple[list[str], list[str]]]:
    """Pivot ↔ target token pairs of the English sentences found in both ``en-pivot`` and ``en-target`` bitexts."""
    root = data / "parallel_europarl"
    by_pivot = first_lines(root / f"en-{pivot}" / "train.en", root / f"en-{pivot}" / f"train.{pivot}")
    by_target = first_lines(root / f"en-{target}" / "train.en", root / f"en-{target}" / f"train.{target}")
    return [(by_pivot[en].split(), by_target[en].split()) for en in by_pivot if en in by_target]


# --- one repeat ----------------------------------------------------------------------------------------------------


def coverage(store: Store, corpus: str, run_id: int) -> float:
    """Share of gold source entity tokens with at least one link in run ``run_id``."""
    linked = total = 0
    with store.session() as session:
        for pair in iter_pairs(session, get_corpus(session, corpus), alignment_run=run_id):
            assert pair.alignment is not None
            aligned = {i for i, _ in pair.alignment.links}
            for span in pair.src_spans:
                total += len(span)
                linked += sum(i in aligned for i in range(span.start, span.end))
    return round(linked / total, 4) if total else 0.0


def score_run(store: Store, corpus: str, run_id: int) -> dict[str, dict]:
    """F1 (PER/ORG/LOC and all labels, with per-label detail) of each projection method over alignment run."""
    result = {}
    for method in METHODS:
        projected = project_corpus(store, corpus, method=method, alignment_run=run_id).run_id
        paper = evaluate_projection(store, corpus, run_id=projected, labels=PAPER_LABELS).scores
        every = evaluate_projection(store, corpus, run_id=projected).scores
        result[method] = {
            "f1": paper["overall"]["f1"],
            "precision": paper["overall"]["precision"],
            "recall": paper["overall"]["recall"],
            "f1_all_labels": every["overall"]["f1"],
            "per_label_f1": {label: s["f1"] for label, s in every.items() if label != "overall"},
        }
    return result


def one_repeat(args: argparse.Namespace, repeat: int, workdir: Path, extra: dict, pivot_extra: dict) -> list[dict]:
    """Every (symmetrisation, target, configuration, method) F1 of one repeat, as flat records."""
    store = open_store(f"sqlite:///{workdir / f'refine-{repeat}.db'}")
    gold = args.data / "europarl_ner_ixa"
    records: list[dict] = []
    try:
        for lang in LANGS:
            import_parallel(
                store,
                gold / "en-europarl.test.conll02",
                gold / f"{lang}-europarl.test.conll02",
                corpus=f"en-{lang}",
                src=SideOptions("en"),
                tgt=SideOptions(lang),
                split="test",
            )
        for sym in args.symmetrizations:
            options = {"symmetrization": sym}
            direct: dict[str, int] = {}
            for lang in LANGS:
                report = align_corpus(store, f"en-{lang}", options=options, extra=extra.get(lang, ()))
                direct[lang] = report.run_id
                log(f"repeat {repeat} {sym}: direct en-{lang} aligned in {report.seconds:.0f} s")
            for target in LANGS:
                corpus = f"en-{target}"
                pivots = [p for p in LANGS if p != target]
                base = {"repeat": repeat, "symmetrization": sym, "target": target}
                runs: list[tuple[dict, int, int]] = [
                    ({"config": "direct", "mode": None, "pivots": []}, direct[target], 0)
                ]
                compositions = {}
                for pivot in pivots:
                    compositions[pivot] = compose_via(
                        store,
                        corpus,
                        via=f"en-{pivot}",
                        via_run=direct[pivot],
                        options=options,
                        pivot_extra=pivot_extra.get((pivot, target), ()),
                    )
                    log(f"repeat {repeat} {sym}: {pivot}→{target} leg in {compositions[pivot].seconds:.0f} s")
                for mode in args.modes:
                    for pivot in pivots:
                        r = store_refinement(
                            store, corpus, compositions[pivot], alignment_run=direct[target], combine=mode
                        )
                        runs.append(
                            ({"config": f"{mode} · one pivot", "mode": mode, "pivots": [pivot]}, r.run_id, r.links)
                        )
                    r = store_refinement(
                        store, corpus, list(compositions.values()), alignment_run=direct[target], combine=mode
                    )
                    runs.append(
                        ({"config": f"{mode} · both pivots", "mode": mode, "pivots": pivots}, r.run_id, r.links)
                    )
                r = store_refinement(
                    store, corpus, list(compositions.values()), alignment_run=direct[target], combine="vote"
                )
                runs.append(
                    ({"config": "vote · both pivots (2 of 3)", "mode": "vote", "pivots": pivots}, r.run_id, r.links)
                )
                for config, run_id, links in runs:
                    if config["config"] == "direct":
                        with store.session() as session:
                            found = get_corpus(session, corpus)
                            links = sum(
                                len(p.alignment.links) for p in iter_pairs(session, found, alignment_run=run_id)
                            )
                    scores = score_run(store, corpus, run_id)
                    shared = {**base, **config, "alignment_run": run_id, "links": links}
                    shared["entity_token_coverage"] = coverage(store, corpus, run_id)
                    for method, s in scores.items():
                        records.append({**shared, "method": method, **s})
                direct_f1 = {
                    r["method"]: r["f1"] for r in records if r["config"] == "direct" and r.items() >= base.items()
                }
                log(f"repeat {repeat} {sym}: en-{target} scored ({len(runs)} runs; direct F1 {direct_f1})")
    finally:
        store.dispose()
    return records


# --- summary -------------------------------------------------------------------------------------------------------


def summarize(records: list[dict]) -> dict:
    """Mean F1 per (symmetrisation, method, config, target) over repeats and pivots, the language mean, and its
    change against the direct run with the spread over repeats."""
    cells: dict[tuple, list[float]] = defaultdict(list)
    cells_all: dict[tuple, list[float]] = defaultdict(list)
    by_repeat: dict[tuple, list[float]] = defaultdict(list)  # (sym, method, config, repeat) -> f1 per target/pivot
    coverage_cells: dict[tuple, list[float]] = defaultdict(list)
    for r in records:
        key = (r["symmetrization"], r["method"], r["config"], r["target"])
        cells[key].append(r["f1"])
        cells_all[key].append(r["f1_all_labels"])
        coverage_cells[key].append(r["entity_token_coverage"])
    summary: dict = {}
    for (sym, method, config, target), values in sorted(cells.items()):
        entry = summary.setdefault(sym, {}).setdefault(method, {}).setdefault(config, {"f1": {}, "f1_all_labels": {}})
        entry["f1"][target] = round(statistics.fmean(values), 4)
        entry["f1_all_labels"][target] = round(statistics.fmean(cells_all[(sym, method, config, target)]), 4)
        entry.setdefault("entity_token_coverage", {})[target] = round(
            statistics.fmean(coverage_cells[(sym, method, config, target)]), 4
        )
    for r in records:  # per repeat: target mean of (mean over pivots)
        by_repeat[(r["symmetrization"], r["method"], r["config"], r["repeat"], r["target"])].append(r["f1"])
    for sym, methods in summary.items():
        for method, configs in methods.items():
            repeats = sorted({r["repeat"] for r in records})

            for config, entry in configs.items():
                entry["mean"] = round(statistics.fmean(entry["f1"].values()), 4)
                entry["mean_all_labels"] = round(statistics.fmean(entry["f1_all_labels"].values()), 4)
                deltas = [
                    lang_mean(by_repeat, sym, method, config, k) - lang_mean(by_repeat, sym, method, "direct", k)
                    for k in repeats
                ]
                entry["delta_mean"] = round(statistics.fmean(deltas), 4)
                entry["delta_std_over_repeats"] = round(statistics.stdev(deltas), 4) if len(deltas) > 1 else None
    return summary


def lang_mean(by_repeat: dict, sym: str, method: str, config: str, repeat: int) -> float:
    """Mean over targets of the mean over pivots of one repeat's F1."""
    return statistics.fmean(statistics.fmean(by_repeat[(sym, method, config, repeat, t)]) for t in LANGS)


def config_order(config: str) -> tuple:
    if config == "direct":
        return (0, 0, False, "")
    mode, _, which = config.partition(" · ")
    modes = [*COMBINE_MODES, "vote"]
    return (1, modes.index(mode) if mode in modes else 99, not which.startswith("one"), which)


def markdown(summary: dict) -> str:
    blocks = []
    for sym, methods in summary.items():
        for method, configs in methods.items():
            rows = [
                f"**{method}** projection, eflomal **{sym}** — span F1 over PER/ORG/LOC (Δ: change of the mean against "
                "direct ± std over repeats; cov: share of source entity tokens with a link, mean)",
                "",
                "| alignment | de | es | it | mean | Δ mean | mean, all labels | cov |",
                "|---|---:|---:|---:|---:|---:|---:|---:|",
            ]
            for config in sorted(configs, key=config_order):
                e = configs[config]
                spread = f" ± {e['delta_std_over_repeats']:.3f}" if e["delta_std_over_repeats"] is not None else ""
                delta = "–" if config == "direct" else f"{e['delta_mean']:+.3f}{spread}"
                cov = statistics.fmean(e["entity_token_coverage"].values())
                cells = " | ".join(f"{e['f1'].get(t, float('nan')):.3f}" for t in LANGS)
                rows.append(
                    f"| {config} | {cells} | {e['mean']:.3f} | {delta} | {e['mean_all_labels']:.3f} | {cov:.3f} |"
                )
            blocks.append("\n".join(rows))
    return "\n\n".join(blocks)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="eflomal on the 799 gold pairs alone (no extra text)")
    parser.add_argument(
        "--pivot-extra",
        choices=("triangulate", "none"),
        default="triangulate",
        help="extra text of the pivot ↔ target legs in the full variant (default triangulate)",
    )
    parser.add_argument("--repeats", type=int, default=1, help="independent repeats (eflomal is random; default 1)")
    parser.add_argument(
        "--symmetrizations",
        default=",".join(SYMMETRIZATIONS),
        help=f"comma-separated eflomal symmetrisations (default {','.join(SYMMETRIZATIONS)})",
    )
    parser.add_argument(
        "--modes", default=",".join(COMBINE_MODES), help="comma-separated combine modes (vote always runs)"
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help=f"shared data folder (default {DEFAULT_DATA})")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"JSON results (default {DEFAULT_OUT})")
    parser.add_argument("--workdir", type=Path, default=None, help="where the SQLite files go (default: temp, removed)")
    args = parser.parse_args(argv)
    args.symmetrizations = [s for s in args.symmetrizations.split(",") if s]
    args.modes = [m for m in args.modes.split(",") if m]
    variant = "quick" if args.quick else "full"
    if args.pivot_extra == "none" and not args.quick:
        variant = "full, pivot legs on the 799 pairs alone"
    gold = args.data / "europarl_ner_ixa"
    if not gold.is_dir():
        print(f"the Europarl NER gold is missing: {gold}", file=sys.stderr)
        return 1
    command = command_line()
    log(f"$ {command}")

    extra: dict = {}
    pivot_extra: dict = {}
    if not args.quick:
        root = args.data / "parallel_europarl"
        for lang in LANGS:
            extra[lang] = read_extra_text(root / f"en-{lang}" / "train.en", root / f"en-{lang}" / f"train.{lang}")
        if args.pivot_extra == "triangulate":
            for pivot in LANGS:
                for target in LANGS:
                    if pivot != target:
                        pivot_extra[(pivot, target)] = triangulate(args.data, pivot, target)
    setup = {
        "data": "europarl_ner_ixa (799 pairs; en→de/es/it, gold entities both sides)",
        "eflomal_options": "defaults (model 3, 3 samplers) + symmetrization",
        "symmetrizations": args.symmetrizations,
        "combine_modes": [*args.modes, "vote"],
        "methods": {m: "defaults" for m in METHODS},
        "repeats": args.repeats,
        "direct_extra_pairs": {lang: len(extra.get(lang, ())) for lang in LANGS},
        "src_pivot_leg": "the direct EN-pivot run (via_run)",
        "pivot_tgt_extra_pairs": {f"{p}-{t}": len(v) for (p, t), v in pivot_extra.items()} or "none: 799 pairs alone",
    }
    log(f"setup: {json.dumps(setup)}")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="xner-refine-"))
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    records: list[dict] = []
    try:
        for repeat in range(args.repeats):
            records += one_repeat(args, repeat, workdir, extra, pivot_extra)
            summary = summarize(records)
            write(args.out, variant, command, setup, records, summary, time.perf_counter() - started, repeat + 1)
            log(f"repeat {repeat} done; results so far in {args.out}")
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    print(markdown(summarize(records)))
    return 0


def write(
    out: Path, variant: str, command: str, setup: dict, records: list, summary: dict, seconds: float, done: int
) -> None:
    """Update ``out`` with this variant (other variants already in the file are kept)."""
    document = {"benchmark": "refinement_quality", "variants": {}}
    if out.exists():
        with contextlib.suppress(json.JSONDecodeError):
            document = json.loads(out.read_text(encoding="utf-8"))
    document.setdefault("variants", {})[variant] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": command,
        "machine": machine(),
        "seconds": round(seconds, 1),
        "repeats_done": done,
        "setup": setup,
        "summary": summary,
        "markdown": markdown(summary),
        "records": records,
    }
    write_results(out, document)


if __name__ == "__main__":
    raise SystemExit(main())
