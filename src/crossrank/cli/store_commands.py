"""`crossrank index` and `crossrank search`: the embedded store and the pipeline from the shell."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from crossrank.cli.output import fail, stderr, stdout
from crossrank.errors import CrossrankError

StoreOption = Annotated[str, typer.Option("--store", "-s", help="Folder of the embedded store (created if new).")]


def index(
    docs: Annotated[
        str, typer.Argument(help="JSONL file, one document per line ({id, content, title, ...}); - for stdin.")
    ],
    store: StoreOption = "./crossrank-store",
) -> None:
    """Add or update documents in an embedded store (embeds them; upserts by id)."""
    from crossrank.cli.index_input import read_store_documents
    from crossrank.retrieve.store import LanceStore

    try:
        documents = read_store_documents(docs)
        target = LanceStore(store)
        written = target.add(documents, show_progress=True)
    except CrossrankError as exc:
        raise fail(str(exc)) from None
    stderr.print(f"stored {written} documents in {store} ({target.count()} in total)")


def search(
    query: Annotated[str, typer.Argument(help="What to search for.")],
    store: StoreOption = "./crossrank-store",
    top_k: Annotated[int, typer.Option("--top-k", "-k", min=1, help="Results to show.")] = 5,
    candidates: Annotated[int, typer.Option(min=1, help="Stage-1 candidates the reranker reads.")] = 30,
    mode: Annotated[str, typer.Option(help="Stage 1: hybrid, dense or bm25.")] = "hybrid",
    budget_ms: Annotated[float | None, typer.Option(help="Latency budget in ms (rerank fewer, or fall back).")] = None,
    model: Annotated[str | None, typer.Option(help="Reranker folder or Hugging Face id.")] = None,
    no_rerank: Annotated[bool, typer.Option("--no-rerank", help="Stage 1 only.")] = False,
    where: Annotated[
        str | None, typer.Option("--filter", help='Metadata filter as JSON, e.g. {"source": "docs"}.')
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    explain: Annotated[bool, typer.Option("--explain", help="Show each scoring factor and its contribution.")] = False,
    no_scoring: Annotated[bool, typer.Option("--no-scoring", help="Skip stage 3 (recency, relations, ...).")] = False,
    weights: Annotated[str | None, typer.Option(help="Scoring weights JSON (from `crossrank tune`).")] = None,
) -> None:
    """Search a store: stage 1, the cross-encoder, then the multi-factor scoring; each stage's scores and time."""
    from pathlib import Path

    from crossrank.pipeline import Pipeline

    try:
        if not Path(store).is_dir():
            raise fail(f"no store at {store}: create one with `crossrank index DOCS --store {store}`")
        filter_ = _parse_filter(where)
        from crossrank.score.weights import ScoringWeights

        scoring: ScoringWeights | bool = False if no_scoring else (ScoringWeights.load(weights) if weights else True)
        pipe = Pipeline.open(store, reranker=None if no_rerank else (model or "default"), mode=mode, scoring=scoring)
        response = pipe.search_sync(query, final_k=top_k, candidates_k=candidates, budget_ms=budget_ms, filter=filter_)
        pipe.close()
    except CrossrankError as exc:
        raise fail(str(exc)) from None
    if as_json:
        sys.stdout.write(json.dumps(response.to_dict(), ensure_ascii=False) + "\n")
        return
    stdout.print(_hits_table(response))
    if explain:
        stdout.print(_factors_table(response))
    timings = "  ".join(f"{stage} {ms:.1f} ms" for stage, ms in response.timings_ms.items())
    stderr.print(f"{response.candidates} candidates, {response.reranked} reranked; {timings}", highlight=False)
    if response.degraded:
        stderr.print(f"[yellow]degraded:[/] {escape(response.reason or '')}", highlight=False)


def _parse_filter(raw: str | None) -> dict[str, object] | None:
    if raw is None:
        return None
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise fail(f"--filter is not valid JSON: {exc.msg}") from None
    if not isinstance(parsed, dict):
        raise fail('--filter must be a JSON object, e.g. {"source": "docs"}')
    return parsed


def _hits_table(response: object) -> Table:
    from crossrank.pipeline import SearchResponse

    assert isinstance(response, SearchResponse)
    table = Table(title=escape(response.query), title_justify="left")
    for name, justify in [
        ("rank", "right"),
        ("score", "right"),
        ("rerank", "right"),
        ("retrieval", "right"),
        ("stage-1 rank", "right"),
        ("id", "left"),
    ]:
        table.add_column(name, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    table.add_column("document", overflow="ellipsis", no_wrap=True, max_width=max(20, stdout.width - 70))
    for hit in response.hits:
        rerank = "-" if hit.rerank_score is None else f"{hit.rerank_score:.4f}"
        snippet = escape(" ".join(hit.document.text.split()))
        table.add_row(
            str(hit.rank),
            f"{hit.score:.4f}",
            rerank,
            f"{hit.retrieval_score:.4f}",
            str(hit.retrieval_rank),
            escape(hit.id),
            snippet,
        )
    return table


def _factors_table(response: object) -> Table:
    """One row per hit: each factor's value and its contribution (log odds) to the final score."""
    from crossrank.pipeline import SearchResponse
    from crossrank.score.scorer import FACTORS

    assert isinstance(response, SearchResponse)
    table = Table(title="why this order (contributions in log odds; final = their sum)", title_justify="left")
    table.add_column("rank", justify="right")
    table.add_column("id", no_wrap=True)
    for name in FACTORS:
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("final", justify="right")
    for hit in response.hits:
        if not hit.factors:
            table.add_row(str(hit.rank), escape(hit.id), *(["-"] * len(FACTORS)), f"{hit.score:.3f}")
            continue
        cells = [_factor_cell(name, hit.factors[name]) for name in FACTORS]
        table.add_row(str(hit.rank), escape(hit.id), *cells, f"{hit.score:.3f}")
    return table


def _factor_cell(name: str, factor: dict[str, object]) -> str:
    contribution = float(factor["contribution"])  # type: ignore[arg-type]
    value = factor.get("value")
    if name == "supersession":
        return f"{contribution:+.2f} (superseded)" if value else "+0.00"
    if name == "relations" and factor.get("shared"):
        return f"{contribution:+.2f} ({', '.join(factor['shared'])})"  # type: ignore[arg-type]
    shown = "-" if value is None else f"{float(value):.2f}"  # type: ignore[arg-type]
    return f"{contribution:+.2f} ({shown})"
