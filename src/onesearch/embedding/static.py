"""A static query encoder: a learned bag of token vectors distilled from a transformer's query vectors.

Contract: ``distil_static(texts, teacher, out, config)`` learns one vector and one weight per
WordPiece token the texts hold so that the weighted sum of a text's token vectors, normalised,
points where the teacher's query vector of that text points; it starts from the teacher's vector
of each token alone (as model2vec does) for the tokens of the texts and of a ``vocabulary`` (the
item texts; any other token stays zero), and writes ``out`` atomically (token table, tokenizer,
``manifest.json`` of kind ``static-query-encoder`` naming the teacher).
With ``anchors`` (the item vectors each text should find) a contrastive loss pulls the token bag
towards those items too, so it learns retrieval, not only the teacher's geometry.
``load_encoder(str(out))`` then serves a ``StaticEncoder``: queries cost one tokenizer call and a
sum of a few rows (no network); items are encoded by the teacher, loaded on first use, so item
vectors stay in the teacher's space. ``distillation_texts`` assembles the texts a task learns
from, with the catalog rows each should find: its train queries, pseudo-queries cut from item
titles, and misspelled copies of both.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from onesearch.artifacts import atomic_directory, file_sha256, read_manifest, write_manifest
from onesearch.catalog.typos import misspell
from onesearch.embedding.encoder import Kind, TextEncoder, normalize

__all__ = ["KIND", "Finds", "StaticConfig", "StaticEncoder", "anchor_vectors", "distil_static", "distillation_texts"]

KIND = "static-query-encoder"
TABLE = "tokens.npz"
MAX_TOKENS = 32  # a query's first tokens (queries are short; the teacher reads 48)


@dataclass(frozen=True)
class StaticConfig:
    """Distillation knobs; saved in the encoder's manifest."""

    epochs: int = 12
    batch_size: int = 256
    learning_rate: float = 3e-3
    pseudo_queries: int = 30_000  # spans cut from item titles
    misspelled_share: float = 0.3  # of the queries and pseudo-queries, each copied once misspelled
    find_weight: float = 0.0  # weight of an in-batch contrastive loss towards the items each text should find (the recipe's static_find_weight)
    temperature: float = 0.05
    seed: int = 0


Finds = dict[int, float]  # catalog row -> gain: the items a text should find


def distillation_texts(queries: Sequence[tuple[str, Finds]], titles: Sequence[str], config: StaticConfig = StaticConfig()) -> dict[str, Finds]:
    """Distinct texts to distil on, each with the catalog rows it should find: the ``queries``
    with their relevant items, ``config.pseudo_queries`` spans of 1-5 words cut from random
    ``titles`` (title i is row i's), and a seeded misspelled copy of a ``misspelled_share`` of them
    (finding the same rows). A text met twice keeps its first rows."""
    rng = random.Random(config.seed)
    texts: dict[str, Finds] = {}
    for text, finds in queries:
        texts.setdefault(text.strip(), dict(finds))
    for _ in range(config.pseudo_queries if titles else 0):
        row = rng.randrange(len(titles))
        words = titles[row].split()
        if words:
            length = min(len(words), rng.randint(1, 5))
            start = rng.randint(0, len(words) - length)
            texts.setdefault(" ".join(words[start : start + length]), {row: 1.0})
    texts.pop("", None)
    for text in [t for t in texts if rng.random() < config.misspelled_share]:
        texts.setdefault(misspell(text, config.seed), texts[text])
    return texts


def anchor_vectors(finds: Sequence[Finds], item_vectors: np.ndarray) -> np.ndarray:
    """Per text, the unit gain-weighted mean of the vectors of the rows it should find (a zero
    row for a text that should find none)."""
    out = np.zeros((len(finds), item_vectors.shape[1]), dtype=np.float32)
    for i, rows in enumerate(finds):
        kept = {row: gain for row, gain in rows.items() if gain > 0}
        if kept:
            out[i] = np.asarray(list(kept.values()), dtype=np.float32) @ item_vectors[list(kept)]
    return normalize(out)


class StaticEncoder:
    """A distilled static encoder folder (see module docstring); implements ``TextEncoder``."""

    def __init__(self, directory: Path, teacher: Callable[[], TextEncoder] | None = None) -> None:
        from tokenizers import Tokenizer

        self.directory = Path(directory)
        manifest = read_manifest(self.directory, kind=KIND)
        with np.load(self.directory / TABLE) as table:
            self.vectors = table["vectors"].astype(np.float32) * table["weights"].astype(np.float32)[:, None]
        self.dim = int(self.vectors.shape[1])
        self.key = "static-" + file_sha256(self.directory / TABLE)[:16]
        self.teacher_spec = str(manifest["teacher"])
        self._tokenizer = Tokenizer.from_file(str(self.directory / "tokenizer.json"))
        self._tokenizer.no_padding()
        self._tokenizer.no_truncation()
        self._special = set(manifest["special_ids"])
        self._teacher_factory = teacher
        self._teacher: TextEncoder | None = None

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Each text's WordPiece ids, special tokens left out, at most ``MAX_TOKENS``."""
        return [[t for t in e.ids if t not in self._special][:MAX_TOKENS] for e in self._tokenizer.encode_batch(list(texts))]

    def encode(self, texts: Sequence[str], kind: Kind) -> np.ndarray:
        if kind == "item":
            return self.teacher.encode(texts, kind)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, ids in enumerate(self.token_ids(texts)):
            if ids:
                out[row] = self.vectors[ids].sum(axis=0)
        return normalize(out)

    @property
    def teacher(self) -> TextEncoder:
        """The teacher encoder (items' space), loaded on first use."""
        if self._teacher is None:
            from onesearch.embedding.encoder import load_encoder

            self._teacher = self._teacher_factory() if self._teacher_factory else load_encoder(self.teacher_spec)
        return self._teacher


def distil_static(
    texts: Sequence[str],
    teacher: Any,
    teacher_spec: str,
    out: Path,
    config: StaticConfig = StaticConfig(),
    encode: Callable[[Sequence[str]], np.ndarray] | None = None,
    log: Callable[[str], None] | None = None,
    vocabulary: Sequence[str] = (),
    anchors: np.ndarray | None = None,
) -> dict[str, float]:
    """Distil ``teacher`` (a ``SentenceEncoder``: its tokenizer and query vectors) over ``texts``
    into the folder ``out``; ``encode`` gives the teacher's query vectors (default: the teacher's
    own, uncached); the tokens of ``vocabulary`` (e.g. the item texts) start from the teacher
    too, though no text trains them. ``anchors`` (one unit row per text, zero for none: see
    ``anchor_vectors``) add an in-batch contrastive loss, weighted ``find_weight``, that pulls
    each text towards the items it should find and away from the batch's other texts' items.
    Returns the held-out cosine to the teacher before and after training."""
    import torch

    tokenizer = teacher.model.tokenizer
    special = sorted(set(tokenizer.all_special_ids))
    vocab = len(tokenizer)
    encode = encode or (lambda batch: teacher.encode(batch, "query"))
    targets = np.asarray(encode(list(texts)), dtype=np.float32)
    ids = _token_ids(tokenizer, texts, special)
    seen = sorted({t for row in [*ids, *_token_ids(tokenizer, vocabulary, special)] for t in row})
    start = np.zeros((vocab, targets.shape[1]), dtype=np.float32)  # a token no text holds stays zero: it adds nothing to a query
    start[seen] = encode([t.removeprefix("##") for t in tokenizer.convert_ids_to_tokens(seen)])  # each token alone (model2vec's start)
    rng = np.random.default_rng(config.seed)
    order = rng.permutation(len(texts))
    held = order[: max(1, len(texts) // 20)]
    train = order[len(held) :]
    torch.manual_seed(config.seed)
    table = torch.nn.EmbeddingBag(vocab, start.shape[1], mode="sum", sparse=True)  # a batch touches few rows: sparse updates
    table.weight.data.copy_(torch.from_numpy(start))
    weight = torch.nn.Embedding(vocab, 1, sparse=True)
    torch.nn.init.ones_(weight.weight)
    before = _cosine(table, weight, ids, targets, held)
    optimizer = torch.optim.SparseAdam([*table.parameters(), *weight.parameters()], lr=config.learning_rate)
    for epoch in range(config.epochs):
        losses = []
        for batch in np.array_split(rng.permutation(train), max(1, len(train) // config.batch_size)):
            pooled = _pooled(table, weight, [ids[i] for i in batch])
            loss = 1.0 - torch.nn.functional.cosine_similarity(pooled, torch.from_numpy(targets[batch]), dim=1).mean()
            if anchors is not None and config.find_weight:
                loss = loss + config.find_weight * _find_loss(pooled, torch.from_numpy(anchors[batch]), config.temperature)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        if log is not None:
            log(f"static encoder epoch {epoch + 1}/{config.epochs}: loss {np.mean(losses):.4f}")
    after = _cosine(table, weight, ids, targets, held)
    with atomic_directory(out) as tmp:
        np.savez(tmp / TABLE, vectors=table.weight.detach().numpy().astype(np.float16), weights=weight.weight.detach().numpy()[:, 0].astype(np.float32))
        tokenizer.backend_tokenizer.save(str(tmp / "tokenizer.json"))
        summary = {"held_out_cosine_start": round(before, 4), "held_out_cosine": round(after, 4)}
        write_manifest(tmp, KIND, config=asdict(config), inputs={}, texts_sha256=hashlib.sha256("\n".join(texts).encode()).hexdigest()[:16],
                       teacher=teacher_spec, teacher_key=teacher.key, special_ids=special, texts=len(texts), **summary)
    return summary


def _token_ids(tokenizer: Any, texts: Sequence[str], special: list[int]) -> list[list[int]]:
    """Each text's first ``MAX_TOKENS`` WordPiece ids, special tokens left out."""
    return [[t for t in row if t not in special] for row in tokenizer(list(texts), add_special_tokens=False, truncation=True, max_length=MAX_TOKENS)["input_ids"]] if texts else []


def _pooled(table: Any, weight: Any, ids: list[list[int]]) -> Any:
    """Each text's weighted token sum (zero for a text without tokens)."""
    import torch

    flat = torch.tensor([t for row in ids for t in row], dtype=torch.long)
    offsets = torch.tensor(np.cumsum([0, *map(len, ids[:-1])]), dtype=torch.long)
    return table(flat, offsets, per_sample_weights=weight(flat)[:, 0])


def _find_loss(pooled: Any, anchors: Any, temperature: float) -> Any:
    """In-batch softmax cross-entropy of each anchored text against the batch's anchors (its own
    is the answer; another text's identical anchor is no negative)."""
    import torch

    kept = anchors.abs().sum(dim=1) > 0
    if int(kept.sum()) < 2:
        return pooled.sum() * 0.0
    query, anchor = torch.nn.functional.normalize(pooled[kept], dim=1), anchors[kept]
    same = anchor @ anchor.T > 0.999
    same.fill_diagonal_(False)
    logits = (query @ anchor.T / temperature).masked_fill(same, float("-inf"))
    return torch.nn.functional.cross_entropy(logits, torch.arange(len(anchor)))


def _cosine(table: Any, weight: Any, ids: list[list[int]], targets: np.ndarray, rows: np.ndarray) -> float:
    import torch

    with torch.no_grad():
        pooled = _pooled(table, weight, [ids[i] for i in rows])
        return float(torch.nn.functional.cosine_similarity(pooled, torch.from_numpy(targets[rows]), dim=1).mean())
