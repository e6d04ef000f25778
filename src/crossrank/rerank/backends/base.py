"""What every inference backend provides."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from crossrank.rerank.batching import MicroBatch


class Backend(Protocol):
    """Runs the model on one padded micro-batch: (rows, num_labels) logits, or (rows, width, hidden) token vectors."""

    name: str
    device: str
    precision: str

    def logits(self, batch: MicroBatch) -> np.ndarray: ...
