import numpy as np
import pytest

from crossrank.eval.calibration import (
    calibrated,
    expected_calibration_error,
    fit_platt,
    fit_temperature,
    negative_log_likelihood,
)


def test_ece_is_zero_when_probabilities_match_frequencies_and_large_when_overconfident():
    rng = np.random.default_rng(0)
    probabilities = rng.uniform(0, 1, 200_000)
    labels = rng.uniform(0, 1, probabilities.size) < probabilities
    assert expected_calibration_error(probabilities, labels) < 0.01
    assert expected_calibration_error(np.full(1000, 0.9), np.zeros(1000)) == pytest.approx(0.9)


def test_fitted_temperature_recovers_the_scale_that_generated_the_labels():
    rng = np.random.default_rng(1)
    true_logits = rng.normal(0, 2, 100_000)
    labels = rng.uniform(0, 1, true_logits.size) < 1 / (1 + np.exp(-true_logits))
    overconfident = true_logits * 3.0  # a model three times too sure
    temperature = fit_temperature(overconfident, labels)
    assert temperature == pytest.approx(3.0, rel=0.05)
    before = expected_calibration_error(calibrated(overconfident, 1.0), labels)
    after = expected_calibration_error(calibrated(overconfident, temperature), labels)
    assert after < before / 3
    assert negative_log_likelihood(overconfident, labels, temperature) < negative_log_likelihood(overconfident, labels)


def test_platt_scaling_recovers_slope_and_bias():
    rng = np.random.default_rng(2)
    logits = rng.normal(0, 3, 200_000)
    labels = rng.uniform(0, 1, logits.size) < 1 / (1 + np.exp(-(0.5 * logits - 2.0)))
    a, b = fit_platt(logits, labels)
    assert a == pytest.approx(0.5, abs=0.03) and b == pytest.approx(-2.0, abs=0.05)
