"""The default model's recipe: its packaging step on a small run (the real run takes 25 minutes)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from crossrank.eval.calibration import negative_log_likelihood
from crossrank.rerank.reranker import Reranker
from crossrank.train import MiningConfig, TrainConfig, fit
from crossrank.train.default_recipe import SOURCES, STAGES, candidate_logits, package, validation_sets
from crossrank.train.mining import FirstStage
from crossrank.train.trainer import Validation

pytest.importorskip("torch")


def test_package_adds_a_fusion_weight_per_stage_and_a_calibration_fitted_on_validation(animals, tmp_path):
    data = tmp_path / "datasets"
    for name in SOURCES:  # the recipe reads DATA/scifact and DATA/nfcorpus; the animals stand in for both
        shutil.copytree(animals, data / name)
    config = TrainConfig(max_steps=4, queries_per_step=4, group_size=4, eval_every=4, precision="fp32")
    quiet = {"show_progress": False, "log": lambda _: None}
    fit([data / name for name in SOURCES], tmp_path / "run", config, MiningConfig(), **quiet)

    settings = package(tmp_path / "run", data, tmp_path / "shipped")

    assert set(settings["fusion_weights"]) == set(STAGES)
    assert all(0.0 <= w <= 1.0 for w in settings["fusion_weights"].values())
    assert settings["fusion_weight"] == settings["fusion_weights"]["hybrid"]
    assert json.loads((tmp_path / "shipped" / "crossrank.json").read_text()) == settings
    shipped = Reranker(tmp_path / "shipped")
    slope, bias = settings["calibration"]["slope"], settings["calibration"]["bias"]
    pair = [("what does the otter eat", "The otter mostly eats clams.")]
    raw = shipped.predict(pair, raw=True)
    assert shipped.predict(pair) == pytest.approx(1 / (1 + np.exp(-(slope * raw + bias))), rel=1e-5)
    corpus, held = validation_sets(data)
    stage = FirstStage(corpus.texts, "hybrid", show_progress=False)
    validation = Validation.build(held, stage.search([q.text for q in held.queries], 100))
    logits, labels = candidate_logits(shipped, validation)
    flat = np.concatenate(logits)
    # Platt scaling minimises the NLL of exactly these pairs (rounded to 4 decimals), so it cannot be worse
    assert negative_log_likelihood(slope * flat + bias, labels) <= negative_log_likelihood(flat, labels) + 1e-3
