"""The weights of the final ranking, with the defaults and how they are saved."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from crossrank.errors import InvalidInputError


@dataclass(frozen=True)
class ScoringWeights:
    """Multipliers of each log-odds contribution (see `crossrank.score.factors`).

    `retrieval`: None keeps stage 2's relevance (the cross-encoder fused with the stage-1 score by the
    model's own weight); a number w in [0, 1] re-mixes it as (1 - w) cross-encoder + w stage 1, so 0 means
    the cross-encoder alone. `supersession` is the log-odds taken from a version that a newer one replaced.
    `strength` is ACT-R's maximum associative strength S (None: ln of the number of stored documents).

    Defaults were chosen on the dev split of the temporal benchmark (`crossrank.eval.temporal`), never its test
    split, and by scale: B - B_ref spans about +-10 log odds over real histories, so recency 0.1 keeps use and
    age to about +-1 (a tie-breaker among comparably relevant documents); confidence 0.25 moves a 0.95 source
    about 0.6 above a 0.6 one; a superseded version loses 8, more than the relevance spread of a candidate list.
    """

    retrieval: float | None = None
    recency: float = 0.1
    relations: float = 1.0
    confidence: float = 0.25
    supersession: float = 8.0
    decay: float = 0.5
    strength: float | None = None

    def __post_init__(self) -> None:
        if self.retrieval is not None and not 0.0 <= self.retrieval <= 1.0:
            raise InvalidInputError(f"retrieval weight must be in [0, 1], got {self.retrieval}")
        for name in ("recency", "relations", "confidence", "supersession"):
            if getattr(self, name) < 0:
                raise InvalidInputError(f"{name} weight must be >= 0, got {getattr(self, name)}")
        if not 0.0 < self.decay < 1.0:
            raise InvalidInputError(f"decay must be in (0, 1), got {self.decay}")

    def with_(self, **changes: Any) -> ScoringWeights:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ScoringWeights:
        known = {f.name for f in fields(cls)}
        unknown = set(raw) - known
        if unknown:
            raise InvalidInputError(f"unknown scoring weights {sorted(unknown)}; known: {sorted(known)}")
        return cls(**raw)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> ScoringWeights:
        try:
            raw = json.loads(Path(path).read_text())
        except FileNotFoundError:
            raise InvalidInputError(f"weights file not found: {path}") from None
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"{path} is not valid JSON: {exc.msg}") from exc
        if not isinstance(raw, dict):
            raise InvalidInputError(f"{path} must hold a JSON object of weights")
        return cls.from_dict(raw)
