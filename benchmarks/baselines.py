"""Baselines of issue 7 on the data at hand (offline: no NLLB weights here), through the same services as the CLI.

1. Translate-test ("compare to original", method notes §5) on the Europarl parallel NER gold (DE / ES / IT, 799
   sentences), with the human English of Europarl as the translation into English (the offline stand-in for
   NLLB-200-3.3B): an English CRF (CoNLL-2003 train) tags the English, eflomal (+ Europarl bitext) aligns, the
   entities are projected back with ``heuristic`` and ``ngram``, scored against the target gold on PER/ORG/LOC.
   Beside it: the same projection from the English *gold* (the intrinsic protocol: what a perfect English tagger
   would give), the model-transfer baseline (the English CRF on the target sentences themselves), and EasyProject's
   decoding with a perfect marker translation (the reference sentence with its gold entities between markers: the
   upper bound of reading spans back and recovering labels by string matching, no translation model involved).
2. Model transfer on MasakhaNER 2.0 (test split; dev for lug/luo, whose test is held out), PER/ORG/LOC: the English
   CRF on the target language, the paper's "model transfer" row with a CRF instead of XLM-R Large.

Usage::

    .venv/bin/python benchmarks/baselines.py            # about 4 minutes on 2 cores

Writes benchmarks/results/baselines.json and prints markdown tables.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DEFAULT_DATA, RESULTS, command_line, machine, write_results

from xner.engine.project import PROJECTORS
from xner.engine.translate.markers import mark
from xner.evaluation import SpanScores
from xner.formats.conll import read_conll
from xner.services.aligning import read_extra_text
from xner.services.evaluating import evaluate_tagger_on
from xner.services.importing import import_corpus
from xner.services.training import train_tagger
from xner.services.workflows import run_translate_test
from xner.store.db import open_store

LABELS = ("PER", "ORG", "LOC")
EUROPARL = ("de", "es", "it")
MASAKHANER = ("yor", "hau", "ibo", "swa", "zul", "pcm", "kin", "lug", "luo")


class ReferenceTranslator:
    """The marked reference sentence for each marked English sentence: a perfect marker-preserving translation."""

    def __init__(self, table: dict[str, str]) -> None:
        self.table = table

    def translate(self, texts, *, src_lang, tgt_lang, on_progress=None):
        return [self.table.get(text, "") for text in texts]


def easyproject_upper_bound(data: Path, lang: str) -> dict:
    folder = data / "europarl_ner_ixa"
    sources = list(read_conll(folder / "en-europarl.test.conll02"))
    targets = list(read_conll(folder / f"{lang}-europarl.test.conll02"))
    table = {mark(s.tokens, s.spans): mark(t.tokens, t.spans) for s, t in zip(sources, targets, strict=True)}
    options = {"entity_translations": "false", "src_lang": "en", "tgt_lang": lang}
    method = PROJECTORS.create("easyproject", options).bind(translator=ReferenceTranslator(table))
    scores = SpanScores()
    projected = method.project_batch(sources, [t.tokens for t in targets], [()] * len(sources))
    for spans, target in zip(projected, targets, strict=True):
        scores.add([p.span for p in spans], target.spans, LABELS)
    return scores.as_dict()["overall"]


def europarl(store, data: Path, tagger: Path) -> dict:
    results = {}
    english = data / "europarl_ner_ixa" / "en-europarl.test.conll02"
    for lang in EUROPARL:
        started = time.perf_counter()
        corpus = f"ep-{lang}"
        import_corpus(store, data / "europarl_ner_ixa" / f"{lang}-europarl.test.conll02", corpus=corpus, lang=lang)
        bitext = data / "parallel_europarl" / f"en-{lang}"
        extra = read_extra_text(bitext / "train.en", bitext / f"train.{lang}")
        rows = {}
        for name, method, source in (
            ("heuristic", "heuristic", tagger),
            ("ngram", "ngram", tagger),
            ("heuristic, English gold", "heuristic", None),
            ("ngram, English gold", "ngram", None),
            ("model transfer", "model-transfer", None),
        ):
            options = {"model": str(tagger)} if method == "model-transfer" else None
            report = run_translate_test(
                store,
                corpus,
                tagger=source,
                translations=english,
                extra=extra,
                method=method,
                method_options=options,
                labels=LABELS,
            )
            rows[name] = report.evaluation.scores["overall"]
        rows["EasyProject decoding, perfect marker translation"] = easyproject_upper_bound(data, lang)
        results[lang] = {"seconds": round(time.perf_counter() - started, 1), "scores": rows}
        print(f"europarl {lang}: " + ", ".join(f"{k} {v['f1']:.3f}" for k, v in rows.items()), flush=True)
    return results


def masakhaner(store, data: Path, tagger: Path) -> dict:
    results = {}
    for lang in MASAKHANER:
        folder = data / "masakhaner2" / lang
        split = "test" if (folder / "test.txt").exists() else "dev"
        if not (folder / f"{split}.txt").exists():
            continue
        corpus = f"mner-{lang}"
        import_corpus(store, folder / f"{split}.txt", corpus=corpus, lang=lang, split=split)
        scores = evaluate_tagger_on(store, corpus, tagger=tagger, labels=LABELS).scores
        results[lang] = {"split": split, "scores": scores}
        print(f"masakhaner {lang} ({split}): model transfer F1 {scores['overall']['f1']:.3f}", flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=RESULTS / "baselines.json")
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{tmp}/baselines.db")
        import_corpus(store, args.data / "conll2003_en" / "train.txt", corpus="conll-en", lang="en", split="train")
        tagger = Path(tmp) / "en-crf"
        trained = train_tagger(store, "conll-en", out=tagger)
        print(f"English CRF trained on {trained.sentences} sentences", flush=True)
        payload = {
            "benchmark": "baselines",
            "command": command_line(),
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "machine": machine(),
            "labels": list(LABELS),
            "english_tagger": {"kind": "crf", "train": "conll2003_en/train.txt", "options": "defaults"},
            "europarl_translate_test": europarl(store, args.data, tagger),
            "masakhaner_model_transfer": masakhaner(store, args.data, tagger),
        }
    payload["seconds"] = round(time.perf_counter() - started, 1)
    write_results(args.out, payload)
    print(f"wrote {args.out} in {payload['seconds']} s")


if __name__ == "__main__":
    main()
