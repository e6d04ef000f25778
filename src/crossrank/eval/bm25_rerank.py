"""Rerank BM25's top-100 on BEIR-layout data and report nDCG@10 for BM25, random order, the model, and the fusion.

python -m crossrank.eval.bm25_rerank ../shared/datasets/scifact ../shared/datasets/nfcorpus --split test
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import track
from rich.table import Table

from crossrank.eval.beir import BeirDataset, load_beir
from crossrank.eval.metrics import evaluate_run
from crossrank.rerank.reranker import Reranker
from crossrank.retrieve.bm25 import BM25Index

RANDOM_SEEDS = 10


def evaluate_dataset(dataset: BeirDataset, reranker: Reranker, depth: int = 100) -> dict[str, dict[str, float]]:
    """Metrics of each system on one dataset's judged queries, reranking BM25's top `depth`."""
    doc_ids = list(dataset.corpus)
    index = BM25Index([dataset.corpus[d].content for d in doc_ids])
    query_ids = dataset.judged_query_ids
    top, scores = index.search([dataset.queries[q] for q in query_ids], depth)
    runs: dict[str, dict[str, dict[str, float]]] = {"bm25": {}, "model": {}, "fused": {}}
    started = time.perf_counter()
    for row, query_id in enumerate(track(query_ids, description=f"{dataset.name}: reranking")):
        ids = [doc_ids[int(i)] for i in top[row]]
        texts = [dataset.corpus[d].content for d in ids]
        runs["bm25"][query_id] = dict(zip(ids, map(float, scores[row])))
        results = reranker.rerank(dataset.queries[query_id], texts, first_stage_scores=scores[row].tolist())
        runs["model"][query_id] = {ids[r.index]: r.model_score for r in results}
        runs["fused"][query_id] = {ids[r.index]: r.score for r in results}
    seconds = time.perf_counter() - started
    metrics = {name: evaluate_run(dataset.qrels, run) for name, run in runs.items()}
    metrics["random"] = _random_order(dataset, runs["bm25"])
    metrics["model"]["ms_per_query"] = 1000 * seconds / max(len(query_ids), 1)
    return metrics


def _random_order(dataset: BeirDataset, bm25_run: dict[str, dict[str, float]]) -> dict[str, float]:
    """Mean metrics over random permutations of the same candidates: the chance level."""
    rng = np.random.default_rng(0)
    totals: dict[str, float] = {}
    for _ in range(RANDOM_SEEDS):
        run = {q: dict(zip(docs, rng.permutation(len(docs)).astype(float))) for q, docs in bm25_run.items()}
        for key, value in evaluate_run(dataset.qrels, run).items():
            totals[key] = totals.get(key, 0.0) + value / RANDOM_SEEDS
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description="Rerank BM25 top-100 on BEIR folders and report nDCG@10.")
    parser.add_argument("datasets", nargs="+", type=Path)
    parser.add_argument("--split", default="test")
    parser.add_argument("--model", default=None)
    parser.add_argument("--backend", default="auto")
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--json", type=Path, default=None, help="write all metrics here")
    args = parser.parse_args()
    reranker = Reranker(args.model, backend=args.backend, precision=args.precision)
    report = {"reranker": repr(reranker), "split": args.split, "results": {}}
    table = Table(title=f"nDCG@10 on {args.split}, BM25 top-100 reranked by {reranker!r}")
    for column in ("dataset", "bm25", "random", "model", "fused", "model ms/query"):
        table.add_column(column, justify="right")
    for folder in args.datasets:
        metrics = evaluate_dataset(load_beir(folder, args.split), reranker)
        report["results"][folder.name] = metrics  # type: ignore[index]
        table.add_row(
            folder.name,
            *(f"{metrics[k]['ndcg@10']:.4f}" for k in ("bm25", "random", "model", "fused")),
            f"{metrics['model']['ms_per_query']:.1f}",
        )
    Console().print(table)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
