"""Quality against latency: rerank the same stage-1 candidates with each (model, backend) at several depths.

Each point is measured in the same run on this machine: nDCG@10 of the reranked list against the
p50 / p95 per-query latency of stage 1 + rerank. `plot_sweep` draws it as a PNG with matplotlib.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from crossrank.errors import BackendUnavailableError
from crossrank.eval.beir import BeirDataset
from crossrank.eval.harness import EvalRow, ranked_run, rerank_all, retrieve_all, row
from crossrank.rerank.reranker import Reranker
from crossrank.retrieve.store import LanceStore


def run_sweep(
    dataset: BeirDataset,
    store: LanceStore,
    *,
    mode: str,
    candidate_counts: Sequence[int],
    models: Sequence[str | None],
    backends: Sequence[str],
    show_progress: bool = True,
) -> list[EvalRow]:
    """The stage-1 row, then one row per (model, backend, candidates_k)."""
    depth = max(max(candidate_counts), 100)
    candidates, stage1_ms = retrieve_all(store, dataset, mode, depth, show_progress)
    rows = [row(dataset, mode, {q: ranked_run(h) for q, h in candidates.items()}, stage1_ms, candidates_k=0)]
    for model in models:
        for backend in backends:
            reranker = Reranker(model, backend=backend)
            for k in sorted(set(candidate_counts)):
                label = f"{reranker.model_name} {reranker.backend_name}/{reranker.precision} k={k}"
                weight = reranker.fusion_weight_for(mode)
                run, rerank_ms, _ = rerank_all(reranker, dataset, candidates, k, weight, show_progress, label)
                total = [a + b for a, b in zip(stage1_ms, rerank_ms)]
                rows.append(
                    row(
                        dataset,
                        f"{mode} + rerank",
                        run,
                        total,
                        candidates_k=k,
                        model=reranker.model_name,
                        backend=reranker.backend_name,
                        precision=reranker.precision,
                    )
                )
    return rows


def plot_sweep(rows: Sequence[EvalRow], path: Path, metric: str = "ndcg@10") -> Path:
    """A PNG of `metric` against p50 latency (bars reach p95), one line per model/backend, labelled by k."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise BackendUnavailableError("drawing the sweep needs matplotlib: pip install 'crossrank[eval]'") from exc
    figure, axes = plt.subplots(figsize=(8, 5), dpi=120)
    for (dataset, series), points in _series(rows).items():
        points.sort(key=lambda r: r.settings.get("candidates_k", 0))
        x = [r.p50_ms for r in points]
        y = [r.metrics[metric] for r in points]
        spread = [[0.0] * len(points), [r.p95_ms - r.p50_ms for r in points]]
        axes.errorbar(x, y, xerr=spread, marker="o", capsize=3, label=f"{dataset}: {series}")
        for r in points:
            axes.annotate(
                f"k={r.settings.get('candidates_k', 0)}",
                (r.p50_ms, r.metrics[metric]),
                textcoords="offset points",
                xytext=(4, 4),
                fontsize=7,
            )
    axes.set_xlabel("latency per query, ms (p50; bar to p95)")
    axes.set_ylabel(metric)
    axes.set_title("crossrank eval --sweep: quality against latency on this machine")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
    return path


def _series(rows: Sequence[EvalRow]) -> dict[tuple[str, str], list[EvalRow]]:
    grouped: dict[tuple[str, str], list[EvalRow]] = {}
    stage1 = {r.dataset: r for r in rows if not r.settings.get("model")}
    for r in rows:
        if r.settings.get("model"):
            name = f"{r.settings['model']} {r.settings['backend']}/{r.settings['precision']}"
            grouped.setdefault((r.dataset, name), [stage1[r.dataset]] if r.dataset in stage1 else []).append(r)
    return grouped
