"""`crossrank serve`: the rerank server on uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from crossrank.cli.output import fail, stderr
from crossrank.errors import CrossrankError


def serve(
    model: Annotated[str | None, typer.Option(help="Reranker folder, Hugging Face id, or provider:model.")] = None,
    host: Annotated[str, typer.Option(help="Address to bind (127.0.0.1: this machine only).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
    api_key: Annotated[
        str | None, typer.Option(envvar="CROSSRANK_API_KEY", help="Require this key (Bearer); also $CROSSRANK_API_KEY.")
    ] = None,
    store: Annotated[str | None, typer.Option(help="Embedded store for POST /v1/search.")] = None,
    batching: Annotated[bool, typer.Option(help="Batch concurrent requests into one model call.")] = True,
    max_documents: Annotated[int, typer.Option(min=1, help="Documents per request.")] = 1000,
    threads: Annotated[
        int | None,
        typer.Option(min=1, help="Inference threads (default: all cores; measured faster than leaving one for HTTP)."),
    ] = None,
) -> None:
    """Serve reranking over HTTP in Cohere's (/v2/rerank, /v1/rerank) and TEI's (/rerank) schemas."""
    try:
        import uvicorn

        from crossrank.serve.app import create_app
    except ImportError as exc:
        raise fail(
            f"crossrank serve needs the server extra ({exc.name} is missing): pip install 'crossrank[serve]'"
        ) from None
    from crossrank.rerank.reranker import Reranker

    try:
        reranker = Reranker(model, threads=threads)
        pipeline = None
        if store is not None:
            from crossrank.pipeline import Pipeline

            pipeline = Pipeline.open(store, reranker=reranker)
        app = create_app(reranker, api_key=api_key, batching=batching, max_documents=max_documents, pipeline=pipeline)
    except CrossrankError as exc:
        raise fail(str(exc)) from None
    stderr.print(f"crossrank serving {reranker.model_name} on http://{host}:{port} (docs at /docs)")
    uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=30)
