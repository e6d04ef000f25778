"""Calibration of the default reranker's probabilities: ECE before and after a fitted temperature.

Candidates are each query's BM25 top 100; a pair counts as relevant when judged > 0. The temperature is fitted
on queries the model never trained on and that choose nothing else: NFCorpus dev and the 150 SciFact train
queries the recipe held out (same seed). Test splits are only reported, never fitted on.

    python benchmarks/calibration.py --data ../shared/datasets --out bench-results/calibration.json
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import numpy as np

from crossrank import Reranker
from crossrank.eval.beir import BeirDataset, load_beir
from crossrank.eval.calibration import (
    calibrated,
    expected_calibration_error,
    fit_platt,
    fit_temperature,
    negative_log_likelihood,
    reliability,
)
from crossrank.retrieve.bm25 import BM25Index

CANDIDATES = 100


def scifact_held_out(data: Path) -> tuple[BeirDataset, list[str]]:
    """The recipe's held-out SciFact train queries (crossrank.train.default_recipe, seed 7, first 150)."""
    train = load_beir(data / "scifact", "train")
    ids = train.judged_query_ids
    random.Random(7).shuffle(ids)
    return train, sorted(ids[:150])


def logits_and_labels(reranker: Reranker, dataset: BeirDataset, query_ids: list[str]) -> tuple[np.ndarray, np.ndarray]:
    doc_ids = list(dataset.corpus)
    texts = [dataset.corpus[d].content for d in doc_ids]
    top, _ = BM25Index(texts).search([dataset.queries[q] for q in query_ids], CANDIDATES)
    logits, labels = [], []
    for query_id, row in zip(query_ids, top):
        pairs = [(dataset.queries[query_id], texts[int(i)]) for i in row]
        logits.append(reranker.predict(pairs, raw=True))
        labels.append([dataset.qrels[query_id].get(doc_ids[int(i)], 0) > 0 for i in row])
    return np.concatenate(logits), np.concatenate(labels).astype(np.float64)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/datasets"))
    parser.add_argument("--out", type=Path, default=Path("bench-results/calibration.json"))
    args = parser.parse_args()
    reranker = Reranker()
    sets: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    scifact_train, held = scifact_held_out(args.data)
    sets["scifact held-out train"] = logits_and_labels(reranker, scifact_train, held)
    nf_dev = load_beir(args.data / "nfcorpus", "dev")
    sets["nfcorpus dev"] = logits_and_labels(reranker, nf_dev, nf_dev.judged_query_ids)
    for name in ("scifact", "nfcorpus"):
        test = load_beir(args.data / name, "test")
        sets[f"{name} test"] = logits_and_labels(reranker, test, test.judged_query_ids)
    fit_logits = np.concatenate([sets["scifact held-out train"][0], sets["nfcorpus dev"][0]])
    fit_labels = np.concatenate([sets["scifact held-out train"][1], sets["nfcorpus dev"][1]])
    temperature = fit_temperature(fit_logits, fit_labels)
    platt = fit_platt(fit_logits, fit_labels)
    report: dict[str, object] = {
        "temperature": temperature,
        "platt": platt,
        "fitted_on": "scifact held-out train + nfcorpus dev",
    }
    for name, (logits, labels) in sets.items():
        raw, scaled = calibrated(logits, 1.0), calibrated(logits, temperature)
        report[name] = {
            "pairs": int(labels.size),
            "relevant_fraction": float(labels.mean()),
            "ece": expected_calibration_error(raw, labels),
            "ece_with_temperature": expected_calibration_error(scaled, labels),
            "ece_with_platt": expected_calibration_error(calibrated(platt[0] * logits + platt[1], 1.0), labels),
            "nll": negative_log_likelihood(logits, labels),
            "nll_with_temperature": negative_log_likelihood(logits, labels, temperature),
            "reliability": reliability(raw, labels),
            "reliability_with_temperature": reliability(scaled, labels),
        }
        row: dict[str, float] = report[name]  # type: ignore[assignment]
        print(
            f"{name:24s} ECE {row['ece']:.4f}, with temperature {row['ece_with_temperature']:.4f}, "
            f"with Platt {row['ece_with_platt']:.4f}; relevant fraction {row['relevant_fraction']:.4f}"
        )
    print(f"temperature {temperature:.3f}, platt {platt}")
    args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
