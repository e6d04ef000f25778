"""Retrieve, then rerank (then optionally score): the async pipeline with a latency budget.

Stage 1 is any `Retriever`; stage 2 the cross-encoder `Reranker`; stage 3 an optional `Stage3`
callable (the multi-factor scoring plugs in there). Under `budget_ms` the pipeline reranks as many
candidates as its measured per-pair cost allows, and if the reranker fails or runs past the budget it
answers with the stage-1 order, `degraded=True` and the reason, instead of raising.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from crossrank.budget import RerankCostModel
from crossrank.errors import InvalidInputError
from crossrank.rerank.candidates import check_query
from crossrank.rerank.reranker import Reranker
from crossrank.retrieve.documents import Document, Retrieved
from crossrank.retrieve.embedder import Embedder
from crossrank.retrieve.filters import Filter
from crossrank.retrieve.ingest import EmbeddingStore
from crossrank.retrieve.retrievers import Retriever, store_retriever
from crossrank.retrieve.store import LanceStore
from crossrank.score.weights import ScoringWeights

log = logging.getLogger("crossrank.pipeline")


@dataclass(frozen=True)
class SearchHit:
    """One result, with every stage's view of it.

    `score` is the final score the list is sorted by; `retrieval_score`/`retrieval_rank` come from
    stage 1 (`retrieval_scores` per underlying retriever for hybrid); `rerank_score` is the cross-encoder
    probability and `rerank_rank` its rank by that probability alone (None when not reranked).
    """

    document: Document
    score: float
    rank: int
    retrieval_score: float
    retrieval_rank: int
    retrieval_scores: dict[str, float] = field(default_factory=dict)
    rerank_score: float | None = None
    rerank_logit: float | None = None  # the model's raw log-odds; stage 3 adds its factors to these
    rerank_rank: int | None = None
    truncated: bool = False
    factors: dict[str, Any] = field(default_factory=dict)  # filled by stage 3

    @property
    def id(self) -> str:
        return self.document.id

    def to_dict(self) -> dict[str, Any]:
        out = {
            "id": self.id,
            "rank": self.rank,
            "score": self.score,
            "retrieval_score": self.retrieval_score,
            "retrieval_rank": self.retrieval_rank,
            "rerank_score": self.rerank_score,
            "rerank_rank": self.rerank_rank,
            "document": self.document.to_dict(),
        }
        if self.retrieval_scores:
            out["retrieval_scores"] = dict(self.retrieval_scores)
        if self.truncated:
            out["truncated"] = True
        if self.factors:
            out["factors"] = dict(self.factors)
        return out


@dataclass(frozen=True)
class SearchResponse:
    """The hits, best first, with stage timings (ms) and whether the answer was degraded, and why."""

    query: str
    hits: list[SearchHit]
    timings_ms: dict[str, float]
    candidates: int  # how many stage 1 returned
    reranked: int  # how many of those the cross-encoder scored
    degraded: bool = False
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "hits": [hit.to_dict() for hit in self.hits],
            "timings_ms": dict(self.timings_ms),
            "candidates": self.candidates,
            "reranked": self.reranked,
            "degraded": self.degraded,
            "reason": self.reason,
        }


class Stage3(Protocol):
    """A final scoring step: takes the query and the reranked hits, returns them rescored and reordered."""

    def __call__(self, query: str, hits: list[SearchHit]) -> list[SearchHit]: ...


class Pipeline:
    """Stage 1 retrieval -> stage 2 cross-encoder -> optional stage 3 scoring.

    >>> pipe = Pipeline.open("./kb")                                    # doctest: +SKIP
    >>> pipe.add([{"id": "a1", "content": "JWT access tokens expire after 15 minutes."}])  # doctest: +SKIP
    >>> response = pipe.search_sync("how do JWT tokens expire", final_k=5)          # doctest: +SKIP
    """

    def __init__(
        self,
        retriever: Retriever,
        reranker: Reranker | None = None,
        *,
        store: EmbeddingStore | None = None,
        stage3: Stage3 | None = None,
        fusion_weight: float | None = None,
        record_accesses: bool = True,
    ):
        """`record_accesses`: note returned documents in the store's access log (recency and frequency).

        `fusion_weight`: weight of the cross-encoder against the stage-1 score in the final order
        (None: the model's own weight for this kind of retriever, chosen on held-out data; 1.0: the
        cross-encoder alone)."""
        self.retriever = retriever
        self.reranker = reranker
        self.store = store
        self.stage3 = stage3
        if fusion_weight is not None and not 0.0 <= fusion_weight <= 1.0:
            raise InvalidInputError(f"fusion_weight must be in [0, 1], got {fusion_weight}")
        self.fusion_weight = fusion_weight
        self.record_accesses = record_accesses
        self.cost = RerankCostModel()
        self._sync_loop: asyncio.AbstractEventLoop | None = None
        if reranker is not None:
            self._calibrate()

    @classmethod
    def open(
        cls,
        path: str | Path,
        *,
        embedder: Embedder | None = None,
        reranker: Reranker | str | Path | None = "default",
        mode: str = "hybrid",
        weights: dict[str, float] | None = None,
        scoring: ScoringWeights | bool = True,
        **options: Any,
    ) -> Pipeline:
        """An embedded store at `path` (created if new) with the default embedder, reranker and scoring.

        `reranker`: a Reranker, a model name/path, "default", or None for retrieval only.
        `mode`: stage 1 as `hybrid` (dense + BM25, reciprocal rank fusion), `dense` or `bm25`.
        `scoring`: stage 3 with default weights (True), given `ScoringWeights`, or off (False).
        """
        from crossrank.score.scorer import CognitiveScorer

        store = LanceStore(path, embedder)
        model = reranker if isinstance(reranker, Reranker) or reranker is None else Reranker(reranker)
        if scoring is not False and "stage3" not in options:
            options["stage3"] = CognitiveScorer(store, None if scoring is True else scoring)
        return cls(store_retriever(store, mode, weights), model, store=store, **options)

    # -- documents ------------------------------------------------------------------------------

    def add(self, documents: Sequence[object], *, show_progress: bool = False) -> int:
        """Insert or replace documents in the pipeline's store (see `EmbeddingStore.add`)."""
        return self._own_store().add(documents, show_progress=show_progress)

    def delete(self, ids: Sequence[str]) -> int:
        """Delete documents by id from the pipeline's store."""
        return self._own_store().delete(ids)

    def _own_store(self) -> EmbeddingStore:
        if self.store is None:
            raise InvalidInputError("this pipeline has no store of its own: add documents to your retriever's store")
        return self.store

    def feedback(self, doc_id: str, *, useful: bool = True) -> None:
        """Tell the pipeline a returned document was (not) useful; useful ones gain base-level activation."""
        if not isinstance(doc_id, str) or not doc_id:
            raise InvalidInputError("feedback() needs the id of a stored document")
        store = self._own_store()
        if not isinstance(store, LanceStore):
            raise InvalidInputError("feedback needs the embedded store's access log")
        store.accesses.record([doc_id], "useful" if useful else "not_useful")

    # -- search ---------------------------------------------------------------------------------

    async def search(
        self,
        query: str,
        *,
        final_k: int = 5,
        candidates_k: int = 30,
        budget_ms: float | None = None,
        filter: Filter | None = None,
        rerank: bool = True,
    ) -> SearchResponse:
        """The best `final_k` documents: stage 1 returns `candidates_k`, the cross-encoder reorders them.

        `rerank=False` skips stage 2 (stage-1 order); `filter` restricts stage 1 on metadata.
        """
        check_query(query)
        _check_positive("final_k", final_k)
        _check_positive("candidates_k", candidates_k)
        if budget_ms is not None and (isinstance(budget_ms, bool) or not budget_ms > 0):
            raise InvalidInputError(f"budget_ms must be a positive number, got {budget_ms!r}")
        started = time.perf_counter()
        candidates = await self.retriever.query(query, max(candidates_k, final_k), filter)
        timings = {"retrieve": _since(started)}
        hits = [hit_from(c) for c in candidates]
        if rerank:
            outcome = await self._rerank_stage(query, hits, candidates_k, budget_ms, timings)
        else:
            outcome = _Outcome(hits, 0)
        hits = outcome.hits
        if self.stage3 is not None:
            stage3_started = time.perf_counter()
            hits = self.stage3(query, hits)
            timings["score"] = _since(stage3_started)
        timings["total"] = _since(started)
        final = [replace(hit, rank=rank) for rank, hit in enumerate(hits[:final_k], 1)]
        if self.record_accesses and isinstance(self.store, LanceStore):
            self.store.accesses.record([hit.id for hit in final], "returned")
        return SearchResponse(
            query, final, timings, len(candidates), outcome.reranked, outcome.degraded, outcome.reason
        )

    def search_sync(self, query: str, **options: Any) -> SearchResponse:
        """`search` for scripts (not from inside a running event loop: there, `await search(...)`).

        Calls share one private event loop (and its worker threads), so repeated calls pay no loop set-up.
        """
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            if self._sync_loop is None or self._sync_loop.is_closed():
                self._sync_loop = asyncio.new_event_loop()
            return self._sync_loop.run_until_complete(self.search(query, **options))
        raise InvalidInputError("search_sync() was called inside an event loop: use `await pipeline.search(...)`")

    def close(self) -> None:
        """Write pending accesses to disk and release the event loop of `search_sync` (the pipeline stays usable)."""
        if isinstance(self.store, LanceStore):
            self.store.flush_accesses()
        if self._sync_loop is not None and not self._sync_loop.is_closed():
            self._sync_loop.run_until_complete(self._sync_loop.shutdown_default_executor())
            self._sync_loop.close()

    # -- stage 2 --------------------------------------------------------------------------------

    async def _rerank_stage(
        self, query: str, hits: list[SearchHit], candidates_k: int, budget_ms: float | None, timings: dict[str, float]
    ) -> _Outcome:
        pool = hits[:candidates_k]
        if self.reranker is None or not pool:
            return _Outcome(hits, 0)
        count = len(pool)
        if budget_ms is not None:
            count = self.cost.affordable(budget_ms - timings["retrieve"], len(pool))
            if count == 0:
                reason = f"stage 1 took {timings['retrieve']:.1f} ms of the {budget_ms:g} ms budget: no time to rerank"
                return _Outcome(hits, 0, True, reason)
        started = time.perf_counter()
        try:
            reranked = await self._timed_rerank(query, pool[:count], budget_ms, timings["retrieve"])
        except asyncio.TimeoutError:  # not the builtin TimeoutError before Python 3.11
            reason = f"the reranker ran past the {budget_ms:g} ms budget; stage-1 order returned"
            return _Outcome(hits, 0, True, reason)
        except Exception as exc:  # a failing model must not fail the search: fall back, say why
            log.warning("reranker failed, returning stage-1 order: %s", exc)
            return _Outcome(hits, 0, True, f"the reranker failed ({type(exc).__name__}: {exc}); stage-1 order returned")
        finally:
            timings["rerank"] = _since(started)
        # candidates beyond what the budget allowed keep their stage-1 order, after the reranked ones
        return _Outcome(reranked + hits[count:], count)

    async def _timed_rerank(
        self, query: str, pool: list[SearchHit], budget_ms: float | None, spent_ms: float
    ) -> list[SearchHit]:
        task = asyncio.create_task(asyncio.to_thread(self._rerank, query, pool))
        task.add_done_callback(_consume_exception)  # a late failure after a timeout is not an unhandled error
        if budget_ms is None:
            return await task
        remaining_s = max(budget_ms - spent_ms, 0.0) / 1000.0
        # shield: on timeout the worker thread finishes anyway and still teaches the cost model
        return await asyncio.wait_for(asyncio.shield(task), timeout=remaining_s)

    def _rerank(self, query: str, pool: list[SearchHit]) -> list[SearchHit]:
        assert self.reranker is not None
        started = time.perf_counter()
        weight = self.fusion_weight
        if weight is None:
            weight = self.reranker.fusion_weight_for(getattr(self.retriever, "fusion_key", None))
        reranked = rerank_hits(self.reranker, query, pool, weight)
        self.cost.observe(len(pool), _since(started))
        return reranked

    def _calibrate(self) -> None:
        """Warm the reranker up and take a first per-pair cost from a real run of 16 pairs."""
        assert self.reranker is not None
        sentence = "Calibration text for measuring the reranker's cost per candidate pair on this machine. "
        started = time.perf_counter()
        self.reranker.rerank("calibration query", [sentence * 4] * 16)
        self.cost.observe(16, _since(started))


def rerank_hits(
    reranker: Reranker, query: str, hits: Sequence[SearchHit], fusion_weight: float | None = None
) -> list[SearchHit]:
    """Cross-encoder scores for `hits`, fused with their stage-1 scores; returned best first."""
    results = reranker.rerank(
        query,
        [hit.document.text for hit in hits],
        first_stage_scores=[hit.retrieval_score for hit in hits],
        fusion_weight=fusion_weight,
    )
    by_model = sorted(range(len(results)), key=lambda i: -results[i].model_score)
    model_rank = {results[i].index: rank for rank, i in enumerate(by_model, 1)}
    return [
        replace(
            hits[r.index],
            score=r.score,
            rerank_score=r.model_score,
            rerank_logit=r.model_logit,
            rerank_rank=model_rank[r.index],
            truncated=r.truncated,
        )
        for r in results
    ]


def hit_from(candidate: Retrieved) -> SearchHit:
    """A stage-1 candidate as a hit that has not been reranked yet."""
    return SearchHit(
        document=candidate.document,
        score=candidate.score,
        rank=candidate.rank,
        retrieval_score=candidate.score,
        retrieval_rank=candidate.rank,
        retrieval_scores=dict(candidate.scores),
    )


@dataclass(frozen=True)
class _Outcome:
    hits: list[SearchHit]
    reranked: int
    degraded: bool = False
    reason: str | None = None


def _consume_exception(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.debug("late reranker failure after the search answered: %s", task.exception())


def _check_positive(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInputError(f"{name} must be a positive integer, got {value!r}")


def _since(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0


__all__ = ["Pipeline", "SearchHit", "SearchResponse", "Stage3", "hit_from", "rerank_hits"]
