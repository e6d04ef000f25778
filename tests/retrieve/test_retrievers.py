"""Stage-1 retrievers over the embedded store, and reciprocal rank fusion."""

from __future__ import annotations

import pytest

from crossrank.errors import InvalidInputError
from crossrank.retrieve.documents import Document, Retrieved
from crossrank.retrieve.retrievers import Retriever, reciprocal_rank_fusion, store_retriever


def _ranked(*ids: str) -> list[Retrieved]:
    return [Retrieved(Document(i, i), 1.0 / rank, rank) for rank, i in enumerate(ids, 1)]


def test_rrf_formula_and_scores_kept():
    fused = reciprocal_rank_fusion({"a": _ranked("x", "y"), "b": _ranked("y", "z")}, {"a": 1.0, "b": 2.0}, rrf_k=60)
    assert [r.document.id for r in fused] == ["y", "z", "x"]
    assert fused[0].score == pytest.approx(1 / 62 + 2 / 61)
    assert fused[0].scores == {"a": 0.5, "b": 1.0}
    assert [r.rank for r in fused] == [1, 2, 3]


def test_rrf_ties_break_by_best_rank_then_id():
    fused = reciprocal_rank_fusion({"a": _ranked("p", "q"), "b": _ranked("q", "p")}, {})
    assert [r.document.id for r in fused] == ["p", "q"]


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
async def test_each_mode_finds_the_obvious_document(store, mode):
    retriever = store_retriever(store, mode)
    assert isinstance(retriever, Retriever)
    results = await retriever.query("feeding a sourdough starter", 5)
    assert results[0].document.id == "sourdough"
    assert 1 <= len(results) <= 5


async def test_hybrid_keeps_each_retrievers_score(store):
    results = await store_retriever(store, "hybrid").query("JWT exp claim expiry", 3)
    assert set(results[0].scores) == {"dense", "bm25"}


async def test_hybrid_filter_applies_to_both(store):
    results = await store_retriever(store, "hybrid").query("token", 10, {"source": "nowhere"})
    assert results == []


async def test_bad_arguments(store):
    with pytest.raises(InvalidInputError, match="retrieval mode"):
        store_retriever(store, "semantic")
    with pytest.raises(InvalidInputError, match="top_k"):
        await store_retriever(store, "dense").query("x", 0)
    with pytest.raises(InvalidInputError, match="query"):
        await store_retriever(store, "bm25").query("", 3)
    with pytest.raises(InvalidInputError, match="weights"):
        store_retriever(store, "hybrid", {"dense": 0.0, "bm25": 0.0})


@pytest.mark.parametrize("weights", [None, {"dense": 2.0, "bm25": 0.5}, {"dense": 0.0}])
async def test_store_hybrid_equals_generic_hybrid(store, weights):
    from crossrank.retrieve.retrievers import HybridRetriever, KeywordRetriever, StoreHybridRetriever, VectorRetriever

    fast = store_retriever(store, "hybrid", weights)
    assert isinstance(fast, StoreHybridRetriever)
    generic = HybridRetriever({"dense": VectorRetriever(store), "bm25": KeywordRetriever(store)}, weights)
    query = "why are tokens rejected after they expire"
    expected = await generic.query(query, 8, {"confidence": {"gte": 0.6}})
    found = await fast.query(query, 8, {"confidence": {"gte": 0.6}})
    assert [r.document for r in found] == [r.document for r in expected]
    assert [r.score for r in found] == pytest.approx([r.score for r in expected])
    assert [dict(r.scores) for r in found] == [dict(r.scores) for r in expected]


def test_unknown_fusion_weight_is_named(store):
    with pytest.raises(InvalidInputError, match="unknown retrievers \\['vector'\\]"):
        store_retriever(store, "hybrid", {"vector": 1.0})
