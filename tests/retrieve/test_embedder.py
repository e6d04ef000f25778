"""The embedder: same vectors as sentence-transformers on every backend, unit length, clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from crossrank.errors import InvalidInputError
from crossrank.models.bases import base_model_path
from crossrank.retrieve.embedder import Embedder

TEXTS = [
    "JWT access tokens expire after fifteen minutes.",
    "A sourdough starter needs regular feedings of flour and water to stay alive. " * 12,
    "vacuum",
]


@pytest.fixture(scope="module")
def reference() -> np.ndarray:
    sentence_transformers = pytest.importorskip("sentence_transformers")
    model = sentence_transformers.SentenceTransformer(str(base_model_path("all-MiniLM-L6-v2")), device="cpu")
    return np.asarray(model.encode(TEXTS, normalize_embeddings=True))


@pytest.mark.parametrize(
    ("backend", "precision", "min_cosine"),
    [
        ("torch", "fp32", 0.9999),
        ("onnx", "fp32", 0.9999),
        ("openvino", "fp32", 0.9999),
        ("openvino", "bf16", 0.99),
        ("onnx", "int8", 0.98),
    ],
)
def test_backends_match_sentence_transformers(backend, precision, min_cosine, reference):
    if backend == "openvino":
        pytest.importorskip("openvino")
    vectors = Embedder(backend=backend, device="cpu", precision=precision).embed(TEXTS)
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert (vectors * reference).sum(axis=1).min() >= min_cosine


def test_similar_texts_are_closer(embedder):
    query = embedder.embed_query("when does a JSON web token stop being valid")
    vectors = embedder.embed(TEXTS)
    assert int(np.argmax(vectors @ query)) == 0


def test_batches_do_not_change_vectors(embedder):
    together = embedder.embed(TEXTS)
    alone = np.stack([embedder.embed([t])[0] for t in TEXTS])
    assert np.allclose(together, alone, atol=1e-5)


def test_bad_input(embedder):
    with pytest.raises(InvalidInputError, match="list of texts"):
        embedder.embed("one string")
    with pytest.raises(InvalidInputError, match="text 1"):
        embedder.embed(["ok", 3])
    with pytest.raises(InvalidInputError, match="non-empty"):
        embedder.embed_query("  ")
    assert embedder.embed([]).shape[0] == 0
