"""Dense retrieval with a sentence-transformers bi-encoder (exact inner-product search)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np


class DenseIndex:
    """Normalised embeddings of a corpus; cosine top-k by matrix product."""

    def __init__(self, model_path: str | Path, texts: Sequence[str], batch_size: int = 64, show_progress: bool = False):
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(str(model_path), device="cpu")
        self._batch_size = batch_size
        self.embeddings = self.embed(texts, show_progress=show_progress)

    def embed(self, texts: Sequence[str], show_progress: bool = False) -> np.ndarray:
        """Unit-length float32 embeddings, one row per text."""
        vectors = self._model.encode(
            list(texts), batch_size=self._batch_size, normalize_embeddings=True, show_progress_bar=show_progress
        )
        return np.asarray(vectors, dtype=np.float32)

    def search(self, queries: Sequence[str], top_k: int) -> tuple[np.ndarray, np.ndarray]:
        """Return (indices, scores), each of shape (len(queries), k), best first."""
        scores = self.embed(queries) @ self.embeddings.T
        k = min(top_k, scores.shape[1])
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        top_scores = np.take_along_axis(scores, top, axis=1)
        order = np.argsort(-top_scores, axis=1, kind="stable")
        return np.take_along_axis(top, order, axis=1), np.take_along_axis(top_scores, order, axis=1)
