"""A transformers token-classification tagger (XLM-R, mBERT, AfroXLMR ...), fine-tuned with a plain PyTorch loop.

``model`` is a hub name (read from the local Hugging Face cache; nothing is downloaded when the hub is offline) or
a folder written by ``save_pretrained``. The encoder gets a new token-classification head for the labels of the
data (a checkpoint's own head is kept only where its shape already fits, whatever its label names, and is then
trained like a new one). torch and transformers are imported only when a tagger trains, predicts or loads, so
``import xner.learning`` stays light and works without them.

How words become model input:
    Tokens are brought to Unicode NFC and split into sub-tokens by the model's fast tokenizer (one with a
    ``tokenizer.json``; a byte-level BPE one, as RoBERTa's, must be saved with ``add_prefix_space=True``). Each
    word is tagged in IOB2; with ``first_subtoken_only`` its tag trains on its first sub-token only (the others
    are ignored, -100) and is read back from that sub-token; otherwise every sub-token trains on the word's tag
    and the word's tag probabilities are the mean over its sub-tokens. A word with no sub-token at all (a lone
    zero-width space) is not seen by the model: it trains nothing and is predicted ``O``.

Long sentences:
    A sentence whose sub-tokens do not fit in ``max_length`` (less the special tokens; capped by the model's
    position table) is cut into consecutive windows of whole words, each as long as fits, and every window is
    trained and predicted on its own: every word gets a prediction, but a word at the start of a window sees no
    context before it, and an entity cut by a window border may come back split in two. A single word longer
    than a whole window keeps its first sub-tokens only.

Confidence:
    A span's confidence is the mean, over its words, of the softmax probability of the tag predicted for the word.

Continued training:
    Calling :meth:`TransformerTagger.fit` on a trained tagger (or one read by ``load_tagger``) goes on from the
    current weights: this is how a curriculum ("projected data first, then gold") runs. Each call is one training
    phase with a fresh AdamW optimiser and its own linear warmup-and-decay schedule over its ``epochs``. Labels the
    model does not know yet extend the classification head (the known rows are kept, new ``B-``/``I-`` rows are
    initialised as the model initialises its weights); a model whose head is not a ``classifier`` linear layer
    (BERT, XLM-R and most encoders have one) cannot be extended, and then new labels are an error.

Weights:
    ``fit(..., weights=...)`` gives each sentence a loss weight (≥ 0). The batch loss is the sum over labelled
    sub-tokens of weight × cross-entropy, divided by the number of labelled sub-tokens: all weights 1 is the
    usual mean loss, and a weight of 0.5 halves a sentence's pull on the model in absolute terms, not only
    relative to its batch. A batch whose weights are all 0 makes no update at all (not even weight decay).

Devices:
    ``device="auto"`` takes the GPU when torch sees one; ``cuda`` without one is an error. ``fp16`` trains and
    predicts under float16 autocast with loss scaling on a GPU (weights stay float32); on CPU it is ignored. On
    CPU a seed gives the same model and predictions every time (the caller's random state is left as it was). A
    tagger saved with ``device=cuda`` and loaded on a machine without GPU fails at its first use: set
    ``tagger.device = "cpu"`` (or ``"auto"``) first.

Saving:
    :meth:`TransformerTagger.save` writes the model and tokenizer with ``save_pretrained`` (so the folder is also a
    plain transformers model) beside ``xner-tagger.json``. The optimiser state is not saved.
"""

from __future__ import annotations

import math
import os
import random
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

from xner.errors import XnerError
from xner.hf import load_error, quiet_transformers, require
from xner.learning.subwords import IGNORE, Window, iob2_tags, sentences_to_windows, window_labels
from xner.learning.taggers import TAGGERS, ScoredSpan, write_manifest
from xner.schemes import OUTSIDE, spans_to_tags, tags_to_spans
from xner.text import normalize_tokens
from xner.types import ProgressFn, Sentence, Span

MAX_GRAD_NORM = 1.0
DEVICES = ("auto", "cpu", "cuda")
_UNBOUNDED = 1_000_000  # a tokenizer saved without a maximum length reports a huge one


def _require(package: str) -> Any:
    return require(package, "the transformer tagger")


@TAGGERS.register("transformer")
@dataclass
class TransformerTagger:
    """Options:

    model: hub name (from the local cache) or folder of a pretrained encoder, e.g. ``Davlan/afro-xlmr-base``,
        ``xlm-roberta-base``, ``bert-base-multilingual-cased``.
    epochs: passes over the data in each call of ``fit``.
    learning_rate: peak AdamW learning rate, reached after the warmup.
    batch_size: windows (sentences) per optimisation step, and per forward pass when predicting.
    max_length: sub-tokens per window, special tokens included (longer sentences are cut into several windows).
    warmup_ratio: share of each fit's steps over which the learning rate rises linearly from 0; it then falls
        linearly to 0.
    weight_decay: AdamW decoupled weight decay (not applied to biases and layer norms).
    seed: seeds the head initialisation, dropout and batch order.
    device: ``auto`` (the GPU when there is one), ``cpu`` or ``cuda``.
    first_subtoken_only: train and read each word's tag on its first sub-token only; otherwise on all of them.
    fp16: on a GPU, train and predict with float16 autocast (ignored on CPU).

    >>> tagger = TAGGERS.create("transformer", {"epochs": "2", "device": "cpu"})
    >>> tagger.model, tagger.epochs, tagger.device, tagger.labels
    ('Davlan/afro-xlmr-base', 2, 'cpu', ())
    """

    name: ClassVar[str] = "transformer"
    continues_training: ClassVar[bool] = True  # fit again continues from the current weights; fit takes weights
    model: str = "Davlan/afro-xlmr-base"
    epochs: int = 3
    learning_rate: float = 5e-5
    batch_size: int = 16
    max_length: int = 256
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    seed: int = 13
    device: Literal["auto", "cpu", "cuda"] = "auto"
    first_subtoken_only: bool = True
    fp16: bool = True
    info: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)
    _tags: tuple[str, ...] = field(default=(), init=False, repr=False)
    _model: Any = field(default=None, init=False, repr=False, compare=False)
    _tokenizer: Any = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.model, str) or not self.model.strip():
            raise XnerError(f"option 'model' of the transformer tagger must name a model or folder, got {self.model!r}")
        for option, value, low in (
            ("epochs", self.epochs, 1),
            ("batch_size", self.batch_size, 1),
            ("max_length", self.max_length, 3),
            ("weight_decay", self.weight_decay, 0),
            ("warmup_ratio", self.warmup_ratio, 0),
            ("seed", self.seed, 0),
        ):
            if value < low:
                raise XnerError(f"option {option!r} of the transformer tagger must be at least {low}, got {value!r}")
        if not self.learning_rate > 0:
            raise XnerError(
                f"option 'learning_rate' of the transformer tagger must be above 0, got {self.learning_rate!r}"
            )
        if self.warmup_ratio > 1:
            raise XnerError(
                f"option 'warmup_ratio' of the transformer tagger must be at most 1, got {self.warmup_ratio!r}"
            )
        if self.device not in DEVICES:
            allowed = ", ".join(DEVICES)
            raise XnerError(f"option 'device' of the transformer tagger must be one of {allowed}, got {self.device!r}")

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(sorted({tag[2:] for tag in self._tags if tag != OUTSIDE}))

    @property
    def tags(self) -> tuple[str, ...]:
        """The model's tag set, in the order of its output units (empty before training)."""
        return self._tags

    # ---- training ----

    def fit(
        self,
        sentences: Sequence[Sentence],
        *,
        on_progress: ProgressFn | None = None,
        weights: Sequence[float] | None = None,
    ) -> None:
        """Train on ``sentences`` (continuing from the current weights when already trained); ``on_progress`` gets
        (step, total steps) of this call.

        Args:
            sentences: tokens with their gold spans.
            on_progress: called with (0, total) first, then after each optimisation step.
            weights: one loss weight (≥ 0) per sentence; None weighs all sentences 1.

        Raises:
            XnerError: no sentence has tokens, a sentence has overlapping spans, bad weights, a model that cannot
                be loaded, ``device=cuda`` without a GPU, or labels new to a model whose head cannot grow.
        """
        started = time.perf_counter()
        weights = _checked_weights(weights, len(sentences))
        words: list[tuple[str, ...]] = []
        word_tags: list[list[str]] = []
        sentence_weights: list[float] = []
        entities: Counter[str] = Counter()
        for index, sentence in enumerate(sentences):
            if not sentence.tokens:
                continue
            try:
                tags = spans_to_tags(sentence.spans, len(sentence.tokens))
            except XnerError as error:
                raise XnerError(f"training sentence {index}: {error}") from None
            words.append(normalize_tokens(sentence.tokens))
            word_tags.append(tags)
            sentence_weights.append(1.0 if weights is None else weights[index])
            entities.update(span.label for span in sentence.spans)
        if not words:
            raise XnerError("nothing to train the transformer tagger on: no sentence has tokens")
        torch = _require("torch")
        device = self._torch_device(torch)
        forked = [torch.cuda.current_device()] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=forked):
            torch.manual_seed(self.seed)
            added = self._prepare(torch, sorted(entities), device)
            phase = self._train(torch, device, words, word_tags, sentence_weights, on_progress)
        phase.update(
            sentences=len(words),
            tokens=sum(map(len, words)),
            entities=dict(sorted(entities.items())),
            weighted=weights is not None,
            added_labels=added,
            seconds=round(time.perf_counter() - started, 3),
        )
        phases = [*self.info.get("phases", []), {k: phase[k] for k in ("sentences", "epochs", "steps", "loss")}]
        self.info = {"base_model": self.info.get("base_model", self.model), **phase, "phases": phases}

    def _prepare(self, torch: Any, labels: list[str], device: Any) -> list[str]:
        """Load the base model (first fit) or grow the head by the labels it lacks; returns the labels added."""
        transformers = _require("transformers")
        if self._model is None:
            tags = iob2_tags(labels)
            path = os.path.expanduser(self.model)
            with quiet_transformers(transformers):
                try:
                    model = transformers.AutoModelForTokenClassification.from_pretrained(
                        path,
                        num_labels=len(tags),
                        id2label=dict(enumerate(tags)),
                        label2id={tag: i for i, tag in enumerate(tags)},
                        ignore_mismatched_sizes=True,
                    )
                    tokenizer = transformers.AutoTokenizer.from_pretrained(path)
                except (OSError, ValueError) as error:
                    raise load_error(self.model, error) from None
            if not getattr(tokenizer, "is_fast", False):
                raise XnerError(
                    f"model {self.model!r}: the transformer tagger needs a fast tokenizer (tokenizer.json) to map "
                    "sub-tokens to words"
                )
            self._model, self._tokenizer, self._tags = model.to(device), tokenizer, tuple(tags)
            return []
        added = [label for label in labels if label not in self.labels]
        if added:
            self._grow_head(torch, added)
        self._model.to(device)
        return added

    def _grow_head(self, torch: Any, added: list[str]) -> None:
        model = self._model
        head = getattr(model, "classifier", None)
        if not isinstance(head, torch.nn.Linear) or head.out_features != len(self._tags):
            raise XnerError(
                f"labels {', '.join(added)} are new to this tagger (it knows {', '.join(self.labels) or 'none'}), "
                f"and the head of its {type(model).__name__} cannot be extended: train a new tagger on all labels"
            )
        tags = (*self._tags, *iob2_tags(added)[1:])
        grown = torch.nn.Linear(head.in_features, len(tags), device=head.weight.device, dtype=head.weight.dtype)
        with torch.no_grad():
            grown.weight.normal_(0.0, getattr(model.config, "initializer_range", 0.02))
            grown.bias.zero_()
            grown.weight[: head.out_features] = head.weight
            grown.bias[: head.out_features] = head.bias
        model.classifier = grown
        model.config.num_labels = len(tags)
        model.config.id2label = dict(enumerate(tags))
        model.config.label2id = {tag: i for i, tag in enumerate(tags)}
        model.num_labels = len(tags)
        self._tags = tags

    def _train(
        self,
        torch: Any,
        device: Any,
        words: list[tuple[str, ...]],
        word_tags: list[list[str]],
        sentence_weights: list[float],
        on_progress: ProgressFn | None,
    ) -> dict[str, Any]:
        model = self._model
        limit = self._limit()
        windows = sentences_to_windows(self._tokenizer, words, limit)
        if not windows:
            raise XnerError("nothing to train the transformer tagger on: the model's tokenizer gives no sub-tokens")
        tag_ids = {tag: i for i, tag in enumerate(self._tags)}
        labels = [
            window_labels(window, word_tags[window.sentence], tag_ids, first_subtoken_only=self.first_subtoken_only)
            for window in windows
        ]
        steps_per_epoch = math.ceil(len(windows) / self.batch_size)
        total = self.epochs * steps_per_epoch
        warmup = round(self.warmup_ratio * total)
        decay = [p for p in model.parameters() if p.requires_grad and p.ndim >= 2]
        no_decay = [p for p in model.parameters() if p.requires_grad and p.ndim < 2]  # biases, layer norms
        groups = [{"params": decay, "weight_decay": self.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
        optimizer = torch.optim.AdamW(groups, lr=self.learning_rate)
        amp = device.type == "cuda" and self.fp16
        scaler = torch.amp.GradScaler("cuda", enabled=amp)
        order = random.Random(self.seed)
        losses: list[float] = []
        step = skipped = 0
        if on_progress:
            on_progress(0, total)
        model.train()
        for _ in range(self.epochs):
            indices = list(range(len(windows)))
            order.shuffle(indices)
            epoch_loss = epoch_batches = 0.0
            for start in range(0, len(indices), self.batch_size):
                chosen = indices[start : start + self.batch_size]
                batch = self._collate(torch, [windows[i] for i in chosen], device, [labels[i] for i in chosen])
                token_weights = torch.tensor(
                    [sentence_weights[windows[i].sentence] for i in chosen], dtype=torch.float32, device=device
                )
                for group in optimizer.param_groups:
                    group["lr"] = self.learning_rate * _schedule(step, warmup, total)
                step += 1
                if not token_weights.any():  # nothing to learn from: no update, not even weight decay
                    skipped += 1
                else:
                    with torch.autocast("cuda", dtype=torch.float16, enabled=amp):
                        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
                    loss = _weighted_loss(torch, logits.float(), batch["labels"], token_weights)
                    optimizer.zero_grad(set_to_none=True)
                    scaler.scale(loss).backward()
                    scaler.unscale_(optimizer)
                    torch.nn.utils.clip_grad_norm_(model.parameters(), MAX_GRAD_NORM)
                    scaler.step(optimizer)
                    scaler.update()
                    epoch_loss += loss.item()
                    epoch_batches += 1
                if on_progress:
                    on_progress(step, total)
            losses.append(round(epoch_loss / epoch_batches, 5) if epoch_batches else 0.0)
        model.eval()
        split = Counter(window.sentence for window in windows)
        seen = {(w.sentence, word) for w in windows for word in w.words if word >= 0}
        return {
            "epochs": self.epochs,
            "steps": total,
            "skipped_steps": skipped,
            "loss": losses[-1],
            "epoch_losses": losses,
            "windows": len(windows),
            "split_sentences": sum(1 for count in split.values() if count > 1),
            "unseen_words": sum(map(len, words)) - len(seen),
            "max_length": limit,
            "device": device.type,
            "precision": "fp16" if amp else "fp32",
        }

    def _collate(
        self, torch: Any, windows: list[Window], device: Any, labels: list[list[int]] | None = None
    ) -> dict[str, Any]:
        """Padded ``input_ids``, ``attention_mask`` (and ``labels``) tensors of ``windows`` on ``device``."""
        width = max(len(window.input_ids) for window in windows)
        pad = self._tokenizer.pad_token_id if self._tokenizer.pad_token_id is not None else 0
        batch = {
            "input_ids": [[*w.input_ids] + [pad] * (width - len(w.input_ids)) for w in windows],
            "attention_mask": [[1] * len(w.input_ids) + [0] * (width - len(w.input_ids)) for w in windows],
        }
        if labels is not None:
            batch["labels"] = [row + [IGNORE] * (width - len(row)) for row in labels]
        return {key: torch.tensor(value, dtype=torch.long, device=device) for key, value in batch.items()}

    # ---- prediction ----

    def predict(self, batch: Sequence[Sequence[str]]) -> list[list[Span]]:
        return [[span for span, _ in row] for row in self.predict_scored(batch)]

    def predict_scored(self, batch: Sequence[Sequence[str]]) -> list[list[ScoredSpan]]:
        torch = _require("torch")
        device = self._ready(torch)
        words = [normalize_tokens(tuple(tokens)) for tokens in batch]
        probabilities = self._word_probabilities(torch, device, words)
        result = []
        for index, sentence in enumerate(words):
            best: list[tuple[int, float]] = []  # (tag id, its probability) of each word; O where the model saw none
            for word in range(len(sentence)):
                probs = probabilities.get((index, word))
                if probs is None:
                    best.append((0, 1.0))
                else:
                    tag = max(range(len(probs)), key=probs.__getitem__)
                    best.append((tag, probs[tag]))
            spans = tags_to_spans([self._tags[tag] for tag, _ in best])
            result.append([(span, _confidence([p for _, p in best[span.start : span.end]])) for span in spans])
        return result

    def _word_probabilities(
        self, torch: Any, device: Any, words: list[tuple[str, ...]]
    ) -> dict[tuple[int, int], list[float]]:
        """The tag probabilities of each word the model sees, by (sentence index, word index)."""
        windows = sentences_to_windows(self._tokenizer, words, self._limit())
        windows.sort(key=lambda window: len(window.input_ids))  # batches of similar length pad little
        amp = device.type == "cuda" and self.fp16
        sums: dict[tuple[int, int], list[float]] = {}
        counts: Counter[tuple[int, int]] = Counter()
        with torch.inference_mode():
            for start in range(0, len(windows), self.batch_size):
                chunk = windows[start : start + self.batch_size]
                batch = self._collate(torch, chunk, device)
                with torch.autocast("cuda", dtype=torch.float16, enabled=amp):
                    logits = self._model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
                probs = logits.float().softmax(-1).cpu()
                for row, window in enumerate(chunk):
                    read = [
                        position
                        for position, (word, first) in enumerate(zip(window.words, window.first, strict=True))
                        if word >= 0 and (first or not self.first_subtoken_only)
                    ]
                    for position, values in zip(read, probs[row, read].tolist(), strict=True):
                        key = (window.sentence, window.words[position])
                        known = sums.get(key)
                        sums[key] = values if known is None else [a + b for a, b in zip(known, values, strict=True)]
                        counts[key] += 1
        return {key: [value / counts[key] for value in values] for key, values in sums.items()}

    # ---- saving ----

    def save(self, directory: str | Path) -> Path:
        if self._model is None:
            raise XnerError("the transformer tagger is not trained yet: nothing to save")
        transformers = _require("transformers")
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        with (
            tempfile.TemporaryDirectory(prefix=".xner-partial-", dir=folder) as partial,
            quiet_transformers(transformers),
        ):
            self._model.save_pretrained(partial)
            self._tokenizer.save_pretrained(partial)
            files = sorted(path.name for path in Path(partial).iterdir() if path.is_file())
            for name in files:  # the folder gets whole files only, never a half-written model
                os.replace(Path(partial, name), folder / name)
        write_manifest(folder, self, labels=self.labels, info=self.info, files=files)
        return folder

    def restore(self, directory: Path, manifest: dict[str, Any]) -> None:
        if not (directory / "config.json").is_file():
            raise XnerError(f"{directory} has a tagger manifest but no config.json (the saved transformers model)")
        transformers = _require("transformers")
        with quiet_transformers(transformers):
            try:
                model = transformers.AutoModelForTokenClassification.from_pretrained(directory)
                tokenizer = transformers.AutoTokenizer.from_pretrained(directory)
            except (OSError, ValueError) as error:
                raise load_error(str(directory), error) from None
        tags = tuple(model.config.id2label[i] for i in range(model.config.num_labels))
        self._model, self._tokenizer, self._tags = model.eval(), tokenizer, tags
        if list(self.labels) != sorted(manifest.get("labels", ())):
            raise XnerError(
                f"{directory}: the model's labels ({', '.join(self.labels)}) are not the manifest's "
                f"({', '.join(manifest.get('labels', ()))})"
            )
        self.info = dict(manifest.get("info") or {})

    # ---- helpers ----

    def _torch_device(self, torch: Any) -> Any:
        if self.device == "cpu":
            return torch.device("cpu")
        if torch.cuda.is_available():
            return torch.device("cuda")
        if self.device == "cuda":
            raise XnerError("device 'cuda' asked for, but torch sees no CUDA GPU here: use device=cpu or device=auto")
        return torch.device("cpu")

    def _ready(self, torch: Any) -> Any:
        """The device of the trained model, moved there if needed."""
        if self._model is None:
            raise XnerError("the transformer tagger is not trained: call fit, or load a saved one with load_tagger")
        device = self._torch_device(torch)
        self._model.to(device).eval()
        return device

    def _limit(self) -> int:
        """Ids per window: ``max_length``, capped by the tokenizer's and the position table's limits."""
        limit = self.max_length
        if self._tokenizer.model_max_length < _UNBOUNDED:
            limit = min(limit, self._tokenizer.model_max_length)
        positions = getattr(self._model.config, "max_position_embeddings", None)
        if positions:
            limit = min(limit, positions - 2)  # XLM-R reserves its first two positions
        return limit


def _checked_weights(weights: Sequence[float] | None, count: int) -> list[float] | None:
    if weights is None:
        return None
    weights = [float(weight) for weight in weights]
    if len(weights) != count:
        raise XnerError(f"weights: got {len(weights)} for {count} sentences; give one weight per sentence")
    for index, weight in enumerate(weights):
        if not math.isfinite(weight) or weight < 0:
            raise XnerError(f"weights: sentence {index} has weight {weight!r}; weights must be finite and at least 0")
    return weights


def _schedule(step: int, warmup: int, total: int) -> float:
    """The learning-rate factor of ``step``: linear warmup from 0 over ``warmup`` steps, then linear decay to 0."""
    if step < warmup:
        return step / warmup
    return max(0.0, (total - step) / max(1, total - warmup))


def _weighted_loss(torch: Any, logits: Any, labels: Any, weights: Any) -> Any:
    """Sum over labelled sub-tokens of (sentence weight × cross-entropy), divided by the labelled sub-tokens."""
    losses = torch.nn.functional.cross_entropy(
        logits.transpose(1, 2), labels, ignore_index=IGNORE, reduction="none"
    )  # (batch, length); 0 where ignored
    labelled = (labels != IGNORE).sum().clamp(min=1)
    return (losses * weights[:, None]).sum() / labelled


def _confidence(probabilities: list[float]) -> float:
    return min(1.0, max(0.0, sum(probabilities) / len(probabilities)))
