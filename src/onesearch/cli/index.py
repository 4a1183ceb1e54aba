"""``onesearch index build | stats | encode``: semantic-id codebooks of a task's catalog."""

from __future__ import annotations

import enum
import importlib.util
import json
import tempfile
import time
from pathlib import Path
from typing import Annotated

import numpy as np
import pyarrow as pa
import typer
from rich.console import Console

from onesearch.artifacts import read_manifest
from onesearch.cascade.build import BuildSettings, EncodedCatalog, cascade_directory, dense_encoder, encode_catalog
from onesearch.catalog import registry
from onesearch.catalog.schema import Dataset
from onesearch.catalog.text import item_text
from onesearch.cli.data import DataOption, SourceOption, TestFileOption, data_root
from onesearch.embedding.cache import encode_cached
from onesearch.embedding.encoder import load_encoder
from onesearch.embedding.keywords import Keyword, KeywordFuser, mine_keywords
from onesearch.errors import DataError
from onesearch.semantic_ids import metrics
from onesearch.semantic_ids.codebook import KIND, CodebookConfig, SemanticIdCodebook, encoder_spec, sample_rows
from onesearch.semantic_ids.query import TextCoder

__all__ = ["app", "build_codebook", "build_codebook_on_ray"]

app = typer.Typer(help="Build and inspect semantic-id codebooks (RQ k-means + OPQ, keyword-enhanced).", no_args_is_help=True)
console = Console(stderr=True)


class Engine(str, enum.Enum):
    """Where the index is built."""

    local = "local"
    ray = "ray"


@app.command("build")
def build(
    task: Annotated[str, typer.Option("--task", help="Data set whose catalog to code.")],
    out: Annotated[Path, typer.Option("--out", help="Codebook directory (replaced atomically).")],
    levels: Annotated[str | None, typer.Option("--levels", help="Residual k-means sizes, coarse to fine (default: sized to the catalog, as the generative model's codebook).")] = None,
    balanced: Annotated[bool, typer.Option("--balanced/--no-balanced", help="Per-parent, equal-capacity last level (local indices); off by default.")] = False,
    opq: Annotated[int | None, typer.Option("--opq", help="OPQ sub-codes on the last residual (0: none; default: 2 from 1,000 items up).", min=0)] = None,
    opq_bits: Annotated[int, typer.Option("--opq-bits", help="Bits per OPQ sub-code (2**bits values).", min=1, max=16)] = 8,
    keywords: Annotated[bool, typer.Option("--keywords/--no-keywords", help="Fuse matched attribute keywords into the vectors.")] = True,
    encoder: Annotated[str, typer.Option("--encoder", help="dual (the cascade's fine-tuned encoder), minilm, use or e5.")] = "dual",
    cache: Annotated[Path, typer.Option("--cache", help="Shared with `onesearch eval`: encoders and vectors are reused.")] = Path("runs/cache"),
    sample: Annotated[int, typer.Option("--sample", min=1, help="Fit the quantizers on at most this many items (a seeded sample), then code every item.")] = 200_000,
    engine: Annotated[Engine, typer.Option("--engine", help="local: this process; ray: Ray Data (encode and code in actor pools, fit on the driver).")] = Engine.local,
    address: Annotated[str | None, typer.Option("--address", help="Ray cluster to join (else $RAY_ADDRESS; neither: a local Ray).")] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Ray actors per pool (and CPUs of a local Ray).")] = 2,
    stage: Annotated[Path | None, typer.Option("--stage", help="Folder every Ray node reads and writes, for the catalog's Parquet shards (default: a local temp folder, enough for a local Ray).")] = None,
    data: DataOption = None,
    source: SourceOption = None,
    test_file: TestFileOption = None,
) -> None:
    """Code every catalog item; write codebooks, maps, keyword pool and quality metrics to OUT.
    With no shape options the codebook is sized to the catalog (``CodebookConfig.for_catalog``),
    the one the generative model trains on; the paper's 256-64-32 balanced + OPQ shape is
    ``--levels 256,64,32 --balanced --opq 2``."""
    dataset = registry.load(task, data_root(data), test_file=test_file, source=source)
    sized = CodebookConfig.for_catalog(dataset.items.num_rows)
    config = CodebookConfig(levels=_levels(levels) if levels else sized.levels, balanced_last=balanced,
                            opq_subcodes=sized.opq_subcodes if opq is None else opq, opq_bits=opq_bits)
    directory = cascade_directory(cache, task, dataset.training_fingerprint())
    if engine is Engine.ray:
        quality = build_codebook_on_ray(dataset, directory, out, config, keywords, encoder, sample, address, workers, stage)
    else:
        quality = build_codebook(dataset, directory, out, config, keywords, encoder, sample)
    typer.echo(json.dumps(quality, indent=2))


def build_codebook(dataset: Dataset, directory: Path, out: Path, config: CodebookConfig, keywords: bool = True, encoder: str = "dual", sample: int = 200_000) -> dict:  # type: ignore[type-arg]
    """Fit and save the codebook of ``dataset``'s catalog into ``out``; vectors come from (and the
    dual encoder lives in) the cascade folder ``directory``; the quantizers are fitted on at most
    ``sample`` items. Returns the quality metrics."""
    started = time.perf_counter()
    catalog = encode_catalog(dataset, directory, BuildSettings(encoder=encoder), log=console.print)
    pool = _pool(dataset) if keywords else []
    vectors = _enhanced(catalog, pool, directory)
    console.print(f"fitting {config.levels} residual k-means{' (balanced last level)' if config.balanced_last else ''} + {config.opq_subcodes} OPQ sub-codes")
    try:
        codebook = SemanticIdCodebook.fit(vectors, catalog.items.ids, config, sample=sample_rows(catalog.items.ids, sample, config.seed))
    except ValueError as error:
        raise DataError(f"cannot fit the codebook: {error}") from None
    quality = _quality(codebook, vectors, dataset.items["category"].to_pylist()) | {"keywords": len(pool), "seconds": round(time.perf_counter() - started, 1)}
    codebook.save(out, metrics=quality, extra=_extra(pool, _encoder_spec(directory, encoder)))
    return quality


def build_codebook_on_ray(dataset: Dataset, directory: Path, out: Path, config: CodebookConfig, keywords: bool, encoder: str, sample: int,
                          address: str | None, workers: int, stage: Path | None = None) -> dict:  # type: ignore[type-arg]
    """``build_codebook`` on Ray Data (``scale.ray_index``): the driver fine-tunes the encoder if
    needed, mines and encodes the keyword pool and writes the catalog's Parquet shards; the
    actors encode and code; the result equals the local build's on the same vectors and seed."""
    if importlib.util.find_spec("ray") is None:
        raise DataError("--engine ray needs the distributed extra: pip install -e '.[distributed]'")
    if config.balanced_last:
        raise DataError("a balanced last level assigns codes under a capacity shared by a whole parent, so it cannot code items one shard at a time: use --no-balanced")
    from onesearch.scale import ray_index
    started = time.perf_counter()
    spec = dense_encoder(dataset, directory, BuildSettings(encoder=encoder), log=console.print)
    pool = _pool(dataset) if keywords else []
    keyword_vectors = encode_cached(load_encoder(spec), [k.text for k in pool], "item", directory / "embeddings") if pool else None
    items = dataset.items.select(["item_id", "title", "brand", "category"]).to_pydict()
    texts = [item_text(t, b, c) for t, b, c in zip(items["title"], items["brand"], items["category"])]
    table = pa.table({"row": np.arange(len(texts)), "item_id": items["item_id"], "text": texts})
    plan = ray_index.IndexPlan(spec, directory / "embeddings", config, sample, workers, pool, keyword_vectors if keyword_vectors is not None else np.zeros((0, 0), np.float32))
    categories = dataset.items["category"].to_pylist()
    if stage is not None:
        stage.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="onesearch-catalog-", dir=stage) as tmp:
        shards = ray_index.write_shards(table, Path(tmp), max(1, -(-len(table) // (4 * workers))))
        ray_index.connect(address, workers)
        try:
            ray_index.build_on_ray(shards, plan, out, console.print, _extra(pool, spec),
                                   lambda book, vectors: _quality(book, vectors, categories) | {"keywords": len(pool), "seconds": round(time.perf_counter() - started, 1)})
        except ValueError as error:
            raise DataError(f"cannot fit the codebook: {error}") from None
    return read_manifest(out, kind=KIND)["metrics"]


def _extra(pool: list[Keyword], spec: str) -> dict[str, str]:
    """The text files that go with a codebook: its keyword pool and its encoder."""
    return {"keywords.json": json.dumps([k.__dict__ for k in pool], ensure_ascii=False), "encoder.json": json.dumps({"spec": spec})}


@app.command("stats")
def stats(directory: Annotated[Path, typer.Argument(help="A codebook directory.")]) -> None:
    """The config and quality metrics stored with a codebook; ``codes`` puts ICR next to each
    position's most common value's share (a position near 1.0 carries no information)."""
    manifest = read_manifest(directory, kind=KIND)
    m = manifest["metrics"]
    codes = {"icr": m["icr"], "top_value_share": m.get("top_value_share")}
    typer.echo(json.dumps({"config": manifest["config"], "items": manifest["items"], "codes": codes, "metrics": m}, indent=2))


@app.command("compare")
def compare(directories: Annotated[list[Path], typer.Argument(help="Codebook directories, one table row each.")]) -> None:
    """Markdown table of CUR, ICR, collisions, purity and neighbour preservation across codebooks."""
    typer.echo(quality_table({str(d): read_manifest(d, kind=KIND) for d in directories}))


def quality_table(manifests: dict[str, dict]) -> str:  # type: ignore[type-arg]
    """One row per codebook: config, utilisation per depth, ICR (RQ only and full), largest collision, purity, neighbours."""
    header = ["codebook", "levels", "keywords", "balanced", "OPQ", "CUR@1", "CUR@2", "CUR@3", "CUR full", "ICR (RQ)", "ICR",
              "largest group", "top-value share (max position)", "purity leaf@1", "purity top@1", "neighbours@1", "fit s"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, manifest in manifests.items():
        config, m = manifest["config"], manifest["metrics"]
        cur = m["cur"]
        cells = [Path(name).name, "-".join(str(v) for v in config["levels"]), "yes" if m.get("keywords") else "no",
                 "yes" if config["balanced_last"] else "no", f"{config['opq_subcodes']}x{2 ** config['opq_bits']}" if config["opq_subcodes"] else "no",
                 *(f"{cur.get(f'cur@{d}', 0):.4f}" for d in (1, 2, 3)), f"{cur[f'cur@{len(cur)}']:.2e}", f"{m['icr_rq']:.4f}", f"{m['icr']:.4f}",
                 str(m["collisions"]["largest_group"]), _maybe(max(m["top_value_share"]) if "top_value_share" in m else None), _maybe(m["purity_leaf@1"]), _maybe(m["purity_top@1"]), f"{m['neighbours@1']:.4f}", str(m["seconds"])]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _maybe(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


@app.command("encode")
def encode(
    directory: Annotated[Path, typer.Argument(help="A codebook directory.")],
    text: Annotated[list[str], typer.Option("--text", help="Query or item text to code, repeatable.")],
) -> None:
    """Semantic ids of new texts (no refit), with the keywords matched in each and the items on that code."""
    spec = encoder_spec(directory)
    if spec is None:
        raise DataError("this codebook does not record its encoder (rebuild it)", path=directory)
    encoder = load_encoder(spec)
    coder = TextCoder.load(directory, lambda texts: encoder.encode(texts, "item"))
    for t, code in zip(text, coder.codes(text, encoder.encode(text, "query"))):
        typer.echo(json.dumps({"text": t, "code": code.tolist(), "keywords": coder.fuser.keywords(t), "items": coder.codebook.items_of(code)[:10]}, ensure_ascii=False))


def _levels(value: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(v) for v in value.split(","))
    except ValueError:
        sizes = ()
    if not sizes or min(sizes) < 1:
        raise DataError(f"--levels must be positive integers separated by commas, got {value!r}")
    return sizes


def _pool(dataset: Dataset) -> list[Keyword]:
    items = dataset.items
    attributes = [dict(a or []) for a in items["attributes"].to_pylist()]
    return mine_keywords(items["title"].to_pylist(), items["brand"].to_pylist(), items["category"].to_pylist(), attributes)


def _enhanced(catalog: EncodedCatalog, pool: list[Keyword], directory: Path) -> np.ndarray:
    """Item vectors fused with the vectors of the keywords matched in each item's text."""
    if not pool:
        return catalog.vectors
    console.print(f"matching {len(pool):,} keywords in {len(catalog.items):,} items")
    keyword_vectors = encode_cached(catalog.encoder, [k.text for k in pool], "item", directory / "embeddings")
    return KeywordFuser(pool, keyword_vectors).fused(catalog.items.texts, catalog.vectors)


def _quality(codebook: SemanticIdCodebook, vectors: np.ndarray, categories: list) -> dict:  # type: ignore[type-arg]
    codes = codebook.codes
    rq = len(codebook.config.levels)
    leaf = [c[-1] if c else None for c in categories]
    top = [c[0] if c else None for c in categories]
    return {
        "cur": metrics.code_utilisation(codes, codebook.config.code_sizes),
        "icr_rq": metrics.independent_coding_rate(codes[:, :rq]),
        "icr": metrics.independent_coding_rate(codes),
        "collisions": metrics.collisions(codes),
        "top_value_share": metrics.top_value_shares(codes),
        "purity_leaf@1": metrics.purity(codes, leaf, 1),
        "purity_leaf@2": metrics.purity(codes, leaf, 2),
        "purity_top@1": metrics.purity(codes, top, 1),
        "neighbours@1": metrics.neighbour_preservation(vectors, codes, 1),
        "neighbours@2": metrics.neighbour_preservation(vectors, codes, 2),
    }


def _encoder_spec(directory: Path, encoder: str) -> str:
    return str((directory / "dual-encoder").resolve()) if encoder == "dual" else encoder
