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
