"""The scoring factors, each a small pure function. Every factor is a log-odds contribution (see `combine`).

ACT-R treats an item's activation as the log odds that it is needed now; the cross-encoder's logit is the
log odds that a document is relevant. Factors on that one scale can be added; their sum is a product of
odds, which is why crossrank combines additively in log-odds and never adds raw scores of mixed scales.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

DEFAULT_DECAY = 0.5  # ACT-R's standard decay d
MIN_AGE_S = 1.0  # an access "now" is treated as one second old, so (t - t_i)^-d stays finite
REFERENCE_AGE_S = 30 * 86400.0  # a document created 30 days ago and never used scores 0


def base_level_activation(access_times: Iterable[float], now: float, decay: float = DEFAULT_DECAY) -> float | None:
    """ACT-R base-level activation B = ln( sum_i (now - t_i)^-d ), times in seconds; None without accesses.

    Creation counts as the first access (callers include it in `access_times`). Accesses in the future
    (clock skew) count as one second old.
    """
    total = sum(max(now - t, MIN_AGE_S) ** -decay for t in access_times)
    return math.log(total) if total > 0 else None


def base_level_reference(decay: float = DEFAULT_DECAY) -> float:
    """B of a document created `REFERENCE_AGE_S` ago with no other access: the neutral point of recency."""
    return -decay * math.log(REFERENCE_AGE_S)


def spreading_activation(
    query_entities: Sequence[str], document_entities: Iterable[str], fan: Mapping[str, int], strength: float
) -> float:
    """ACT-R spreading activation: sum over shared entities j of W_j * (S - ln fan_j), with W_j = 1 / |query entities|.

    `fan[j]` is how many stored documents mention j (fan-out damping: a common entity says little);
    `strength` S is the maximum associative strength. Negative associations are clipped at 0.
    """
    if not query_entities:
        return 0.0
    weight = 1.0 / len(query_entities)
    shared = set(query_entities) & {e.casefold() for e in document_entities}
    return sum(weight * max(strength - math.log(max(fan.get(j, 1), 1)), 0.0) for j in shared)


def confidence_log_odds(confidence: float | None, corroborations: int = 0, prior: float = 0.5) -> float:
    """How much more (or less) reliable than the neutral `prior` a source is, in log odds.

    logit(confidence) - logit(prior), plus ln(1 + corroborations) for independent sources repeating it.
    No confidence means neutral (0), whatever the corroboration count.
    """
    if confidence is None:
        return 0.0
    clipped = min(max(confidence, 1e-3), 1 - 1e-3)
    return _logit(clipped) - _logit(prior) + math.log1p(max(corroborations, 0))


def superseded(version_time: float | None, newest_time: float | None) -> bool:
    """A version is superseded when a newer version of the same fact (same `key`) exists."""
    return version_time is not None and newest_time is not None and version_time < newest_time


def _logit(p: float) -> float:
    return math.log(p / (1 - p))
