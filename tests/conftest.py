"""Shared fixtures: the shipped default model, and a small fixture set of real queries and documents."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests never reach the network

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_DOCS = REPO / "examples" / "docs.jsonl"

FIXTURE_QUERIES = [
    "how do JWT tokens expire",
    "keep a sourdough starter alive",
    "why do threads not speed up CPU-bound Python code",
    "how does a cross-encoder rank documents",
    "reclaim space from deleted rows in postgres",
]


@pytest.fixture(scope="session")
def example_docs() -> list[dict[str, str]]:
    return [json.loads(line) for line in EXAMPLE_DOCS.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="session")
def reranker():
    from crossrank import Reranker

    return Reranker(backend="onnx", device="cpu", precision="fp32")
