"""Group encoded pairs into padded micro-batches by length, capped by a token budget."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from crossrank.rerank.encoding import EncodedPair

DEFAULT_TOKEN_BUDGET = 8192


@dataclass(frozen=True)
class MicroBatch:
    """Padded model inputs for some pairs, and where those pairs sit in the caller's order."""

    positions: np.ndarray  # int64 (rows,): index of each row in the original pair list
    input_ids: np.ndarray  # int64 (rows, width)
    attention_mask: np.ndarray  # int64 (rows, width)
    token_type_ids: np.ndarray  # int64 (rows, width)

    def feeds(self, names: list[str]) -> dict[str, np.ndarray]:
        """The named model inputs (a model may take only some of the three)."""
        arrays = {
            "input_ids": self.input_ids,
            "attention_mask": self.attention_mask,
            "token_type_ids": self.token_type_ids,
        }
        return {name: arrays[name] for name in names}


def length_sorted_batches(
    pairs: Sequence[EncodedPair], token_budget: int = DEFAULT_TOKEN_BUDGET, pad_id: int = 0
) -> Iterator[MicroBatch]:
    """Yield micro-batches of pairs sorted by length; rows x padded width never exceeds the budget.

    A single pair longer than the budget still forms a batch of its own.
    """
    order = sorted(range(len(pairs)), key=lambda i: len(pairs[i]))
    start = 0
    while start < len(order):
        stop = start + 1
        # sorted ascending, so the last pair in a group sets the padded width
        while stop < len(order) and (stop - start + 1) * len(pairs[order[stop]]) <= token_budget:
            stop += 1
        yield pad_pairs([order[i] for i in range(start, stop)], pairs, pad_id)
        start = stop


def pad_pairs(indices: list[int], pairs: Sequence[EncodedPair], pad_id: int) -> MicroBatch:
    """Pad the pairs at `indices`, in that order, to the longest of them."""
    width = max(len(pairs[i]) for i in indices)
    input_ids = np.full((len(indices), width), pad_id, dtype=np.int64)
    attention = np.zeros((len(indices), width), dtype=np.int64)
    types = np.zeros((len(indices), width), dtype=np.int64)
    for row, index in enumerate(indices):
        pair = pairs[index]
        length = len(pair)
        input_ids[row, :length] = pair.input_ids
        attention[row, :length] = 1
        types[row, :length] = pair.token_type_ids
    return MicroBatch(np.asarray(indices, dtype=np.int64), input_ids, attention, types)
