"""The transformer tagger (xner.learning.transformer) on a tiny random BERT built offline and real Yorùbá sentences.

The model is 2 layers wide of 32 with a WordPiece vocabulary trained on the sentences themselves: random weights
cannot generalise, but a few hundred steps let it memorise 40 sentences, which is what the learning checks use.
Everything runs on CPU with one torch thread, in seconds.
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # any accidental hub call fails at once
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import json
import math
import subprocess
import sys
from collections.abc import Iterator
from itertools import islice, pairwise
from pathlib import Path

import pytest

from tests.conftest import shared
from tests.tiny_models import build_tiny_bert, one_torch_thread
from xner.errors import UnknownNameError, XnerError
from xner.formats.conll import read_conll
from xner.learning import TAGGERS, load_tagger, read_manifest
from xner.learning.subwords import IGNORE, sentences_to_windows, window_labels
from xner.learning.transformer import TransformerTagger
from xner.schemes import spans_to_tags
from xner.types import Sentence, Span

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("tokenizers")

MAX_POSITIONS = 128
# Memorising 40 sentences: with these settings the loss falls from ~2 to ~0.02, and over vocabularies of 400-900
# pieces, 3 random initialisations and 2 seeds, entity F1 on the training sentences was 0.94-1.0 (0.96-1.0 with
# all sub-tokens labelled) and the mean span confidence 0.72-0.90; the random head scores F1 ≤ 0.02 with mean
# confidence 0.13. (30 epochs were not enough: F1 0.55-1.0.)
MEMORISE = {"epochs": 40, "learning_rate": 5e-3, "batch_size": 8, "device": "cpu"}
QUICK = {"epochs": 2, "learning_rate": 5e-3, "batch_size": 8, "device": "cpu"}


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread() -> Iterator[None]:
    """Tiny matrices gain nothing from threads (see tests.tiny_models.one_torch_thread)."""
    with one_torch_thread():
        yield


@pytest.fixture(scope="session")
def yoruba() -> list[Sentence]:
    """The first 200 sentences of MasakhaNER 2.0 Yorùbá train (PER, ORG, LOC, DATE), read by xner's reader."""
    return list(islice(read_conll(shared("masakhaner2", "yor", "train.txt")), 200))


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory, yoruba: list[Sentence]) -> str:
    """A 2-layer random BERT (base model, no head) with a WordPiece vocabulary trained on the sentences."""
    texts = [" ".join(sentence.tokens) for sentence in yoruba]
    return build_tiny_bert(tmp_path_factory.mktemp("tiny-bert"), texts, vocab_size=600, max_positions=MAX_POSITIONS)


def _tagger(model: str, **options: object) -> TransformerTagger:
    return TAGGERS.create("transformer", {"model": model, **options})


@pytest.fixture(scope="module")
def trained(tiny_model: str, yoruba: list[Sentence]) -> TransformerTagger:
    """A tagger that has memorised the first 40 sentences."""
    tagger = _tagger(tiny_model, **MEMORISE)
    tagger.fit(yoruba[:40])
    return tagger


def _state(tagger: TransformerTagger) -> dict:
    return {name: tensor.detach().clone() for name, tensor in tagger._model.state_dict().items()}


def _same_state(a: dict, b: dict) -> bool:
    import torch

    return a.keys() == b.keys() and all(torch.equal(a[name], b[name]) for name in a)


def _scores(tagger: TransformerTagger, sentences: list[Sentence]) -> tuple[float, float]:
    """(token accuracy of the IOB2 tags, entity F1 with exact span match) of the tagger on ``sentences``."""
    predicted = tagger.predict([sentence.tokens for sentence in sentences])
    right = total = hits = gold = found = 0
    for sentence, spans in zip(sentences, predicted, strict=True):
        true_tags = spans_to_tags(sentence.spans, len(sentence.tokens))
        right += sum(a == b for a, b in zip(true_tags, spans_to_tags(spans, len(sentence.tokens)), strict=True))
        total += len(true_tags)
        hits += len(set(sentence.spans) & set(spans))
        gold += len(sentence.spans)
        found += len(spans)
    f1 = 2 * hits / (gold + found) if gold + found else 0.0
    return right / total, f1


# ---- registration and options ----


def test_registered_without_importing_torch() -> None:
    code = "import sys, xner.learning as l; print(sorted(l.TAGGERS), {'torch', 'transformers'} & set(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['crf', 'transformer'] set()"


def test_options_from_text_and_their_defaults() -> None:
    tagger = TAGGERS.create("transformer", {"epochs": "4", "fp16": "false", "first_subtoken_only": "no"})
    assert isinstance(tagger, TransformerTagger)
    assert (tagger.epochs, tagger.fp16, tagger.first_subtoken_only) == (4, False, False)
    assert tagger.model == "Davlan/afro-xlmr-base" and tagger.device == "auto" and tagger.labels == ()


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"epochs": "0"}, "epochs"),
        ({"batch_size": "0"}, "batch_size"),
        ({"learning_rate": "0"}, "learning_rate"),
        ({"max_length": "2"}, "max_length"),
        ({"warmup_ratio": "1.5"}, "warmup_ratio"),
        ({"warmup_ratio": "-0.1"}, "warmup_ratio"),
        ({"weight_decay": "-1"}, "weight_decay"),
        ({"seed": "-1"}, "seed"),
        ({"model": " "}, "model"),
        ({"epochs": "many"}, "epochs"),
        ({"device": "tpu"}, "device"),
        ({"dropout": "0.1"}, "dropout"),
    ],
)
def test_bad_options_are_errors_naming_them(options: dict, named: str) -> None:
    with pytest.raises(XnerError, match=named):
        TAGGERS.create("transformer", options)


def test_an_unknown_device_lists_the_allowed_ones() -> None:
    with pytest.raises(UnknownNameError) as caught:
        TAGGERS.create("transformer", {"device": "tpu"})
    assert caught.value.known == ["auto", "cpu", "cuda"]


def test_cuda_without_a_gpu_is_a_clear_error(tiny_model: str, yoruba: list[Sentence]) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(XnerError, match="no CUDA GPU"):
        _tagger(tiny_model, **{**QUICK, "device": "cuda"}).fit(yoruba[:4])


@pytest.mark.parametrize("where", ["missing", "not-a-model"])
def test_a_bad_model_path_is_an_error_naming_it(tmp_path: Path, yoruba: list[Sentence], where: str) -> None:
    path = tmp_path / where
    if where == "not-a-model":
        path.mkdir()
        (path / "notes.txt").write_text("no model here", encoding="utf-8")
    with pytest.raises(XnerError, match="cannot load model") as caught:
        _tagger(str(path), **QUICK).fit(yoruba[:4])
    assert str(path) in str(caught.value)


def test_nothing_to_train_on_or_bad_spans_are_errors(tiny_model: str) -> None:
    tagger = _tagger(tiny_model, **QUICK)
    with pytest.raises(XnerError, match="no sentence has tokens"):
        tagger.fit([Sentence(())])
    with pytest.raises(XnerError, match="no sub-tokens"):
        tagger.fit([Sentence(("\u200b",))])  # a word the tokenizer drops
    overlapping = Sentence(("Ada", "Lovelace", "sang"), (Span(0, 2, "PER"), Span(1, 2, "PER")))
    with pytest.raises(XnerError, match=r"training sentence 1: .*overlaps"):
        tagger.fit([Sentence(("a",)), overlapping])


@pytest.mark.parametrize(
    ("weights", "message"),
    [([1.0], "got 1 for 2 sentences"), ([1.0, -0.5], "sentence 1 has weight -0.5"), ([math.nan, 1], "nan")],
)
def test_bad_weights_are_errors(tiny_model: str, yoruba: list[Sentence], weights: list, message: str) -> None:
    with pytest.raises(XnerError, match=message):
        _tagger(tiny_model, **QUICK).fit(yoruba[:2], weights=weights)


def test_an_untrained_tagger_neither_predicts_nor_saves(tmp_path: Path) -> None:
    tagger = TransformerTagger(device="cpu")
    with pytest.raises(XnerError, match="not trained"):
        tagger.predict([["Ada"]])
    with pytest.raises(XnerError, match="not trained"):
        tagger.save(tmp_path)


# ---- sub-tokens and windows ----


def test_windows_cover_every_word_once_in_order_within_the_limit(tiny_model: str, yoruba: list[Sentence]) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    sentences = [s.tokens for s in yoruba[:50]] + [(), ("\u200b", "Adé")]  # empty; a word without sub-tokens
    limit = 16
    windows = sentences_to_windows(tokenizer, sentences, limit)
    assert all(len(w.input_ids) <= limit for w in windows)
    assert all(w.input_ids[0] == tokenizer.cls_token_id and w.input_ids[-1] == tokenizer.sep_token_id for w in windows)
    assert len(windows) > 50, "some of these sentences need several windows of 16"
    for index, tokens in enumerate(sentences):
        words = [
            word for w in windows if w.sentence == index for word, first in zip(w.words, w.first, strict=True) if first
        ]
        expected = [i for i, token in enumerate(tokens) if tokenizer.tokenize(token)]
        assert words == expected
    assert [w.sentence for w in windows] == sorted(w.sentence for w in windows)
    assert 50 not in {w.sentence for w in windows}  # the empty sentence has none
    with pytest.raises(XnerError, match="no room"):
        sentences_to_windows(tokenizer, sentences, 2)


def test_labels_go_on_the_first_sub_token_or_on_all_of_them(tiny_model: str) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    tokens = ("Olúwaseun", "Adébáyọ̀", "lọ")
    [window] = sentences_to_windows(tokenizer, [tokens], 64)
    tag_ids = {"O": 0, "B-PER": 1, "I-PER": 2}
    tags = ["B-PER", "I-PER", "O"]
    pieces = [len(tokenizer.tokenize(token)) for token in tokens]
    assert pieces[0] > 1 and pieces[1] > 1, "the names split into several pieces with this small vocabulary"
    first = window_labels(window, tags, tag_ids)
    everywhere = window_labels(window, tags, tag_ids, first_subtoken_only=False)
    per_word = [[1] * pieces[0], [2] * pieces[1], [0] * pieces[2]]
    assert everywhere == [IGNORE] + [label for word in per_word for label in word] + [IGNORE]
    assert first == [IGNORE] + [label if i == 0 else IGNORE for word in per_word for i, label in enumerate(word)] + [
        IGNORE
    ]


# ---- training and prediction ----


def test_fit_then_predict_gives_valid_spans_with_known_labels(trained: TransformerTagger, yoruba) -> None:
    training_labels = {span.label for sentence in yoruba[:40] for span in sentence.spans}
    assert trained.labels == tuple(sorted(training_labels))
    assert trained.tags[0] == "O" and len(trained.tags) == 1 + 2 * len(training_labels)
    batch = [sentence.tokens for sentence in yoruba] + [("Adé",), ()]
    scored = trained.predict_scored(batch)
    assert [[span for span, _ in row] for row in scored] == trained.predict(batch)
    assert scored[-1] == [] and trained.predict([]) == []
    assert sum(map(len, scored)) > 0
    for tokens, row in zip(batch, scored, strict=True):
        spans = [span for span, _ in row]
        assert spans == sorted(spans)
        assert all(a.end <= b.start for a, b in pairwise(spans))
        assert all(span.end <= len(tokens) and span.label in training_labels for span in spans)
        assert all(0.0 <= confidence <= 1.0 for _, confidence in row)
    info = trained.info
    assert info["sentences"] == 40 and info["tokens"] == sum(len(s.tokens) for s in yoruba[:40])
    assert info["steps"] == MEMORISE["epochs"] * math.ceil(info["windows"] / 8) and info["device"] == "cpu"
    assert info["precision"] == "fp32" and info["base_model"] == trained.model and len(info["phases"]) == 1
    assert info["epoch_losses"][-1] < info["epoch_losses"][0] / 5


def test_it_memorises_its_training_sentences(trained, tiny_model: str, yoruba: list[Sentence]) -> None:
    sentences = yoruba[:40]
    untrained = _tagger(tiny_model, **QUICK)
    untrained.fit(sentences, weights=[0.0] * len(sentences))  # the random head, never updated
    all_outside = sum(len(s.tokens) - sum(map(len, s.spans)) for s in sentences) / sum(len(s.tokens) for s in sentences)
    accuracy, f1 = _scores(trained, sentences)
    baseline_accuracy, baseline_f1 = _scores(untrained, sentences)
    assert accuracy > max(baseline_accuracy, all_outside) + 0.03
    assert f1 >= 0.8 > 0.1 > baseline_f1
    # memorised sentences are tagged with confidence, unlike the random head's guesses
    means = []
    for tagger in (trained, untrained):
        confidences = [c for row in tagger.predict_scored([s.tokens for s in sentences]) for _, c in row]
        means.append(sum(confidences) / len(confidences))
    assert means[0] > 0.5 and means[0] > 2 * means[1]


def test_progress_reports_every_step(tiny_model: str, yoruba: list[Sentence]) -> None:
    progress: list[tuple[int, int]] = []
    tagger = _tagger(tiny_model, **QUICK)
    tagger.fit(yoruba[:20], on_progress=lambda *p: progress.append(p))
    total = 2 * math.ceil(20 / 8)
    assert progress == [(step, total) for step in range(total + 1)]


def test_training_is_deterministic_on_cpu_and_leaves_the_callers_random_state(tiny_model, yoruba) -> None:
    import torch

    before = torch.random.get_rng_state()
    first, second, other = (_tagger(tiny_model, **QUICK, seed=seed) for seed in (1, 1, 2))
    for tagger in (first, second, other):
        tagger.fit(yoruba[:24])
    assert torch.equal(torch.random.get_rng_state(), before)
    assert _same_state(_state(first), _state(second))
    assert not _same_state(_state(first), _state(other))
    batch = [s.tokens for s in yoruba[24:40]]
    assert first.predict_scored(batch) == second.predict_scored(batch)


def test_zero_weights_leave_the_model_unchanged(tiny_model: str, yoruba: list[Sentence]) -> None:
    tagger = _tagger(tiny_model, **QUICK)
    tagger.fit(yoruba[:16])
    before = _state(tagger)
    tagger.fit(yoruba[16:32], weights=[0] * 16)
    assert _same_state(before, _state(tagger))
    assert tagger.info["skipped_steps"] == tagger.info["steps"] and tagger.info["weighted"]
    tagger.fit(yoruba[16:32], weights=[0] * 8 + [0.5] * 8)  # some weight: it learns again
    assert not _same_state(before, _state(tagger))


def test_weights_scale_what_a_sentence_teaches(tiny_model: str, yoruba: list[Sentence]) -> None:
    # weight 1 everywhere is plain training; weight 0.5 everywhere halves the loss, so the updates differ
    plain, weighted = (
        _tagger(tiny_model, **{**QUICK, "batch_size": 40}),
        _tagger(tiny_model, **{**QUICK, "batch_size": 40}),
    )
    plain.fit(yoruba[:20])
    weighted.fit(yoruba[:20], weights=[1.0] * 20)
    assert _same_state(_state(plain), _state(weighted))
    half = _tagger(tiny_model, **{**QUICK, "batch_size": 40})
    half.fit(yoruba[:20], weights=[0.5] * 20)
    assert not _same_state(_state(plain), _state(half))
    assert half.info["loss"] < plain.info["loss"]  # the same errors, weighted by half


def test_a_continued_fit_goes_on_from_the_current_weights(tiny_model: str, yoruba: list[Sentence]) -> None:
    tagger = _tagger(tiny_model, **QUICK)
    tagger.fit(yoruba[:40])  # e.g. projected data
    labels, tags, before = tagger.labels, tagger.tags, _state(tagger)
    gold = [s for s in yoruba[40:120] if {span.label for span in s.spans} <= set(labels)]
    tagger.fit(gold)  # then gold
    assert tagger.labels == labels and tagger.tags == tags
    assert not _same_state(before, _state(tagger))
    assert [phase["sentences"] for phase in tagger.info["phases"]] == [40, len(gold)]
    assert tagger.info["added_labels"] == []
    # a continued fit differs from a fresh one on the same data: it started from the first fit's weights
    fresh = _tagger(tiny_model, **QUICK)
    fresh.fit(gold)
    assert not _same_state(_state(fresh), _state(tagger))


def test_labels_new_to_a_continued_fit_extend_the_head(tiny_model: str, yoruba: list[Sentence]) -> None:
    only_per = [Sentence(s.tokens, tuple(span for span in s.spans if span.label == "PER")) for s in yoruba[:30]]
    tagger = _tagger(tiny_model, **QUICK)
    tagger.fit(only_per)
    assert tagger.tags == ("O", "B-PER", "I-PER")
    old_head = tagger._model.classifier.weight.detach().clone()
    tagger.fit(yoruba[:30], weights=[0] * 30)  # grows the head without training it
    new_labels = sorted({span.label for s in yoruba[:30] for span in s.spans} - {"PER"})
    assert tagger.tags[:3] == ("O", "B-PER", "I-PER") and tagger.info["added_labels"] == new_labels
    assert tagger.labels == tuple(sorted(["PER", *new_labels]))
    import torch

    assert torch.equal(tagger._model.classifier.weight[:3], old_head)
    assert tagger._model.config.id2label == dict(enumerate(tagger.tags))
    tagger.fit(yoruba[:30])
    assert {span.label for row in tagger.predict([s.tokens for s in yoruba[:30]]) for span in row} <= set(tagger.labels)


@pytest.mark.slow  # trains a transformer (~20 s)
def test_long_sentences_are_tagged_in_windows(tiny_model: str, yoruba: list[Sentence]) -> None:
    tagger = _tagger(tiny_model, **{**MEMORISE, "max_length": 24})
    tagger.fit(yoruba[:40])
    assert tagger.info["split_sentences"] > 10 and tagger.info["windows"] > 40 and tagger.info["max_length"] == 24
    predicted = tagger.predict([s.tokens for s in yoruba[:40]])
    late = [span for row in predicted for span in row if span.start >= 20]  # beyond any first window of 24 ids
    assert late, "words past the first window are tagged too"
    _, f1 = _scores(tagger, yoruba[:40])
    assert f1 >= 0.8  # 1.0 in every trial: short windows are easy to memorise


@pytest.mark.slow  # trains a transformer (~13 s)
def test_all_sub_tokens_labelling_trains_and_predicts(tiny_model: str, yoruba: list[Sentence]) -> None:
    tagger = _tagger(tiny_model, **MEMORISE, first_subtoken_only=False)
    tagger.fit(yoruba[:40])
    _, f1 = _scores(tagger, yoruba[:40])
    assert f1 >= 0.8


# ---- saving ----


def test_save_and_load_predict_identically(trained: TransformerTagger, yoruba, tmp_path: Path) -> None:
    folder = trained.save(tmp_path / "tagger")
    manifest = read_manifest(folder)
    assert manifest["kind"] == "transformer" and manifest["labels"] == list(trained.labels)
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= set(manifest["files"])
    assert all((folder / name).is_file() for name in manifest["files"])
    assert not [p for p in folder.iterdir() if p.name.startswith(".")], "no partial files are left behind"
    assert manifest["options"]["epochs"] == MEMORISE["epochs"] and manifest["info"]["sentences"] == 40
    loaded = load_tagger(folder)
    assert isinstance(loaded, TransformerTagger)
    assert (
        loaded.labels == trained.labels
        and loaded.tags == trained.tags
        and loaded.info == json.loads(json.dumps(trained.info))
    )
    batch = [s.tokens for s in yoruba[:80]]
    assert loaded.predict_scored(batch) == trained.predict_scored(batch)
    # a loaded tagger trains on (a curriculum across sessions)
    before = _state(loaded)
    loaded.epochs = 1
    loaded.fit(yoruba[40:60])
    assert not _same_state(before, _state(loaded)) and len(loaded.info["phases"]) == 2


def test_a_saved_folder_without_its_model_is_an_error(trained: TransformerTagger, tmp_path: Path) -> None:
    folder = trained.save(tmp_path / "tagger")
    (folder / "config.json").unlink()
    with pytest.raises(XnerError, match=r"no config\.json"):
        load_tagger(folder)


def test_a_curriculum_plan_trains_stage_by_stage_with_its_weights(tiny_model: str, yoruba: list[Sentence]) -> None:
    """fit_plan gives a transformer each stage in turn (projected first, then gold) with per-sentence weights,
    where a CRF gets one fit on the repeated union."""
    from xner.learning.strategies import Example, Strategy, fit_plan

    projected = [Example(s, "projected", confidence=0.5 + 0.5 * (i % 2)) for i, s in enumerate(yoruba[:30])]
    gold = [Example(s, "gold") for s in yoruba[30:40]]
    plan = Strategy(mix="gold+projected", curriculum=True, confidence_weighting=True, gold_weight=3.0).plan(
        gold, projected, seed=0
    )
    tagger = _tagger(tiny_model, **QUICK)
    fit_plan(tagger, plan)
    phases = tagger.info["phases"]
    assert [phase["sentences"] for phase in phases] == [len(plan.stages[0]), 10]
    assert tagger.info["weighted"]  # the last stage's own account: trained with the plan's weights
