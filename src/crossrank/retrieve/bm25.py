"""In-memory BM25 over a list of texts, backed by bm25s (Snowball stemming, English stopwords)."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from crossrank.errors import BackendUnavailableError


def _require_bm25s() -> tuple[object, object]:
    # Importing bm25s runs a JAX op when JAX is installed, and JAX then takes 75% of the GPU's memory up front:
    # a training run beside it ran out of CUDA memory on an H100. Ask JAX to allocate on demand unless the user
    # chose a policy.
    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    try:
        import bm25s
        import Stemmer
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise BackendUnavailableError(
            "BM25 needs the 'bm25s' and 'PyStemmer' packages: pip install 'crossrank[retrieve]'"
        ) from exc
    return bm25s, Stemmer


class BM25Index:
    """Okapi BM25 (Lucene variant) over texts; defaults k1=0.9, b=0.4 as Pyserini's BEIR runs."""

    def __init__(self, texts: Sequence[str], k1: float = 0.9, b: float = 0.4, show_progress: bool = False):
        bm25s, stemmer_module = _require_bm25s()
        self._bm25s = bm25s
        self._stemmer = stemmer_module.Stemmer("english")  # type: ignore[attr-defined]
        tokens = bm25s.tokenize(  # type: ignore[attr-defined]
            list(texts), stopwords="en", stemmer=self._stemmer, show_progress=show_progress
        )
        self._retriever = bm25s.BM25(k1=k1, b=b)  # type: ignore[attr-defined]
        self._retriever.index(tokens, show_progress=show_progress)
        self.size = len(texts)

    def search(self, queries: Sequence[str], top_k: int) -> tuple[np.ndarray, np.ndarray]:
        """Return (indices, scores), each of shape (len(queries), k), best first."""
        k = min(top_k, self.size)
        tokens = self._bm25s.tokenize(  # type: ignore[attr-defined]
            list(queries), stopwords="en", stemmer=self._stemmer, show_progress=False
        )
        indices, scores = self._retriever.retrieve(tokens, k=k, show_progress=False, n_threads=0)
        return np.asarray(indices), np.asarray(scores, dtype=np.float32)

    def scores(self, query: str, indices: Sequence[int]) -> np.ndarray:
        """BM25 score of `query` for each listed text."""
        tokens = self._bm25s.tokenize(  # type: ignore[attr-defined]
            [query], stopwords="en", stemmer=self._stemmer, show_progress=False, return_ids=False
        )
        if not tokens[0]:  # only stopwords: no term to match
            return np.zeros(len(indices), dtype=np.float32)
        every = self._retriever.get_scores(tokens[0])
        return np.asarray(every, dtype=np.float32)[list(indices)]
