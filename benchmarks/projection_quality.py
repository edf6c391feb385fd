"""Projection quality on the Europarl parallel NER gold (EN → DE / ES / IT, 799 sentences): every method × aligner
setting that runs here, several eflomal runs, span F1 (seqeval micro) on all labels and on PER/ORG/LOC.

The English gold entities are projected onto each target language over eflomal alignments and compared with the
target gold (method.md §5, intrinsic protocol). eflomal has no seed: each run samples anew, so every setting is
aligned ``--runs`` times and the table gives mean ± standard deviation.

Aligner settings (eflomal, default options otherwise):

* ``799``: the 799 gold pairs alone;
* ``799+europarl``: jointly with ../shared/data/parallel_europarl/en-<l> (27.6k / 24.0k / 60k pairs);
* ``799+europarl p5``: the same, words compared on their first 5 characters (a crude stemmer);

each symmetrised as intersection, grow-diag-final-and and union (from the same directional runs).

Methods: ``heuristic`` with the reference defaults (Easy-Label-Projection) and the paper's variant; ``ngram``
greedy and optimal, without lexical links, and with the paper's links score; ``model`` (candidates from a CRF
trained on target gold sentences, 2-fold: each half is projected with a tagger trained on the other half — a
stand-in for "reviewed sentences train the tagger") and the CRF tagger alone for reference.

Usage::

    .venv/bin/python benchmarks/projection_quality.py              # 3 runs, all settings (about an hour on 2 cores)
    .venv/bin/python benchmarks/projection_quality.py --quick      # 1 run, 799 pairs alone (about a minute)

Directional alignments are cached in ``--cache`` (default benchmarks/.cache), so re-running with more methods
costs only the projection. Writes benchmarks/results/projection_quality.json and prints markdown tables.
"""

from __future__ import annotations

import argparse
import datetime as dt
import pickle
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DEFAULT_DATA, REPO, RESULTS, command_line, machine, write_results

from xner.engine.align.eflomal_aligner import EflomalAligner
from xner.engine.align.symmetrize import symmetrize
from xner.engine.project import PROJECTORS
from xner.evaluation import score_spans
from xner.formats.conll import read_conll
from xner.formats.parallel import iter_bitext
from xner.learning import TAGGERS
from xner.types import Link, Sentence, Span

LANGUAGES = ("de", "es", "it")
SYMMETRIZATIONS = ("intersection", "grow-diag-final-and", "union")
SETTINGS = {
    "799": {"extra": False},
    "799+europarl": {"extra": True},
    "799+europarl p5": {"extra": True, "src_prefix_len": 5, "tgt_prefix_len": 5},
}
PAPER_VARIANT = {"order": "shortest_first", "length_ratio_threshold": 0.8, "collisions": "first_wins"}
# name in the tables → (method, options)
METHODS: dict[str, tuple[str, dict]] = {
    "heuristic": ("heuristic", {}),  # reference defaults (Easy-Label-Projection)
    "heuristic-paper": ("heuristic", PAPER_VARIANT),
    "ngram": ("ngram", {}),  # greedy, coverage score, lexical links for unaligned entity tokens
    "ngram-optimal": ("ngram", {"matching": "optimal"}),
    "ngram-nolexical": ("ngram", {"lexical": "off"}),
    "ngram-paper": ("ngram", {"score": "links", "lexical": "off"}),  # the paper's formalisation
    "model+ngram": ("model", {}),  # CRF candidates (2-fold) and n-grams
    "model": ("model", {"candidates": "model"}),  # CRF candidates only (the paper's NER candidates)
}
POL = frozenset({"PER", "ORG", "LOC"})
# Published intrinsic figures on this set (T-Projection README, span F1; method.md §5) and this machine's bar
PUBLISHED = {"FastAlign": 0.71, "SimAlign": 0.84, "AWESoME": 0.87, "T-Projection": 0.91}


def load_gold(data: Path, language: str) -> list[Sentence]:
    return list(read_conll(data / "europarl_ner_ixa" / f"{language}-europarl.test.conll02"))


def extra_text(data: Path, language: str) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    folder = data / "parallel_europarl" / f"en-{language}"
    return list(iter_bitext(folder / "train.en", folder / f"train.{language}", pretokenized=True))


def directional(
    data: Path, cache: Path, language: str, setting: str, run: int
) -> tuple[list[set[Link]], list[set[Link]], float]:
    """Forward and reverse eflomal links of the 799 pairs (cached), and the seconds eflomal took."""
    path = cache / f"europarl-{language}-{setting.replace(' ', '_')}-run{run}.pkl"
    if path.exists():
        with path.open("rb") as handle:
            return pickle.load(handle)
    options = {k: v for k, v in SETTINGS[setting].items() if k != "extra"}
    english, target = load_gold(data, "en"), load_gold(data, language)
    pairs = [(e.tokens, t.tokens) for e, t in zip(english, target, strict=True)]
    extra = extra_text(data, language) if SETTINGS[setting]["extra"] else []
    started = time.perf_counter()
    fwd, rev = EflomalAligner(**options).directional(pairs, extra)
    result = (fwd, rev, round(time.perf_counter() - started, 1))
    cache.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        pickle.dump(result, handle)
    return result


class CachedTagger:
    """A tagger whose predictions are memoised per sentence (the same sentences are tagged for every cell)."""

    def __init__(self, tagger) -> None:
        self.tagger = tagger
        self.memo: dict[tuple[str, ...], list[tuple[Span, float]]] = {}

    def predict_scored(self, batch: Sequence[Sequence[str]]) -> list[list[tuple[Span, float]]]:
        missing = [tuple(tokens) for tokens in batch if tuple(tokens) not in self.memo]
        if missing:
            self.memo.update(zip(missing, self.tagger.predict_scored(missing), strict=True))
        return [self.memo[tuple(tokens)] for tokens in batch]


def two_fold_taggers(target: list[Sentence]) -> tuple[list[CachedTagger], list[int], dict]:
    """A CRF per half of the target gold, and for each sentence the fold whose tagger did not see it."""
    folds = [k % 2 for k in range(len(target))]
    taggers = []
    for fold in (0, 1):
        tagger = TAGGERS.create("crf")
        tagger.fit([s for s, f in zip(target, folds, strict=True) if f != fold])
        taggers.append(CachedTagger(tagger))
    predicted = [taggers[f].predict_scored([s.tokens])[0] for s, f in zip(target, folds, strict=True)]
    alone = _scores([[span for span, _ in spans] for spans in predicted], target)
    return taggers, folds, alone


def _scores(predicted: list[list[Span]], gold: list[Sentence]) -> dict[str, float]:
    truth = [s.spans for s in gold]
    return {
        "all": round(score_spans(predicted, truth).f1(), 4),
        "pol": round(score_spans(predicted, truth, POL).f1(), 4),
    }


def project_all(
    method: str, options: dict, english: list[Sentence], target: list[Sentence], links: list[set[Link]], taggers
) -> dict[str, float]:
    if method == "model":
        tagger_set, folds = taggers
        projectors = [PROJECTORS.create(method, options).bind(tagger=t) for t in tagger_set]
        chosen = [projectors[f] for f in folds]
    else:
        chosen = [PROJECTORS.create(method, options)] * len(english)
    predicted = [
        [p.span for p in projector.project(e, t.tokens, pair_links)]
        for projector, e, t, pair_links in zip(chosen, english, target, links, strict=True)
    ]
    return _scores(predicted, target)


def mean_sd(values: list[float]) -> dict[str, float]:
    return {
        "mean": round(statistics.mean(values), 4),
        "sd": round(statistics.stdev(values), 4) if len(values) > 1 else 0.0,
        "runs": values,
    }


def run_benchmark(data: Path, cache: Path, settings: list[str], runs: int, methods: list[str]) -> dict:
    english = load_gold(data, "en")
    cells: dict = {}
    eflomal_seconds: dict = {}
    taggers_alone = {}
    for language in LANGUAGES:
        target = load_gold(data, language)
        tagger_set, folds, alone = two_fold_taggers(target)
        taggers_alone[language] = alone
        for setting in settings:
            for run in range(runs):
                fwd, rev, seconds = directional(data, cache, language, setting, run)
                eflomal_seconds.setdefault(f"{language} {setting}", []).append(seconds)
                for sym in SYMMETRIZATIONS:
                    links = [symmetrize(f, r, sym) for f, r in zip(fwd, rev, strict=True)]
                    for name in methods:
                        method, options = METHODS[name]
                        scores = project_all(method, options, english, target, links, (tagger_set, folds))
                        for measure, value in scores.items():
                            key = (setting, sym, name, measure)
                            cells.setdefault(key, {}).setdefault(language, []).append(value)
                print(f"{language} {setting} run {run + 1}/{runs} done ({seconds} s eflomal)", file=sys.stderr)
    table = []
    for (setting, sym, name, measure), by_language in cells.items():
        row = {"setting": setting, "symmetrization": sym, "method": name, "labels": measure}
        for language, values in by_language.items():
            row[language] = mean_sd(values)
        per_run = [statistics.mean(values) for values in zip(*by_language.values(), strict=True)]
        row["mean"] = mean_sd([round(v, 4) for v in per_run])
        table.append(row)
    return {"table": table, "tagger_alone_2fold": taggers_alone, "eflomal_seconds": eflomal_seconds}


def markdown(table: list[dict], setting: str, measure: str) -> str:
    lines = [
        f"aligner eflomal `{setting}`, {'all labels' if measure == 'all' else 'PER/ORG/LOC'} (mean ± sd over runs)",
        "",
        "| method | symmetrization | DE | ES | IT | mean |",
        "|---|---|---|---|---|---|",
    ]
    for row in table:
        if row["setting"] != setting or row["labels"] != measure:
            continue
        cells = [_cell(row[language]) for language in (*LANGUAGES, "mean")]
        lines.append(f"| {row['method']} | {row['symmetrization']} | {' | '.join(cells)} |")
    return "\n".join(lines)


def _cell(value: dict) -> str:
    return f"{value['mean']:.3f} ± {value['sd']:.3f}" if value["sd"] else f"{value['mean']:.3f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="eflomal runs per setting (default 3)")
    parser.add_argument("--settings", default=",".join(SETTINGS), help=f"comma-separated, of {list(SETTINGS)}")
    parser.add_argument("--methods", default=",".join(METHODS), help="comma-separated method names (see source)")
    parser.add_argument("--quick", action="store_true", help="1 run, the 799 pairs alone")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--cache", type=Path, default=REPO / "benchmarks" / ".cache")
    parser.add_argument("--out", type=Path, default=RESULTS / "projection_quality.json")
    args = parser.parse_args(argv)
    if not (args.data / "europarl_ner_ixa").is_dir():
        print(f"skipped: {args.data / 'europarl_ner_ixa'} is missing (the shared data sits beside the checkout)")
        return 0
    settings = ["799"] if args.quick else args.settings.split(",")
    runs = 1 if args.quick else args.runs
    methods = args.methods.split(",")
    unknown = [name for name in [*settings, *methods] if name not in SETTINGS and name not in METHODS]
    if unknown:
        parser.error(f"unknown setting or method: {unknown}")
    started = time.perf_counter()
    result = run_benchmark(args.data, args.cache, settings, runs, methods)
    payload = {
        "benchmark": "projection_quality",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": command_line(),
        "machine": machine(),
        "runs": runs,
        "published": PUBLISHED,
        "seconds": round(time.perf_counter() - started, 1),
        **result,
    }
    write_results(args.out, payload)
    for setting in settings:
        for measure in ("all", "pol"):
            print(markdown(result["table"], setting, measure), end="\n\n")
    print(f"CRF tagger alone (2-fold on the target gold): {result['tagger_alone_2fold']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
