"""The HTTP layer: FastAPI routes in Cohere's and TEI's schemas over the batching engine.

Limits answer with clear 4xx bodies ({"message": ...} naming the field or limit); the API key, when set,
is compared in constant time; every response says how long it queued and ran (Server-Timing).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import numpy as np
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from tokenizers import Tokenizer

from crossrank import __version__
from crossrank.errors import CrossrankError
from crossrank.rerank.chunking import best_chunks, split_documents
from crossrank.rerank.reranker import Reranker
from crossrank.rerank.scores import Calibration
from crossrank.serve.engine import BatchingEngine, QueueFullError, ScoringEngine
from crossrank.serve.guard import Guard
from crossrank.serve.metrics import Metrics
from crossrank.serve.schemas import (
    CohereRerankRequest,
    CohereRerankResponse,
    CohereResult,
    SearchRequest,
    TeiRank,
    TeiRerankRequest,
    TextDocument,
)

MAX_BODY_BYTES = 10 * 1024 * 1024
MAX_DOCUMENTS = 1000


def create_app(
    reranker: Reranker,
    *,
    api_key: str | None = None,
    batching: bool = True,
    max_documents: int = MAX_DOCUMENTS,
    max_body_bytes: int = MAX_BODY_BYTES,
    pipeline: Any = None,
) -> FastAPI:
    """The server's ASGI app around one loaded reranker (and, for /v1/search, a Pipeline)."""
    info = {"model": reranker.model_name, "backend": reranker.backend_name, "batching": batching}
    return build_app(
        BatchingEngine(reranker, batching=batching),
        reranker.encoder.tokenizer,
        info,
        calibration=reranker.calibration,
        api_key=api_key,
        max_documents=max_documents,
        max_body_bytes=max_body_bytes,
        pipeline=pipeline,
    )


def build_app(
    engine: ScoringEngine,
    tokenizer: Tokenizer,
    info: dict[str, Any],
    *,
    calibration: Calibration | None = None,
    api_key: str | None = None,
    max_documents: int = MAX_DOCUMENTS,
    max_body_bytes: int = MAX_BODY_BYTES,
    pipeline: Any = None,
) -> FastAPI:
    """The app over any scoring engine: the in-process batcher, or replicas on Ray Serve (serve.ray_serve).

    `tokenizer` cuts long documents for max_tokens_per_doc; `info` is what /health reports; `calibration` turns
    the model's log-odds into the probabilities returned (the model's own, from its crossrank.json).
    """
    metrics = Metrics()
    to_probability = (calibration or Calibration()).probability

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await engine.start()
        yield
        await engine.stop()  # graceful: queued work finishes before the worker stops

    app = FastAPI(
        title="crossrank",
        version=__version__,
        lifespan=lifespan,
        description="Cohere- and TEI-compatible reranking with local cross-encoders.",
    )
    app.state.engine, app.state.metrics = engine, metrics

    app.add_middleware(Guard, api_key=api_key, max_body_bytes=max_body_bytes, metrics=metrics)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [f"{'.'.join(str(p) for p in e['loc'] if p != 'body') or 'body'}: {e['msg']}" for e in exc.errors()]
        return JSONResponse({"message": "; ".join(problems), "detail": jsonable(exc.errors())}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail)
        if message == "There was an error parsing the body":
            message = "the body is not valid JSON (or not UTF-8)"
        return JSONResponse({"message": message}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RecursionError)
    async def too_deep(request: Request, exc: RecursionError) -> JSONResponse:
        return JSONResponse({"message": "JSON body is nested too deeply"}, status_code=400)

    @app.exception_handler(QueueFullError)
    async def busy(request: Request, exc: QueueFullError) -> JSONResponse:
        return JSONResponse(
            {"message": str(exc)}, status_code=503, headers={"Retry-After": str(int(exc.retry_after_s))}
        )

    @app.exception_handler(CrossrankError)
    async def refused(request: Request, exc: CrossrankError) -> JSONResponse:
        return JSONResponse({"message": str(exc)}, status_code=400)

    async def score(
        request: Request, query: str, texts: list[str], max_tokens: int | None
    ) -> tuple[np.ndarray, list[Any]]:
        if len(texts) > max_documents:
            raise CrossrankError(f"too many documents: {len(texts)} > {max_documents} per request")
        spans: list[Any] = [None] * len(texts)
        pieces, owners = texts, list(range(len(texts)))
        windows: list[tuple[int, int]] = []
        if max_tokens is not None:
            pieces, owners, windows = split_documents(tokenizer, texts, max_tokens)
        logits, queued_ms, infer_ms = await engine.score(query, pieces)
        request.state.timings = {"queue": queued_ms, "inference": infer_ms}
        if max_tokens is not None:
            logits, best = best_chunks(logits, owners, windows, len(texts))
            spans = list(best)
        return logits, spans

    async def cohere(request: Request, body: CohereRerankRequest, version: str) -> Response:
        texts = [d if isinstance(d, str) else d.text for d in body.documents]
        logits, spans = await score(request, body.query, texts, body.max_tokens_per_doc)
        probabilities = to_probability(logits)
        order = np.argsort(-probabilities, kind="stable")[: body.top_n]
        results = [
            CohereResult(
                index=int(i),
                relevance_score=float(probabilities[i]),
                document=TextDocument(text=texts[i]) if body.return_documents else None,
                chunk=spans[i],
            )
            for i in order
        ]
        meta = {"api_version": {"version": version}, "billed_units": {"search_units": 1}}
        answer = CohereRerankResponse(id=str(uuid.uuid4()), results=results, meta=meta)
        return _json(answer.model_dump_json(exclude_none=True))

    @app.post("/v2/rerank", response_model=CohereRerankResponse, response_model_exclude_none=True)
    async def rerank_v2(request: Request, body: CohereRerankRequest) -> Response:
        """Cohere v2 rerank: results best first, with index and relevance_score."""
        return await cohere(request, body, "2")

    @app.post("/v1/rerank", response_model=CohereRerankResponse, response_model_exclude_none=True)
    async def rerank_v1(request: Request, body: CohereRerankRequest) -> Response:
        """Cohere v1 rerank."""
        return await cohere(request, body, "1")

    @app.post("/rerank", response_model=list[TeiRank], response_model_exclude_none=True)
    async def rerank_tei(request: Request, body: TeiRerankRequest) -> list[TeiRank]:
        """Hugging Face TEI rerank: [{index, score}] best first; raw_scores gives logits."""
        if body.truncation_direction.lower() == "left":
            raise CrossrankError(
                "truncation_direction Left is not supported: crossrank truncates documents on the right"
            )
        logits, _ = await score(request, body.query, body.texts, None)
        scores = logits if body.raw_scores else to_probability(logits)
        order = np.argsort(-scores, kind="stable")
        return [
            TeiRank(index=int(i), score=float(scores[i]), text=body.texts[i] if body.return_text else None)
            for i in order
        ]

    @app.post("/v1/search")
    async def search(body: SearchRequest) -> dict[str, Any]:
        """Retrieve, rerank and score over the server's store (start the server with --store)."""
        if pipeline is None:
            return JSONResponse({"message": "this server has no store: start it with --store DIR"}, status_code=404)  # type: ignore[return-value]
        response = await pipeline.search(
            body.query, final_k=body.top_k, candidates_k=body.candidates_k, budget_ms=body.budget_ms, filter=body.filter
        )
        return dict(response.to_dict())

    @app.get("/health")
    async def health() -> dict[str, Any]:
        """Liveness and what is loaded."""
        return {"status": "ok", **info, "queued_pairs": engine.stats.pending_pairs}

    @app.get("/metrics", response_class=PlainTextResponse)
    async def prometheus() -> PlainTextResponse:
        """Prometheus text exposition."""
        return PlainTextResponse(metrics.render(engine.stats), media_type="text/plain; version=0.0.4")

    return app


def _json(text: str) -> Response:
    """A JSON body serialised once by pydantic (FastAPI would validate and serialise the model again)."""
    return Response(text, media_type="application/json")


def jsonable(errors: Any) -> Any:
    """Validation errors with anything not JSON-serialisable turned into text."""
    return json.loads(json.dumps(errors, default=str))
