"""A trained decoder on disk: ``model.safetensors`` + ``manifest.json`` (model and training config,
losses, the codebook and encoder it was trained with).

Contract: ``save_decoder`` writes atomically; ``load_decoder`` rebuilds the exact module from the
manifest's ``ModelConfig`` and checks the manifest kind. Weights are stored as float16 to stay
small and loaded back as float32.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from onesearch.artifacts import atomic_directory, read_manifest, write_manifest
from onesearch.model.transformer import CodeDecoder, ModelConfig

__all__ = ["KIND", "load_decoder", "save_decoder"]

KIND = "generative-decoder"


def save_decoder(model: CodeDecoder, out: Path, **extra: Any) -> None:
    """Weights + manifest into ``out`` (atomic)."""
    from safetensors.torch import save_file

    with atomic_directory(out) as tmp:
        save_file({k: v.detach().half().contiguous().cpu() for k, v in model.state_dict().items()}, str(tmp / "model.safetensors"))
        write_manifest(tmp, KIND, config={"model": asdict(model.config)}, inputs={}, **extra)


def load_decoder(directory: Path, device: str = "cpu") -> tuple[CodeDecoder, dict[str, Any]]:
    """The decoder saved in ``directory`` (eval mode) and its manifest."""
    from safetensors.torch import load_file

    manifest = read_manifest(directory, kind=KIND)
    raw = dict(manifest["config"]["model"])
    model = CodeDecoder(ModelConfig(**{**raw, "code_sizes": tuple(raw["code_sizes"])}))
    model.load_state_dict({k: v.float() for k, v in load_file(str(Path(directory) / "model.safetensors")).items()})
    return model.to(device).eval(), manifest
