"""The sample-efficiency study of issue 6, end to end and offline, on ../shared/data.

    .venv/bin/python benchmarks/study.py                       # every language, the full config
    .venv/bin/python benchmarks/study.py --langs yor,hau       # some languages
    .venv/bin/python benchmarks/study.py --config docs/study/quick.yaml   # a reduced sweep (CI)

1. English: import CoNLL-2003 (PER/ORG/LOC) and train the English CRF on its train split (scored on its test split).
2. Per language: import the MAFAND-MT parallel text (train; dev + test for kin, which has no train), align it
   with eflomal, tag the English side with the English CRF and project its entities (n-gram candidate matching);
   import MasakhaNER 2.0 train and test (dev where the test split is not in ../shared/data) with DATE mapped to O,
   since the English source data has no DATE type (the paper scores PER/ORG/LOC).
3. Run the sweep of the config (``xner experiment``): every strategy × k gold sentences × seed, cached by
   configuration in the study database (a second run only trains what is missing), and write the curves
   (JSON/HTML/PNG) and the results table (``results.md``) to the output folder.

Every step is skipped when its result is already in the database (``--db``, default ``.study/study.db``).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import DEFAULT_DATA, REPO
from xner.cli._util import count_progress
from xner.errors import XnerError
from xner.figures.training import write_curve_files
from xner.formats.conll import ConllOptions
from xner.formats.parallel import SideOptions
from xner.services.aligning import align_corpus
from xner.services.corpora import list_corpus_info
from xner.services.experiments import (
    ALL,
    CurvePoint,
    ExperimentConfig,
    paired_differences,
    run_experiment,
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


def masakhaner_files(data: Path, lang: str) -> dict[str, Path]:
    """The gold pool (train) and the evaluation split (test, or dev for lug and luo, whose test split is held out
    of ../shared/data), by split name."""
    folder = data / "masakhaner2" / lang
    evaluation = "test" if (folder / "test.txt").exists() else "dev"
    return {"train": folder / "train.txt", evaluation: folder / f"{evaluation}.txt"}


def prepare_language(store: Store, data: Path, lang: str, english: Path) -> None:
    """Import, align and project one language (each step once)."""
    gold = f"masakhaner-{lang}"
    if not has_corpus(store, gold):
        for split, path in masakhaner_files(data, lang).items():
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
    parser.add_argument("--db", type=Path, default=REPO / ".study" / "study.db")
    parser.add_argument("--out", type=Path, help="where the curves and results go (default: the config's folder)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--workers", type=int, help="training processes (default: the config's)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if not (args.data / "masakhaner2").exists():
        print(f"study: the real data is not at {args.data} (see ../shared/data/MANIFEST.md)", file=sys.stderr)
        return 2
    config = ExperimentConfig.load(args.config)
    if args.langs:
        wanted = args.langs.split(",")
        config = replace(config, languages={code: spec for code, spec in config.languages.items() if code in wanted})
    if args.workers:
        config = replace(config, workers=args.workers)
    args.db.parent.mkdir(parents=True, exist_ok=True)
    store = open_store(f"sqlite:///{args.db}")
    try:
        english = prepare_english(store, args.data, args.db.parent)
        for lang in config.languages:
            prepare_language(store, args.data, lang, english)
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


def _cell(point: CurvePoint | None, signed: bool = False) -> str:
    if point is None:
        return "–"
    mean = f"{point.mean:+.3f}" if signed else f"{point.mean:.3f}"
    return f"{mean} [{point.low:+.3f}, {point.high:+.3f}]" if signed else f"{mean} [{point.low:.3f}, {point.high:.3f}]"


def _k_text(k: int) -> str:
    return "all" if k == ALL else str(k)


def _every(checks: list[tuple[int, bool, bool, bool]], index: int, upto: int = 500) -> str:
    return "yes" if all(check[index] for check in checks if check[0] <= upto) else "no"


def _every(checks: list[tuple[int, bool, bool, bool]], index: int, upto: int = 500) -> str:
    return "yes" if all(check[index] for check in checks if check[0] <= upto) else "no"


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
    every k) with its 95% interval; a summary first."""
    by_key = {(p.language, p.strategy, p.k): p for p in points}
    strategies = list(config.strategies)
    others = [name for name in strategies if name != hybrid]
    gains = {
        name: {(p.language, p.k): p for p in paired_differences(store, config.name, hybrid, name)} for name in others
    }
    summary, sections = [], []
    for language in config.languages:
        ks = sorted({p.k for p in points if p.language == language}, key=lambda k: math.inf if k == ALL else k)
        if not ks:
            continue
        header = ["k", *strategies, *(f"{hybrid} − {name} (paired)" for name in others)]
        rows = [f"## {language}", "", "| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
        checks = []
        for k in ks:
            cells = [_cell(by_key.get((language, name, k))) for name in strategies]
            cells += [_cell(gains[name].get((language, k)), signed=True) for name in others]
            rows.append(f"| {_k_text(k)} | " + " | ".join(cells) + " |")
            ours, gold = by_key.get((language, hybrid, k)), by_key.get((language, "gold", k))
            gain = gains.get("gold", {}).get((language, k))
            if ours and gold and gain and k != ALL and 0 < k <= 500:
                checks.append((k, ours.mean > gold.mean, gain.low > 0, ours.low > gold.high))
        sections += [*rows, ""]
        if checks:
            summary.append(f"| {language} | {_every(checks, 1)} | {_every(checks, 2)} | {_every(checks, 3, 100)} |")
    head = [
        f"# {config.name}: entity F1 (PER/ORG/LOC) on the MasakhaNER 2.0 evaluation split",
        "",
        f"Mean over {len(config.seeds)} seeds with its 95% t interval; a seed draws the same k gold sentences for every"
        f" strategy, so `{hybrid} − X (paired)` is the mean of the per-seed differences with its own 95% t interval.",
        f"Made by `bash scripts/study.sh --config {_relative(config_path)}` (see README.md in this folder).",
        "",
        "## Summary: the hybrid against gold-only",
        "",
        f"| language | {hybrid} mean above gold at every k ≤ 500 of the sweep | paired gain > 0 (95%) at every k ≤ 500 "
        "| unpaired 95% intervals apart at every k ≤ 100 |",
        "|---|---|---|---|",
    ]
    return "\n".join([*head, *summary, "", *sections])


if __name__ == "__main__":
    sys.exit(main())
