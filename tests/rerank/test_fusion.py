import numpy as np
import pytest

from crossrank.rerank.fusion import fuse_scores, minmax


def test_minmax_scales_to_unit_range_and_handles_constant_lists():
    assert minmax([2.0, 4.0, 3.0]).tolist() == [0.0, 1.0, 0.5]
    assert minmax([5.0, 5.0]).tolist() == [0.0, 0.0]


def test_weight_selects_between_the_two_orders():
    model = np.array([0.1, 0.9, 0.5])
    first_stage = np.array([30.0, 10.0, 20.0])
    assert np.argsort(-fuse_scores(model, first_stage, 1.0)).tolist() == [1, 2, 0]
    assert np.argsort(-fuse_scores(model, first_stage, 0.0)).tolist() == [0, 2, 1]


def test_weight_out_of_range_is_an_error():
    with pytest.raises(ValueError):
        fuse_scores([1.0], [1.0], 1.5)


def test_weight_sweep_finds_the_best_weight_and_keeps_the_table():
    from crossrank.rerank.fusion import sweep_fusion_weight

    weight, table = sweep_fusion_weight(lambda w: -((w - 0.35) ** 2))
    assert weight == 0.35 and len(table) == 21 and min(table) == 0.0 and max(table) == 1.0
    assert sweep_fusion_weight(lambda w: 1.0)[0] == 0.0  # a tie goes to the smallest weight
