"""`crossrank eval`: stage 1 and reranking on BEIR-layout datasets, as a table, JSON, and a sweep PNG."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from crossrank.cli.output import fail, stderr, stdout
from crossrank.errors import CrossrankError

if TYPE_CHECKING:
    from crossrank.eval.harness import EvalRow

_METRICS = ("ndcg@10", "mrr@10", "p@1", "recall@10", "recall@100")


def evaluate(
    datasets: Annotated[list[Path], typer.Argument(help="BEIR-layout folders (corpus.jsonl, queries.jsonl, qrels/).")],
    split: Annotated[str, typer.Option(help="Which qrels/<split>.tsv to score against.")] = "test",
    modes: Annotated[
        str, typer.Option(help="Stage-1 rows, comma separated: bm25, dense, hybrid.")
    ] = "bm25,dense,hybrid",
    candidates: Annotated[int, typer.Option(min=1, help="Candidates the reranker reads per query.")] = 100,
    model: Annotated[str | None, typer.Option(help="Reranker folder or Hugging Face id (default: shipped).")] = None,
    backend: Annotated[str, typer.Option(help="Reranker backend: auto, onnx, openvino or torch.")] = "auto",
    no_rerank: Annotated[bool, typer.Option("--no-rerank", help="Stage-1 rows only.")] = False,
    sweep: Annotated[bool, typer.Option("--sweep", help="Quality against latency over k x models x backends.")] = False,
    sweep_candidates: Annotated[str, typer.Option(help="Sweep: candidate counts.")] = "10,20,30,50,100",
    sweep_models: Annotated[
        str, typer.Option(help="Sweep: models, comma separated ('default' is shipped).")
    ] = "default",
    sweep_backends: Annotated[str, typer.Option(help="Sweep: backends, comma separated.")] = "onnx,openvino",
    plot: Annotated[Path | None, typer.Option(help="Sweep: write the PNG here.")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write every row as JSON here.")] = None,
    cache: Annotated[Path | None, typer.Option(help="Where ingested corpora are kept between runs.")] = None,
    no_scoring: Annotated[bool, typer.Option("--no-scoring", help="Leave out the '+ scoring' rows.")] = False,
    weights: Annotated[Path | None, typer.Option(help="Scoring weights JSON (from `crossrank tune`).")] = None,
) -> None:
    """Score BM25, dense and hybrid retrieval, each with and without reranking (nDCG@10, MRR@10, Recall@10/100)."""
    from crossrank.eval.beir import load_beir
    from crossrank.eval.harness import cached_store, default_cache, evaluate_dataset
    from crossrank.eval.sweep import plot_sweep, run_sweep
    from crossrank.rerank.reranker import Reranker
    from crossrank.retrieve.embedder import Embedder
    from crossrank.score.scorer import CognitiveScorer
    from crossrank.score.weights import ScoringWeights

    try:
        mode_list = _modes(modes)
        loaded = [load_beir(folder, split) for folder in datasets]  # every folder checked before any work
        embedder = Embedder()
        rows = []
        for dataset in loaded:
            store = cached_store(dataset, cache or default_cache(), embedder)
            if sweep:
                rows += run_sweep(
                    dataset,
                    store,
                    mode=mode_list[-1],
                    candidate_counts=_ints(sweep_candidates),
                    models=[None if m == "default" else m for m in _names(sweep_models)],
                    backends=_names(sweep_backends),
                )
            else:
                reranker = None if no_rerank else Reranker(model, backend=backend)
                scorer = (
                    None if no_scoring else CognitiveScorer(store, ScoringWeights.load(weights) if weights else None)
                )
                rows += evaluate_dataset(
                    dataset, store, reranker, modes=mode_list, candidates_k=candidates, scorer=scorer
                )
        if sweep and plot is not None:
            stderr.print(f"wrote {plot_sweep(rows, plot)}")
    except CrossrankError as exc:
        raise fail(str(exc)) from None
    stdout.print(_table(rows, split), width=max(stdout.width, 140))
    if json_out is not None:
        json_out.write_text(json.dumps([r.to_dict() for r in rows], indent=2) + "\n")
        stderr.print(f"wrote {json_out}")


def _modes(raw: str) -> list[str]:
    from crossrank.retrieve.retrievers import MODES

    chosen = _names(raw)
    unknown = [m for m in chosen if m not in MODES]
    if unknown or not chosen:
        raise fail(f"--modes takes {', '.join(MODES)}; got {raw!r}")
    return chosen


def _names(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]


def _ints(raw: str) -> list[int]:
    try:
        values = [int(part) for part in _names(raw)]
    except ValueError:
        raise fail(f"expected comma-separated positive integers, got {raw!r}") from None
    if not values or min(values) < 1:
        raise fail(f"expected comma-separated positive integers, got {raw!r}")
    return values


def _table(rows: list[EvalRow], split: str) -> Table:
    table = Table(title=f"crossrank eval ({split} split; latency per query on this machine)", title_justify="left")
    for name in ("dataset", "system", "k", *_METRICS, "p50 ms", "p95 ms"):
        table.add_column(name, justify="left" if name in ("dataset", "system") else "right", no_wrap=True)
    for r in rows:
        setting = r.settings.get("candidates_k") or "-"
        system = r.system + (f" ({r.settings['model']} {r.settings['backend']})" if "model" in r.settings else "")
        table.add_row(
            r.dataset,
            system,
            str(setting),
            *(f"{r.metrics[m]:.4f}" for m in _METRICS),
            f"{r.p50_ms:.1f}",
            f"{r.p95_ms:.1f}",
        )
    return table


def tune(
    dataset: Annotated[Path, typer.Argument(help="BEIR-layout folder whose corpus may carry metadata.")],
    split: Annotated[str, typer.Option(help="The labelled queries to fit on (never your test split).")] = "dev",
    out: Annotated[Path, typer.Option(help="Where to write the fitted weights (JSON).")] = Path("weights.json"),
    metric: Annotated[str, typer.Option(help="What to maximise: ndcg@10, p@1 or mrr@10.")] = "ndcg@10",
    candidates: Annotated[int, typer.Option(min=1, help="Candidates reranked per query.")] = 30,
    cache: Annotated[Path | None, typer.Option(help="Where ingested corpora are kept between runs.")] = None,
) -> None:
    """Fit the scoring weights to your labelled queries; use them with `search --weights` or `eval --weights`."""
    from crossrank.eval.beir import load_beir
    from crossrank.eval.harness import cached_store, default_cache, rerank_all, retrieve_all
    from crossrank.eval.temporal import import_accesses
    from crossrank.rerank.reranker import Reranker
    from crossrank.retrieve.embedder import Embedder
    from crossrank.score.scorer import CognitiveScorer
    from crossrank.score.tune import tune_weights

    if metric not in ("ndcg@10", "p@1", "mrr@10"):
        raise fail(f"--metric must be ndcg@10, p@1 or mrr@10, not {metric!r}")
    try:
        data = load_beir(dataset, split)
        store = cached_store(data, cache or default_cache(), Embedder())
        import_accesses(dataset, store)
        reranker = Reranker()
        found, _ = retrieve_all(store, data, "hybrid", max(candidates, 100))
        weight = reranker.fusion_weight_for("hybrid")
        _, _, reranked = rerank_all(reranker, data, found, candidates, weight)
        top = {query_id: hits[:candidates] for query_id, hits in reranked.items()}
        best, before, after = tune_weights(
            lambda w: CognitiveScorer(store, w), data.queries, top, data.qrels, metric=metric
        )
    except CrossrankError as exc:
        raise fail(str(exc)) from None
    best.save(out)
    stdout.print(f"{metric} on {split}: {before:.4f} with the default weights -> {after:.4f}; wrote {out}")
    stdout.print(best.to_dict())
