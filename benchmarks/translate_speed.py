"""Translation speed: the transformers path and the CTranslate2 fast path on a model of NLLB-200-distilled-600M's
size (random weights: no NLLB weights can be downloaded here, and speed depends on the shape, not the values).

The model has the 600M checkpoint's shape (d_model 1024, 12 + 12 layers, 16 heads, FFN 4096, vocabulary 256,206,
615M parameters), a small sentencepiece vocabulary padded with dummy tokens to full size, and is converted for
CTranslate2 (int8 and float32). MAFAND-MT English sentences are translated into Yoruba by xner's ``nllb`` and
``ctranslate2`` translators. A random model never ends a sentence early (it repeats one token, here the forced
language token, so the decoded text is empty): every sentence is decoded to ``--max-length`` subwords, which the
script checks on both paths (``generated_subwords``), and the figures are decoding throughput at that length.

Usage::

    .venv/bin/python benchmarks/translate_speed.py                 # 32 sentences, 48 subwords (about 10 minutes)

Writes benchmarks/results/translate_speed.json and prints a markdown table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import DEFAULT_DATA, RESULTS, command_line, machine, write_results

from tests.tiny_models import build_tiny_nllb
from xner.engine.translate import TRANSLATORS
from xner.engine.translate.nllb import convert_model

NLLB_600M = {
    "d_model": 1024,
    "encoder_layers": 12,
    "decoder_layers": 12,
    "encoder_attention_heads": 16,
    "decoder_attention_heads": 16,
    "encoder_ffn_dim": 4096,
    "decoder_ffn_dim": 4096,
    "max_position_embeddings": 1024,
    "scale_embedding": True,
}
VOCABULARY = 256_206


def generated_subwords(model: str, converted: str, texts: list[str], max_length: int) -> dict:
    """Subwords each path generates for ``texts`` (greedy), to check that every sentence is decoded to the end."""
    import torch

    from xner.engine.translate.nllb import _load_ct2, _load_model, load_tokenizer

    tokenizer = load_tokenizer(model)
    tokenizer.src_lang = "eng_Latn"
    encoded = tokenizer(texts, return_tensors="pt", padding=True, truncation=True, max_length=max_length)
    with torch.inference_mode():
        out = _load_model(model, "cpu", "auto").generate(
            **encoded, forced_bos_token_id=tokenizer.convert_tokens_to_ids("yor_Latn"), max_new_tokens=max_length
        )
    pieces = [tokenizer.convert_ids_to_tokens(ids) for ids in tokenizer(texts, max_length=max_length)["input_ids"]]
    results = _load_ct2(converted, "cpu", "default").translate_batch(
        pieces, target_prefix=[["yor_Latn"]] * len(texts), beam_size=1, max_decoding_length=max_length
    )
    return {
        "transformers": [int((row != tokenizer.pad_token_id).sum()) - 1 for row in out],  # less the start token
        "ctranslate2": [len(result.hypotheses[0]) for result in results],
    }


def run(name: str, options: dict, texts: list[str]) -> dict:
    translator = TRANSLATORS.create(name, options)
    translator.translate(texts[:2], src_lang="en", tgt_lang="yor")  # load the model and warm up
    started = time.perf_counter()
    out = translator.translate(texts, src_lang="en", tgt_lang="yor")
    seconds = time.perf_counter() - started
    return {
        "translator": name,
        "options": {k: v for k, v in options.items() if k != "model"},
        "sentences": len(texts),
        "seconds": round(seconds, 2),
        "sentences_per_second": round(len(texts) / seconds, 3),
        "mean_output_words": round(sum(len(t.split()) for t in out) / len(out), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--sentences", type=int, default=32)
    parser.add_argument("--max-length", type=int, default=48)
    parser.add_argument("--out", type=Path, default=RESULTS / "translate_speed.json")
    args = parser.parse_args()
    lines = (args.data / "mafand_mt" / "en-yor" / "dev.en").read_text(encoding="utf-8").splitlines()
    texts = [line for line in lines if line.strip()][: args.sentences]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        model = build_tiny_nllb(
            Path(tmp) / "nllb-600m-shape", lines[:2000], vocab_size=8000, shape=NLLB_600M, pad_vocab_to=VOCABULARY
        )
        built = time.perf_counter() - started
        converted = {q: str(convert_model(model, Path(tmp) / f"ct2-{q}", quantization=q)) for q in ("int8", "float32")}
        common = {"device": "cpu", "max_length": args.max_length, "batch_size": 16}
        checked = generated_subwords(model, converted["int8"], texts[:4], args.max_length)
        print(f"generated subwords per sentence: {checked}", flush=True)
        for beams in (1, 4):
            rows.append(run("nllb", {"model": model, **common, "num_beams": beams}, texts))
            for quantization, folder in converted.items():
                rows.append(run("ctranslate2", {"model": folder, **common, "num_beams": beams}, texts))
                rows[-1]["quantization"] = quantization
            print(rows[-3:], flush=True)
    payload = {
        "benchmark": "translate_speed",
        "command": command_line(),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "model_shape": {**NLLB_600M, "vocab_size": VOCABULARY},
        "max_length": args.max_length,
        "build_seconds": round(built, 1),
        "generated_subwords": checked,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "runs": rows,
    }
    write_results(args.out, payload)
    print("| translator | beams | sentences/s |\n|---|---|---|")
    for row in rows:
        label = row["translator"] + (f" ({row['quantization']})" if "quantization" in row else " (fp32)")
        print(f"| {label} | {row['options']['num_beams']} | {row['sentences_per_second']} |")


if __name__ == "__main__":
    main()
