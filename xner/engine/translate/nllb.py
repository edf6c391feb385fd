"""NLLB-200 translation through transformers, and the CTranslate2 fast path for converted models.

Both work with any model that marks languages with NLLB's language tokens (``yor_Latn``): the NLLB-200 checkpoints
(distilled 600M / 1.3B, 3.3B) and models fine-tuned from them, such as EasyProject's marker-preserving ones. A model
is a hub name (used when it is in the local Hugging Face cache), a short name from :data:`MODEL_ALIASES`, or a
folder written by ``save_pretrained``. Sentences are translated in batches of similar length (less padding), with
beam search, the target language forced as the first generated token.

CTranslate2 (``ctranslate2`` translator) runs a converted copy of such a model several times faster on CPU and GPU
(int8 quantisation on CPU): convert once with :func:`convert_model` (``xner convert-model``), whose output
folder also holds the tokenizer.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

from xner.engine.translate.base import TRANSLATORS, translate_batched
from xner.engine.translate.codes import to_nllb
from xner.errors import XnerError
from xner.hf import load_error, quiet_transformers, require, require_available, resolve_device
from xner.types import ProgressFn

MODEL_ALIASES = {
    "nllb-600m": "facebook/nllb-200-distilled-600M",
    "nllb-1.3b": "facebook/nllb-200-distilled-1.3B",
    "nllb-3.3b": "facebook/nllb-200-3.3B",
    "easyproject-1.3b": "ychenNLP/nllb-200-distilled-1.3B-easyproject",
    "easyproject-3.3b": "ychenNLP/nllb-200-3.3b-easyproject",
}
FEATURE = "NLLB translation"
LOG = logging.getLogger(__name__)
# A cached tokenizer is shared by every caller (app sessions run in threads) and its source language is state:
# setting it and encoding happen under this lock, so two translations from different languages cannot mix.
_ENCODING = threading.Lock()
DTYPES = ("auto", "float32", "float16", "bfloat16")
OFFLINE_WAY_OUT = (
    "translate elsewhere and import the translations instead (Translate page: File of translations; "
    "`xner translate --translations FILE`)"
)


def model_name(model: str) -> str:
    """A short name's hub name; a path with ``~`` expanded; anything else as given."""
    return MODEL_ALIASES.get(model, os.path.expanduser(model))


@functools.lru_cache(maxsize=4)
def load_tokenizer(model: str) -> Any:
    """The Hugging Face tokenizer of ``model`` (a hub name or folder)."""
    transformers = require("transformers", FEATURE)
    with quiet_transformers(transformers):
        try:
            return transformers.AutoTokenizer.from_pretrained(model)
        except (OSError, ValueError) as exc:
            raise load_error(model, exc) from exc


def language_token(tokenizer: Any, code: str, model: str) -> tuple[str, int]:
    """The NLLB code of language ``code`` and the id of its token in ``tokenizer``.

    Raises:
        XnerError: an unknown code, a language NLLB does not cover, or a model without that language token.
    """
    nllb = to_nllb(code)
    token_id = tokenizer.convert_tokens_to_ids(nllb)
    if token_id is None or token_id == tokenizer.unk_token_id:
        raise XnerError(
            f"model {model!r} has no language token {nllb!r} (for {code!r}): is it an NLLB-200 model or one "
            "fine-tuned from NLLB-200?"
        )
    return nllb, token_id


def _check_decoding(translator: NllbTranslator | Ct2Translator) -> None:
    if min(translator.batch_size, translator.num_beams, translator.max_length) < 1:
        raise XnerError("options batch_size, num_beams and max_length must be at least 1")


def _subword_lengths(tokenizer: Any, texts: Sequence[str], limit: int) -> list[int]:
    """The subword length of each text; warns about those longer than ``limit`` (their ends are cut)."""
    lengths = [len(ids) for ids in tokenizer(list(texts), add_special_tokens=False)["input_ids"]]
    cut = sum(length + 2 > limit for length in lengths)  # + the language token and </s>
    if cut:
        LOG.warning("%d of %d sentences exceed max_length=%d subwords and are cut", cut, len(texts), limit)
    return lengths


def _encode(tokenizer: Any, src_lang: str, batch: list[str], **options: Any) -> Any:
    """``tokenizer(batch, **options)`` with the source language token of ``src_lang``."""
    with _ENCODING:
        tokenizer.src_lang = src_lang
        return tokenizer(batch, **options)


@functools.lru_cache(maxsize=2)
def _load_model(model: str, device: str, dtype: str) -> Any:
    transformers = require("transformers", FEATURE)
    torch = require("torch", FEATURE)
    if dtype == "auto":
        dtype = "float16" if device.startswith("cuda") else "float32"
    with quiet_transformers(transformers):
        try:
            loaded = transformers.AutoModelForSeq2SeqLM.from_pretrained(model, dtype=getattr(torch, dtype))
        except (OSError, ValueError) as exc:
            raise load_error(model, exc) from exc
    return loaded.to(device).eval()


@TRANSLATORS.register("nllb")
@dataclass
class NllbTranslator:
    """NLLB-200 through transformers. Options:

    model: ``nllb-600m`` (default), ``nllb-1.3b``, ``nllb-3.3b``, ``easyproject-1.3b``, ``easyproject-3.3b``, a hub
        name in the local cache, or a folder written by ``save_pretrained``.
    device: ``auto`` (the GPU when torch sees one), ``cpu`` or ``cuda`` (``cuda:N``).
    batch_size: sentences per batch (batches hold sentences of similar length).
    num_beams: beam size (1 = greedy, fastest).
    max_length: subwords of an input (longer inputs are cut) and most subwords generated.
    dtype: ``auto`` (float16 on a GPU, float32 on CPU), ``float32``, ``float16`` or ``bfloat16``.
    """

    name: ClassVar[str] = "nllb"
    model: str = "nllb-600m"
    device: str = "auto"
    batch_size: int = 16
    num_beams: int = 4
    max_length: int = 256
    dtype: Literal["auto", "float32", "float16", "bfloat16"] = "auto"

    def __post_init__(self) -> None:
        _check_decoding(self)

    def translate(
        self, texts: Sequence[str], *, src_lang: str, tgt_lang: str, on_progress: ProgressFn | None = None
    ) -> list[str]:
        to_nllb(src_lang), to_nllb(tgt_lang)  # a bad or uncovered language fails before any model loads
        model = model_name(self.model)
        require_available(model, OFFLINE_WAY_OUT)
        tokenizer = load_tokenizer(model)
        src, _ = language_token(tokenizer, src_lang, model)
        _, tgt_id = language_token(tokenizer, tgt_lang, model)
        if not any(text.strip() for text in texts):
            return [""] * len(texts)
        torch = require("torch", FEATURE)
        device = resolve_device(self.device, FEATURE)
        network = _load_model(model, device, self.dtype)
        positions = getattr(network.config, "max_position_embeddings", None) or self.max_length
        limit = min(self.max_length, positions)

        def run(batch: list[str]) -> list[str]:
            encoded = _encode(
                tokenizer, src, batch, return_tensors="pt", padding=True, truncation=True, max_length=limit
            )
            with torch.inference_mode():
                generated = network.generate(
                    **encoded.to(device), forced_bos_token_id=tgt_id, num_beams=self.num_beams, max_new_tokens=limit
                )
            return [text.strip() for text in tokenizer.batch_decode(generated, skip_special_tokens=True)]

        return translate_batched(texts, _subword_lengths(tokenizer, texts, limit), self.batch_size, run, on_progress)


@functools.lru_cache(maxsize=2)
def _load_ct2(model: str, device: str, compute_type: str) -> Any:
    ctranslate2 = require("ctranslate2", "the ctranslate2 translator")
    try:
        return ctranslate2.Translator(model, device=device, compute_type=compute_type)
    except (RuntimeError, ValueError) as exc:
        raise XnerError(
            f"cannot load CTranslate2 model {model!r} (a folder written by `xner convert-model` or "
            f"ct2-transformers-converter?): {exc}"
        ) from exc


def _ct2_device(device: str) -> str:
    ctranslate2 = require("ctranslate2", "the ctranslate2 translator")
    gpus = ctranslate2.get_cuda_device_count()
    if device == "auto":
        return "cuda" if gpus else "cpu"
    if device == "cuda" and not gpus:
        raise XnerError("device 'cuda' asked for, but CTranslate2 sees no CUDA GPU here: use device=cpu or auto")
    return device


@TRANSLATORS.register("ctranslate2")
@dataclass
class Ct2Translator:
    """An NLLB-200 model converted for CTranslate2 (the fast path). Options:

    model: folder of the converted model (``xner convert-model``), required.
    tokenizer: the model's tokenizer (hub name or folder); empty = the model folder (conversion saves it there).
    device: ``auto``, ``cpu`` or ``cuda``.
    compute_type: CTranslate2's ``default`` (the converted precision), ``int8``, ``int8_float16``, ``float16``...
    batch_size, num_beams, max_length: as for the ``nllb`` translator.
    """

    name: ClassVar[str] = "ctranslate2"
    model: str = ""
    tokenizer: str = ""
    device: Literal["auto", "cpu", "cuda"] = "auto"
    compute_type: str = "default"
    batch_size: int = 32
    num_beams: int = 4
    max_length: int = 256

    def __post_init__(self) -> None:
        _check_decoding(self)

    def translate(
        self, texts: Sequence[str], *, src_lang: str, tgt_lang: str, on_progress: ProgressFn | None = None
    ) -> list[str]:
        if not self.model:
            raise XnerError("the ctranslate2 translator needs -o model=FOLDER (see `xner convert-model`)")
        to_nllb(src_lang), to_nllb(tgt_lang)
        model = os.path.expanduser(self.model)
        tokenizer_name = model_name(self.tokenizer) if self.tokenizer else model
        require_available(tokenizer_name, OFFLINE_WAY_OUT)
        tokenizer = load_tokenizer(tokenizer_name)
        src, _ = language_token(tokenizer, src_lang, model)
        tgt, _ = language_token(tokenizer, tgt_lang, model)
        if not any(text.strip() for text in texts):
            return [""] * len(texts)
        engine = _load_ct2(model, _ct2_device(self.device), self.compute_type)

        def run(batch: list[str]) -> list[str]:
            encoded = _encode(tokenizer, src, batch, truncation=True, max_length=self.max_length)["input_ids"]
            pieces = [tokenizer.convert_ids_to_tokens(ids) for ids in encoded]
            results = engine.translate_batch(
                pieces,
                target_prefix=[[tgt]] * len(pieces),
                beam_size=self.num_beams,
                max_batch_size=self.batch_size,
                max_decoding_length=self.max_length,
            )
            hypotheses = [result.hypotheses[0][1:] for result in results]  # without the forced language token
            return [
                tokenizer.decode(tokenizer.convert_tokens_to_ids(tokens), skip_special_tokens=True).strip()
                for tokens in hypotheses
            ]

        lengths = _subword_lengths(tokenizer, texts, self.max_length)
        return translate_batched(texts, lengths, self.batch_size, run, on_progress)


def convert_model(model: str, out: str | Path, *, quantization: str = "int8", force: bool = False) -> Path:
    """Convert a transformers NLLB model (hub name in the cache, short name or folder) for CTranslate2.

    The output folder gets the converted weights and the model's tokenizer, so it is all the ``ctranslate2``
    translator needs. ``quantization``: ``int8`` (smallest, fast on CPU), ``int8_float16``, ``float16``, ``none``.

    Raises:
        XnerError: the model cannot be loaded or converted, or ``out`` exists and is not empty (without ``force``).
    """
    ctranslate2 = require("ctranslate2", "converting a model for CTranslate2")
    name, target = model_name(model), Path(out).expanduser()
    if target.exists() and any(target.iterdir()) and not force:
        raise XnerError(f"{target} exists and is not empty: choose another folder or pass force")
    created = not target.exists()
    tokenizer = load_tokenizer(name)
    transformers = require("transformers", FEATURE)
    converter = ctranslate2.converters.TransformersConverter(name)
    with quiet_transformers(transformers):
        try:
            converter.convert(str(target), quantization=None if quantization == "none" else quantization, force=True)
        except (OSError, ValueError, RuntimeError) as exc:
            if created:  # no half-converted folder left behind
                shutil.rmtree(target, ignore_errors=True)
            raise XnerError(f"cannot convert model {model!r} for CTranslate2: {exc}") from exc
    tokenizer.save_pretrained(str(target))
    return target
