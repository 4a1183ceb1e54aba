"""``onesearch train``: the generative searcher of a task.

It trains the anchored, planned model and builds whatever it lacks first — the cascade's
fine-tuned encoder and item vectors (shared cache), a codebook sized to the catalog — all keyed
by the data they come from. ``--set KEY=VALUE`` overrides one field of ``AnchoredRecipe``.

Data parallel: ``--workers N`` spawns N local training processes (torch DDP over gloo); on
several machines, ``torchrun`` starts one ``onesearch train`` per process and the ranks find
each other through its environment (gloo: the anchored trainer steps on the CPU). Rank 0 builds the prerequisites, logs,
checkpoints every epoch and writes the model; ``--resume`` continues an interrupted run.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from onesearch.artifacts import write_text_atomic
from onesearch.cascade.build import Advance, BuildSettings, build_cascade, cascade_directory, encode_catalog, has_query_logs, has_users
from onesearch.cascade.searchers import make_searcher
from onesearch.catalog import registry
from onesearch.catalog.schema import Dataset
from onesearch.cli.data import DataOption, SourceOption, data_root
from onesearch.cli.index import build_codebook
from onesearch.embedding.cache import encode_cached
from onesearch.embedding.static import StaticConfig, anchor_vectors, distil_static, distillation_texts
from onesearch.semantic_ids.codebook import CodebookConfig
from onesearch.errors import DataError
from onesearch.generative.recipe import NEXT_ITEM, AnchoredRecipe
from onesearch.training.anchored import train_anchored
from onesearch.training.distributed import World, launch
from onesearch.reward.build import build_reward
from onesearch.training.examples import TEACHER_DEPTH, Rewarder, Teacher
from onesearch.types import SearchRequest

__all__ = ["default_model", "ensure_codebook", "ensure_model", "ensure_static_encoder", "shipped_encoder", "task_recipe", "train_command", "train_planned"]

console = Console(stderr=True)
TEACHER_BATCH = 256  # pseudo-queries the cascade teacher ranks per call
Log = Callable[[str], None]


def train_command(
    task: Annotated[str, typer.Option("--task", help="Data set whose train split teaches.")],
    out: Annotated[Path | None, typer.Option("--out", help="Model directory (replaced atomically); default: the task's cached default model.")] = None,
    index: Annotated[str | None, typer.Option("--index", help="Codebook directory (default: one sized to the catalog, built if missing).")] = None,
    encoder: Annotated[str | None, typer.Option("--encoder", help="Text encoder (default: the task's fine-tuned dual encoder).")] = None,
    setting: Annotated[list[str] | None, typer.Option("--set", help="Override one recipe key: KEY=VALUE (TOML value), e.g. epochs=4 or lexical_plan=false; repeatable.")] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Data-parallel training processes on this machine (torch DDP over gloo); under torchrun leave it at 1.")] = 1,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from OUT.checkpoint.pt (the last finished epoch of an interrupted run).")] = False,
    cache: Annotated[Path, typer.Option("--cache", help="Shared with eval/index: the cascade's encoder, vectors and codebooks.")] = Path("runs/cache"),
    data: DataOption = None,
    source: SourceOption = None,
) -> None:
    """Train the generative searcher: the anchored, planned model of a task."""
    AnchoredRecipe.from_settings(setting or [])  # a bad setting stops here, before any data is read
    job = _Job(task, data_root(data), source, cache, out, tuple(setting or ()), Path(index) if index else None, encoder, resume)
    world = World.from_env()
    if world.size > 1 and workers > 1:
        raise typer.BadParameter("--workers launches its own processes: under torchrun leave it out")
    summaries = launch(_train_rank, workers, job) if world.size == 1 else [_train_rank(world, job)]
    if world.main:
        typer.echo(json.dumps(summaries[0]))


@dataclass(frozen=True)
class _Job:
    """One anchored training job, as every data-parallel rank rebuilds it."""

    task: str
    root: Path
    source: Path | None
    cache: Path
    out: Path | None
    settings: tuple[str, ...]
    index: Path | None
    encoder: str | None
    resume: bool

    def dataset(self) -> Dataset:
        return registry.load(self.task, self.root, source=self.source)

    def model(self, dataset: Dataset) -> Path:
        return self.out or default_model(self.cache, self.task, dataset.training_fingerprint(), task_recipe(self.settings, dataset), self.encoder)


def _train_rank(world: World, job: _Job) -> dict:  # type: ignore[type-arg]
    """Train ``job`` as rank ``world.rank``: rank 0 builds what is missing (encoder, vectors,
    codebook) while the others wait, then every rank trains its shard."""
    dataset = job.dataset()
    directory = cascade_directory(job.cache, job.task, dataset.training_fingerprint())
    log = console.print if world.main else (lambda _: None)
    if job.encoder is None:
        job = replace(job, encoder=shipped_encoder(dataset, job.task, log))
    index = job.index
    if world.main:
        index = index or ensure_codebook(dataset, directory, job.encoder, log)
    world.barrier()
    index = index or ensure_codebook(dataset, directory, job.encoder, log)
    out = job.model(dataset)
    return {"model": str(out), **train_planned(dataset, directory, out, task_recipe(job.settings, dataset), index, job.encoder, log, world=world, resume=job.resume)}


def shipped_encoder(dataset: Dataset, task: str, log: Log) -> str | None:
    """The shipped encoder that stands in for the fine-tuned dual encoder on a task without train
    queries (there is nothing to fine-tune it on; one line says so), None on a task with them."""
    if has_query_logs(dataset):
        return None
    log(f"{task} has no train queries to fine-tune the dual encoder on: using the shipped minilm encoder")
    return "minilm"


def task_recipe(settings: Sequence[str], dataset: Dataset) -> AnchoredRecipe:
    """The recipe of ``settings`` (``--set`` overrides) as it applies to ``dataset``. A task
    without train queries (next-item tasks) starts from ``NEXT_ITEM``'s settings, which the
    overrides may change; it gives a static query encoder nothing to learn and its requests nothing
    to encode, so its recipe keeps the full encoder (and so the models trained before the switch).
    A task whose train examples name no user has no co-buyers: ``co_buy`` is off there (so the
    switch leaves its models and their names as they were)."""
    if has_query_logs(dataset):
        recipe = AnchoredRecipe.from_settings(settings)
    else:
        recipe = replace(AnchoredRecipe.from_settings([*NEXT_ITEM, *settings]), query_encoder="full")
    return recipe if has_users(dataset) else replace(recipe, co_buy=False)


def default_model(cache: Path, task: str, fingerprint: str, recipe: AnchoredRecipe, encoder: str | None = None) -> Path:
    """Where the task's default model trained with ``recipe`` lives (keyed by data, recipe and
    encoder: None is the task's fine-tuned dual encoder)."""
    return cascade_directory(cache, task, fingerprint) / f"generative-{_encoder_key(encoder)}-{recipe.fingerprint()}"


def train_planned(dataset: Dataset, directory: Path, out: Path, recipe: AnchoredRecipe, index: Path | None = None, encoder: str | None = None, log: Log = print,
                  advance: Advance | None = None, world: World = World(), resume: bool = False) -> dict:  # type: ignore[type-arg]
    """Build what the anchored model needs under the cascade folder ``directory`` (encoder,
    vectors, a catalog-sized codebook) unless given, then train it into ``out`` as rank
    ``world.rank`` (``resume``: from its checkpoint); ``advance`` hears the training batches.
    With ``distill`` in the recipe the task's cascade (built if missing) is the teacher. With
    ``preference`` the supervised model (the recipe without its preference stage) is trained
    first, or reused from the cache, and the task's reward model ranks the stage's lists."""
    index = index or ensure_codebook(dataset, directory, encoder, log)
    spec = encoder or str((directory / "dual-encoder").resolve())
    teacher = cascade_teacher(dataset, directory, encoder, log) if recipe.distill else None
    start, rewarder = None, None
    if recipe.preference:
        start = directory / f"generative-{_encoder_key(encoder)}-{recipe.supervised().fingerprint()}"
        if not (start / "manifest.json").is_file():
            log(f"preference stage: training its supervised model first ({start})")
            train_planned(dataset, directory, start, recipe.supervised(), index, encoder, log, advance)
        rewarder = reward_ranker(dataset, directory, encoder, log)
    static = StaticConfig(find_weight=recipe.static_find_weight)
    query_encoder = str(ensure_static_encoder(dataset, directory, encoder, log, static)) if recipe.query_encoder == "static" else None
    return train_anchored(dataset, index, spec, directory / "embeddings", out, recipe, log, advance, world, resume, teacher, rewarder, start, query_encoder)


def ensure_static_encoder(dataset: Dataset, directory: Path, encoder: str | None = None, log: Log = print, config: StaticConfig = StaticConfig()) -> Path:
    """The static query encoder distilled from ``encoder`` (None: the fine-tuned dual encoder of
    the cascade folder ``directory``) on the task's train queries and item titles
    (``embedding.static``), distilled now unless cached under ``directory``."""
    teacher = encoder or str((directory / "dual-encoder").resolve())
    out = directory / f"static-{_encoder_key(encoder)}-{hashlib.sha256(json.dumps(asdict(config)).encode()).hexdigest()[:10]}"
    if not (out / "manifest.json").is_file():
        catalog = encode_catalog(dataset, directory, BuildSettings(encoder=encoder or "dual"), log=log)
        if not hasattr(getattr(catalog.encoder, "model", None), "tokenizer"):
            raise DataError(f"a static query encoder is distilled from a sentence-transformers encoder (minilm or the fine-tuned dual), not {teacher}: "
                            "pass --set query_encoder=\"full\"")
        row = catalog.items.row_of
        queries = [(e.query, {row[t.item_id]: t.gain for t in e.targets if t.relevant and t.item_id in row}) for e in catalog.train if e.query]
        titles = [str(t) for t in dataset.items["title"].to_pylist()]  # catalog row order
        finds = distillation_texts(queries, titles, config)
        log(f"distilling a static query encoder from {teacher} on {len(finds):,} texts")
        summary = distil_static(list(finds), catalog.encoder, teacher, out, config, lambda batch: encode_cached(catalog.encoder, batch, "query", directory / "embeddings"),
                                log, titles, anchor_vectors(list(finds.values()), catalog.vectors))
        log(f"static query encoder {out}: held-out cosine to the teacher {summary['held_out_cosine']:.3f}")
    return out


def reward_ranker(dataset: Dataset, directory: Path, encoder: str | None = None, log: Log = print) -> Rewarder:
    """The task's reward model (built if missing) as the preference stage's ranker: requests ->
    each one's (item id, calibrated reward), best first, over the cascade's pre-rank top."""
    reward = build_reward(dataset, build_cascade(dataset, directory, BuildSettings(encoder=encoder or "dual"), log), directory, log=log)
    ids = reward.cascade.items.ids

    def rank(requests: list[SearchRequest]) -> list[list[tuple[str, float]]]:
        key = hashlib.sha256(json.dumps([[r.query, [e.item_id for e in r.user.history]] for r in requests]).encode()).hexdigest()[:16]
        cached = reward.directory / f"lists-{key}.json"
        if cached.is_file():
            log(f"reward lists reused from {cached}")
            return [[(item, reward) for item, reward in row] for row in json.loads(cached.read_text(encoding="utf-8"))]
        scored = reward.score(requests)
        ranked = [[(ids[r], float(v)) for r, v in zip(s.rows[: reward.depth], s.rewards[: reward.depth])] for s in scored]
        write_text_atomic(cached, json.dumps(ranked))
        return ranked

    return rank


def cascade_teacher(dataset: Dataset, directory: Path, encoder: str | None = None, log: Log = print) -> Teacher:
    """The cascade of the folder ``directory`` as a distillation teacher: query texts -> each
    one's top ``TEACHER_DEPTH`` item ids (anonymous requests, in batches)."""
    searcher = make_searcher("cascade", build_cascade(dataset, directory, BuildSettings(encoder=encoder or "dual"), log))

    def teacher(queries: list[str]) -> list[list[str]]:
        ranked = []
        for start in range(0, len(queries), TEACHER_BATCH):
            hits = searcher.search([SearchRequest(q) for q in queries[start : start + TEACHER_BATCH]], TEACHER_DEPTH)
            ranked += [[hit.item_id for hit in row] for row in hits]
        return ranked

    return teacher


def ensure_codebook(dataset: Dataset, directory: Path, encoder: str | None = None, log: Log = print) -> Path:
    """The catalog-sized codebook of the cascade folder ``directory`` (``encoder`` None: the
    fine-tuned dual encoder), coded now unless cached."""
    catalog = encode_catalog(dataset, directory, BuildSettings(encoder=encoder or "dual"), log=log)
    config = CodebookConfig.for_catalog(len(catalog.items))
    index = directory / f"codebook-{'-'.join(map(str, config.levels))}-opq{config.opq_subcodes}-{_encoder_key(encoder)}"
    if not (index / "manifest.json").is_file():
        log(f"coding {len(catalog.items):,} items with levels {config.levels} + {config.opq_subcodes} OPQ sub-codes")
        build_codebook(dataset, directory, index, config, True, encoder or "dual")
    return index


def ensure_model(dataset: Dataset, task: str, fingerprint: str, cache: Path, settings: Sequence[str], encoder: str = "dual", log: Log = print,
                 advance: Advance | None = None) -> Path:
    """The task's default anchored model for ``settings`` (and a shipped ``encoder`` instead of
    the fine-tuned one, if named), trained now unless cached."""
    recipe = task_recipe(settings, dataset)
    shipped = None if encoder == "dual" else encoder
    out = default_model(cache, task, fingerprint, recipe, shipped)
    if not (out / "manifest.json").is_file():
        train_planned(dataset, cascade_directory(cache, task, fingerprint), out, recipe, encoder=shipped, log=log, advance=advance)
    return out


def _encoder_key(encoder: str | None) -> str:
    return "dual" if encoder is None else Path(encoder).name
