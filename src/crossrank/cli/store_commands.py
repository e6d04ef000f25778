"""`crossrank index` and `crossrank search`: the embedded store and the pipeline from the shell."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
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
) -> None:
    """Search a store: stage-1 retrieval, then the cross-encoder; shows every stage's score and time."""
    from pathlib import Path

    from crossrank.pipeline import Pipeline

    try:
        if not Path(store).is_dir():
            raise fail(f"no store at {store}: create one with `crossrank index DOCS --store {store}`")
        filter_ = _parse_filter(where)
        pipe = Pipeline.open(store, reranker=None if no_rerank else (model or "default"), mode=mode)
        response = pipe.search_sync(query, final_k=top_k, candidates_k=candidates, budget_ms=budget_ms, filter=filter_)
    except CrossrankError as exc:
        raise fail(str(exc)) from None
    if as_json:
        sys.stdout.write(json.dumps(response.to_dict(), ensure_ascii=False) + "\n")
        return
    stdout.print(_hits_table(response))
    timings = "  ".join(f"{stage} {ms:.1f} ms" for stage, ms in response.timings_ms.items())
    stderr.print(f"{response.candidates} candidates, {response.reranked} reranked; {timings}", highlight=False)
    if response.degraded:
        stderr.print(f"[yellow]degraded:[/] {response.reason}", highlight=False)


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
    table = Table(title=response.query, title_justify="left")
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
        snippet = " ".join(hit.document.text.split())
        table.add_row(
            str(hit.rank),
            f"{hit.score:.4f}",
            rerank,
            f"{hit.retrieval_score:.4f}",
            str(hit.retrieval_rank),
            hit.id,
            snippet,
        )
    return table
