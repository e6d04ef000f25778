"""A fallback chain, e.g. hosted -> local model -> stage-1 order, that says which link answered."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from crossrank.errors import BackendUnavailableError, CrossrankError, InvalidInputError, ProviderError
from crossrank.rerank.candidates import Candidate, candidate_texts, check_query, first_stage_values
from crossrank.rerank.reranker import Reranker
from crossrank.rerank.results import RerankResult

log = logging.getLogger("crossrank.fallback")
STAGE1 = "stage-1 order"


class FallbackReranker:
    """Rerank with the first reranker that works; each result's `served_by` names it, never silently.

    A link is skipped when it raises a provider or backend error (unreachable, rate limited after retries,
    bad key); errors in the caller's input are raised at once. With `stage1_last=True` the chain ends in
    the candidates' own order (by `first_stage_scores` when given). `failures` lists what failed last call.
    """

    def __init__(self, rerankers: Sequence[Reranker], *, stage1_last: bool = True):
        if not rerankers:
            raise InvalidInputError("a fallback chain needs at least one reranker")
        self.rerankers = list(rerankers)
        self.stage1_last = stage1_last
        self.failures: list[str] = []

    @property
    def model_name(self) -> str:
        return " -> ".join([r.model_name for r in self.rerankers] + ([STAGE1] if self.stage1_last else []))

    def fusion_weight_for(self, first_stage: str | None) -> float:
        return self.rerankers[0].fusion_weight_for(first_stage)

    def rerank(self, query: str, candidates: Sequence[Candidate], **options: Any) -> list[RerankResult]:
        check_query(query)
        self.failures = []
        for reranker in self.rerankers:
            try:
                results = reranker.rerank(query, candidates, **options)
            except (ProviderError, BackendUnavailableError) as error:
                if isinstance(error, InvalidInputError):
                    raise
                self.failures.append(f"{reranker.model_name}: {error}")
                log.warning("reranker %s failed, trying the next: %s", reranker.model_name, error)
                continue
            return [replace(r, served_by=reranker.model_name) for r in results]
        if not self.stage1_last:
            raise CrossrankError("every reranker in the chain failed: " + "; ".join(self.failures))
        return self._stage1(query, candidates, options)

    async def arerank(self, query: str, candidates: Sequence[Candidate], **options: Any) -> list[RerankResult]:
        return await asyncio.to_thread(self.rerank, query, candidates, **options)

    @staticmethod
    def _stage1(query: str, candidates: Sequence[Candidate], options: dict[str, Any]) -> list[RerankResult]:
        texts = candidate_texts(candidates, options.get("text_key", "content"))
        first = first_stage_values(candidates, options.get("first_stage_scores"), options.get("first_stage_key"))
        order = sorted(range(len(texts)), key=lambda i: -first[i]) if first is not None else range(len(texts))
        top_k = options.get("top_k")
        chosen = list(order)[: top_k if top_k is not None else len(texts)]
        return [
            RerankResult(
                index=i,
                score=float(len(texts) - rank),
                model_score=float("nan"),
                text=texts[i],
                document=candidates[i],
                truncated=False,
                first_stage_score=None if first is None else first[i],
                served_by=STAGE1,
            )
            for rank, i in enumerate(chosen)
        ]
