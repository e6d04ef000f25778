"""Ranking metrics with trec_eval semantics (pytrec_eval), averaged over judged queries."""

from __future__ import annotations

from collections.abc import Mapping

Run = Mapping[str, Mapping[str, float]]

_MEASURES = {"ndcg@10": "ndcg_cut_10", "recall@10": "recall_10", "recall@100": "recall_100", "p@1": "P_1"}


def evaluate_run(qrels: Mapping[str, Mapping[str, int]], run: Run) -> dict[str, float]:
    """nDCG@10, MRR@10, Recall@10/100 and P@1 of a run, as trec_eval computes them.

    Queries absent from the run count as zero, as in BEIR's evaluation.
    """
    import pytrec_eval

    judged = {qid: dict(docs) for qid, docs in qrels.items()}
    full_run = {qid: {d: float(s) for d, s in run.get(qid, {}).items()} for qid in judged}
    evaluator = pytrec_eval.RelevanceEvaluator(judged, {"ndcg_cut", "recall", "recip_rank", "P.1"})
    per_query = evaluator.evaluate(_cut_run(full_run, 1000))
    mrr = pytrec_eval.RelevanceEvaluator(judged, {"recip_rank"}).evaluate(_cut_run(full_run, 10))
    count = max(len(judged), 1)
    scores = {
        name: sum(per_query.get(qid, {}).get(key, 0.0) for qid in judged) / count for name, key in _MEASURES.items()
    }
    scores["mrr@10"] = sum(mrr.get(qid, {}).get("recip_rank", 0.0) for qid in judged) / count
    return scores


def _cut_run(run: Mapping[str, Mapping[str, float]], depth: int) -> dict[str, dict[str, float]]:
    cut = {}
    for qid, docs in run.items():
        top = sorted(docs.items(), key=lambda item: (-item[1], item[0]))[:depth]
        # pytrec_eval needs at least one entry per query to score it; an empty run scores 0 anyway.
        cut[qid] = dict(top) if top else {"__none__": 0.0}
    return cut
