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
    ray: Annotated[bool, typer.Option("--ray", help="Serve on Ray Serve: the model on --replicas replicas.")] = False,
    replicas: Annotated[int, typer.Option(min=1, help="Ray: model replicas (one model copy each).")] = 2,
    min_replicas: Annotated[int | None, typer.Option(min=0, help="Ray: autoscale down to this many.")] = None,
    max_replicas: Annotated[int | None, typer.Option(min=1, help="Ray: autoscale up to this many.")] = None,
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

    if ray:
        _serve_on_ray(model, host, port, api_key, max_documents, threads, replicas, min_replicas, max_replicas, store)
        return
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


def _serve_on_ray(
    model: str | None,
    host: str,
    port: int,
    api_key: str | None,
    max_documents: int,
    threads: int | None,
    replicas: int,
    min_replicas: int | None,
    max_replicas: int | None,
    store: str | None,
) -> None:
    if store is not None:
        raise fail("--store is not available with --ray yet: /v1/search runs in `crossrank serve` without --ray")
    try:
        from crossrank.serve import ray_serve
    except ImportError as exc:
        raise fail(f"--ray needs Ray Serve ({exc.name} is missing): pip install 'crossrank[ray]'") from None
    stderr.print(f"crossrank on Ray Serve: {replicas} replica(s), http://{host}:{port}")
    try:
        ray_serve.run(
            model,
            host,
            port,
            replicas=replicas,
            min_replicas=min_replicas,
            max_replicas=max_replicas,
            threads_per_replica=threads,
            api_key=api_key,
            max_documents=max_documents,
        )
    except CrossrankError as exc:
        raise fail(str(exc)) from None
