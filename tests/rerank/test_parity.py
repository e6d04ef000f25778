"""Every fast backend against the torch fp32 reference on the same inputs (the bm25s way).

fp32 backends must match to 1e-4 in probability; bf16 and int8 must keep the order
(Spearman >= 0.98 per query) and the same top 3.
"""

from __future__ import annotations

import numpy as np
import pytest

from crossrank import Reranker
from crossrank.hardware import has_bf16_matmul, is_installed
from tests.conftest import FIXTURE_QUERIES

pytest.importorskip("torch")
spearmanr = pytest.importorskip("scipy.stats").spearmanr

FAST_BACKENDS = [
    ("onnx", "fp32"),
    ("onnx", "int8"),
    ("openvino", "fp32"),
    ("openvino", "bf16"),
    ("openvino", "int8"),
    ("torch", "bf16"),
]


def _probabilities(reranker: Reranker, docs: list[str]) -> np.ndarray:
    return np.stack([reranker.predict([(q, d) for d in docs]) for q in FIXTURE_QUERIES])


@pytest.fixture(scope="module")
def docs(example_docs) -> list[str]:
    return [d["content"] for d in example_docs]


@pytest.fixture(scope="module")
def reference(docs) -> np.ndarray:
    return _probabilities(Reranker(backend="torch", device="cpu", precision="fp32"), docs)


@pytest.mark.parametrize(("backend", "precision"), FAST_BACKENDS, ids=lambda v: str(v))
def test_backend_matches_torch_fp32(backend: str, precision: str, docs, reference):
    if backend == "openvino" and not is_installed("openvino"):
        pytest.skip("openvino extra not installed")
    if precision == "bf16" and not has_bf16_matmul():
        pytest.skip("no native bf16 on this CPU")
    scores = _probabilities(Reranker(backend=backend, device="cpu", precision=precision), docs)
    if precision == "fp32":
        assert np.abs(scores - reference).max() <= 1e-4
        return
    for query_scores, reference_scores in zip(scores, reference):
        assert spearmanr(query_scores, reference_scores).statistic >= 0.98
        assert set(np.argsort(-query_scores)[:3]) == set(np.argsort(-reference_scores)[:3])
