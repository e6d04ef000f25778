"""Stage 3: rescore reranked hits with recency/frequency, relations, confidence and versions, and explain it.

final = relevance + w_recency (B - B_ref) + w_relations S + w_confidence C - w_supersession [superseded]

All terms are log odds (see `factors`). `relevance` is the cross-encoder logit, or stage 2's fused score
mapped onto the same logit range. A document with no metadata gets 0 from every other term, so its place
follows relevance alone.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from crossrank.rerank.fusion import minmax
from crossrank.rerank.scores import logit
from crossrank.score.entities import extract_entities
from crossrank.score.factors import (
    base_level_activation,
    base_level_reference,
    confidence_log_odds,
    spreading_activation,
    superseded,
)
from crossrank.score.memory import AccessLog, VersionIndex
from crossrank.score.weights import ScoringWeights

if TYPE_CHECKING:
    from crossrank.pipeline import SearchHit

FACTORS = ("relevance", "recency", "relations", "confidence", "supersession")
_YEAR = re.compile(r"\b((?:19|20)\d{2})\b")
_PAST = re.compile(
    r"\b(previous(?:ly)?|former(?:ly)?|older|original(?:ly)?|used to|earlier|history|historical)\b", re.I
)


class ScoringMemory(Protocol):
    """What the scorer reads from a store: versions, entity fan-out and access histories."""

    @property
    def accesses(self) -> AccessLog: ...

    def version_index(self) -> VersionIndex: ...


class CognitiveScorer:
    """The multi-factor final ranking; a `Stage3` for `Pipeline(stage3=...)`.

    `memory` is the store (LanceStore) whose versions, entities and access log are read; without one,
    versions and entity fan-out are taken from the candidates alone and recency uses creation times only.
    """

    def __init__(
        self,
        memory: ScoringMemory | None = None,
        weights: ScoringWeights | None = None,
        *,
        extract_document_entities: bool = False,
        clock: Callable[[], float] = time.time,
    ):
        self.memory = memory
        self.weights = weights or ScoringWeights()
        self.extract_document_entities = extract_document_entities
        self.clock = clock

    def __call__(self, query: str, hits: list[SearchHit]) -> list[SearchHit]:
        if not hits:
            return hits
        scored = [h for h in hits if h.rerank_score is not None] or list(hits)
        unscored = [h for h in hits if h not in scored]
        relevance = self._relevance(scored)
        context = self._context(query, scored)
        rescored = [self._score(hit, rel, context) for hit, rel in zip(scored, relevance)]
        rescored.sort(key=lambda h: -h.score)
        return rescored + unscored

    # -- factors ------------------------------------------------------------------------------

    def _relevance(self, hits: Sequence[SearchHit]) -> list[float]:
        """Relevance in log odds: the cross-encoder logit, blended with stage 1 as the weights say."""
        if all(h.rerank_logit is not None for h in hits):  # the model's raw log-odds, before any calibration
            logits = np.array([h.rerank_logit for h in hits], dtype=np.float64)
        elif all(h.rerank_score is not None for h in hits):  # a reranker that gives probabilities only
            logits = logit(np.array([h.rerank_score for h in hits], dtype=np.float64))
        else:  # no cross-encoder ran: stage-1 order over a 4-log-odds span
            logits = 4.0 * minmax([h.score for h in hits])
        low, spread = float(logits.min()), float(logits.max() - logits.min())
        w = self.weights.retrieval
        if w == 0.0 or spread == 0.0:
            return [float(v) for v in logits]
        if w is None:
            blend = minmax([h.score for h in hits])  # stage 2's own (fused) order
        else:
            blend = (1 - w) * minmax(logits) + w * minmax([h.retrieval_score for h in hits])
        return [float(v) for v in low + spread * blend]

    def _context(self, query: str, hits: Sequence[SearchHit]) -> dict[str, Any]:
        index = self.memory.version_index() if self.memory is not None else _index_of(hits)
        ids = [h.document.id for h in hits]
        histories = self.memory.accesses.histories(ids) if self.memory is not None else {}
        years = [int(y) for y in _YEAR.findall(query)]
        strength = self.weights.strength if self.weights.strength is not None else math.log(max(index.documents, 2))
        return {
            "index": index,
            "histories": histories,
            "query_entities": extract_entities(query),
            "target_time": _end_of_year(max(years)) if years else None,
            "asks_past": bool(_PAST.search(query)),
            "strength": strength,
            "now": self.clock(),
        }

    def _score(self, hit: SearchHit, relevance: float, context: dict[str, Any]) -> SearchHit:
        w = self.weights
        document = hit.document
        created = document.created_at.timestamp() if document.created_at else None
        accesses = ([created] if created is not None else []) + context["histories"].get(document.id, [])
        activation = base_level_activation(accesses, context["now"], w.decay)
        recency = 0.0 if activation is None else activation - base_level_reference(w.decay)
        entities = list(document.entities) or (
            extract_entities(document.text) if self.extract_document_entities else []
        )
        relations = spreading_activation(context["query_entities"], entities, context["index"].fan, context["strength"])
        corroborations = int(document.extra.get("corroborations", 0) or 0)
        confidence = confidence_log_odds(document.confidence, corroborations)
        old = _is_outdated(document.key, created, context)
        factors: dict[str, dict[str, Any]] = {
            "relevance": {"value": relevance, "contribution": relevance},
            "recency": {"value": activation, "contribution": w.recency * recency, "accesses": len(accesses)},
            "relations": {
                "value": relations,
                "contribution": w.relations * relations,
                "shared": sorted(set(context["query_entities"]) & {e.casefold() for e in entities}),
            },
            "confidence": {"value": document.confidence, "contribution": w.confidence * confidence},
            "supersession": {"value": old, "contribution": -w.supersession if old else 0.0},
        }
        final = sum(f["contribution"] for f in factors.values())
        return replace(hit, score=final, factors=factors)


def _is_outdated(key: str | None, created: float | None, context: dict[str, Any]) -> bool:
    """Superseded by a newer version, unless the query asks about the past (a year, or words like 'previous')."""
    index: VersionIndex = context["index"]
    if key is None or created is None:
        return False
    if context["target_time"] is not None:
        valid = index.valid_at(key, context["target_time"])
        return valid is not None and abs(valid - created) > 1.0
    if context["asks_past"]:
        return False
    return superseded(created, index.newest(key))


def _index_of(hits: Sequence[SearchHit]) -> VersionIndex:
    documents = [h.document for h in hits]
    created = [d.created_at.timestamp() if d.created_at else None for d in documents]
    return VersionIndex.build([d.key for d in documents], created, [d.entities for d in documents])


def _end_of_year(year: int) -> float:
    return datetime(year, 12, 31, 23, 59, 59, tzinfo=timezone.utc).timestamp()
