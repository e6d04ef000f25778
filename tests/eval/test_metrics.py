import pytest

from crossrank.eval.metrics import evaluate_run

pytest.importorskip("pytrec_eval")


def test_perfect_and_reversed_rankings():
    qrels = {"q1": {"a": 1, "b": 1}}
    perfect = evaluate_run(qrels, {"q1": {"a": 3.0, "b": 2.0, "c": 1.0}})
    assert perfect["ndcg@10"] == pytest.approx(1.0)
    assert perfect["mrr@10"] == pytest.approx(1.0)
    worst = evaluate_run(qrels, {"q1": {"c": 3.0, "a": 2.0, "b": 1.0}})
    assert worst["mrr@10"] == pytest.approx(0.5)
    assert 0.0 < worst["ndcg@10"] < 1.0


def test_queries_missing_from_the_run_count_as_zero():
    qrels = {"q1": {"a": 1}, "q2": {"b": 1}}
    scores = evaluate_run(qrels, {"q1": {"a": 1.0}})
    assert scores["ndcg@10"] == pytest.approx(0.5)
    assert scores["recall@100"] == pytest.approx(0.5)
