"""A subword tokenizer trained on the shop's own catalog and query text, for languages no shipped
encoder gives token states for (e.g. Chinese): the generative model then learns its own text
encoder from scratch over these ids.

Contract: ``train_tokenizer(texts, vocab_size)`` fits a byte-level BPE (HuggingFace
``tokenizers``; NFKC + lower-casing, so every string — any script — encodes, never to an unknown
token) and returns a ``ShopTokenizer``; ``ids(texts)`` gives padded id tensors and a padding mask
(True = padding), the same shape of answer a frozen encoder's ``token_states`` gives, so training
and search treat both alike. ``save(dir)`` writes ``tokenizer.json``; ``ShopTokenizer.load(dir)``
reads it back. Id 0 is padding.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch

__all__ = ["FILE", "ShopTokenizer", "train_tokenizer"]

FILE = "tokenizer.json"
PAD = "<pad>"


class ShopTokenizer:
    """Text -> subword ids (at most ``max_length`` per text)."""

    def __init__(self, tokenizer, max_length: int = 64) -> None:  # type: ignore[no-untyped-def]
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.vocab_size = int(tokenizer.get_vocab_size())

    def ids(self, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """``B x T`` int64 ids (0-padded) and the ``B x T`` padding mask; an empty text gets one
        padding position that is not masked, so every row attends to something."""
        rows = [encoding.ids[: self.max_length] or [0] for encoding in self.tokenizer.encode_batch(list(texts))]
        width = max((len(r) for r in rows), default=1)
        ids = torch.zeros((len(rows), width), dtype=torch.long)
        padding = torch.ones((len(rows), width), dtype=torch.bool)
        for i, row in enumerate(rows):
            ids[i, : len(row)] = torch.tensor(row)
            padding[i, : len(row)] = False
        return ids, padding

    def save(self, directory: Path) -> None:
        """``tokenizer.json`` into ``directory`` (which the caller writes atomically)."""
        self.tokenizer.save(str(Path(directory) / FILE))

    @classmethod
    def load(cls, directory: Path, max_length: int = 64) -> ShopTokenizer:
        """What ``save`` wrote."""
        from tokenizers import Tokenizer

        return cls(Tokenizer.from_file(str(Path(directory) / FILE)), max_length)


def train_tokenizer(texts: Sequence[str], vocab_size: int = 8000, max_length: int = 64) -> ShopTokenizer:
    """A byte-level BPE of about ``vocab_size`` ids fitted on ``texts``."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[PAD], initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tokenizer.train_from_iterator(list(texts), trainer)
    return ShopTokenizer(tokenizer, max_length)
