"""Stage 3 on real inference: neutrality, versions, explanations, and the durable access log."""

from __future__ import annotations

import asyncio

import pytest

from crossrank.pipeline import Pipeline
from crossrank.retrieve.retrievers import store_retriever
from crossrank.retrieve.store import LanceStore
from crossrank.score.scorer import FACTORS, CognitiveScorer
from crossrank.score.weights import ScoringWeights
from tests.conftest import FIXTURE_QUERIES


@pytest.fixture()
def plain_store(tmp_path, embedder, example_docs):
    """The example documents with no temporal, relational or confidence metadata."""
    store = LanceStore(tmp_path / "plain", embedder)
    store.add([{"id": d["id"], "content": d["content"]} for d in example_docs])
    return store


@pytest.mark.parametrize("query", FIXTURE_QUERIES)
async def test_no_metadata_and_no_retrieval_weight_gives_the_cross_encoder_order(plain_store, reranker, query):
    scorer = CognitiveScorer(plain_store, ScoringWeights(retrieval=0.0))
    pipe = Pipeline(store_retriever(plain_store, "hybrid"), reranker, stage3=scorer, record_accesses=False)
    response = await pipe.search(query, final_k=20, candidates_k=20)
    by_model = sorted(response.hits, key=lambda h: -h.rerank_score)
    assert [h.id for h in response.hits] == [h.id for h in by_model]
    assert all(h.factors["recency"]["contribution"] == 0.0 for h in response.hits)


@pytest.mark.parametrize("query", FIXTURE_QUERIES)
async def test_no_metadata_keeps_stage_two_order_with_default_weights(plain_store, reranker, query):
    plain = Pipeline(store_retriever(plain_store, "hybrid"), reranker, record_accesses=False)
    scored = Pipeline(
        store_retriever(plain_store, "hybrid"), reranker, stage3=CognitiveScorer(plain_store), record_accesses=False
    )
    expected = await plain.search(query, final_k=10, candidates_k=20)
    found = await scored.search(query, final_k=10, candidates_k=20)
    assert [h.id for h in found.hits] == [h.id for h in expected.hits]


@pytest.fixture()
def versions(tmp_path, embedder):
    store = LanceStore(tmp_path / "versions", embedder)
    store.add(
        [
            {
                "id": "v1",
                "content": "The Velmark API allows 900 requests per minute for each key.",
                "key": "limit",
                "created_at": "2023-03-01T00:00:00Z",
                "confidence": 0.9,
                "entities": ["Velmark"],
            },
            {
                "id": "v2",
                "content": "The Velmark API allows 1200 requests per minute for each key.",
                "key": "limit",
                "created_at": "2024-06-01T00:00:00Z",
                "confidence": 0.8,
                "entities": ["Velmark"],
            },
            {
                "id": "v3",
                "content": "The Velmark API allows 400 requests per minute for each key.",
                "key": "limit",
                "created_at": "2025-09-01T00:00:00Z",
                "confidence": 0.8,
                "entities": ["Velmark"],
            },
            {"id": "other", "content": "Sourdough starters need regular feedings of flour and water."},
        ]
    )
    return store


async def test_the_newest_version_wins_unless_the_query_names_a_past_year(versions, reranker):
    pipe = Pipeline(store_retriever(versions, "hybrid"), reranker, stage3=CognitiveScorer(versions), store=versions)
    now = await pipe.search("How many requests per minute does the Velmark API allow?", final_k=3)
    assert now.hits[0].id == "v3"
    assert now.hits[1].factors["supersession"]["value"] is True
    then = await pipe.search("How many requests per minute did the Velmark API allow in 2024?", final_k=3)
    assert then.hits[0].id == "v2"


async def test_explanations_add_up(versions, reranker):
    pipe = Pipeline(store_retriever(versions, "hybrid"), reranker, stage3=CognitiveScorer(versions), store=versions)
    response = await pipe.search("Velmark API request limit", final_k=4)
    for hit in response.hits:
        assert set(hit.factors) == set(FACTORS)
        assert hit.score == pytest.approx(sum(f["contribution"] for f in hit.factors.values()))
    assert response.hits[0].factors["relations"]["shared"] == ["velmark"]
    assert "score" in response.timings_ms


async def test_eight_concurrent_searchers_lose_no_access(versions, reranker, embedder):
    pipe = Pipeline(store_retriever(versions, "hybrid"), reranker, stage3=CognitiveScorer(versions), store=versions)

    async def searcher(number: int) -> None:
        for _ in range(5):
            await pipe.search(f"Velmark API limit {number}", final_k=3)

    await asyncio.gather(*(searcher(n) for n in range(8)))
    pipe.close()
    reopened = LanceStore(versions.path, embedder)
    assert reopened.accesses.stored_count() == 8 * 5 * 3
    assert sum(len(reopened.accesses.history(d)) for d in ("v1", "v2", "v3", "other")) == 8 * 5 * 3


def test_feedback_counts_only_when_useful(versions, reranker):
    pipe = Pipeline(store_retriever(versions, "bm25"), reranker, store=versions)
    pipe.feedback("v1", useful=True)
    pipe.feedback("v2", useful=False)
    assert len(versions.accesses.history("v1")) == 1 and versions.accesses.history("v2") == []


def test_frequent_use_raises_recency(versions):
    before = CognitiveScorer(versions).weights
    versions.accesses.record(["v1"] * 20, "returned")
    assert before.recency > 0 and len(versions.accesses.history("v1")) == 20


def test_weights_files(tmp_path):
    path = tmp_path / "w.json"
    ScoringWeights(supersession=2.0).save(path)
    assert ScoringWeights.load(path).supersession == 2.0
    path.write_text('{"supersesion": 2}')
    with pytest.raises(ValueError, match="unknown scoring weights"):
        ScoringWeights.load(path)
    with pytest.raises(ValueError, match="retrieval weight"):
        ScoringWeights(retrieval=2.0)
