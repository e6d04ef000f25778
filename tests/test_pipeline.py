"""The retrieve -> rerank pipeline: stage scores, the latency budget, and falling back instead of failing."""

from __future__ import annotations

import time

import pytest

from crossrank.errors import InvalidInputError
from crossrank.pipeline import Pipeline
from crossrank.rerank.reranker import Reranker
from crossrank.retrieve.retrievers import store_retriever


@pytest.fixture()
def pipe(store, reranker):
    return Pipeline(store_retriever(store, "hybrid"), reranker, store=store)


async def test_search_reports_every_stage(pipe):
    response = await pipe.search("how do JWT tokens expire", final_k=3, candidates_k=10)
    assert [h.rank for h in response.hits] == [1, 2, 3]
    assert response.hits[0].id == "jwt-exp"
    top = response.hits[0]
    assert 0.0 <= top.rerank_score <= 1.0 and top.rerank_rank >= 1 and top.retrieval_rank >= 1
    assert set(top.retrieval_scores) == {"dense", "bm25"}
    assert set(response.timings_ms) == {"retrieve", "rerank", "total"}
    assert response.candidates == 10 and response.reranked == 10 and not response.degraded
    scores = [h.score for h in response.hits]
    assert scores == sorted(scores, reverse=True)


async def test_model_only_order_with_fusion_weight_one(store, reranker):
    pipe = Pipeline(store_retriever(store, "dense"), reranker, store=store, fusion_weight=1.0)
    response = await pipe.search("reclaim space from deleted rows in postgres", final_k=5, candidates_k=10)
    assert [h.rerank_rank for h in response.hits] == [1, 2, 3, 4, 5]


def test_sync_wrapper_and_add(tmp_path, embedder, reranker):
    pipe = Pipeline.open(tmp_path / "kb", embedder=embedder, reranker=reranker)
    pipe.add([{"id": "a", "content": "Tomatoes need six hours of sun."}, {"id": "b", "content": "JWTs expire."}])
    response = pipe.search_sync("when do json web tokens expire", final_k=1)
    assert response.hits[0].id == "b"
    assert pipe.delete(["a"]) == 1


async def test_budget_limits_how_many_are_reranked(pipe):
    pipe.cost.per_pair_ms = 40.0  # as if each pair had been measured at 40 ms
    pipe.cost.smoothing = 0.0  # keep that estimate for this search
    response = await pipe.search("sourdough starter", final_k=20, candidates_k=20, budget_ms=400)
    assert 0 < response.reranked < 20 and not response.degraded
    tail = response.hits[response.reranked :]
    assert [h.retrieval_rank for h in tail] == sorted(h.retrieval_rank for h in tail)
    assert all(h.rerank_score is None for h in tail)


async def test_no_time_left_returns_stage_one_order(pipe):
    pipe.cost.per_pair_ms, pipe.cost.smoothing = 1000.0, 0.0
    response = await pipe.search("sourdough starter", final_k=5, budget_ms=5)
    assert response.degraded and "no time to rerank" in response.reason
    assert [h.retrieval_rank for h in response.hits] == [1, 2, 3, 4, 5]


class SlowReranker(Reranker):
    """A real reranker that takes an extra half second: stands in for an overloaded model."""

    def rerank(self, *args, **kwargs):
        time.sleep(0.5)
        return super().rerank(*args, **kwargs)


class BrokenReranker(Reranker):
    """A real reranker whose inference fails, as a model with a missing file would."""

    def rerank(self, *args, **kwargs):
        raise RuntimeError("model file went missing")


async def test_a_slow_reranker_times_out_to_stage_one(pipe):
    pipe.reranker = SlowReranker(backend="onnx", precision="fp32")
    pipe.cost.per_pair_ms, pipe.cost.smoothing = 0.01, 0.0  # the estimate says it fits; the model overruns
    started = time.perf_counter()
    response = await pipe.search("sourdough starter", final_k=3, budget_ms=150)
    assert (time.perf_counter() - started) < 0.45
    assert response.degraded and "ran past the 150 ms budget" in response.reason
    assert [h.retrieval_rank for h in response.hits] == [1, 2, 3]


async def test_a_failing_reranker_falls_back_and_says_why(pipe):
    pipe.reranker = BrokenReranker(backend="onnx", precision="fp32")
    response = await pipe.search("sourdough starter", final_k=3)
    assert response.degraded and "model file went missing" in response.reason
    assert response.hits[0].id == "sourdough"


async def test_bad_arguments(pipe):
    for kwargs, message in [
        ({"final_k": 0}, "final_k"),
        ({"candidates_k": -1}, "candidates_k"),
        ({"budget_ms": 0}, "budget_ms"),
    ]:
        with pytest.raises(InvalidInputError, match=message):
            await pipe.search("query", **kwargs)
    with pytest.raises(InvalidInputError, match="query"):
        await pipe.search("   ")
    with pytest.raises(InvalidInputError, match="inside an event loop"):
        pipe.search_sync("query")


async def test_fuses_with_the_models_weight_for_the_retriever(store, reranker):
    weight = reranker.fusion_weight_for("hybrid")
    assert weight == reranker.files.settings["fusion_weights"]["hybrid"]
    assert reranker.fusion_weight_for(None) == reranker.fusion_weight
    pipe = Pipeline(store_retriever(store, "hybrid"), reranker, store=store)
    response = await pipe.search("how do JWT tokens expire", final_k=10, candidates_k=10)
    stage1 = await store_retriever(store, "hybrid").query("how do JWT tokens expire", 10)
    expected = reranker.rerank(
        "how do JWT tokens expire",
        [c.document.text for c in stage1],
        first_stage_scores=[c.score for c in stage1],
        fusion_weight=weight,
    )
    assert [h.id for h in response.hits] == [stage1[r.index].document.id for r in expected]
    assert [h.score for h in response.hits] == pytest.approx([r.score for r in expected])


async def test_rerank_false_keeps_stage_one_order(pipe):
    response = await pipe.search("sourdough starter", final_k=4, rerank=False)
    assert [h.retrieval_rank for h in response.hits] == [1, 2, 3, 4]
    assert response.reranked == 0 and not response.degraded and "rerank" not in response.timings_ms
