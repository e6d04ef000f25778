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


@pytest.fixture(scope="session")
def embedder():
    from crossrank.retrieve.embedder import Embedder

    return Embedder(backend="onnx", device="cpu", precision="fp32")


@pytest.fixture()
def store(tmp_path, embedder, example_docs):
    """A fresh embedded store holding the 20 example documents, with some metadata."""
    from crossrank.retrieve.store import LanceStore

    created = LanceStore(tmp_path / "kb", embedder)
    documents = [
        {**doc, "created_at": f"2026-0{1 + i % 9}-15T10:30:00Z", "confidence": 0.5 + (i % 5) / 10}
        for i, doc in enumerate(example_docs)
    ]
    created.add(documents)
    return created
