import numpy as np
import pytest

from crossrank.rerank.scores import relevance_logits, sigmoid


def test_two_label_softmax_equals_sigmoid_of_logit_difference():
    logits = np.array([[0.3, 2.0], [1.5, -1.0], [0.0, 0.0]], dtype=np.float32)
    softmax = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert np.allclose(sigmoid(relevance_logits(logits)), softmax[:, 1], atol=1e-6)


def test_single_logit_head_is_taken_as_is():
    logits = np.array([[1.0], [-3.0]], dtype=np.float32)
    assert relevance_logits(logits).tolist() == [1.0, -3.0]


def test_sigmoid_is_stable_for_extreme_values():
    out = sigmoid(np.array([-1000.0, 0.0, 1000.0]))
    assert out.tolist() == [0.0, 0.5, 1.0]


def test_heads_with_more_labels_are_rejected():
    with pytest.raises(ValueError, match="1 or 2 outputs"):
        relevance_logits(np.zeros((2, 3)))


def test_the_default_models_probabilities_are_its_platt_calibrated_log_odds(reranker):
    from crossrank.rerank.scores import Calibration

    calibration = reranker.calibration
    assert calibration != Calibration()  # the shipped model carries a fitted calibration
    pairs = [("how do JWT tokens expire", "A JWT carries an exp claim."), ("how do JWT tokens expire", "Bread.")]
    raw = reranker.predict(pairs, raw=True)
    expected = 1 / (1 + np.exp(-(calibration.slope * raw + calibration.bias)))
    np.testing.assert_allclose(reranker.predict(pairs), expected, rtol=1e-5)
    (best, _) = reranker.rerank(pairs[0][0], [pairs[0][1], pairs[1][1]])
    assert best.model_logit == pytest.approx(float(raw[0]), abs=1e-5)
    assert best.model_score == pytest.approx(float(expected[0]), rel=1e-5)
