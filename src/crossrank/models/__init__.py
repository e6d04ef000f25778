"""Shipped weights (the default reranker) and the offline pretrained bases crossrank trains from."""

from __future__ import annotations

from pathlib import Path

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "default"


def default_model_path() -> Path:
    """Folder of the reranker that ships inside the package."""
    return DEFAULT_MODEL_DIR
