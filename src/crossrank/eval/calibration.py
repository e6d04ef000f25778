"""Does a probability mean what it says? Expected calibration error, and a temperature fitted to fix it."""

from __future__ import annotations

import numpy as np

from crossrank.rerank.scores import sigmoid


def expected_calibration_error(probabilities: np.ndarray, labels: np.ndarray, bins: int = 10) -> float:
    """ECE: the mean over equal-width probability bins of |fraction relevant - mean probability|, weighted by
    how many pairs fall in each bin."""
    probabilities, labels = np.asarray(probabilities, dtype=np.float64), np.asarray(labels, dtype=np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(probabilities, edges[1:-1]), 0, bins - 1)
    error = 0.0
    for b in range(bins):
        members = which == b
        if members.any():
            error += members.mean() * abs(labels[members].mean() - probabilities[members].mean())
    return float(error)


def reliability(probabilities: np.ndarray, labels: np.ndarray, bins: int = 10) -> list[dict[str, float]]:
    """Per bin: its range, pairs, mean probability and observed fraction relevant (a reliability diagram)."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(probabilities, edges[1:-1]), 0, bins - 1)
    rows = []
    for b in range(bins):
        members = which == b
        if members.any():
            rows.append(
                {
                    "from": float(edges[b]),
                    "to": float(edges[b + 1]),
                    "pairs": int(members.sum()),
                    "mean_probability": float(np.mean(probabilities[members])),
                    "fraction_relevant": float(np.mean(labels[members])),
                }
            )
    return rows


def negative_log_likelihood(logits: np.ndarray, labels: np.ndarray, temperature: float = 1.0) -> float:
    """Mean binary cross-entropy of sigmoid(logits / temperature) against the labels."""
    scaled = np.asarray(logits, dtype=np.float64) / temperature
    # log(1 + e^-x) for positives, log(1 + e^x) for negatives, computed stably
    signs = np.where(np.asarray(labels) > 0, 1.0, -1.0)
    return float(np.mean(np.logaddexp(0.0, -signs * scaled)))


def fit_temperature(logits: np.ndarray, labels: np.ndarray, low: float = 0.05, high: float = 20.0) -> float:
    """The temperature T minimising the NLL of sigmoid(logit / T): golden-section search on log T (the NLL is
    unimodal in T for a fixed set of logits)."""
    a, b = np.log(low), np.log(high)
    ratio = (np.sqrt(5.0) - 1.0) / 2.0
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    for _ in range(80):
        if negative_log_likelihood(logits, labels, np.exp(c)) < negative_log_likelihood(logits, labels, np.exp(d)):
            b = d
        else:
            a = c
        c, d = b - ratio * (b - a), a + ratio * (b - a)
    return float(np.exp((a + b) / 2.0))


def calibrated(logits: np.ndarray, temperature: float) -> np.ndarray:
    """Probabilities after temperature scaling."""
    return sigmoid(np.asarray(logits, dtype=np.float32) / temperature)


def fit_platt(logits: np.ndarray, labels: np.ndarray, steps: int = 100) -> tuple[float, float]:
    """Platt scaling: (a, b) minimising the NLL of sigmoid(a * logit + b), by Newton's method with backtracking."""
    x = np.asarray(logits, dtype=np.float64)
    y = (np.asarray(labels) > 0).astype(np.float64)
    signs = 2 * y - 1

    def loss(params: np.ndarray) -> float:
        return float(np.mean(np.logaddexp(0.0, -signs * (params[0] * x + params[1]))))

    params = np.array([1.0, 0.0])
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(params[0] * x + params[1])))
        w = np.maximum(p * (1 - p), 1e-12)
        gradient = np.array([np.mean((p - y) * x), np.mean(p - y)])
        hessian = np.array([[np.mean(w * x * x), np.mean(w * x)], [np.mean(w * x), np.mean(w)]])
        step = np.linalg.solve(hessian + 1e-12 * np.eye(2), gradient)
        size, before = 1.0, loss(params)
        while loss(params - size * step) > before and size > 1e-8:
            size /= 2
        params = params - size * step
        if np.abs(size * step).max() < 1e-10:
            break
    return float(params[0]), float(params[1])
