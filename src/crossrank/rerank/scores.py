"""From model logits to the scores crossrank returns.

* one-logit head (``num_labels == 1``): raw score = the logit z; probability = sigmoid(z).
* two-label head (``num_labels == 2``, label 1 = relevant): raw score = z1 - z0, the log-odds of
  "relevant"; probability = softmax([z0, z1])[1], which equals sigmoid(z1 - z0).

So in both cases the model's probability is sigmoid(raw), and raw is a log-odds that keeps its order. A model
may carry a calibration in its crossrank.json (Platt scaling, fitted on held-out data): then the probability
crossrank returns is sigmoid(slope * raw + bias), which changes no ranking.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np


def relevance_logits(logits: np.ndarray) -> np.ndarray:
    """Collapse (n, 1) or (n, 2) head outputs to one log-odds per pair."""
    array = np.asarray(logits, dtype=np.float32)
    if array.ndim == 1:
        return array
    if array.shape[1] == 1:
        return array[:, 0]
    if array.shape[1] == 2:
        return array[:, 1] - array[:, 0]
    raise ValueError(f"a reranker head has 1 or 2 outputs, this model has {array.shape[1]}")


def sigmoid(values: np.ndarray) -> np.ndarray:
    """Numerically stable logistic function."""
    values = np.asarray(values, dtype=np.float64)
    out = np.empty_like(values)
    positive = values >= 0
    out[positive] = 1.0 / (1.0 + np.exp(-values[positive]))
    exp = np.exp(values[~positive])
    out[~positive] = exp / (1.0 + exp)
    return out.astype(np.float32)


def logit(probabilities: np.ndarray) -> np.ndarray:
    """Log odds of probabilities (clipped to [1e-7, 1 - 1e-7] so 0 and 1 stay finite); sigmoid's inverse."""
    clipped = np.clip(np.asarray(probabilities, dtype=np.float64), 1e-7, 1 - 1e-7)
    return np.log(clipped / (1 - clipped))


@dataclass(frozen=True)
class Calibration:
    """Platt scaling of a model's log-odds: probability = sigmoid(slope * raw + bias); identity by default."""

    slope: float = 1.0
    bias: float = 0.0

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Calibration:
        """The `calibration` entry of a model's crossrank.json ({"slope", "bias"}), else the identity."""
        entry = settings.get("calibration") or {}
        return cls(float(entry.get("slope", 1.0)), float(entry.get("bias", 0.0)))

    def probability(self, raw: np.ndarray) -> np.ndarray:
        """Calibrated probabilities of raw log-odds."""
        return sigmoid(self.slope * np.asarray(raw, dtype=np.float64) + self.bias)
