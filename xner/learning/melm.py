"""MELM (masked entity language modelling, Zhou et al. 2022, arXiv 2108.13655), the ``melm`` augmenter: entity
words masked in a sentence linearised with label markers and refilled by a masked language model; labels stay.
torch and transformers are imported only when it runs. The other augmenters and what they share are in
:mod:`xner.learning.augment`.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from xner.errors import XnerError
from xner.hf import load_hint, require, resolve_device
from xner.learning.augment import (
    AUGMENTERS,
    TRIES,
    Attempt,
    Gazetteer,
    Synthetic,
    Variant,
    _change,
    _check_at_least,
    _check_n,
    _check_share,
    _drive,
    _eligible,
    _join,
    _tags,
)
from xner.schemes import OUTSIDE
from xner.text import normalize, normalize_tokens
from xner.types import ProgressFn, Sentence, sort_spans

Request = tuple[Sentence, Sequence[str], "_Encoded", random.Random]  # sentence, tags, encoding, generator
_DEVICE = re.compile(r"auto|cpu|cuda(:\d+)?")


def _require(package: str) -> Any:
    return require(package, "the melm augmenter")


def _markers(tags: Iterable[str]) -> list[str]:
    """The label markers ``<B-PER>`` ... ``</B-PER>`` of the entity tags in ``tags``, sorted."""
    return sorted({marker for tag in tags if tag != OUTSIDE for marker in (f"<{tag}>", f"</{tag}>")})


@dataclass(frozen=True)
class _Encoded:
    """A sentence linearised with label markers, as model input ids (special tokens included).

    ``pieces[w]`` is the ``[start, end)`` range of word ``w``'s sub-tokens in ``ids``; None for a word without
    any (or cut off at the model's maximum length). ``maskable`` lists the entity words that have pieces.
    """

    ids: tuple[int, ...]
    pieces: tuple[tuple[int, int] | None, ...]
    maskable: tuple[int, ...]


class _MaskedLm:
    """A masked language model with label markers added to its vocabulary, on one device."""

    def __init__(self, model: str, device: str, markers: Sequence[str]) -> None:
        torch, transformers = _require("torch"), _require("transformers")
        self.torch = torch
        self.device = device
        try:
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(model)
            self.model = transformers.AutoModelForMaskedLM.from_pretrained(model)
        except (OSError, ValueError) as error:
            raise XnerError(f"cannot load the masked language model {model!r} ({load_hint(model)}): {error}") from None
        if self.tokenizer.mask_token_id is None:
            raise XnerError(f"model {model!r} has no mask token: melm needs a masked language model")
        self.tokenizer.add_tokens(list(markers), special_tokens=True)
        size = len(self.tokenizer)
        if size > self.model.get_input_embeddings().weight.shape[0]:
            self.model.resize_token_embeddings(size)  # new marker rows start at the mean embedding
        self.model.to(device).eval()
        self.marker_ids = {marker: self.tokenizer.convert_tokens_to_ids(marker) for marker in markers}
        vocab = self.model.get_output_embeddings().weight.shape[0]
        banned = {*self.tokenizer.all_special_ids, *self.marker_ids.values(), *range(size, vocab)}
        self.bias = torch.zeros(vocab, device=device)
        self.bias[sorted(banned)] = float("-inf")
        config = self.model.config
        positions = getattr(config, "max_position_embeddings", None) or self.tokenizer.model_max_length
        self.budget = min(self.tokenizer.model_max_length, positions - 2) - 2  # XLM-R reserves two positions
        self.starts = [self.tokenizer.cls_token_id] if self.tokenizer.cls_token_id is not None else []
        self.ends = [self.tokenizer.sep_token_id] if self.tokenizer.sep_token_id is not None else []

    def encode(self, tokens: Sequence[str], tags: Sequence[str]) -> _Encoded:
        """``tokens`` linearised MELM-style: each entity word between its tag's markers, ``<B-PER> Ada </B-PER>``."""
        word_ids = self.tokenizer(list(tokens), add_special_tokens=False)["input_ids"]
        body: list[int] = []
        pieces: list[tuple[int, int] | None] = []
        offset = len(self.starts)
        for tag, ids in zip(tags, word_ids, strict=True):
            if tag != OUTSIDE:
                body.append(self.marker_ids[f"<{tag}>"])
            pieces.append((offset + len(body), offset + len(body) + len(ids)) if ids else None)
            body.extend(ids)
            if tag != OUTSIDE:
                body.append(self.marker_ids[f"</{tag}>"])
        if len(body) > self.budget:
            body = body[: self.budget]
            pieces = [p if p is not None and p[1] <= offset + self.budget else None for p in pieces]
        maskable = tuple(w for w, (tag, p) in enumerate(zip(tags, pieces, strict=True)) if tag != OUTSIDE and p)
        return _Encoded((*self.starts, *body, *self.ends), tuple(pieces), maskable)

    def _batch(self, rows: Sequence[Sequence[int]]) -> tuple[Any, Any]:
        """Padded input ids and attention mask on the device."""
        torch = self.torch
        width = max(len(row) for row in rows)
        pad = self.tokenizer.pad_token_id or 0
        ids = torch.tensor([[*row, *[pad] * (width - len(row))] for row in rows], device=self.device)
        mask = torch.tensor([[1] * len(row) + [0] * (width - len(row)) for row in rows], device=self.device)
        return ids, mask

    def _masked(self, encoded: _Encoded, words: Iterable[int]) -> list[int]:
        ids = list(encoded.ids)
        for word in words:
            start, end = encoded.pieces[word]  # type: ignore[misc]
            ids[start:end] = [self.tokenizer.mask_token_id] * (end - start)
        return ids

    def fine_tune(
        self,
        encoded: Sequence[_Encoded],
        *,
        steps: int,
        batch_size: int,
        learning_rate: float,
        mask_rate: float,
        seed: int,
    ) -> None:
        """The MELM recipe: learn to restore masked entity words of ``encoded`` from context and their markers."""
        torch = self.torch
        rng = random.Random(f"{seed}:fine-tune")
        devices = [torch.device(self.device).index or 0] if self.device.startswith("cuda") else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            optimizer = torch.optim.AdamW(self.model.parameters(), lr=learning_rate)
            self.model.train()
            order: list[_Encoded] = []
            for _ in range(steps):
                batch = []
                while len(batch) < min(batch_size, len(encoded)):
                    order = order or rng.sample(list(encoded), len(encoded))
                    batch.append(order.pop())
                rows, labels = [], []
                for item in batch:
                    words = _share(rng, item.maskable, mask_rate)
                    rows.append(self._masked(item, words))
                    label = [-100] * len(item.ids)
                    for word in words:
                        start, end = item.pieces[word]  # type: ignore[misc]
                        label[start:end] = item.ids[start:end]
                    labels.append(label)
                ids, mask = self._batch(rows)
                target = torch.tensor([[*r, *[-100] * (ids.shape[1] - len(r))] for r in labels], device=self.device)
                loss = self.model(input_ids=ids, attention_mask=mask, labels=target).loss
                loss.backward()
                optimizer.step()
                optimizer.zero_grad()
            self.model.eval()

    def fill(
        self,
        requests: Sequence[Request],
        *,
        top_k: int,
        mask_rate: float,
    ) -> list[Variant | None]:
        """For each request, a share ``mask_rate`` of its entity words masked and refilled by the model."""
        torch = self.torch
        chosen = [sorted(_share(rng, encoded.maskable, mask_rate)) for _, _, encoded, rng in requests]
        rows = [self._masked(encoded, words) for (_, _, encoded, _), words in zip(requests, chosen, strict=True)]
        ids, mask = self._batch(rows)
        spots = [
            (b, position, word)
            for b, ((_, _, encoded, _), words) in enumerate(zip(requests, chosen, strict=True))
            for word in words
            for position in range(*encoded.pieces[word])  # type: ignore[misc]
        ]
        with torch.inference_mode():
            logits = self.model(input_ids=ids, attention_mask=mask).logits
            scores = logits[[b for b, _, _ in spots], [p for _, p, _ in spots]].float() + self.bias
            for row, (b, position, word) in enumerate(spots):
                start, end = requests[b][2].pieces[word]  # type: ignore[misc]
                if end - start == 1:  # a one-piece word never gets its own piece back
                    scores[row, requests[b][2].ids[position]] = float("-inf")
            top = scores.topk(min(top_k, scores.shape[1]), dim=-1)
            probs = torch.softmax(top.values, dim=-1).nan_to_num(0.0).tolist()
            candidates = top.indices.tolist()
        options: list[dict[int, tuple[list[int], list[float]]]] = [{} for _ in requests]
        for row, (b, position, _) in enumerate(spots):
            options[b][position] = (candidates[row], probs[row])
        return [
            self._variant(sentence, tags, encoded, words, rng, options[b])
            for b, ((sentence, tags, encoded, rng), words) in enumerate(zip(requests, chosen, strict=True))
        ]

    def _variant(
        self,
        sentence: Sentence,
        tags: Sequence[str],
        encoded: _Encoded,
        words: Sequence[int],
        rng: random.Random,
        options: Mapping[int, tuple[list[int], list[float]]],
    ) -> Variant | None:
        tokens = list(sentence.tokens)  # the words not replaced stay exactly as they were
        normal = normalize_tokens(sentence.tokens)
        changes = []
        for word in words:
            start, end = encoded.pieces[word]  # type: ignore[misc]
            new = self._draw_word(normal[word], [options[p] for p in range(start, end)], rng)
            if new is not None:
                changes.append(_change(tags[word].partition("-")[2], [normal[word]], [new]))
                tokens[word] = new
        if not changes:
            return None
        return Sentence(tuple(tokens), sort_spans(sentence.spans), lang=sentence.lang), _join(changes)

    def _draw_word(
        self, original: str, options: Sequence[tuple[list[int], list[float]]], rng: random.Random
    ) -> str | None:
        """A word sampled piece by piece from the top-k, valid, unlike ``original`` (beyond letter case) and with a
        letter or digit if it had one; None after ``TRIES`` draws."""
        if any(not sum(probs) for _, probs in options):
            return None
        for _ in range(TRIES):
            ids = [rng.choices(candidates, weights=probs)[0] for candidates, probs in options]
            word = self._word(ids)
            if word is not None and word.casefold() != original.casefold() and _has_alnum(word) >= _has_alnum(original):
                return word
        return None

    def _word(self, ids: Sequence[int]) -> str | None:
        """The word the pieces ``ids`` spell, NFC; None unless it is one word that tokenises back to itself
        (a WordPiece ``##`` piece first, an unknown piece, or a SentencePiece word start inside are not)."""
        tokenizer = self.tokenizer
        text = tokenizer.convert_tokens_to_string(tokenizer.convert_ids_to_tokens(list(ids))).strip()
        if not text or any(char.isspace() for char in text):
            return None
        if tokenizer.convert_tokens_to_string(tokenizer.tokenize(text)).strip() != text:
            return None
        return normalize(text)


def _has_alnum(text: str) -> bool:
    """True when ``text`` has a letter or digit.

    >>> _has_alnum("Ọ̀yọ́"), _has_alnum("-")
    (True, False)
    """
    return any(char.isalnum() for char in text)


def _share(rng: random.Random, items: Sequence[int], rate: float) -> list[int]:
    """``round(rate * len(items))`` of ``items`` at random, at least one (none when ``items`` is empty)."""
    if not items:
        return []
    return rng.sample(list(items), max(1, round(rate * len(items))))


def _device(device: str) -> str:
    """``device`` resolved (``auto``: cuda when torch sees a GPU, else cpu) and checked."""
    return resolve_device(device, "the melm augmenter")


@AUGMENTERS.register("melm")
@dataclass
class Melm:
    """Options:

    model: the masked language model: a folder written by ``save_pretrained``, or a hub name already in the local
        Hugging Face cache.
    top_k: each masked sub-token is sampled from the model's ``top_k`` most probable (by their probability).
    mask_rate: share of a sentence's entity words masked (at least one); also the share masked in fine-tuning.
    device: ``auto`` (cuda when there is a GPU), ``cpu`` or ``cuda`` (``cuda:N``).
    batch_size: sentences per forward pass and per fine-tuning step.
    fine_tune_steps: MELM fine-tuning steps on the input sentences before generating (0: the model as it is).
    learning_rate: AdamW learning rate of fine-tuning.

    Label markers ``<B-PER>``/``</B-PER>`` (one pair per IOB2 tag) are added to the vocabulary as special
    tokens and put around each entity word; without fine-tuning their embeddings are the mean embedding, so they
    barely disturb the context. Words are model sub-tokens apart: a masked word becomes one mask per sub-token,
    and each is sampled from the top-k (never a marker, special or unknown token, nor, for a one-piece word, the
    original piece). The pieces must spell one word that tokenises back to itself, unlike the original (beyond
    letter case) and with a letter or digit when it had one; up to ``TRIES`` draws are made, else the word stays.
    So a word keeps its sub-token count and one word stays one token: the spans and tags never change.
    """

    name: ClassVar[str] = "melm"
    model: str = ""
    top_k: int = 5
    mask_rate: float = 0.7
    device: str = "auto"
    batch_size: int = 8
    fine_tune_steps: int = 0
    learning_rate: float = 1e-5

    def __post_init__(self) -> None:
        _check_at_least(self.name, "top_k", self.top_k, 1)
        _check_share(self.name, "mask_rate", self.mask_rate, zero=False)
        _check_at_least(self.name, "batch_size", self.batch_size, 1)
        _check_at_least(self.name, "fine_tune_steps", self.fine_tune_steps, 0)
        if not self.learning_rate > 0:
            raise XnerError(f"option 'learning_rate' of the melm augmenter must be > 0, got {self.learning_rate!r}")
        if not _DEVICE.fullmatch(self.device):
            raise XnerError(f"option 'device' of the melm augmenter must be auto, cpu or cuda[:N], got {self.device!r}")

    def augment(
        self,
        sentences: Sequence[Sentence],
        *,
        n: int,
        seed: int,
        gazetteer: Gazetteer | None = None,
        on_progress: ProgressFn | None = None,
    ) -> list[Synthetic]:
        """See :meth:`Augmenter.augment` (no gazetteer needed). The model is loaded (and fine-tuned) on each call.

        Raises:
            MissingDependencyError: torch or transformers is not installed.
            XnerError: no model given, or it cannot be loaded, or it is no masked language model.
        """
        _check_n(n, seed)
        if not self.model:
            raise XnerError("the melm augmenter needs a model: give model=FOLDER (or a cached hub name)")
        eligible = _eligible(sentences, entities_only=True)
        if not n or not eligible:
            return []
        tags = {index: _tags(sentences[index], index) for index in eligible}
        lm = _MaskedLm(self.model, _device(self.device), _markers(t for ts in tags.values() for t in ts))
        encoded = {index: lm.encode(sentences[index].tokens, tags[index]) for index in eligible}
        eligible = [index for index in eligible if encoded[index].maskable]
        if self.fine_tune_steps and eligible:
            lm.fine_tune(
                [encoded[index] for index in eligible],
                steps=self.fine_tune_steps,
                batch_size=self.batch_size,
                learning_rate=self.learning_rate,
                mask_rate=self.mask_rate,
                seed=seed,
            )

        def make(attempts: Sequence[Attempt]) -> list[Variant | None]:
            requests = [(sentences[index], tags[index], encoded[index], rng) for index, rng in attempts]
            return lm.fill(requests, top_k=self.top_k, mask_rate=self.mask_rate)

        return _drive(
            self.name, sentences, eligible, make, n=n, seed=seed, chunk=self.batch_size, on_progress=on_progress
        )
