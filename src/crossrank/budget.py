"""How many candidates fit a latency budget: a per-pair cost measured as the reranker runs."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class RerankCostModel:
    """Reranking time ~ overhead + pairs x per_pair, tracked as exponential moving averages of measurements.

    `observe` takes each finished rerank's (pairs, milliseconds); `affordable` inverts the model with a
    safety margin so that a search planned to fit the budget usually does.
    """

    per_pair_ms: float | None = None
    overhead_ms: float = 1.0
    smoothing: float = 0.3
    margin: float = 0.8  # plan to use 80% of what is left, leaving room for noise
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def observe(self, pairs: int, elapsed_ms: float) -> None:
        """Fold one measured rerank of `pairs` pairs into the estimate."""
        if pairs <= 0 or elapsed_ms <= 0:
            return
        sample = max(elapsed_ms - self.overhead_ms, 0.0) / pairs
        with self._lock:
            if self.per_pair_ms is None:
                self.per_pair_ms = sample
            else:
                self.per_pair_ms += self.smoothing * (sample - self.per_pair_ms)

    def affordable(self, remaining_ms: float, wanted: int) -> int:
        """How many of `wanted` pairs fit in `remaining_ms` (all of them while nothing has been measured)."""
        if self.per_pair_ms is None:
            return wanted
        usable = remaining_ms * self.margin - self.overhead_ms
        if usable <= 0:
            return 0
        return max(0, min(wanted, int(usable / max(self.per_pair_ms, 1e-6))))

    def predicted_ms(self, pairs: int) -> float | None:
        """Expected time for `pairs` pairs, or None before the first measurement."""
        if self.per_pair_ms is None:
            return None
        return self.overhead_ms + pairs * self.per_pair_ms
