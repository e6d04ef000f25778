"""Fit the scoring weights on a user's labelled dev queries (`crossrank tune`): coordinate ascent on nDCG@10.

The candidates are retrieved and reranked once; each trial only re-applies stage 3 (milliseconds per query),
so a few hundred trials take seconds. Only the weights of factors change; the relevance term stays.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from crossrank.eval.metrics import evaluate_run
from crossrank.pipeline import SearchHit
from crossrank.score.scorer import CognitiveScorer
from crossrank.score.weights import ScoringWeights

GRID: dict[str, tuple[float | None, ...]] = {
    "supersession": (0.0, 1.0, 2.0, 4.0, 8.0, 16.0),
    "recency": (0.0, 0.25, 0.5, 1.0, 2.0),
    "relations": (0.0, 0.5, 1.0, 2.0),
    "confidence": (0.0, 0.5, 1.0, 2.0),
    "retrieval": (None, 0.0, 0.25, 0.5),
}


def tune_weights(
    make_scorer: Callable[[ScoringWeights], CognitiveScorer],
    queries: Mapping[str, str],
    reranked: Mapping[str, list[SearchHit]],
    qrels: Mapping[str, Mapping[str, int]],
    start: ScoringWeights | None = None,
    rounds: int = 3,
    metric: str = "ndcg@10",
) -> tuple[ScoringWeights, float, float]:
    """Best weights found, with the metric before (at `start`) and after."""
    best = start or ScoringWeights()
    baseline = best_score = _score(make_scorer(best), queries, reranked, qrels, metric)
    for _ in range(rounds):
        improved = False
        for name, values in GRID.items():
            for value in values:
                trial = best.with_(**{name: value})
                score = _score(make_scorer(trial), queries, reranked, qrels, metric)
                if score > best_score + 1e-9:
                    best, best_score, improved = trial, score, True
        if not improved:
            break
    return best, baseline, best_score


def _score(
    scorer: CognitiveScorer,
    queries: Mapping[str, str],
    reranked: Mapping[str, list[SearchHit]],
    qrels: Mapping[str, Mapping[str, int]],
    metric: str,
) -> float:
    run = {}
    for query_id, hits in reranked.items():
        scored = scorer(queries[query_id], hits)
        run[query_id] = {hit.document.id: float(len(scored) - i) for i, hit in enumerate(scored)}
    return evaluate_run(qrels, run)[metric]
