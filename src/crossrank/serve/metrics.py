"""Prometheus metrics of the server (prometheus_client, one registry per app)."""

from __future__ import annotations

from typing import Any


class Metrics:
    """Request counts and latencies by route and status, plus the engine's batches, pairs and queue depth."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry()
        self.requests = Counter("crossrank_requests", "HTTP requests", ["path", "status"], registry=self.registry)
        self.latency = Histogram("crossrank_request_seconds", "Request latency", ["path"], registry=self.registry)
        self.batches = Gauge("crossrank_batches", "Model calls so far", registry=self.registry)
        self.pairs = Gauge("crossrank_pairs", "Pairs scored so far", registry=self.registry)
        self.pending = Gauge("crossrank_queued_pairs", "Pairs waiting", registry=self.registry)

    def observe(self, path: str, status: int, seconds: float) -> None:
        route = path if path in ("/v1/rerank", "/v2/rerank", "/rerank", "/v1/search", "/health") else "other"
        self.requests.labels(route, str(status)).inc()
        self.latency.labels(route).observe(seconds)

    def render(self, stats: Any) -> str:
        from prometheus_client import generate_latest

        self.batches.set(stats.batches)
        self.pairs.set(stats.pairs)
        self.pending.set(stats.pending_pairs)
        return generate_latest(self.registry).decode()
