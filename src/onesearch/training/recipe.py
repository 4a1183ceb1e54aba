"""A training run from a task and a recipe: data -> curriculum stages -> trained model on disk.

Contract: ``Recipe.from_toml(path, settings, **overrides)`` reads a TOML recipe (sections ``[model]``,
``[views]``, ``[train]``; top-level ``task``, ``index``, ``encoder``, ``vocab_size``,
``pseudo_per_item``, ``category_queries``, ``cold_share``, ``cache``), applies ``--set`` style settings, and rejects unknown keys with the
file named; ``run(recipe, dataset, out)`` trains
and saves the model folder atomically (checkpoints beside it in ``<out>.checkpoint`` let an
interrupted run resume; they are removed once the model is saved).

``encoder`` names a frozen token encoder (``minilm`` or a sentence-transformers folder such as the
cascade's dual encoder) or ``scratch``: a byte-level BPE of ``vocab_size`` ids is fitted on the
training texts, saved with the model, and the model learns its own text encoder (``[model]
text_layers``) — for languages no shipped encoder covers. The codebook's own encoder (any, e.g.
``e5`` for Chinese) still embeds keywords and, with the query-code view, the query texts.
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import shutil
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch

from onesearch.catalog.context import ContextResolver
from onesearch.catalog.schema import Dataset, examples_of
from onesearch.catalog.text import item_text, normalize_query
from onesearch.embedding.encoder import SentenceEncoder, TextEncoder, load_encoder, load_token_encoder
from onesearch.embedding.tokenizer import ShopTokenizer, train_tokenizer
from onesearch.errors import DataError
from onesearch.model.inputs import ContextBuilder, Kind, Views
from onesearch.model.transformer import ModelConfig
from onesearch.semantic_ids.codebook import encoder_spec, load_full_codes
from onesearch.semantic_ids.query import TextCoder
from onesearch.training.checkpoint import save_decoder
from onesearch.training.examples import build_stages
from onesearch.training.generative import EncodedTexts, TokenizedTexts, TrainConfig, train

__all__ = ["SCRATCH", "ModelShape", "Recipe", "apply_setting", "run"]

SCRATCH = "scratch"


@dataclass(frozen=True)
class ModelShape:
    """Size knobs of the decoder (the code sizes and memory width come from the data)."""

    d_model: int = 256
    layers: int = 4
    heads: int = 4
    feedforward: int = 1024
    dropout: float = 0.1
    text_layers: int = 2  # own text encoder's layers (encoder = "scratch" only)


@dataclass(frozen=True)
class Recipe:
    """Everything a training run needs besides the data."""

    task: str
    index: str
    encoder: str = "minilm"
    vocab_size: int = 8000
    pseudo_per_item: int = 1
    category_queries: bool = False
    cold_share: float = 0.0
    cache: str = "runs/cache/token-states"
    model: ModelShape = field(default_factory=ModelShape)
    views: Views = field(default_factory=Views)
    train: TrainConfig = field(default_factory=TrainConfig)

    @classmethod
    def from_toml(cls, path: Path | None, settings: Sequence[str] = (), **overrides: Any) -> Recipe:
        """The recipe in ``path`` (or defaults), then ``settings`` (``KEY=VALUE`` or
        ``SECTION.KEY=VALUE``, VALUE in TOML syntax), then non-None top-level ``overrides``."""
        raw: dict[str, Any] = {}
        if path is not None:
            try:
                raw = tomllib.loads(Path(path).read_text())
            except (OSError, tomllib.TOMLDecodeError) as error:
                raise DataError(f"cannot read recipe: {error}", path=path) from None
        for setting in settings:
            apply_setting(raw, setting)
        raw.update({k: v for k, v in overrides.items() if v is not None})
        sections = {"model": ModelShape, "views": Views, "train": TrainConfig}
        top = {f.name for f in fields(cls)} - set(sections)
        _check_keys(raw, top | set(sections), path, "")
        if "task" not in raw or "index" not in raw:
            raise DataError("a recipe needs task and index (in the file or as --task/--index)", path=path)
        built = {k: v for k, v in raw.items() if k in top}
        for name, kind in sections.items():
            section = raw.get(name, {})
            _check_keys(section, {f.name for f in fields(kind)}, path, f"[{name}] ")
            built[name] = kind(**section)
        return cls(**built)


def apply_setting(raw: dict[str, Any], setting: str) -> None:
    """Set ``KEY=VALUE`` / ``SECTION.KEY=VALUE`` (VALUE parsed as TOML, else taken as a string)."""
    key, sep, value = setting.partition("=")
    if not sep or not key.strip():
        raise DataError(f"--set needs KEY=VALUE or SECTION.KEY=VALUE, got {setting!r}")
    try:
        parsed = tomllib.loads(f"v = {value.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        parsed = value.strip()
    *section, name = key.strip().split(".")
    target = raw
    for part in section:
        target = target.setdefault(part, {})
    target[name] = parsed


def _check_keys(raw: dict[str, Any], known: set[str], path: Path | None, where: str) -> None:
    unknown = sorted(set(raw) - known)
    if unknown:
        raise DataError(f"{where}unknown recipe keys {unknown}; known: {sorted(known)}", path=path)


def run(recipe: Recipe, dataset: Dataset, out: Path, device: str | None = None, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Train per ``recipe`` on ``dataset``'s train split and save the model in ``out``; returns
    the summary also written into its manifest."""
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    index = Path(recipe.index)
    item_ids, full_codes, sizes = load_full_codes(index)
    texts_of = _item_texts(dataset, item_ids, index)
    token_encoder = None if recipe.encoder == SCRATCH else _encoder(recipe.encoder)
    vectors = _vector_encoder(recipe, index, token_encoder)
    coder = TextCoder.load(index, lambda texts: vectors.encode(texts, "item"))
    cold = _cold_items(item_ids, recipe.cold_share, recipe.train.seed)
    row_of = {item: row for row, item in enumerate(item_ids)}
    train_examples = [e for e in examples_of(dataset.examples) if e.split == "train"]
    resolver = ContextResolver(dataset)
    categories = _categories(dataset, item_ids) if recipe.category_queries else None
    bank, stages = build_stages(texts_of, full_codes, row_of, train_examples, resolver.request, coder.fuser.keywords, cold, item_ids, recipe.pseudo_per_item, recipe.train.seed, categories)
    builder = ContextBuilder.of(recipe.views, item_ids, full_codes, sizes)
    if builder is not None and "personal" in stages and recipe.views.short_term:
        for queries in builder.queries_of(stages["personal"].requests or []):
            for query in queries:
                bank.index(query)
    log(", ".join(f"{name}: {len(stage):,} examples" for name, stage in stages.items()) + f"; {len(cold):,} cold items held out; on {device}")
    shape = recipe.model
    tokenizer = None
    if token_encoder is None:
        tokenizer, encoded = _tokenized(recipe, bank.texts, coder, vectors, log)
        memory = dict(memory_dim=shape.d_model, vocab_size=tokenizer.vocab_size, text_layers=shape.text_layers)
    else:
        encoded = _encoded(bank.texts, token_encoder, coder if recipe.views.query_code else None, Path(recipe.cache), log)
        memory = dict(memory_dim=token_encoder.dim)
    config = ModelConfig(sizes, d_model=shape.d_model, layers=shape.layers, heads=shape.heads, feedforward=shape.feedforward, dropout=shape.dropout, views=recipe.views, kinds=Kind.COUNT, **memory)
    checkpoints = out.with_name(out.name + ".checkpoint")
    result = train(stages, encoded, config, recipe.train, builder, device, checkpoints, log)
    summary = {
        "losses": result.losses,
        "examples_per_second": round(result.examples_per_second, 1),
        "examples": {name: len(stage) for name, stage in stages.items()},
        "device": device,
    }
    save_decoder(result.model, out, sorted(cold), _curve_png(result.curve), tokenizer, recipe=json.loads(json.dumps(asdict(recipe))), index=str(index.resolve()), encoder=recipe.encoder, **summary)
    shutil.rmtree(checkpoints, ignore_errors=True)
    return summary


def _encoded(texts: list[str], encoder: SentenceEncoder, coder: TextCoder | None, cache: Path, log: Callable[[str], None]) -> EncodedTexts:
    """The frozen encoder's outputs for ``texts``, reused from ``cache`` when the same encoder
    already encoded the same texts; query codes (``coder``) are recomputed from the vectors."""
    key = hashlib.sha256("\n".join([encoder.key, *texts]).encode()).hexdigest()[:20]
    directory = cache / key
    if (directory / "texts.json").is_file():
        log(f"frozen encoder outputs reused from {directory}")
        encoded = EncodedTexts.load(directory)
    else:
        encoded = EncodedTexts.build(texts, encoder.token_states, log=log)
        encoded.save(directory)
    if coder is not None:
        encoded.codes = coder.codes(texts, encoded.vectors)
    return encoded


def _item_texts(dataset: Dataset, item_ids: list[str], index: Path) -> list[str]:
    columns = dataset.items.select(["item_id", "title", "brand", "category"]).to_pydict()
    text_of = {i: item_text(t, b, c) for i, t, b, c in zip(columns["item_id"], columns["title"], columns["brand"], columns["category"])}
    if set(item_ids) != set(text_of):
        raise DataError("the codebook was built on another catalog than this task's", path=index)
    return [text_of[i] for i in item_ids]


def _encoder(spec: str) -> SentenceEncoder:
    try:
        return load_token_encoder(spec)
    except ValueError as error:
        raise DataError(str(error)) from None


def _vector_encoder(recipe: Recipe, index: Path, token_encoder: SentenceEncoder | None) -> TextEncoder:
    """The encoder whose vectors the codebook's coder reads. A frozen token encoder is used
    itself (query codes then come from its pooled states, so with the query-code view it must be
    the codebook's encoder); a scratch model uses the codebook's own encoder."""
    codebook_encoder = encoder_spec(index)
    if token_encoder is None:
        if codebook_encoder is None:
            raise DataError("a scratch-encoder recipe needs the codebook's encoder.json (rebuild the index)", path=index)
        try:
            return load_encoder(codebook_encoder)
        except ValueError as error:
            raise DataError(str(error), path=index) from None
    if recipe.views.query_code and codebook_encoder is not None and _resolved(codebook_encoder) != _resolved(recipe.encoder):
        raise DataError(f"the query-code view needs the codebook's encoder ({codebook_encoder}), not {recipe.encoder}", path=index)
    return token_encoder


def _tokenized(recipe: Recipe, texts: list[str], coder: TextCoder, vectors: TextEncoder, log: Callable[[str], None]) -> tuple[ShopTokenizer, TokenizedTexts]:
    """A tokenizer fitted on the training texts and their ids (+ query codes with that view)."""
    if recipe.views.short_term and recipe.views.short_queries:
        raise DataError("a scratch-encoder model cannot read recent queries: set views.short_queries = 0")
    tokenizer = train_tokenizer(texts, recipe.vocab_size)
    tokenized = TokenizedTexts(texts, tokenizer.ids)
    log(f"tokenizer: {tokenizer.vocab_size:,} ids fitted on {len(texts):,} texts")
    if recipe.views.query_code:
        tokenized.codes = coder.codes(texts, vectors.encode(texts, "query"))
    return tokenizer, tokenized


def _categories(dataset: Dataset, item_ids: list[str]) -> list[str]:
    """Each item's leaf category as a query, in ``item_ids`` order (empty when unknown);
    ``DataError`` when no item has one (the option would silently change nothing)."""
    columns = dataset.items.select(["item_id", "category"]).to_pydict()
    leaf_of = {item: normalize_query(path[-1]) if path else "" for item, path in zip(columns["item_id"], columns["category"])}
    if not any(leaf_of.values()):
        raise DataError("category_queries = true, but no item of this catalog has a category: set it to false")
    return [leaf_of[i] for i in item_ids]


def _resolved(spec: str) -> str:
    return str(Path(spec).resolve()) if Path(spec).exists() else spec


def _cold_items(item_ids: list[str], share: float, seed: int) -> set[str]:
    """A seeded random ``share`` of the catalog, hidden from every training stage."""
    if not 0.0 <= share < 1.0:
        raise DataError(f"cold_share must be in [0, 1), got {share}")
    return set(random.Random(seed).sample(list(item_ids), int(round(share * len(item_ids)))))


def _curve_png(curve: list[tuple[int, float, str]]) -> bytes | None:
    """The loss curve (one line per stage) as PNG bytes."""
    if not curve:
        return None
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4))
    for stage in dict.fromkeys(name for _, _, name in curve):
        points = np.array([(step, loss) for step, loss, name in curve if name == stage])
        axis.plot(points[:, 0], points[:, 1], label=stage)
    axis.set_xlabel("step")
    axis.set_ylabel("loss (summed over code positions)")
    axis.legend()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()

