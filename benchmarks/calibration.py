"""Calibration of the default reranker's probabilities: ECE raw, as shipped, and with a refitted temperature or
Platt scaling.

Candidates are each query's BM25 top 100; a pair counts as relevant when judged > 0. The shipped calibration was
fitted by `crossrank train` on its validation queries (recipes/default-model.sh: 150 held-out SciFact train
queries and 150 NFCorpus dev queries, seed 13); the refits here use the same queries. Test splits are only
reported, never fitted on.

    python benchmarks/calibration.py --data ../shared/datasets --out bench-results/calibration.json
"""

from __future__ import annotations

import argparse
import json
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
from crossrank.rerank.scores import Calibration
from crossrank.retrieve.bm25 import BM25Index
from crossrank.train.fit import MiningConfig, held_out_split

CANDIDATES = 100
RECIPE_SEED = 13


def recipe_held_out(data: Path) -> dict[str, tuple[BeirDataset, list[str]]]:
    """The default model's validation queries, split as its recipe split them (see recipes/default-model.sh)."""
    mining = MiningConfig(validation_queries=150, validation_fraction=0.2)
    out = {}
    for name, split in (("scifact", "train"), ("nfcorpus", "dev")):
        [(_, (_, held))] = held_out_split([data / name], "train", mining, RECIPE_SEED)
        out[f"{name} held-out {split}"] = (load_beir(data / name, split), [q.query_id for q in held.queries])
    return out


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
    shipped = Calibration.from_settings(reranker.files.settings)
    sets = {name: logits_and_labels(reranker, *held) for name, held in recipe_held_out(args.data).items()}
    held_names = list(sets)
    for name in ("scifact", "nfcorpus"):
        test = load_beir(args.data / name, "test")
        sets[f"{name} test"] = logits_and_labels(reranker, test, test.judged_query_ids)
    fit_logits = np.concatenate([sets[name][0] for name in held_names])
    fit_labels = np.concatenate([sets[name][1] for name in held_names])
    temperature = fit_temperature(fit_logits, fit_labels)
    platt = fit_platt(fit_logits, fit_labels)
    report: dict[str, object] = {
        "temperature": temperature,
        "platt": platt,
        "shipped": {"slope": shipped.slope, "bias": shipped.bias},
        "fitted_on": " + ".join(held_names),
    }
    for name, (logits, labels) in sets.items():
        raw, scaled = calibrated(logits, 1.0), calibrated(logits, temperature)
        report[name] = {
            "pairs": int(labels.size),
            "relevant_fraction": float(labels.mean()),
            "ece": expected_calibration_error(raw, labels),
            "ece_as_shipped": expected_calibration_error(shipped.probability(logits), labels),
            "ece_with_temperature": expected_calibration_error(scaled, labels),
            "ece_with_platt": expected_calibration_error(calibrated(platt[0] * logits + platt[1], 1.0), labels),
            "nll": negative_log_likelihood(logits, labels),
            "nll_with_temperature": negative_log_likelihood(logits, labels, temperature),
            "reliability": reliability(raw, labels),
            "reliability_with_temperature": reliability(scaled, labels),
        }
        row: dict[str, float] = report[name]  # type: ignore[assignment]
        print(
            f"{name:26s} ECE {row['ece']:.4f}, as shipped {row['ece_as_shipped']:.4f}, "
            f"with temperature {row['ece_with_temperature']:.4f}, with Platt {row['ece_with_platt']:.4f}; "
            f"relevant fraction {row['relevant_fraction']:.4f}"
        )
    print(f"temperature {temperature:.3f}, platt {platt}")
    args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
