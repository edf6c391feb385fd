"""Neural word aligners: SimAlign (Jalili Sabet et al. 2020) and non-finetuned AWESoME-align (Dou & Neubig 2021).

Both compare contextual subword embeddings of a multilingual encoder (mBERT, XLM-R, or any BERT-like model in a
local folder written by ``save_pretrained``) taken from one hidden layer; they differ in how links are extracted.
Neither learns from the text, so ``extra`` is ignored. torch, transformers and simalign are imported only when an
aligner runs, so ``import xner`` stays fast and works without them.

Words the model cannot see get no links instead of breaking the pair: words that tokenise to no subword at all
(e.g. a lone zero-width space) and words past the model's maximum input length.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from xner.engine.align.base import ALIGNERS, PhaseFn, TokenPair
from xner.errors import XnerError
from xner.hf import load_error, require, resolve_device
from xner.types import Alignment, Link, ProgressFn

DEFAULT_LAYER = 8  # both papers take embeddings from layer 8 of mBERT (0 = the embedding layer)
_ALIASES = {"bert": "bert-base-multilingual-cased", "xlmr": "xlm-roberta-base"}  # simalign's short names
_METHODS = {"argmax": ("a", "inter"), "itermax": ("i", "itermax"), "match": ("m", "mwmf")}  # simalign code, key


def _model_name(model: str) -> str:
    return _ALIASES.get(model, os.path.expanduser(model))


@functools.lru_cache(maxsize=8)
def _config(model: str) -> Any:
    """The model's configuration (small: read without loading the weights)."""
    transformers = require("transformers", "the neural aligners")
    try:
        return transformers.AutoConfig.from_pretrained(model)
    except (OSError, ValueError) as exc:
        raise load_error(model, exc) from exc


def _layer(model: str, layer: int | None) -> int:
    """``layer`` checked against the model; None is the papers' layer 8, capped for models with fewer layers."""
    count = _config(model).num_hidden_layers
    if layer is None:
        return min(DEFAULT_LAYER, count)
    if not 0 <= layer <= count:
        raise XnerError(
            f"layer {layer} is out of range for model {model!r}, which has {count} hidden layers: "
            f"choose 0 (embeddings) to {count}"
        )
    return layer


def _device(device: str) -> str:
    """``device`` checked now, so a missing GPU is a clear error rather than a failure deep inside torch."""
    return resolve_device(device, "the neural aligners")


@functools.lru_cache(maxsize=2)
def _load(model: str, device: str) -> tuple[Any, Any]:
    """(tokenizer, encoder in eval mode on ``device``), loaded once per model and device."""
    transformers = require("transformers", "the neural aligners")
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(model)
        encoder = transformers.AutoModel.from_pretrained(model)
    except (OSError, ValueError) as exc:
        raise load_error(model, exc) from exc
    return tokenizer, encoder.to(device).eval()


def _budget(tokenizer: Any, config: Any) -> int:
    """Subwords of one sentence that fit in the model, leaving room for the two special tokens.

    A tokenizer saved without a maximum length reports a huge one, so the position table bounds it too, less 2
    because XLM-R reserves its first two positions.
    """
    positions = getattr(config, "max_position_embeddings", None) or tokenizer.model_max_length
    return min(tokenizer.model_max_length, positions - 2) - 2


def _word_pieces(tokenizer: Any, words: Sequence[str], budget: int) -> list[tuple[int, list[str]]]:
    """(word index, its subwords) for each word the model sees, in order.

    Words are tokenised one by one, as both papers (and simalign) do, so every subword belongs to exactly one
    word. Words without subwords are left out, and so is everything from the first word that no longer fits in
    ``budget`` subwords.
    """
    kept = []
    used = 0
    for index, word in enumerate(words):
        pieces = tokenizer.tokenize(word)
        if not pieces:
            continue
        used += len(pieces)
        if used > budget:
            break
        kept.append((index, pieces))
    return kept


def _progress(on_progress: ProgressFn | None, done: int, total: int) -> None:
    if on_progress:
        on_progress(done, total)


@ALIGNERS.register("simalign")
@dataclass
class SimAlignAligner:
    """SimAlign through the ``simalign`` package: links from embedding similarity, no training.

    Options:

    model: hub name (``bert-base-multilingual-cased``, ``xlm-roberta-base``; needs the model in the local cache),
        ``bert`` / ``xlmr`` for those two, or a local model folder.
    method: ``argmax`` (mutual best match), ``itermax`` (argmax repeated for still unaligned words; the paper's
        choice) or ``match`` (maximum-weight bipartite matching; needs networkx).
    token_type: align subwords (``bpe``, simalign's default, better in the paper) or words (averaged subwords).
    layer: hidden layer to read (0 = embeddings); empty = 8, or the last layer of smaller models.
    distortion: weight of simalign's penalty on links far from the diagonal (0 = off, as in simalign).
    device: ``cpu`` or ``cuda`` (``cuda:N``).
    """

    name: ClassVar[str] = "simalign"
    model: str = "bert-base-multilingual-cased"
    method: Literal["argmax", "itermax", "match"] = "itermax"
    token_type: Literal["bpe", "word"] = "bpe"
    layer: int | None = None
    distortion: float = 0.0
    device: str = "cpu"
    # the SentenceAligner holds the model: built once per set of options, not per pair
    _cached: tuple[tuple, Any] | None = field(default=None, init=False, repr=False, compare=False)

    def align(
        self,
        pairs: Sequence[TokenPair],
        *,
        extra: Sequence[TokenPair] = (),
        on_progress: ProgressFn | None = None,
        on_phase: PhaseFn | None = None,
    ) -> list[Alignment]:
        _progress(on_progress, 0, len(pairs))
        if not any(len(src) and len(tgt) for src, tgt in pairs):
            _progress(on_progress, len(pairs), len(pairs))
            return [Alignment() for _ in pairs]
        if on_phase:
            on_phase(f"loading model {_model_name(self.model)}")
        aligner = self._aligner()
        tokenizer = aligner.embed_loader.tokenizer  # simalign's own, so our word filter sees what it sees
        budget = _budget(tokenizer, _config(_model_name(self.model)))
        key = _METHODS[self.method][1]
        result = []
        # simalign embeds one pair per forward pass, so a pair is a batch here
        for done, (src, tgt) in enumerate(pairs, start=1):
            src_kept = [i for i, _ in _word_pieces(tokenizer, src, budget)] if len(tgt) else []
            tgt_kept = [j for j, _ in _word_pieces(tokenizer, tgt, budget)] if src_kept else []
            links: set[Link] = set()
            if tgt_kept:
                found = aligner.get_word_aligns([src[i] for i in src_kept], [tgt[j] for j in tgt_kept])[key]
                links = {(src_kept[i], tgt_kept[j]) for i, j in found}
            result.append(Alignment(sure=frozenset(links)))
            _progress(on_progress, done, len(pairs))
        return result

    def _aligner(self) -> Any:
        """The simalign ``SentenceAligner`` for the current options (rebuilt only when they changed)."""
        key = (self.model, self.method, self.token_type, self.layer, self.distortion, self.device)
        if self._cached is None or self._cached[0] != key:
            model = _model_name(self.model)
            layer = _layer(model, self.layer)  # before simalign, which would fail only at the first pair
            device = _device(self.device)
            if self.method == "match":
                require("networkx", "simalign's match method")
            simalign = require("simalign", "the simalign aligner")
            logging.getLogger("simalign.simalign").setLevel(logging.WARNING)  # it logs INFO to stderr by default
            try:
                aligner = simalign.SentenceAligner(
                    model=model,
                    token_type=self.token_type,
                    matching_methods=_METHODS[self.method][0],
                    distortion=self.distortion,
                    device=device,
                    layer=layer,
                )
            except (OSError, ValueError) as exc:
                raise load_error(model, exc) from exc
            self._cached = (key, aligner)
        return self._cached[1]


@ALIGNERS.register("awesome")
@dataclass
class AwesomeAligner:
    """AWESoME-align extraction without fine-tuning: softmax over subword similarities in both directions.

    For each sentence pair the subword embeddings h_x, h_y of layer ``layer`` give similarities S = h_x h_yᵀ;
    softmax over the target (rows) and over the source (columns) gives two probability matrices, and a subword
    pair is linked when both exceed ``threshold``. Two words are linked when any of their subwords are.

    Options:

    model: hub name (needs the model in the local cache), ``bert`` / ``xlmr``, or a local model folder.
    layer: hidden layer to read (0 = embeddings); empty = 8, or the last layer of smaller models.
    threshold: probability both directions must exceed (the paper's 0.001).
    batch_size: sentence pairs embedded per forward pass.
    device: ``cpu`` or ``cuda`` (``cuda:N``).
    """

    name: ClassVar[str] = "awesome"
    model: str = "bert-base-multilingual-cased"
    layer: int | None = None
    threshold: float = 1e-3
    batch_size: int = 32
    device: str = "cpu"

    def __post_init__(self) -> None:
        if not 0.0 <= self.threshold < 1.0:
            raise XnerError(f"option 'threshold' must be in [0, 1), got {self.threshold}")
        if self.batch_size < 1:
            raise XnerError(f"option 'batch_size' must be at least 1, got {self.batch_size}")

    def align(
        self,
        pairs: Sequence[TokenPair],
        *,
        extra: Sequence[TokenPair] = (),
        on_progress: ProgressFn | None = None,
        on_phase: PhaseFn | None = None,
    ) -> list[Alignment]:
        result = [Alignment() for _ in pairs]
        kept = [k for k, (src, tgt) in enumerate(pairs) if len(src) and len(tgt)]
        _progress(on_progress, 0, len(pairs))
        if kept:
            torch = require("torch", "the awesome aligner")
            model = _model_name(self.model)
            layer = _layer(model, self.layer)
            if on_phase:
                on_phase(f"loading model {model}")
            tokenizer, encoder = _load(model, _device(self.device))
            if tokenizer.cls_token_id is None or tokenizer.sep_token_id is None:
                raise XnerError(
                    f"model {model!r} has no [CLS]/[SEP] tokens: the awesome aligner needs a BERT-like model"
                )
            budget = _budget(tokenizer, _config(model))
            with torch.no_grad():
                for start in range(0, len(kept), self.batch_size):
                    batch = kept[start : start + self.batch_size]
                    src, src_words = self._embed(tokenizer, encoder, layer, budget, [pairs[k][0] for k in batch])
                    tgt, tgt_words = self._embed(tokenizer, encoder, layer, budget, [pairs[k][1] for k in batch])
                    for row, links in enumerate(_extract(src, tgt, src_words, tgt_words, self.threshold)):
                        result[batch[row]] = Alignment(sure=frozenset(links))
                    _progress(on_progress, batch[-1] + 1, len(pairs))
        if not kept or kept[-1] != len(pairs) - 1:  # trailing empty pairs: report the end once
            _progress(on_progress, len(pairs), len(pairs))
        return result

    @staticmethod
    def _embed(
        tokenizer: Any, encoder: Any, layer: int, budget: int, sentences: Sequence[Sequence[str]]
    ) -> tuple[Any, list[list[int]]]:
        """Subword embeddings (batch × subwords × hidden) and, per sentence, the word index of each subword."""
        import torch

        ids, words = [], []
        for sentence in sentences:
            kept = _word_pieces(tokenizer, sentence, budget)
            words.append([index for index, pieces in kept for _ in pieces])
            pieces = [piece for _, word_pieces in kept for piece in word_pieces]
            ids.append([tokenizer.cls_token_id, *tokenizer.convert_tokens_to_ids(pieces), tokenizer.sep_token_id])
        width = max(len(row) for row in ids)
        pad = tokenizer.pad_token_id or 0
        input_ids = torch.tensor([row + [pad] * (width - len(row)) for row in ids])
        mask = torch.tensor([[1] * len(row) + [0] * (width - len(row)) for row in ids])
        device = next(encoder.parameters()).device
        out = encoder(input_ids=input_ids.to(device), attention_mask=mask.to(device), output_hidden_states=True)
        # drop [CLS]; after each sentence's subwords come [SEP] and padding, which _extract masks out
        return out.hidden_states[layer][:, 1:-1].float(), words


def _extract(
    src: Any, tgt: Any, src_words: list[list[int]], tgt_words: list[list[int]], threshold: float
) -> list[set[Link]]:
    """Per pair, the word links whose subwords pass ``threshold`` in both softmax directions."""
    import torch

    scores = torch.bmm(src, tgt.transpose(1, 2))  # batch × src subwords × tgt subwords
    rows = torch.arange(scores.shape[1], device=scores.device)[None, :, None]
    cols = torch.arange(scores.shape[2], device=scores.device)[None, None, :]
    src_len = torch.tensor([len(w) for w in src_words], device=scores.device)[:, None, None]
    tgt_len = torch.tensor([len(w) for w in tgt_words], device=scores.device)[:, None, None]
    valid = (rows < src_len) & (cols < tgt_len)
    # padding must take no probability mass; a finite minimum keeps all-padding rows free of NaN
    scores = scores.masked_fill(~valid, torch.finfo(scores.dtype).min)
    linked = (scores.softmax(dim=2) > threshold) & (scores.softmax(dim=1) > threshold) & valid
    return [
        {(src_words[row][i], tgt_words[row][j]) for i, j in linked[row].nonzero().tolist()}
        for row in range(scores.shape[0])
    ]
