"""The inference engine: a bounded queue of rerank jobs, batched across concurrent requests.

Requests put (query, documents) jobs on an asyncio queue. One worker takes the first job, then gathers
more for up to `max_wait_ms` if alone, or until the batch holds `max_batch_pairs` pairs, and scores them all in one
`Reranker.predict` call in a worker thread (the model sorts pairs by length into padded micro-batches).
So the event loop never runs the model, and many small requests share one model call. With
`batching=False` the worker scores one job per call: the same queue, the baseline for the load test.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from crossrank.errors import CrossrankError
from crossrank.rerank.reranker import Reranker


class QueueFullError(CrossrankError):
    """Too much work is waiting; the client should retry after `retry_after_s`."""

    def __init__(self, retry_after_s: float):
        super().__init__(f"the server is busy; retry in {retry_after_s:g} s")
        self.retry_after_s = retry_after_s


@dataclass
class Job:
    query: str
    documents: Sequence[str]
    future: asyncio.Future[np.ndarray]
    queued_at: float = field(default_factory=time.perf_counter)
    started_at: float = 0.0


@dataclass
class EngineStats:
    batches: int = 0
    pairs: int = 0
    jobs: int = 0
    pending_pairs: int = 0


class ScoringEngine(Protocol):
    """What the HTTP layer needs from an engine: start, stop, score a job, and counters."""

    stats: EngineStats

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def score(self, query: str, documents: Sequence[str]) -> tuple[np.ndarray, float, float]: ...


class BatchingEngine:
    """Scores jobs on one worker; `score` returns log-odds per document, plus queue and inference times (ms)."""

    def __init__(
        self,
        reranker: Reranker,
        *,
        batching: bool = True,
        max_batch_pairs: int = 256,
        max_wait_ms: float = 2.0,
        max_pending_pairs: int = 8192,
    ):
        self.reranker = reranker
        self.batching = batching
        self.max_batch_pairs = max_batch_pairs
        self.max_wait_s = max_wait_ms / 1000.0
        self.max_pending_pairs = max_pending_pairs
        self.stats = EngineStats()
        self._queue: asyncio.Queue[Job] | None = None
        self._worker: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._queue = asyncio.Queue()
        self._worker = asyncio.create_task(self._run(), name="crossrank-engine")

    async def stop(self) -> None:
        """Finish every queued job, then stop the worker."""
        if self._queue is not None:
            await self._queue.join()
        if self._worker is not None:
            self._worker.cancel()

    async def score(self, query: str, documents: Sequence[str]) -> tuple[np.ndarray, float, float]:
        """Log-odds of each document for the query, queue wait (ms) and inference time (ms) of its batch."""
        assert self._queue is not None, "engine not started"
        if self.stats.pending_pairs + len(documents) > self.max_pending_pairs:
            raise QueueFullError(retry_after_s=1.0)
        job = Job(query, documents, asyncio.get_running_loop().create_future())
        self.stats.pending_pairs += len(documents)
        await self._queue.put(job)
        logits = await job.future
        finished = time.perf_counter()
        return logits, (job.started_at - job.queued_at) * 1000, (finished - job.started_at) * 1000

    async def _run(self) -> None:
        assert self._queue is not None
        while True:
            batch = await self._gather()
            started = time.perf_counter()
            for job in batch:
                job.started_at = started
            pairs = [(job.query, doc) for job in batch for doc in job.documents]
            try:
                logits = await asyncio.to_thread(self.reranker.predict, pairs, raw=True)
            except Exception as exc:  # the requests fail; the engine keeps serving
                for job in batch:
                    if not job.future.done():
                        job.future.set_exception(exc)
            else:
                self._deliver(batch, logits)
            finally:
                self.stats.batches += 1
                self.stats.pairs += len(pairs)
                self.stats.jobs += len(batch)
                self.stats.pending_pairs -= len(pairs)
                for _ in batch:
                    self._queue.task_done()

    async def _gather(self) -> list[Job]:
        """The first waiting job, plus every job queued by then (up to `max_batch_pairs`): continuous batching.

        While the model runs, new requests queue up, so the next batch grows with the load by itself. Only
        a lone job waits `max_wait_ms` once, in case others are about to arrive.
        """
        assert self._queue is not None
        batch = [await self._queue.get()]
        if not self.batching:
            return batch
        if self._queue.empty() and self.max_wait_s > 0:
            await asyncio.sleep(self.max_wait_s)
        size = len(batch[0].documents)
        while size < self.max_batch_pairs and not self._queue.empty():
            job = self._queue.get_nowait()
            batch.append(job)
            size += len(job.documents)
        return batch

    @staticmethod
    def _deliver(batch: list[Job], logits: np.ndarray) -> None:
        start = 0
        for job in batch:
            end = start + len(job.documents)
            if not job.future.done():  # a client may have gone away
                job.future.set_result(logits[start:end])
            start = end
