import asyncio
import copy
import time

import numpy as np
import pytest

from crossrank import InvalidInputError, Reranker

QUERY = "how do JWT tokens expire"


def test_score_is_a_probability_and_raw_is_its_log_odds(reranker: Reranker):
    doc = "A JSON Web Token carries an exp claim; servers reject it after that time."
    probability = reranker.score(QUERY, doc)
    logit = reranker.score(QUERY, doc, raw=True)
    assert 0.0 <= probability <= 1.0
    calibration = reranker.calibration  # the shipped model's Platt scaling (identity for other models)
    assert probability == pytest.approx(1.0 / (1.0 + np.exp(-(calibration.slope * logit + calibration.bias))), abs=1e-6)


def test_predict_keeps_the_callers_order_whatever_the_batching(reranker: Reranker, example_docs):
    pairs = [(QUERY, d["content"]) for d in example_docs]
    together = reranker.predict(pairs)
    one_by_one = np.array([reranker.score(q, d) for q, d in pairs])
    np.testing.assert_allclose(together, one_by_one, atol=1e-5)
    tiny_budget = Reranker(backend="onnx", device="cpu", precision="fp32", token_budget=128)
    np.testing.assert_allclose(tiny_budget.predict(pairs), together, atol=1e-5)


def test_rerank_sorts_by_score_and_keeps_documents_untouched(reranker: Reranker, example_docs):
    before = copy.deepcopy(example_docs)
    results = reranker.rerank(QUERY, example_docs, top_k=5)
    assert example_docs == before
    assert len(results) == 5
    scores = [r.score for r in results]
    assert scores == sorted(scores, reverse=True)
    for result in results:
        assert result.document is example_docs[result.index]
        assert result.id == example_docs[result.index]["id"]
        assert result.to_dict()["source"] == example_docs[result.index]["source"]


def test_relevant_documents_come_first_on_the_example_corpus(reranker: Reranker, example_docs):
    top = [r.id for r in reranker.rerank(QUERY, example_docs, top_k=3)]
    assert "jwt-exp" in top


def test_strings_are_accepted_and_ties_keep_input_order(reranker: Reranker):
    docs = ["the same text", "other text about tokens", "the same text"]
    results = reranker.rerank(QUERY, docs)
    same = [r.index for r in results if r.text == "the same text"]
    assert same == [0, 2]
    assert results[0].to_dict()["content"] == results[0].text


def test_text_key_selects_the_field(reranker: Reranker):
    docs = [{"body": "JWT exp claim sets the expiry", "id": "x"}]
    (result,) = reranker.rerank(QUERY, docs, text_key="body")
    assert result.id == "x"


def test_top_k_zero_and_empty_candidates(reranker: Reranker):
    assert reranker.rerank(QUERY, []) == []
    assert reranker.rerank(QUERY, ["a", "b"], top_k=0) == []
    assert len(reranker.rerank(QUERY, ["a", "b"], top_k=10)) == 2


def test_empty_document_is_scored_like_any_other(reranker: Reranker):
    (result,) = reranker.rerank(QUERY, [""])
    assert 0.0 <= result.score <= 1.0


def test_long_documents_are_flagged_truncated(reranker: Reranker):
    long_doc = "tokens expire " * 400
    results = reranker.rerank(QUERY, [long_doc, "short"])
    flags = {r.index: r.truncated for r in results}
    assert flags == {0: True, 1: False}


@pytest.mark.parametrize(
    ("query", "candidates", "message"),
    [
        ("", ["a"], "query is empty"),
        ("   ", ["a"], "query is empty"),
        (None, ["a"], "query must be a string"),
        (QUERY, None, "candidates is None"),
        (QUERY, "just one string", "must be a list"),
        (QUERY, ["ok", None], "candidate 1 is NoneType"),
        (QUERY, ["ok", 3], "candidate 1 is int"),
        (QUERY, [{"text": "x"}], "has no 'content' field"),
        (QUERY, [{"content": 5}], "is int, not a string"),
    ],
)
def test_bad_input_raises_a_clear_error(reranker: Reranker, query, candidates, message):
    with pytest.raises(InvalidInputError, match=message):
        reranker.rerank(query, candidates)


def test_bad_top_k_is_rejected(reranker: Reranker):
    with pytest.raises(InvalidInputError, match="top_k"):
        reranker.rerank(QUERY, ["a"], top_k=-1)


def test_first_stage_scores_are_fused(reranker: Reranker, example_docs):
    bm25_like = [float(len(example_docs) - i) for i in range(len(example_docs))]
    only_first_stage = reranker.rerank(QUERY, example_docs, first_stage_scores=bm25_like, fusion_weight=0.0)
    assert [r.index for r in only_first_stage] == list(range(len(example_docs)))
    only_model = reranker.rerank(QUERY, example_docs, first_stage_scores=bm25_like, fusion_weight=1.0)
    assert [r.index for r in only_model] == [r.index for r in reranker.rerank(QUERY, example_docs)]
    with_key = reranker.rerank(
        QUERY, [{**d, "bm25": s} for d, s in zip(example_docs, bm25_like)], first_stage_key="bm25"
    )
    assert all(r.first_stage_score is not None and 0.0 <= r.score <= 1.0 for r in with_key)


def test_first_stage_scores_are_validated(reranker: Reranker):
    with pytest.raises(InvalidInputError, match="2 values for 1"):
        reranker.rerank(QUERY, ["a"], first_stage_scores=[1.0, 2.0])
    with pytest.raises(InvalidInputError, match="not a finite number"):
        reranker.rerank(QUERY, ["a"], first_stage_scores=[float("nan")])
    with pytest.raises(InvalidInputError, match="no first-stage score field"):
        reranker.rerank(QUERY, [{"content": "a"}], first_stage_key="bm25")


async def test_arerank_does_not_block_the_event_loop(reranker: Reranker, example_docs):
    docs = [d["content"] * 6 for d in example_docs] * 10
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.001)

    task = asyncio.create_task(ticker())
    started = time.perf_counter()
    results = await reranker.arerank(QUERY, docs, top_k=3)
    elapsed = time.perf_counter() - started
    task.cancel()
    assert len(results) == 3
    # the loop kept ticking while the model ran in a worker thread
    assert ticks >= max(2, int(elapsed / 0.001 * 0.1))
    assert [r.index for r in results] == [r.index for r in reranker.rerank(QUERY, docs, top_k=3)]


def test_predict_rejects_malformed_pairs(reranker: Reranker):
    with pytest.raises(InvalidInputError, match="pair 1 is not a"):
        reranker.predict([(QUERY, "ok"), (QUERY,)])
    with pytest.raises(InvalidInputError, match="document of pair 0 is NoneType"):
        reranker.predict([(QUERY, None)])
    assert reranker.predict([]).shape == (0,)


def test_rank_has_the_sentence_transformers_shape(reranker: Reranker, example_docs):
    texts = [d["content"] for d in example_docs]
    ranked = reranker.rank(QUERY, texts, top_k=2, return_documents=True)
    assert [set(r) for r in ranked] == [{"corpus_id", "score", "text"}] * 2
    assert [r["corpus_id"] for r in ranked] == [r.index for r in reranker.rerank(QUERY, texts, top_k=2)]
    assert texts[ranked[0]["corpus_id"]] == ranked[0]["text"]


async def test_concurrent_calls_give_the_same_results_as_sequential_ones(reranker: Reranker, example_docs):
    queries = [QUERY, "sourdough starter", "postgres vacuum", "python threads and the GIL"] * 2
    together = await asyncio.gather(*(reranker.arerank(q, example_docs) for q in queries))
    for query, results in zip(queries, together):
        expected = reranker.rerank(query, example_docs)
        assert [r.index for r in results] == [r.index for r in expected]
        np.testing.assert_allclose([r.score for r in results], [r.score for r in expected], atol=1e-6)
