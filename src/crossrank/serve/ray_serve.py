"""crossrank on Ray Serve: the same HTTP API as `crossrank serve`, with the model on N replicas.

Two deployments:
* `RerankerReplica` holds one model copy, batches concurrent jobs with `@serve.batch`, and runs the model off
  its event loop. Replicas scale between bounds (or stay at a fixed count) and report health by scoring a
  pair.
* `Gateway` is the HTTP ingress: crossrank's own FastAPI app (schemas, limits, API key, metrics) over an
  engine that sends each job to a replica through a DeploymentHandle. A job whose replica dies is sent
  again, to another replica, up to `RETRIES` times; after that the client gets 503 with Retry-After.

From Python:

    from ray import serve
    from crossrank.serve.ray_serve import build_application
    serve.run(build_application(model=None, replicas=2), route_prefix="/")

or from a shell, with Ray's own CLI: `serve run crossrank.serve.ray_serve:app_builder replicas=2`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from ray import serve
from ray.exceptions import RayActorError

from crossrank.rerank.reranker import Reranker
from crossrank.rerank.scores import Calibration
from crossrank.serve.engine import EngineStats, QueueFullError

RETRIES = 3
RETRY_DELAYS_S = (0.05, 0.2, 0.5)


class ReplicaUnavailableError(QueueFullError):
    """No replica could take the job after the retries (answered 503 with Retry-After)."""

    def __init__(self, retry_after_s: float, cause: BaseException):
        super().__init__(retry_after_s)
        self.args = (
            f"no reranker replica could take the request ({type(cause).__name__}); retry in {retry_after_s:g} s",
        )


# Serve's default of 5 requests in flight per replica would starve @serve.batch; let a batch fill.
@serve.deployment(name="RerankerReplica", max_ongoing_requests=128, health_check_period_s=5, health_check_timeout_s=30)
class RerankerReplica:
    """One model copy; concurrent jobs are merged into one model call."""

    def __init__(self, model: str | None, threads: int | None):
        self.reranker = Reranker(model, threads=threads)

    @serve.batch(max_batch_size=64, batch_wait_timeout_s=0.002)
    async def score(self, jobs: list[tuple[str, list[str]]]) -> list[np.ndarray]:
        pairs = [(query, doc) for query, docs in jobs for doc in docs]
        logits = await asyncio.to_thread(self.reranker.predict, pairs, raw=True)
        return np.split(logits, np.cumsum([len(docs) for _, docs in jobs])[:-1])

    def check_health(self) -> None:
        """Raises (so Serve replaces the replica) when the model no longer scores."""
        self.reranker.predict([("health", "check")])


class RemoteEngine:
    """The HTTP app's engine: jobs go to RerankerReplica through a handle, retried when a replica dies."""

    def __init__(self, handle: Any):
        self.handle = handle
        self.stats = EngineStats()

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def score(self, query: str, documents: Sequence[str]) -> tuple[np.ndarray, float, float]:
        started = time.perf_counter()
        self.stats.pending_pairs += len(documents)
        try:
            logits = await self._with_retries(query, list(documents))
        finally:
            self.stats.pending_pairs -= len(documents)
        self.stats.jobs += 1
        self.stats.pairs += len(documents)
        return np.asarray(logits), 0.0, (time.perf_counter() - started) * 1000

    async def _with_retries(self, query: str, documents: list[str]) -> Any:
        for attempt in range(RETRIES + 1):
            try:
                return await self.handle.score.remote((query, documents))
            except RayActorError as exc:  # the replica died (ActorDiedError) or is unreachable
                if attempt == RETRIES:
                    raise ReplicaUnavailableError(1.0, exc) from exc
                await asyncio.sleep(RETRY_DELAYS_S[min(attempt, len(RETRY_DELAYS_S) - 1)])
        raise AssertionError("unreachable")


@serve.deployment(name="Gateway", ray_actor_options={"num_cpus": 0}, max_ongoing_requests=512)
@serve.ingress()
class Gateway:
    """HTTP ingress: crossrank's FastAPI app over the replicas."""

    def __init__(self, replicas: Any, model: str | None, options: dict[str, Any]):
        from tokenizers import Tokenizer

        from crossrank.rerank.model_source import resolve_model

        files = resolve_model(model)
        self.replicas, self.options = replicas, options
        self.tokenizer = Tokenizer.from_file(str(files.tokenizer_file))
        self.calibration = Calibration.from_settings(files.settings)
        self.info = {"model": files.name, "backend": "ray-serve", "batching": True}

    def __serve_build_asgi_app__(self) -> Any:
        from crossrank.serve.app import build_app

        engine = RemoteEngine(self.replicas)
        return build_app(engine, self.tokenizer, self.info, calibration=self.calibration, **self.options)


def build_application(
    model: str | None = None,
    *,
    replicas: int = 2,
    min_replicas: int | None = None,
    max_replicas: int | None = None,
    threads_per_replica: int | None = None,
    api_key: str | None = None,
    max_documents: int | None = None,
) -> Any:
    """The Serve application: a Gateway over `replicas` RerankerReplicas (autoscaled within bounds when given)."""
    scaling: dict[str, Any] = {"num_replicas": replicas}
    if min_replicas is not None or max_replicas is not None:
        low = min_replicas if min_replicas is not None else 1
        high = max_replicas if max_replicas is not None else max(low, replicas)
        scaling = {"autoscaling_config": {"min_replicas": low, "max_replicas": high, "target_ongoing_requests": 32}}
    cpus = float(threads_per_replica or 1)
    deployment: Any = RerankerReplica
    replica = deployment.options(ray_actor_options={"num_cpus": cpus}, **scaling).bind(model, threads_per_replica)
    options: dict[str, Any] = {"api_key": api_key}
    if max_documents is not None:
        options["max_documents"] = max_documents
    gateway: Any = Gateway
    return gateway.bind(replica, model, options)


def app_builder(args: dict[str, str]) -> Any:
    """Entry point for Ray's CLI: `serve run crossrank.serve.ray_serve:app_builder model=... replicas=2`."""

    def number(key: str) -> int | None:
        return int(args[key]) if key in args else None

    return build_application(
        args.get("model"),
        replicas=number("replicas") or 2,
        min_replicas=number("min_replicas"),
        max_replicas=number("max_replicas"),
        threads_per_replica=number("threads"),
        api_key=args.get("api_key"),
        max_documents=number("max_documents"),
    )


def run(
    model: str | None,
    host: str,
    port: int,
    *,
    replicas: int,
    min_replicas: int | None,
    max_replicas: int | None,
    threads_per_replica: int | None,
    api_key: str | None,
    max_documents: int,
) -> None:
    """Start a local Ray cluster, deploy, and serve until interrupted (`crossrank serve --ray`)."""
    import os
    import signal
    import threading

    import ray

    stop = threading.Event()

    def on_stop_signal() -> None:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())

    # Ray's crash handler would take SIGTERM too and abort the process; a stop signal here means "shut down".
    os.environ.setdefault("RAY_DISABLE_FAILURE_SIGNAL_HANDLER", "1")
    on_stop_signal()
    ray.init(include_dashboard=False, log_to_driver=False)
    try:
        serve.start(http_options={"host": host, "port": port})
        application = build_application(
            model,
            replicas=replicas,
            min_replicas=min_replicas,
            max_replicas=max_replicas,
            threads_per_replica=threads_per_replica,
            api_key=api_key,
            max_documents=max_documents,
        )
        on_stop_signal()  # again: starting Ray may have replaced the handlers
        if not stop.is_set():
            serve.run(application, name="crossrank", route_prefix="/")
        on_stop_signal()
        stop.wait()
    finally:
        serve.shutdown()
        ray.shutdown()
