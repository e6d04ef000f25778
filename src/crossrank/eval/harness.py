"""`crossrank eval`: stage-1 retrievers and reranking on a BEIR-layout dataset, scored with trec_eval semantics.

The corpus is ingested once into an embedded store (cached on disk beside the user's cache), each
stage-1 mode retrieves `depth` candidates per judged query, and the reranker reorders the top
`candidates_k` of each, so every row is measured on the same data in the same run.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from crossrank.eval.beir import BeirDataset
from crossrank.eval.metrics import evaluate_run
from crossrank.pipeline import SearchHit, Stage3, hit_from, rerank_hits
from crossrank.progress import progress_bar
from crossrank.rerank.reranker import Reranker
from crossrank.retrieve.embedder import Embedder
from crossrank.retrieve.retrievers import MODES, store_retriever
from crossrank.retrieve.store import LanceStore

Run = dict[str, dict[str, float]]
Candidates = dict[str, list[SearchHit]]


@dataclass(frozen=True)
class EvalRow:
    """One system's metrics and its per-query latency (ms, p50 and p95) on one dataset."""

    dataset: str
    system: str
    metrics: dict[str, float]
    p50_ms: float
    p95_ms: float
    settings: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "system": self.system,
            **self.metrics,
            "p50_ms": self.p50_ms,
            "p95_ms": self.p95_ms,
            **self.settings,
        }


def cached_store(dataset: BeirDataset, folder: Path, embedder: Embedder, show_progress: bool = True) -> LanceStore:
    """The dataset's corpus in an embedded store, ingested on first use and reused while it is unchanged."""
    digest = hashlib.sha256(f"{embedder.model_name}|{embedder.max_length}".encode())
    for document in dataset.corpus.values():  # any change to the corpus makes a new store
        digest.update(f"{document.doc_id}\t{document.title}\t{document.text}\t{document.metadata}\n".encode())
    fingerprint = digest.hexdigest()[:12]
    path = folder / f"{dataset.name}-{fingerprint}"
    store = LanceStore(path, embedder)
    # a BEIR entry may have only a title; one with neither title nor text cannot be retrieved and is left out
    documents = [
        {
            "id": d.doc_id,
            "title": d.title if d.text.strip() else "",
            "content": d.text if d.text.strip() else d.title,
            "metadata": d.metadata,
        }
        for d in dataset.corpus.values()
        if d.text.strip() or d.title.strip()
    ]
    if store.count() != len(documents):
        store.add(documents, show_progress=show_progress)
        store.optimize()  # fold every row into the indexes once, so timed searches see the final layout
    return store


def default_cache() -> Path:
    return Path(os.environ.get("CROSSRANK_CACHE", Path.home() / ".cache" / "crossrank")) / "eval-stores"


def retrieve_all(
    store: LanceStore, dataset: BeirDataset, mode: str, depth: int = 100, show_progress: bool = True
) -> tuple[Candidates, list[float]]:
    """Stage-1 candidates of every judged query, and each query's retrieval time in ms."""
    retriever = store_retriever(store, mode)
    candidates: Candidates = {}
    latencies: list[float] = []

    async def run_all() -> None:
        for query_id in progress_bar(dataset.judged_query_ids, f"{dataset.name}: {mode}", show_progress):
            started = time.perf_counter()
            found = await retriever.query(dataset.queries[query_id], depth)
            latencies.append((time.perf_counter() - started) * 1000)
            candidates[query_id] = [hit_from(c) for c in found]

    asyncio.run(run_all())
    return candidates, latencies


def rerank_all(
    reranker: Reranker,
    dataset: BeirDataset,
    candidates: Candidates,
    candidates_k: int,
    fusion_weight: float | None = None,
    show_progress: bool = True,
    label: str = "rerank",
) -> tuple[Run, list[float], Candidates]:
    """Rerank each query's top `candidates_k`; the rest keep their stage-1 order below them."""
    run: Run = {}
    latencies: list[float] = []
    reranked_all: Candidates = {}
    for query_id in progress_bar(list(candidates), f"{dataset.name}: {label}", show_progress):
        hits = candidates[query_id]
        started = time.perf_counter()
        reranked = rerank_hits(reranker, dataset.queries[query_id], hits[:candidates_k], fusion_weight)
        latencies.append((time.perf_counter() - started) * 1000)
        reranked_all[query_id] = reranked + hits[candidates_k:]
        run[query_id] = ranked_run(reranked_all[query_id])
    return run, latencies, reranked_all


def score_all(scorer: Stage3, dataset: BeirDataset, reranked: Candidates) -> tuple[Run, list[float]]:
    """Apply stage 3 to every query's reranked list; returns the run and each query's stage-3 time in ms."""
    run: Run = {}
    latencies: list[float] = []
    for query_id, hits in reranked.items():
        started = time.perf_counter()
        scored = scorer(dataset.queries[query_id], hits)
        latencies.append((time.perf_counter() - started) * 1000)
        run[query_id] = ranked_run(scored)
    return run, latencies


def ranked_run(hits: Sequence[SearchHit]) -> dict[str, float]:
    """A run entry that keeps the list's order exactly (trec_eval sorts by score, so scores encode rank)."""
    return {hit.document.id: float(len(hits) - position) for position, hit in enumerate(hits)}


def row(dataset: BeirDataset, system: str, run: Run, latencies: list[float], **settings: Any) -> EvalRow:
    """Score a run and summarise its latencies."""
    p50, p95 = (float(np.percentile(latencies, q)) for q in (50, 95)) if latencies else (0.0, 0.0)
    return EvalRow(dataset.name, system, evaluate_run(dataset.qrels, run), p50, p95, settings)


def evaluate_dataset(
    dataset: BeirDataset,
    store: LanceStore,
    reranker: Reranker | None,
    *,
    modes: Sequence[str] = MODES,
    candidates_k: int = 100,
    depth: int = 100,
    show_progress: bool = True,
    scorer: Stage3 | None = None,
) -> list[EvalRow]:
    """Rows for each stage-1 mode, each + rerank when a reranker is given, and + scoring with a stage 3."""
    rows = []
    for mode in _ordered(modes):
        candidates, stage1_ms = retrieve_all(store, dataset, mode, depth, show_progress)
        rows.append(row(dataset, mode, {q: ranked_run(h) for q, h in candidates.items()}, stage1_ms))
        if reranker is not None:
            weight = reranker.fusion_weight_for(mode)
            run, rerank_ms, reranked = rerank_all(reranker, dataset, candidates, candidates_k, weight, show_progress)
            total = [a + b for a, b in zip(stage1_ms, rerank_ms)]
            rows.append(row(dataset, f"{mode} + rerank", run, total, candidates_k=candidates_k))
            if scorer is not None:
                run, score_ms = score_all(scorer, dataset, reranked)
                total = [a + b for a, b in zip(total, score_ms)]
                rows.append(
                    row(
                        dataset,
                        f"{mode} + rerank + scoring",
                        run,
                        total,
                        candidates_k=candidates_k,
                        scoring_p50_ms=float(np.percentile(score_ms, 50)) if score_ms else 0.0,
                    )
                )
    return rows


def _ordered(modes: Sequence[str]) -> list[str]:
    order = ("bm25", "dense", "hybrid")
    return sorted(dict.fromkeys(modes), key=lambda m: order.index(m) if m in order else len(order))
