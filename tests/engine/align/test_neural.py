"""The neural aligners (simalign, awesome) on a tiny random BERT built offline.

Random weights exercise the code paths, not alignment quality: the checks are shapes, bounds, determinism, option
handling and the one property random weights still guarantee (identical sentences give identical embeddings).
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # any accidental hub call fails at once
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.tiny_models import build_tiny_bert, one_torch_thread
from xner.engine.align import ALIGNERS
from xner.errors import MissingDependencyError, UnknownNameError, XnerError
from xner.types import Alignment

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("simalign")

PAIRS = [
    ("Barack Obama visited Nairobi yesterday .", "Barack Obama alitembelea Nairobi jana ."),
    ("the cat sat on the mat", "die Katze saß auf der Matte"),
    ("Angela Merkel spoke in Berlin", "Angela Merkel alizungumza Berlin"),
    ("the zebra and the giraffe", "pundamilia na twiga"),  # words outside the vocabulary: [UNK]
]
MAX_POSITIONS = 48  # small, so that a long sentence runs past the model's input length cheaply
CONFIGS = [
    ("simalign", {"method": "argmax"}),
    ("simalign", {"method": "itermax"}),
    ("simalign", {"method": "match"}),
    ("simalign", {"method": "itermax", "token_type": "word"}),
    ("awesome", {"batch_size": 3}),
]
IDS = ["simalign-argmax", "simalign-itermax", "simalign-match", "simalign-word", "awesome"]


def _split(pairs: list[tuple[str, str]]) -> list[tuple[list[str], list[str]]]:
    return [(src.split(), tgt.split()) for src, tgt in pairs]


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread() -> Iterator[None]:
    """Tiny matrices gain nothing from threads (see tests.tiny_models.one_torch_thread)."""
    with one_torch_thread():
        yield


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A 2-layer random BERT with a WordPiece vocabulary trained on the test sentences, saved like a hub model."""
    texts = [text for pair in PAIRS[:3] for text in pair]
    folder = tmp_path_factory.mktemp("tiny-bert")
    return build_tiny_bert(folder, texts, vocab_size=90, max_positions=MAX_POSITIONS)


def _create(name: str, options: dict, model: str) -> object:
    return ALIGNERS.create(name, {"model": model, **options})


_SHARED: dict[str, object] = {}


def _shared(name: str, options: dict, model: str) -> object:
    """One aligner per configuration for the whole module: a simalign instance loads its model when first used."""
    key = repr((name, sorted(options.items()), model))
    if key not in _SHARED:
        _SHARED[key] = _create(name, options, model)
    return _SHARED[key]


def test_registered_without_importing_torch() -> None:
    code = "import sys, xner.engine.align as a; print(sorted(a.ALIGNERS), 'torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split("] ")[1].strip() == "False"
    assert "'awesome'" in out and "'simalign'" in out


@pytest.mark.parametrize(("name", "options"), CONFIGS, ids=IDS)
def test_one_alignment_per_pair_within_bounds(tiny_model: str, name: str, options: dict) -> None:
    pairs = [*_split(PAIRS), ([], ["empty", "source"]), (["empty", "target"], []), ([], [])]
    progress: list[tuple[int, int]] = []
    alignments = _shared(name, options, tiny_model).align(pairs, on_progress=lambda *p: progress.append(p))
    assert len(alignments) == len(pairs)
    assert all(isinstance(a, Alignment) and not a.possible for a in alignments)
    for (src, tgt), alignment in zip(pairs, alignments, strict=True):
        assert all(0 <= i < len(src) and 0 <= j < len(tgt) for i, j in alignment.sure)
        if not src or not tgt:
            assert alignment == Alignment()
        else:
            assert alignment.sure, "random weights still give every argmax or softmax some link"
    assert progress[0] == (0, len(pairs)) and progress[-1] == (len(pairs), len(pairs))
    assert [done for done, _ in progress] == sorted(done for done, _ in progress)


@pytest.mark.parametrize(("name", "options"), CONFIGS, ids=IDS)
def test_deterministic_and_extra_is_ignored(tiny_model: str, name: str, options: dict) -> None:
    pairs = _split(PAIRS)
    first = _shared(name, options, tiny_model).align(pairs)
    assert _shared(name, options, tiny_model).align(pairs, extra=_split(PAIRS[:1])) == first
    assert _create(name, options, tiny_model).align(pairs) == first  # fresh (simalign reloads its model)


@pytest.mark.parametrize(("name", "options"), CONFIGS, ids=IDS)
def test_identical_sentences_align_on_the_diagonal(tiny_model: str, name: str, options: dict) -> None:
    # Identical inputs give identical embeddings even with random weights, so each subword is closest to itself:
    # simalign's cosine is exactly 1 there, so its argmax gives the diagonal and nothing else. awesome's softmax
    # also keeps other subwords whose embeddings are close, which with random weights are those of the same
    # subword elsewhere (the two "the", or "##at" in "sat" and "mat"), and it links words through any subword.
    # Checked over 25 vocabularies and seeds: never a missing diagonal link, never another kind of extra link.
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    for src, _ in _split(PAIRS):
        (alignment,) = _shared(name, options, tiny_model).align([(src, src)])
        diagonal = {(i, i) for i in range(len(src))}
        if name == "simalign":
            assert alignment.sure == diagonal
        else:
            assert alignment.sure >= diagonal
            for i, j in alignment.sure - diagonal:
                assert set(tokenizer.tokenize(src[i])) & set(tokenizer.tokenize(src[j])), (src[i], src[j])


@pytest.mark.parametrize("name", ["simalign", "awesome"])
def test_layer_is_checked_against_the_model(tiny_model: str, name: str) -> None:
    pairs = _split(PAIRS[:1])
    with pytest.raises(
        XnerError, match=r"layer 3 is out of range .* has 2 hidden layers: choose 0 \(embeddings\) to 2"
    ):
        _create(name, {"layer": "3"}, tiny_model).align(pairs)
    # the default (8) is capped at the last layer of a smaller model; layer 0 (embeddings) works too
    assert ALIGNERS.create(name, {"model": tiny_model}).align(pairs) == _create(name, {"layer": 2}, tiny_model).align(
        pairs
    )
    assert _create(name, {"layer": 0}, tiny_model).align(pairs)[0].sure


def test_options_from_text(tiny_model: str) -> None:
    aligner = ALIGNERS.create("simalign", {"model": tiny_model, "layer": "2", "method": "match", "token_type": "word"})
    assert (aligner.layer, aligner.method, aligner.token_type, aligner.device) == (2, "match", "word", "cpu")
    assert ALIGNERS.create("simalign", {"layer": ""}).layer is None
    aligner = ALIGNERS.create("awesome", {"model": tiny_model, "threshold": "0.01", "batch_size": "2", "layer": "1"})
    assert (aligner.threshold, aligner.batch_size, aligner.layer) == (0.01, 2, 1)
    assert aligner.align(_split(PAIRS[:1]))[0].sure


def test_option_errors_name_the_choices() -> None:
    with pytest.raises(UnknownNameError, match="unknown option of simalign 'methd'; known: device, distortion, layer"):
        ALIGNERS.create("simalign", {"methd": "argmax"})
    with pytest.raises(UnknownNameError, match="known: batch_size, device, layer, model, threshold"):
        ALIGNERS.create("awesome", {"treshold": "0.1"})
    with pytest.raises(UnknownNameError, match="known: argmax, itermax, match"):
        ALIGNERS.create("simalign", {"method": "fast"})
    with pytest.raises(XnerError, match="takes a number"):
        ALIGNERS.create("awesome", {"layer": "eight"})
    with pytest.raises(XnerError, match=r"'threshold' must be in \[0, 1\)"):
        ALIGNERS.create("awesome", {"threshold": "2"})


@pytest.mark.parametrize("name", ["simalign", "awesome"])
def test_models_that_cannot_load_give_a_clear_error(tmp_path: Path, name: str) -> None:
    pairs = _split(PAIRS[:1])
    with pytest.raises(XnerError, match="no such folder"):
        _create(name, {}, str(tmp_path / "missing")).align(pairs)
    with pytest.raises(XnerError, match="local Hugging Face cache"):  # the hub is off in tests
        _create(name, {}, "no-such-org/no-such-model").align(pairs)
    # all-empty input needs no model at all
    assert _create(name, {}, str(tmp_path / "missing")).align([([], ["a"])]) == [Alignment()]


@pytest.mark.parametrize(("name", "options"), CONFIGS, ids=IDS)
def test_unseen_words_get_no_links_instead_of_failing(tiny_model: str, name: str, options: dict) -> None:
    # a zero-width space tokenises to nothing (simalign alone would average an empty slice into NaN and fail), and
    # a sentence longer than the model's input length is cut (simalign alone would index past its embeddings)
    src = ["Obama", "\u200b", "visited", "Nairobi"]
    long = ("the cat sat on the mat " * 20).split()
    alignments = _shared(name, options, tiny_model).align([(src, src), (long, long)])
    assert alignments[0].sure >= {(0, 0), (2, 2), (3, 3)}
    assert all(1 not in link for link in alignments[0].sure)
    linked = {i for i, _ in alignments[1].sure}
    assert linked and max(linked) < MAX_POSITIONS and all(i < len(long) for i in linked)


def test_missing_package_is_named(tiny_model: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "simalign", None)  # makes `import simalign` raise ImportError
    with pytest.raises(MissingDependencyError, match="pip install simalign"):
        _create("simalign", {}, tiny_model).align(_split(PAIRS[:1]))


def test_cuda_without_a_gpu_is_a_clear_error(tiny_model: str) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present here")
    for name in ("simalign", "awesome"):
        with pytest.raises(XnerError, match="no CUDA GPU"):
            _create(name, {"device": "cuda"}, tiny_model).align(_split(PAIRS[:1]))
