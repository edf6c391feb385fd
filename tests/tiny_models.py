"""Tiny random BERT models for the tests of transformer code paths (no download: built in a temporary folder)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path


def build_tiny_bert(
    folder: Path,
    texts: Iterable[str],
    *,
    vocab_size: int,
    max_positions: int,
    masked_lm: bool = False,
    fast_tokenizer: bool = False,
) -> str:
    """A 2-layer random BERT (base model, or with a masked-LM head) with a WordPiece vocabulary trained on
    ``texts``, saved in ``folder`` like a hub model; returns the folder. A small ``vocab_size`` makes longer words
    split into several pieces."""
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
    from transformers import BertConfig, BertForMaskedLM, BertModel, BertTokenizer, BertTokenizerFast

    wordpiece = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    wordpiece.normalizer = normalizers.BertNormalizer(lowercase=False)
    wordpiece.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    wordpiece.train_from_iterator(list(texts), trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=special))
    # the trainer's choice among equally frequent merges, and its ids, vary from run to run: sorting fixes the ids
    tokens = special + sorted(set(wordpiece.get_vocab()) - set(special))
    tokenizer_class = BertTokenizerFast if fast_tokenizer else BertTokenizer
    tokenizer = tokenizer_class(vocab={token: index for index, token in enumerate(tokens)}, do_lower_case=False)
    tokenizer.save_pretrained(folder)
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=max_positions,
    )
    (BertForMaskedLM if masked_lm else BertModel)(config).save_pretrained(folder)
    return str(folder)


@contextmanager
def one_torch_thread() -> Iterator[None]:
    """Torch on one thread while inside: tiny matrices gain nothing from threads, and on busy cores torch's thread
    pool made each layer ~100× slower."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def build_tiny_nllb(
    folder: Path,
    texts: Iterable[str],
    *,
    vocab_size: int = 200,
    shape: dict[str, int] | None = None,
    pad_vocab_to: int = 0,
) -> str:
    """A 1-layer random NLLB-shaped translation model (M2M100 architecture) with a sentencepiece BPE vocabulary
    trained on ``texts`` and NLLB's 202 language tokens, saved in ``folder`` like a hub model; returns the folder.
    Random weights: it exercises the code paths of translation, its output is nonsense.

    ``shape`` overrides the configuration (``d_model``, layers, heads, ffn sizes...) and ``pad_vocab_to`` adds dummy
    tokens up to that vocabulary size: with both, the model has a real model's size and speed (the speed
    benchmark builds NLLB-200-distilled-600M's shape this way)."""
    import sentencepiece
    import torch
    from transformers import M2M100Config, M2M100ForConditionalGeneration, NllbTokenizer

    from xner.engine.translate.codes import NLLB_CODES

    spm_dir = folder / "spm"
    spm_dir.mkdir(parents=True)
    (spm_dir / "corpus.txt").write_text("\n".join(texts), encoding="utf-8")
    sentencepiece.SentencePieceTrainer.train(
        input=str(spm_dir / "corpus.txt"),
        model_prefix=str(spm_dir / "sentencepiece.bpe"),
        vocab_size=vocab_size,
        model_type="bpe",
        character_coverage=1.0,
        bos_id=0,
        pad_id=1,
        eos_id=2,
        unk_id=3,
        hard_vocab_limit=False,  # at most vocab_size pieces: small test texts have fewer
        minloglevel=2,
    )
    tokenizer = NllbTokenizer.from_pretrained(str(spm_dir), extra_special_tokens=list(NLLB_CODES))
    if pad_vocab_to > len(tokenizer):
        tokenizer.add_tokens([f"<pad{i}>" for i in range(pad_vocab_to - len(tokenizer))])
    tokenizer.save_pretrained(folder)
    torch.manual_seed(0)
    config = M2M100Config(
        vocab_size=len(tokenizer),
        d_model=16,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=32,
        decoder_ffn_dim=32,
        max_position_embeddings=64,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.eos_token_id,
    )
    for key, value in (shape or {}).items():
        setattr(config, key, value)
    M2M100ForConditionalGeneration(config).save_pretrained(folder)
    return str(folder)
