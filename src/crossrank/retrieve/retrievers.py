"""Retrievers: anything with `async query(text, top_k, filter) -> list[Retrieved]` plugs into the pipeline.

Stores provide `vector_search` and `keyword_search`; the retrievers here turn a store into stage 1:
vector only, keyword (BM25) only, or both fused by reciprocal rank fusion.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from crossrank.errors import InvalidInputError
from crossrank.rerank.candidates import check_query
from crossrank.retrieve.documents import Document, Retrieved
from crossrank.retrieve.embedder import Embedder
from crossrank.retrieve.filters import Filter

RRF_K = 60  # the constant of Cormack et al. (2009), also the default of Elasticsearch, OpenSearch and Vespa
MODES = ("hybrid", "dense", "bm25")


@runtime_checkable
class Retriever(Protocol):
    """Stage 1: the best `top_k` documents for a query, best first, optionally filtered on metadata.

    A retriever may also name its kind in a `fusion_key` attribute (`bm25`, `dense`, `hybrid`): the pipeline
    then fuses with the reranker's weight for that kind of score.
    """

    async def query(self, text: str, top_k: int, filter: Filter | None = None) -> list[Retrieved]: ...


class SearchableStore(Protocol):
    """What a store offers the built-in retrievers."""

    @property
    def embedder(self) -> Embedder: ...

    def vector_search(self, vector: np.ndarray, top_k: int, filter: Filter | None = None) -> list[Retrieved]: ...

    def keyword_search(self, text: str, top_k: int, filter: Filter | None = None) -> list[Retrieved]: ...


class VectorRetriever:
    """Dense retrieval: embed the query, nearest stored vectors by cosine."""

    fusion_key = "dense"  # which of a model's per-retriever fusion weights applies to these scores

    def __init__(self, store: SearchableStore):
        self.store = store

    def search(self, text: str, top_k: int, filter: Filter | None = None) -> list[Retrieved]:
        return self.store.vector_search(self.store.embedder.embed_query(check_query(text)), top_k, filter)

    async def query(self, text: str, top_k: int, filter: Filter | None = None) -> list[Retrieved]:
        return await asyncio.to_thread(self.search, text, _check_top_k(top_k), filter)


class KeywordRetriever:
    """BM25 over title + content."""

    fusion_key = "bm25"

    def __init__(self, store: SearchableStore):
        self.store = store

    def search(self, text: str, top_k: int, filter: Filter | None = None) -> list[Retrieved]:
        return self.store.keyword_search(check_query(text), top_k, filter)

    async def query(self, text: str, top_k: int, filter: Filter | None = None) -> list[Retrieved]:
        return await asyncio.to_thread(self.search, text, _check_top_k(top_k), filter)


class HybridRetriever:
    """Several retrievers fused by weighted reciprocal rank fusion: score(d) = sum_r w_r / (k + rank_r(d)).

    Each retriever is asked for `depth` x top_k candidates (at least 100) so documents ranked moderately
    by both can surface; each result keeps every retriever's own score in `scores`.
    """

    fusion_key = "hybrid"

    def __init__(
        self,
        retrievers: Mapping[str, Retriever],
        weights: Mapping[str, float] | None = None,
        *,
        rrf_k: int = RRF_K,
        depth: int = 100,
    ):
        if not retrievers:
            raise InvalidInputError("HybridRetriever needs at least one retriever")
        self.retrievers = dict(retrievers)
        self.weights = {name: float((weights or {}).get(name, 1.0)) for name in self.retrievers}
        if any(w < 0 for w in self.weights.values()) or not any(self.weights.values()):
            raise InvalidInputError(f"fusion weights must be >= 0 and not all zero, got {self.weights}")
        self.rrf_k, self.depth = rrf_k, depth

    async def query(self, text: str, top_k: int, filter: Filter | None = None) -> list[Retrieved]:
        depth = max(self.depth, _check_top_k(top_k))
        names = [n for n in self.retrievers if self.weights[n] > 0]
        lists = await asyncio.gather(*(self.retrievers[n].query(text, depth, filter) for n in names))
        return reciprocal_rank_fusion(dict(zip(names, lists)), self.weights, self.rrf_k)[:top_k]


def reciprocal_rank_fusion(
    ranked: Mapping[str, Sequence[Retrieved]], weights: Mapping[str, float], rrf_k: int = RRF_K
) -> list[Retrieved]:
    """Fuse ranked lists by weighted RRF; ties are broken by the document's best single rank, then id."""
    fused: dict[str, float] = {}
    best_rank: dict[str, int] = {}
    scores: dict[str, dict[str, float]] = {}
    documents: dict[str, Document] = {}
    for name, results in ranked.items():
        for item in results:
            doc_id = item.document.id
            documents.setdefault(doc_id, item.document)
            fused[doc_id] = fused.get(doc_id, 0.0) + weights.get(name, 1.0) / (rrf_k + item.rank)
            best_rank[doc_id] = min(best_rank.get(doc_id, item.rank), item.rank)
            scores.setdefault(doc_id, {})[name] = item.score
    order = sorted(fused, key=lambda d: (-fused[d], best_rank[d], d))
    return [Retrieved(documents[d], fused[d], rank, scores[d]) for rank, d in enumerate(order, 1)]


def store_retriever(
    store: SearchableStore, mode: str = "hybrid", weights: Mapping[str, float] | None = None
) -> Retriever:
    """The built-in stage 1 over a store: `hybrid` (dense + BM25, reciprocal rank fusion), `dense` or `bm25`."""
    if mode == "dense":
        return VectorRetriever(store)
    if mode == "bm25":
        return KeywordRetriever(store)
    if mode == "hybrid":
        return HybridRetriever({"dense": VectorRetriever(store), "bm25": KeywordRetriever(store)}, weights)
    raise InvalidInputError(f"retrieval mode must be one of {', '.join(MODES)}, not {mode!r}")


def _check_top_k(top_k: object) -> int:
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
        raise InvalidInputError(f"top_k must be a positive integer, got {top_k!r}")
    return top_k
