"""The Reranker facade: load a cross-encoder once, score pairs, rerank candidate lists."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from crossrank.errors import InvalidInputError
from crossrank.rerank.backends import choose_runtime, create_backend
from crossrank.rerank.batching import DEFAULT_TOKEN_BUDGET, length_sorted_batches
from crossrank.rerank.candidates import (
    Candidate,
    candidate_texts,
    check_document,
    check_query,
    first_stage_values,
)
from crossrank.rerank.chunking import best_chunks, split_documents
from crossrank.rerank.encoding import DEFAULT_QUERY_TOKENS, EncodedPair, PairEncoder
from crossrank.rerank.fusion import fuse_scores
from crossrank.rerank.model_source import resolve_model
from crossrank.rerank.results import RerankResult
from crossrank.rerank.scores import Calibration, relevance_logits


class Reranker:
    """A cross-encoder that scores (query, document) pairs.

    >>> rr = Reranker()                         # the model shipped in the package, fastest backend here
    >>> 0.0 <= rr.score("what is bm25", "BM25 is a ranking function used by search engines.") <= 1.0
    True
    """

    calibration = Calibration()  # the identity; a model's crossrank.json may carry its own (set in __init__)

    def __new__(cls, model: str | Path | None = None, *args: Any, **kwargs: Any) -> Reranker:
        """`Reranker("cohere:rerank-v3.5")` and other `provider:model` specs give a `HostedReranker`."""
        if cls is Reranker:
            from crossrank.rerank.hosted.providers import parse_spec

            if parse_spec(model) is not None:
                from crossrank.rerank.hosted.reranker import HostedReranker

                return super().__new__(HostedReranker)
        return super().__new__(cls)

    def __init__(
        self,
        model: str | Path | None = None,
        *,
        backend: str = "auto",
        device: str = "auto",
        precision: str = "auto",
        max_length: int | None = None,
        max_query_tokens: int | None = None,
        token_budget: int = DEFAULT_TOKEN_BUDGET,
        threads: int | None = None,
        revision: str | None = None,
    ):
        """Load `model`: None for the shipped default, a local folder, or a Hugging Face id."""
        self.device, self.backend_name, self.precision = choose_runtime(backend, device, precision)
        self.files = resolve_model(model, self.backend_name, revision)
        self.max_length = min(max_length or self.files.max_length, self.files.max_length)
        query_cap = max_query_tokens or int(self.files.settings.get("max_query_tokens", DEFAULT_QUERY_TOKENS))
        self.encoder = PairEncoder.from_file(self.files.tokenizer_file, self.max_length, query_cap)
        self.token_budget = token_budget
        self._backend = create_backend(self.files, self.backend_name, self.device, self.precision, threads)
        self.calibration = Calibration.from_settings(self.files.settings)

    @property
    def model_name(self) -> str:
        return self.files.name

    @property
    def fusion_weight(self) -> float:
        """Model weight used when first-stage scores are fused (the model's own, else 0.5)."""
        return float(self.files.settings.get("fusion_weight", 0.5))

    def fusion_weight_for(self, first_stage: str | None) -> float:
        """The model's weight for fusing with a named first stage (`bm25`, `dense`, `hybrid`), else the general one.

        A model may carry one weight per stage-1 retriever in its crossrank.json (`fusion_weights`),
        chosen on held-out data: scores of different retrievers need different weights.
        """
        per_stage = self.files.settings.get("fusion_weights", {})
        return float(per_stage.get(first_stage, self.fusion_weight)) if first_stage else self.fusion_weight

    def __repr__(self) -> str:
        return (
            f"Reranker(model={self.model_name!r}, backend={self.backend_name!r}, device={self.device!r}, "
            f"precision={self.precision!r}, max_length={self.max_length})"
        )

    # -- scoring -------------------------------------------------------------------------------

    def predict(self, pairs: Sequence[tuple[str, str]], *, raw: bool = False) -> np.ndarray:
        """Scores of (query, document) pairs in their order: probabilities, or log-odds with raw=True."""
        if not isinstance(pairs, Sequence) or isinstance(pairs, str):
            raise InvalidInputError("pairs must be a list of (query, document) tuples")
        for index, pair in enumerate(pairs):
            if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
                raise InvalidInputError(f"pair {index} is not a (query, document) tuple")
            check_query(pair[0])
            check_document(index, pair[1])
        return self._finish(self._score_pairs([p[0] for p in pairs], [p[1] for p in pairs]), raw)

    def score(self, query: str, document: str, *, raw: bool = False) -> float:
        """Relevance of one document to a query: a probability in [0, 1] (or a log-odds with raw=True)."""
        return float(self.predict([(query, document)], raw=raw)[0])

    def rerank(
        self,
        query: str,
        candidates: Sequence[Candidate],
        *,
        top_k: int | None = None,
        text_key: str = "content",
        raw: bool = False,
        first_stage_scores: Sequence[float] | None = None,
        first_stage_key: str | None = None,
        fusion_weight: float | None = None,
        max_tokens_per_doc: int | None = None,
    ) -> list[RerankResult]:
        """Score every candidate against the query and return them best first.

        With `max_tokens_per_doc`, each document is cut into windows of that many tokens, every window is
        scored, and the best one counts (Cohere's behaviour); `r.chunk` is its (start, end) character span.

        Candidates are strings or mappings holding their text under `text_key`; they are never modified.
        With first-stage scores (a list, or each candidate's `first_stage_key` field), the ranking uses
        the fused score `w * minmax(model) + (1 - w) * minmax(first_stage)` with w = `fusion_weight`
        (default: the model's own, chosen on held-out training data). Ties keep the input order.
        """
        check_query(query)
        texts = candidate_texts(candidates, text_key)
        if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 0):
            raise InvalidInputError(f"top_k must be a non-negative integer, got {top_k!r}")
        first_stage = first_stage_values(candidates, first_stage_scores, first_stage_key)
        if not texts:
            return []
        chunks: list[tuple[int, int] | None] = [None] * len(texts)
        if max_tokens_per_doc is not None:
            logits, truncated, chunks = self._score_chunked(query, texts, max_tokens_per_doc)
        else:
            logits, truncated = self._score_texts(query, texts)
        model_scores = self._finish(logits, raw)
        final = model_scores
        if first_stage is not None:
            weight = self.fusion_weight if fusion_weight is None else fusion_weight
            if not 0.0 <= weight <= 1.0:
                raise InvalidInputError(f"fusion_weight must be in [0, 1], got {weight}")
            final = fuse_scores(logits, first_stage, weight)
        order = np.argsort(-np.asarray(final, dtype=np.float64), kind="stable")
        if top_k is not None:
            order = order[:top_k]
        return [
            RerankResult(
                index=int(i),
                score=float(final[i]),
                model_score=float(model_scores[i]),
                text=texts[i],
                document=candidates[i],
                truncated=truncated[i],
                chunk=chunks[i],
                first_stage_score=None if first_stage is None else first_stage[i],
                model_logit=float(logits[i]),
            )
            for i in order
        ]

    def rank(
        self, query: str, documents: Sequence[str], *, top_k: int | None = None, return_documents: bool = False
    ) -> list[dict[str, Any]]:
        """sentence-transformers' `CrossEncoder.rank` shape: dicts with corpus_id, score (and text), best first."""
        ranked = self.rerank(query, documents, top_k=top_k)
        if return_documents:
            return [{"corpus_id": r.index, "score": r.score, "text": r.text} for r in ranked]
        return [{"corpus_id": r.index, "score": r.score} for r in ranked]

    async def arerank(self, query: str, candidates: Sequence[Candidate], **options: Any) -> list[RerankResult]:
        """rerank() in a worker thread, so the event loop keeps serving while the model runs."""
        return await asyncio.to_thread(self.rerank, query, candidates, **options)

    async def apredict(self, pairs: Sequence[tuple[str, str]], *, raw: bool = False) -> np.ndarray:
        """predict() in a worker thread."""
        return await asyncio.to_thread(self.predict, pairs, raw=raw)

    # -- internals -----------------------------------------------------------------------------

    def _score_texts(self, query: str, texts: list[str]) -> tuple[np.ndarray, list[bool]]:
        """Log-odds of each text against one query, and whether each text was cut to fit the model."""
        encoded = self.encoder.encode(query, texts)
        return self._logits(encoded), [pair.doc_truncated for pair in encoded]

    def _score_chunked(
        self, query: str, texts: list[str], max_tokens: int
    ) -> tuple[np.ndarray, list[bool], list[tuple[int, int] | None]]:
        pieces, owners, spans = split_documents(self.encoder.tokenizer, texts, max_tokens)
        logits, truncated = self._score_texts(query, pieces)
        best, best_span = best_chunks(logits, owners, spans, len(texts))
        cut = [False] * len(texts)
        for owner, was_cut in zip(owners, truncated):
            cut[owner] = cut[owner] or was_cut
        return best, cut, list(best_span)

    def _score_pairs(self, queries: list[str], documents: list[str]) -> np.ndarray:
        """Log-odds of (query, document) pairs, in order."""
        return self._logits(self.encoder.encode_pairs(queries, documents))

    def _logits(self, encoded: Sequence[EncodedPair]) -> np.ndarray:
        """One log-odds per pair, in the caller's order; pairs run in length-sorted micro-batches."""
        out = np.empty(len(encoded), dtype=np.float32)
        for batch in length_sorted_batches(encoded, self.token_budget, self.encoder.pad_id):
            out[batch.positions] = relevance_logits(self._backend.logits(batch))
        return out

    def _finish(self, logits: np.ndarray, raw: bool) -> np.ndarray:
        return logits.copy() if raw else self.calibration.probability(logits)
