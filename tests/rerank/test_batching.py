import numpy as np

from crossrank.rerank.batching import length_sorted_batches
from crossrank.rerank.encoding import EncodedPair


def _pair(length: int, token: int) -> EncodedPair:
    return EncodedPair([token] * length, [0] * length, False)


def test_batches_respect_the_token_budget_and_cover_every_pair_once():
    lengths = [5, 40, 12, 12, 33, 7, 64, 3, 20, 20]
    pairs = [_pair(n, i + 1) for i, n in enumerate(lengths)]
    batches = list(length_sorted_batches(pairs, token_budget=64))
    seen = np.concatenate([b.positions for b in batches])
    assert sorted(seen.tolist()) == list(range(len(pairs)))
    for batch in batches:
        rows, width = batch.input_ids.shape
        assert rows * width <= 64 or rows == 1
        assert width == max(lengths[i] for i in batch.positions)


def test_rows_keep_their_tokens_and_padding_is_masked():
    pairs = [_pair(3, 7), _pair(5, 9)]
    (batch,) = list(length_sorted_batches(pairs, token_budget=100, pad_id=0))
    assert batch.positions.tolist() == [0, 1]
    assert batch.input_ids.tolist() == [[7, 7, 7, 0, 0], [9, 9, 9, 9, 9]]
    assert batch.attention_mask.tolist() == [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]]


def test_length_sorting_keeps_padding_small():
    rng = np.random.default_rng(0)
    lengths = rng.integers(20, 300, size=100).tolist()
    pairs = [_pair(n, 1) for n in lengths]
    padded = sum(b.input_ids.size for b in length_sorted_batches(pairs, token_budget=4096))
    assert padded <= 1.25 * sum(lengths)
    assert padded <= 0.7 * len(lengths) * max(lengths)  # padding everything to the longest pair


def test_a_pair_longer_than_the_budget_forms_its_own_batch():
    batches = list(length_sorted_batches([_pair(10, 1), _pair(500, 2)], token_budget=100))
    assert [b.input_ids.shape for b in batches] == [(1, 10), (1, 500)]
