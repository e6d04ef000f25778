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
from crossrank.retrieve.documents import Document, Ranked, Retrieved
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
        self.weights = _fusion_weights(weights, tuple(self.retrievers))
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
    documents: dict[str, Document] = {}
    for results in ranked.values():
        for item in results:
            documents.setdefault(item.document.id, item.document)
    ids = {name: [(item.document.id, item.score) for item in results] for name, results in ranked.items()}
    return [
        Retrieved(documents[d], score, rank, per)
        for rank, (d, score, per) in enumerate(fuse_ids(ids, weights, rrf_k), 1)
    ]


def fuse_ids(
    ranked: Mapping[str, Sequence[tuple[str, float]]], weights: Mapping[str, float], rrf_k: int = RRF_K
) -> list[tuple[str, float, dict[str, float]]]:
    """Weighted RRF over ranked (id, score) lists: (id, fused score, each list's own score), best first."""
    fused: dict[str, float] = {}
    best_rank: dict[str, int] = {}
    scores: dict[str, dict[str, float]] = {}
    for name, results in ranked.items():
        for rank, (doc_id, score) in enumerate(results, 1):
            fused[doc_id] = fused.get(doc_id, 0.0) + weights.get(name, 1.0) / (rrf_k + rank)
            best_rank[doc_id] = min(best_rank.get(doc_id, rank), rank)
            scores.setdefault(doc_id, {})[name] = score
    order = sorted(fused, key=lambda d: (-fused[d], best_rank[d], d))
    return [(d, fused[d], scores[d]) for d in order]


class RankingStore(SearchableStore, Protocol):
    """A store that can rank ids without reading documents, and read only the ones kept (LanceStore)."""

    def vector_ranking(self, vector: np.ndarray, depth: int, filter: Filter | None = None) -> list[Ranked]: ...

    def keyword_ranking(self, text: str, depth: int, filter: Filter | None = None) -> list[Ranked]: ...

    def fetch(self, ranked: Sequence[Ranked]) -> list[Document]: ...


class StoreHybridRetriever:
    """Dense + BM25 over one store, fused by RRF on ids; only the kept `top_k` documents are read.

    Same ranking as `HybridRetriever` over the store's two retrievers, without reading 2 x depth documents.
    """

    fusion_key = "hybrid"

    def __init__(
        self, store: RankingStore, weights: Mapping[str, float] | None = None, *, rrf_k: int = RRF_K, depth: int = 100
    ):
        self.store = store
        self.weights = _fusion_weights(weights, ("dense", "bm25"))
        self.rrf_k, self.depth = rrf_k, depth

    async def query(self, text: str, top_k: int, filter: Filter | None = None) -> list[Retrieved]:
        check_query(text)
        depth = max(self.depth, _check_top_k(top_k))
        dense, keyword = await asyncio.gather(
            asyncio.to_thread(self._dense, text, depth, filter),
            asyncio.to_thread(self.store.keyword_ranking, text, depth, filter),
        )
        lists = {"dense": dense, "bm25": keyword}
        ranked = {name: [(r.doc_id, r.score) for r in lists[name]] for name in lists if self.weights[name] > 0}
        fused = fuse_ids(ranked, self.weights, self.rrf_k)[:top_k]
        row_ids = {r.doc_id: r.row_id for r in (*dense, *keyword)}
        documents = await asyncio.to_thread(self.store.fetch, [Ranked(d, row_ids[d], s) for d, s, _ in fused])
        return [
            Retrieved(doc, score, rank, per) for rank, (doc, (_, score, per)) in enumerate(zip(documents, fused), 1)
        ]

    def _dense(self, text: str, depth: int, filter: Filter | None) -> list[Ranked]:
        if self.weights["dense"] == 0:
            return []
        return self.store.vector_ranking(self.store.embedder.embed_query(text), depth, filter)


def store_retriever(
    store: SearchableStore, mode: str = "hybrid", weights: Mapping[str, float] | None = None
) -> Retriever:
    """The built-in stage 1 over a store: `hybrid` (dense + BM25, reciprocal rank fusion), `dense` or `bm25`."""
    if mode == "dense":
        return VectorRetriever(store)
    if mode == "bm25":
        return KeywordRetriever(store)
    if mode == "hybrid":
        if all(hasattr(store, name) for name in ("vector_ranking", "keyword_ranking", "fetch")):
            return StoreHybridRetriever(store, weights)  # type: ignore[arg-type]
        return HybridRetriever({"dense": VectorRetriever(store), "bm25": KeywordRetriever(store)}, weights)
    raise InvalidInputError(f"retrieval mode must be one of {', '.join(MODES)}, not {mode!r}")


def _fusion_weights(weights: Mapping[str, float] | None, names: tuple[str, ...]) -> dict[str, float]:
    """One weight per fused retriever (1.0 where not given); names must exist, weights >= 0, not all 0."""
    unknown = set(weights or {}) - set(names)
    if unknown:
        raise InvalidInputError(f"fusion weights for unknown retrievers {sorted(unknown)}; known: {list(names)}")
    chosen = {name: float((weights or {}).get(name, 1.0)) for name in names}
    if any(w < 0 for w in chosen.values()) or not any(chosen.values()):
        raise InvalidInputError(f"fusion weights must be >= 0 and not all zero, got {chosen}")
    return chosen


def _check_top_k(top_k: object) -> int:
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
        raise InvalidInputError(f"top_k must be a positive integer, got {top_k!r}")
    return top_k
