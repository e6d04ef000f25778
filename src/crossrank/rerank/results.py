"""What rerank() returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RerankResult:
    """One candidate after reranking.

    `score` is what the ranking is sorted by: the model's probability (or logit with raw=True), or the
    fused score when first-stage scores were given. `document` is the caller's object, untouched.
    """

    index: int  # position in the caller's candidate list
    score: float
    model_score: float
    text: str
    document: Any
    truncated: bool  # the document was cut to fit the model's max_length
    first_stage_score: float | None = None
    served_by: str | None = None  # which reranker of a fallback chain produced this score
    chunk: tuple[int, int] | None = None  # with max_tokens_per_doc: the best window's character span
    model_logit: float | None = None  # the model's raw log-odds (model_score is its calibrated probability)

    @property
    def id(self) -> Any:
        """The candidate's "id" (or "_id") field when it is a mapping; else its index."""
        if isinstance(self.document, Mapping):
            for key in ("id", "_id", "doc_id"):
                if key in self.document:
                    return self.document[key]
        return self.index

    def to_dict(self) -> dict[str, Any]:
        """A new dict: the candidate's fields (or {"content": text}) plus score, index and the rest."""
        base = dict(self.document) if isinstance(self.document, Mapping) else {"content": self.text}
        base.update(
            score=self.score,
            index=self.index,
            model_score=self.model_score,
            truncated=self.truncated,
        )
        if self.first_stage_score is not None:
            base["first_stage_score"] = self.first_stage_score
        if self.chunk is not None:
            base["chunk"] = list(self.chunk)
        if self.served_by is not None:
            base["served_by"] = self.served_by
        return base
