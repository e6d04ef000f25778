"""Calibration of a reranker's probabilities (the shipped default unless --model): ECE raw, with the model's own
calibration, and with a temperature or Platt scaling refitted here for comparison.

Candidates are each query's hybrid stage-1 top 100 (what the default pipeline reranks); a pair counts as
relevant when judged > 0. Refits use only the recipe's validation queries (SciFact: 10% of train held out,
seed 13; NFCorpus: dev), which the model never trained on. Test splits are only reported, never fitted on.

    python benchmarks/calibration.py --data ../shared/datasets --out bench-results/calibration.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from crossrank import Reranker
from crossrank.eval.calibration import (
    calibrated,
    expected_calibration_error,
    fit_platt,
    fit_temperature,
    negative_log_likelihood,
    reliability,
)
from crossrank.train.data import load_training_set
from crossrank.train.default_recipe import SOURCES, candidate_logits, validation_sets
from crossrank.train.mining import FirstStage
from crossrank.train.trainer import Validation

CANDIDATES = 100


def pairs_of(reranker: Reranker, validation: Validation) -> tuple[np.ndarray, np.ndarray]:
    """(logits, labels) over every (query, candidate) pair."""
    logits, labels = candidate_logits(reranker, validation)
    return np.concatenate(logits), labels


def held_out(reranker: Reranker, data: Path) -> tuple[np.ndarray, np.ndarray]:
    corpus, queries = validation_sets(data)
    stage = FirstStage(corpus.texts, "hybrid")
    return pairs_of(reranker, Validation.build(queries, stage.search([q.text for q in queries.queries], CANDIDATES)))


def test_split(reranker: Reranker, folder: Path) -> tuple[np.ndarray, np.ndarray]:
    test = load_training_set(folder, "test")
    stage = FirstStage(test.texts, "hybrid")
    return pairs_of(reranker, Validation.build(test, stage.search([q.text for q in test.queries], CANDIDATES)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/datasets"))
    parser.add_argument("--model", default=None, help="a model folder or id (default: the shipped default)")
    parser.add_argument("--out", type=Path, default=Path("bench-results/calibration.json"))
    args = parser.parse_args()
    reranker = Reranker(args.model)
    sets = {"validation (held out)": held_out(reranker, args.data)}
    for name in SOURCES:
        sets[f"{name} test"] = test_split(reranker, args.data / name)
    fit_logits, fit_labels = sets["validation (held out)"]
    temperature = fit_temperature(fit_logits, fit_labels)
    platt = fit_platt(fit_logits, fit_labels)
    shipped = reranker.calibration
    report: dict[str, object] = {
        "model": reranker.model_name,
        "shipped_calibration": {"slope": shipped.slope, "bias": shipped.bias},
        "refit_temperature": temperature,
        "refit_platt": platt,
    }
    for name, (logits, labels) in sets.items():
        raw = calibrated(logits, 1.0)
        own = shipped.probability(logits)
        row = {
            "pairs": int(labels.size),
            "relevant_fraction": float(labels.mean()),
            "ece_raw": expected_calibration_error(raw, labels),
            "ece_shipped": expected_calibration_error(own, labels),
            "ece_refit_temperature": expected_calibration_error(calibrated(logits, temperature), labels),
            "ece_refit_platt": expected_calibration_error(calibrated(platt[0] * logits + platt[1], 1.0), labels),
            "nll_raw": negative_log_likelihood(logits, labels),
            "reliability_shipped": reliability(own, labels),
        }
        report[name] = row
        print(
            f"{name:22s} pairs {row['pairs']:6d} relevant {row['relevant_fraction']:.4f}  ECE raw {row['ece_raw']:.4f}"
            f"  shipped {row['ece_shipped']:.4f}  temperature {row['ece_refit_temperature']:.4f}"
            f"  platt {row['ece_refit_platt']:.4f}"
        )
    print(f"refit temperature {temperature:.3f}, refit platt {platt}, shipped {shipped}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
