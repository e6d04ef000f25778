"""Fuse the cross-encoder's score with a first-stage (retrieval) score.

Both score lists are min-max normalised over the candidate list, then mixed:
``fused = w * model_norm + (1 - w) * first_stage_norm``. Min-max makes BM25 scores (unbounded) and
logits comparable within one query; the weight `w` is chosen on training/dev data, never on test.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np


def minmax(values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Scale to [0, 1] within the list; a constant list maps to all zeros."""
    array = np.asarray(values, dtype=np.float64)
    if array.size == 0:
        return array
    low, high = float(array.min()), float(array.max())
    if high - low <= 1e-12:
        return np.zeros_like(array)
    return (array - low) / (high - low)


def fuse_scores(
    model_scores: Sequence[float] | np.ndarray, first_stage_scores: Sequence[float] | np.ndarray, model_weight: float
) -> np.ndarray:
    """Convex combination of the min-max normalised model and first-stage scores."""
    if not 0.0 <= model_weight <= 1.0:
        raise ValueError(f"model_weight must be in [0, 1], got {model_weight}")
    if len(model_scores) != len(first_stage_scores):
        raise ValueError("model and first-stage score lists differ in length")
    return model_weight * minmax(model_scores) + (1.0 - model_weight) * minmax(first_stage_scores)


def fusion_weight_grid(step: float = 0.05) -> list[float]:
    """The model weights a fusion sweep tries: 0, step, ..., 1."""
    return [float(w) for w in np.round(np.arange(0.0, 1.0 + step / 2, step), 2)]


def sweep_fusion_weight(quality: Callable[[float], float], step: float = 0.05) -> tuple[float, dict[float, float]]:
    """The model weight in [0, 1] (on a grid of `step`) that maximises `quality(weight)`, measured on held-out
    data, and the whole table; a tie goes to the smallest weight."""
    table = {w: float(quality(w)) for w in fusion_weight_grid(step)}
    return max(table, key=lambda w: table[w]), table
