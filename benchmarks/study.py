"""The sample-efficiency study of issue 6, end to end and offline, on ../shared/data.

    .venv/bin/python benchmarks/study.py                       # every language, the full config
    .venv/bin/python benchmarks/study.py --langs yor,hau       # some languages
    .venv/bin/python benchmarks/study.py --config docs/study/quick.yaml   # a reduced sweep (CI)
    .venv/bin/python benchmarks/study.py --langs yor --ks 50,100 --seeds 0-2 --eval-split dev   # override the config

1. English: import CoNLL-2003 (PER/ORG/LOC) and train the English CRF on its train split (scored on its test split).
2. Per language: import the MAFAND-MT parallel text (train; dev + test for kin, which has no train), align it
   with eflomal, tag the English side with the English CRF and project its entities (n-gram candidate matching);
   import MasakhaNER 2.0 train and test (dev where the test split is not in ../shared/data) with DATE mapped to O,
   since the English source data has no DATE type (the paper scores PER/ORG/LOC).
3. Run the sweep of the config (``xner experiment``): every strategy × k gold sentences × seed, cached by
   configuration in the study database (a second run only trains what is missing), and write the curves
   (JSON/HTML/PNG) and the results table (``results.md``) to the output folder.

Every step is skipped when its result is already in the database (``--db``, default ``.study/study.db``). The data
files every language needs (the evaluation split above all) are checked before any of this work starts. The
results table names the points without a result for every seed and the seeds behind each mean.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import DEFAULT_DATA, REPO
from xner.cli._util import configure_logging, count_progress
from xner.errors import XnerError
from xner.figures.training import write_curve_files
from xner.formats.conll import ConllOptions
from xner.formats.parallel import SideOptions
from xner.services.aligning import align_corpus
from xner.services.corpora import corpus_stats, list_corpus_info
from xner.services.experiments import (
    ALL,
    CurvePoint,
    ExperimentConfig,
    paired_differences,
    parse_ks,
    parse_seeds,
    run_experiment,
    sweep_gaps,
)
from xner.services.importing import import_corpus, import_parallel
from xner.services.projecting import project_corpus
from xner.services.runs import list_projection_runs
from xner.services.training import train_tagger
from xner.services.training_view import experiment_curves
from xner.store.db import Store, open_store

log = logging.getLogger("study")

LANGUAGES = ("yor", "hau", "ibo", "swa", "zul", "pcm", "kin", "lug", "luo")
NO_DATE = ConllOptions(label_map={"DATE": "O"}, normal_form="NFC")
PROJECTION = "ngram"


def has_corpus(store: Store, name: str) -> bool:
    return any(info.name == name for info in list_corpus_info(store))


def prepare_english(store: Store, data: Path, work: Path) -> Path:
    """The English CRF, trained on CoNLL-2003 train and scored on its test split (once)."""
    model = work / "en-crf"
    if not has_corpus(store, "conll2003-en"):
        for split in ("train", "test"):
            path = data / "conll2003_en" / f"{split}.txt"
            import_corpus(store, path, corpus="conll2003-en", lang="en", split=split, options=NO_DATE, append=True)
    if not (model / "xner-tagger.json").exists():
        with count_progress("English CRF", unit="iteration") as on_progress:
            report = train_tagger(store, "conll2003-en", out=model, eval_splits=["test"], on_progress=on_progress)
        log.info("English CRF: test F1 %.4f (%.0f s)", report.f1 or 0.0, report.seconds)
    return model


def mafand_files(data: Path, lang: str) -> list[tuple[Path, Path]]:
    """(English file, target file) of the MAFAND-MT text projected for a language: its train split, or dev and
    test for kin, which has no train split (plain parallel text, not evaluation data for this study); all is
    imported as the corpus's ``train`` split."""
    folder = data / "mafand_mt" / f"en-{lang}"
    splits = ("train",) if (folder / "train.en").exists() else ("dev", "test")
    return [(folder / f"{split}.en", folder / f"{split}.{lang}") for split in splits]


def masakhaner_files(data: Path, lang: str, evaluation: str | None = None) -> dict[str, Path]:
    """The gold pool (train) and the evaluation split's file, by split name: ``evaluation``, or without it test
    (dev where the test split is not in ../shared/data, as for lug and luo, whose test split is held out)."""
    folder = data / "masakhaner2" / lang
    if evaluation is None:
        evaluation = "test" if (folder / "test.txt").exists() else "dev"
    return {"train": folder / "train.txt", evaluation: folder / f"{evaluation}.txt"}


def missing_files(data: Path, config: ExperimentConfig) -> list[str]:
    """What the study would miss, checked before any work: the English CoNLL-2003 files; per language the
    MasakhaNER 2.0 gold pool and the evaluation split the config (or ``--eval-split``) scores on, with the splits
    that are there instead, and the MAFAND-MT text. Empty when everything is in place."""
    problems = [
        f"English: no CoNLL-2003 file {path} (the English tagger's training and test data)"
        for path in (data / "conll2003_en" / f"{split}.txt" for split in ("train", "test"))
        if not path.exists()
    ]
    for lang, spec in config.languages.items():
        for split, path in masakhaner_files(data, lang, spec.test.split).items():
            if not path.exists():
                there = sorted(p.stem for p in path.parent.glob("*.txt")) if path.parent.exists() else []
                role = "evaluation split" if split == spec.test.split else "gold pool"
                problems.append(
                    f"{lang}: the {role} {split!r} is missing: no {path}"
                    + (f" (splits there: {', '.join(there)})" if there else " (no such language folder)")
                )
        problems += [
            f"{lang}: no MAFAND-MT file {path}"
            for pair in mafand_files(data, lang)
            for path in pair
            if not path.exists()
        ]
    return problems


def prepare_language(store: Store, data: Path, lang: str, english: Path, evaluation: str) -> None:
    """Import, align and project one language (each step once; a split not imported yet is added)."""
    gold = f"masakhaner-{lang}"
    held = {key.split("/")[0] for key in corpus_stats(store, gold).sentences} if has_corpus(store, gold) else set()
    for split, path in masakhaner_files(data, lang, evaluation).items():
        if split not in held:
            import_corpus(store, path, corpus=gold, lang=lang, split=split, options=NO_DATE, append=True)
    parallel = f"mafand-{lang}"
    if not has_corpus(store, parallel):
        for src, tgt in mafand_files(data, lang):
            import_parallel(
                store,
                src,
                tgt,
                corpus=parallel,
                split="train",
                append=True,
                src=SideOptions("en", "text", normal_form="NFC"),
                tgt=SideOptions(lang, "text", normal_form="NFC"),
            )
    if not list_projection_runs(store, parallel):
        started = time.perf_counter()
        with count_progress(f"{lang}: align") as on_progress:
            align_corpus(store, parallel, on_progress=on_progress)
        with count_progress(f"{lang}: project") as on_progress:
            project_corpus(store, parallel, method=PROJECTION, source_tagger=english, on_progress=on_progress)
        log.info("%s: aligned and projected in %.0f s", lang, time.perf_counter() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=REPO / "docs" / "study" / "study.yaml")
    parser.add_argument("--langs", help="comma-separated language codes (default: those of the config)")
    parser.add_argument("--ks", help="gold sentence counts instead of the config's, e.g. 50,100,all")
    parser.add_argument("--seeds", help="seeds instead of the config's, e.g. 0,1,2 or 0-4")
    parser.add_argument(
        "--eval-split", help="score every language on this MasakhaNER split (test, dev) instead of the config's"
    )
    parser.add_argument("--db", type=Path, default=REPO / ".study" / "study.db")
    parser.add_argument("--out", type=Path, help="where the curves and results go (default: the config's folder)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--workers", type=int, help="training processes (default: the config's)")
    parser.add_argument("-v", "--verbose", action="store_true", help="the libraries' INFO log lines too")
    args = parser.parse_args(argv)
    configure_logging(args.verbose, fmt="%(asctime)s %(message)s")
    log.setLevel(logging.INFO)  # the study's own steps; the libraries' INFO lines only with --verbose
    if not (args.data / "masakhaner2").exists():
        print(f"study: the real data is not at {args.data} (see ../shared/data/MANIFEST.md)", file=sys.stderr)
        return 2
    try:
        config = ExperimentConfig.load(args.config).override(
            languages=None if args.langs is None else [code.strip() for code in args.langs.split(",") if code.strip()],
            ks=None if args.ks is None else parse_ks(args.ks),
            seeds=None if args.seeds is None else parse_seeds(args.seeds),
            eval_split=args.eval_split,
            workers=args.workers,
        )
    except XnerError as error:
        print(f"study: {error}", file=sys.stderr)
        return 1
    problems = missing_files(args.data, config)
    if problems:  # before the English CRF, the alignments and the projections (minutes of work)
        print("study: cannot run, data missing:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 2
    args.db.parent.mkdir(parents=True, exist_ok=True)
    store = open_store(f"sqlite:///{args.db}")
    try:
        english = prepare_english(store, args.data, args.db.parent)
        for lang, spec in config.languages.items():
            prepare_language(store, args.data, lang, english, spec.test.split)
        with count_progress("sweep", unit="run") as on_progress:
            report = run_experiment(store, config, on_progress=on_progress)
        out = args.out or args.config.parent
        curves = experiment_curves(store, config.name, languages=list(config.languages))
        write_curve_files(curves, out, stem=config.name)
        (out / f"{config.name}.md").write_text(
            results_markdown(store, config, curves.points, args.config), encoding="utf-8"
        )
    except XnerError as error:
        print(f"study: {error}", file=sys.stderr)
        return 1
    finally:
        store.dispose()
    print(json.dumps(report.__dict__, indent=1, default=str))
    return 0


def _cell(point: CurvePoint | None, signed: bool = False, seeds: int = 0) -> str:
    """``mean [low, high]``, with ``n=…`` when the mean stands on other than the config's ``seeds`` seeds (and no
    interval for one seed)."""
    if point is None:
        return "–"
    mean = f"{point.mean:+.3f}" if signed else f"{point.mean:.3f}"
    if point.n < 2:
        return f"{mean} n={point.n} (no interval)"
    text = f"{mean} [{point.low:+.3f}, {point.high:+.3f}]" if signed else f"{mean} [{point.low:.3f}, {point.high:.3f}]"
    return text if point.n == seeds else f"{text} n={point.n}"


def _k_text(k: int) -> str:
    return "all" if k == ALL else str(k)


@dataclass(frozen=True)
class Check:
    """The hybrid against gold-only at one k: mean above, paired gain's interval above 0, unpaired intervals apart,
    and the fewest seeds behind the three (an interval needs two)."""

    k: int
    above: bool
    gain: bool
    apart: bool
    seeds: int


def verdict(checks: list[Check], claim: str, expected: list[int], upto: int) -> str:
    """Whether ``claim`` holds at every k ≤ ``upto`` of the sweep, saying so only for the ks that have the results
    (an interval claim needs two seeds): ``yes``, ``no (k = 500)``, or ``yes at k = 50, 100; no result at k = 500``.

    >>> checks = [Check(50, True, True, True, 5), Check(100, True, True, True, 1)]
    >>> verdict(checks, "above", [50, 100, 500], 500)
    'yes at k = 50, 100; no result at k = 500'
    >>> verdict(checks, "gain", [50, 100, 500], 500)
    'yes at k = 50; no result at k = 500; one seed at k = 100'
    >>> verdict([Check(50, False, False, False, 5)], "above", [50], 500)
    'no (k = 50)'
    """
    wanted = [k for k in expected if 0 < k <= upto]
    by_k = {check.k: check for check in checks if check.k <= upto}
    one_seed = [k for k, check in by_k.items() if claim != "above" and check.seeds < 2]
    judged = {k: getattr(check, claim) for k, check in by_k.items() if k not in one_seed}
    failed = [k for k, holds in judged.items() if not holds]
    if failed:
        return "no (k = " + ", ".join(map(str, failed)) + ")"
    lacking = [k for k in wanted if k not in by_k]
    if not lacking and not one_seed:
        return "yes" if judged else "–"
    parts = [f"yes at k = {', '.join(map(str, judged))}" if judged else "no result to judge"]
    if lacking:
        parts.append(f"no result at k = {', '.join(map(str, lacking))}")
    if one_seed:
        parts.append(f"one seed at k = {', '.join(map(str, one_seed))}")
    return "; ".join(parts)


def _seed_range(counts: list[int]) -> str:
    low, high = min(counts, default=0), max(counts, default=0)
    return str(low) if low == high else f"{low}–{high}"


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO))
    except ValueError:
        return str(path)


def results_markdown(
    store: Store, config: ExperimentConfig, points: list[CurvePoint], config_path: Path, hybrid: str = "hybrid"
) -> str:
    """Per language, F1 [95% interval] of every strategy at every k, and the hybrid's paired gain over each other
    strategy (seed by seed: the same seed draws the same gold sentences; projected-only, which ignores k, pairs at
    every k) with its 95% interval; a summary first, which claims a result only at the ks that have it, and a list
    of the points without a result for every seed. A mean on other than the config's number of seeds says ``n=``."""
    by_key = {(p.language, p.strategy, p.k): p for p in points}
    strategies = list(config.strategies)
    others = [name for name in strategies if name != hybrid]
    seeds = len(config.seeds)
    gains = {
        name: {(p.language, p.k): p for p in paired_differences(store, config.name, hybrid, name)} for name in others
    }
    expected = [k for k in config.ks if k != ALL]
    summary, sections = [], []
    for language in config.languages:
        ks = sorted({p.k for p in points if p.language == language}, key=lambda k: math.inf if k == ALL else k)
        if not ks:
            summary.append(f"| {language} | no result | no result | no result | 0 |")
            continue
        header = ["k", *strategies, *(f"{hybrid} − {name} (paired)" for name in others)]
        rows = [f"## {language}", "", "| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
        checks = []
        for k in ks:
            cells = [_cell(by_key.get((language, name, k)), seeds=seeds) for name in strategies]
            cells += [_cell(gains[name].get((language, k)), signed=True, seeds=seeds) for name in others]
            rows.append(f"| {_k_text(k)} | " + " | ".join(cells) + " |")
            ours, gold = by_key.get((language, hybrid, k)), by_key.get((language, "gold", k))
            gain = gains.get("gold", {}).get((language, k))
            if ours and gold and gain and k != ALL and 0 < k <= 500:
                fewest = min(ours.n, gold.n, gain.n)
                checks.append(Check(k, ours.mean > gold.mean, gain.low > 0, ours.low > gold.high, fewest))
        sections += [*rows, ""]
        counts = [p.n for p in points if p.language == language]
        summary.append(
            f"| {language} | {verdict(checks, 'above', expected, 500)} | {verdict(checks, 'gain', expected, 500)} "
            f"| {verdict(checks, 'apart', expected, 100)} | {_seed_range(counts)} |"
        )
    gaps = [gap.describe() for gap in sweep_gaps(store, config)]
    missing = (
        ["## Missing points", "", "These points lack a result for some seeds (failed or not run yet):", ""]
        + [f"- {gap}" for gap in gaps]
        + [""]
        if gaps
        else [f"Every point of the sweep has a result for each of its {seeds} seeds.", ""]
    )
    head = [
        f"# {config.name}: entity F1 (PER/ORG/LOC) on the MasakhaNER 2.0 evaluation split",
        "",
        f"Mean over the config's {seeds} seeds (a cell that says `n=…` stands on that many) with its 95% t interval;"
        " a seed draws the same k gold sentences for every"
        f" strategy, so `{hybrid} − X (paired)` is the mean of the per-seed differences with its own 95% t interval.",
        f"Made by `bash scripts/study.sh --config {_relative(config_path)}` (see README.md in this folder).",
        "",
        "## Summary: the hybrid against gold-only",
        "",
        f"| language | {hybrid} mean above gold at every k ≤ 500 of the sweep | paired gain > 0 (95%) at every k ≤ 500 "
        "| unpaired 95% intervals apart at every k ≤ 100 | seeds per mean |",
        "|---|---|---|---|---|",
    ]
    return "\n".join([*head, *summary, "", *missing, *sections])


if __name__ == "__main__":
    sys.exit(main())
