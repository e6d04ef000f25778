"""From model logits to the scores crossrank returns.

* one-logit head (``num_labels == 1``): raw score = the logit z; probability = sigmoid(z).
* two-label head (``num_labels == 2``, label 1 = relevant): raw score = z1 - z0, the log-odds of
  "relevant"; probability = softmax([z0, z1])[1], which equals sigmoid(z1 - z0).

So in both cases probability = sigmoid(raw), and raw is a log-odds that keeps its order.
"""

from __future__ import annotations

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
