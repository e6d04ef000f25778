"""Recipe for crossrank's shipped default reranker: `crossrank train` with fixed settings, then packaging.

The training step is exactly this command (the module only fixes its settings):

    crossrank train DATA/scifact DATA/nfcorpus --out runs/default --base splade-tiny --lr 3e-4 \\
        --max-steps 1000 --eval-every 250 --pseudo-queries 1500 --depth 100 --max-similarity-ratio 10

Packaging copies the exported model and adds what the shipped default carries beyond it: a fusion weight
for each stage-1 retriever and a Platt calibration, all chosen on the run's validation queries (SciFact:
10% of train held out, seed 13; NFCorpus: dev). No test split is read. Run:

    python -m crossrank.train.default_recipe train --data ../shared/datasets --out runs/default
    python -m crossrank.train.default_recipe package runs/default --data ../shared/datasets
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from crossrank.train.data import TrainingSet
from crossrank.train.fit import FitReport, MiningConfig, fit, held_out_split
from crossrank.train.mining import FirstStage
from crossrank.train.trainer import TrainConfig, Validation

SOURCES = ("scifact", "nfcorpus")
TRAINING = TrainConfig(base="splade-tiny", learning_rate=3e-4, max_steps=1000, eval_every=250)
MINING = MiningConfig(retriever="hybrid", depth=100, max_similarity_ratio=10.0, pseudo_queries=1500)
SHIPPED_FILES = ("model.onnx", "tokenizer.json", "config.json")
STAGES = ("bm25", "dense", "hybrid")


def train(data: Path, out: Path, resume: bool = False) -> FitReport:
    """Train the default: `crossrank train` on both corpora with the recipe's settings."""
    return fit([data / name for name in SOURCES], out, TRAINING, MINING, resume=resume)


def validation_sets(data: Path) -> tuple[TrainingSet, TrainingSet]:
    """(training corpus, held-out queries) exactly as the training run split them."""
    sources = [data / name for name in SOURCES]
    parts = held_out_split(sources, "train", MINING, TRAINING.seed)
    return TrainingSet.merge([(n, t) for n, (t, _) in parts]), TrainingSet.merge([(n, h) for n, (_, h) in parts])


def package(run: Path, data: Path, target: Path) -> dict[str, Any]:
    """Copy `run/model` to `target` with per-stage fusion weights and a Platt calibration fitted on validation."""
    from crossrank.eval.calibration import fit_platt
    from crossrank.rerank.reranker import Reranker

    corpus, held = validation_sets(data)
    reranker = Reranker(run / "model")
    weights: dict[str, float] = {}
    calibration_pairs: tuple[np.ndarray, np.ndarray] | None = None
    for stage_name in STAGES:
        stage = FirstStage(corpus.texts, stage_name)
        validation = Validation.build(held, stage.search([q.text for q in held.queries], MINING.validation_depth))
        logits, labels = candidate_logits(reranker, validation)
        weights[stage_name], _ = validation.fusion_sweep(logits)
        if stage_name == "hybrid":
            calibration_pairs = (np.concatenate(logits), labels)
    assert calibration_pairs is not None
    slope, bias = fit_platt(*calibration_pairs)
    target.mkdir(parents=True, exist_ok=True)
    for name in SHIPPED_FILES:
        shutil.copy(run / "model" / name, target / name)
    settings = json.loads((run / "model" / "crossrank.json").read_text())
    settings.update(
        {
            "fusion_weight": weights["hybrid"],
            "fusion": "w * minmax(model logit) + (1 - w) * minmax(first-stage score), per candidate list",
            "fusion_weights": weights,
            "fusion_chosen_on": "the training run's validation queries, each stage's top 100",
            "calibration": {
                "method": "platt",
                "slope": round(slope, 4),
                "bias": round(bias, 4),
                "fitted_on": "the training run's validation queries, hybrid top-100 candidates",
            },
        }
    )
    (target / "crossrank.json").write_text(json.dumps(settings, indent=2) + "\n")
    return settings


def candidate_logits(reranker: Any, validation: Validation) -> tuple[list[np.ndarray], np.ndarray]:
    """The model's logits for each query's candidates, and a flat 0/1 label (judged > 0) per candidate."""
    logits = [
        reranker.predict([(q, validation.texts[d]) for d in docs], raw=True)
        for q, docs in zip(validation.queries, validation.candidates)
    ]
    labels = [
        float(validation.qrels[qid].get(validation.doc_ids[d], 0) > 0)
        for qid, docs in zip(validation.query_ids, validation.candidates)
        for d in docs
    ]
    return logits, np.asarray(labels)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    steps = parser.add_subparsers(dest="step", required=True)
    train_step = steps.add_parser("train", help="train the default (crossrank train with the recipe's settings)")
    train_step.add_argument("--data", type=Path, required=True, help="folder with scifact/ and nfcorpus/ (BEIR)")
    train_step.add_argument("--out", type=Path, default=Path("runs/default"))
    train_step.add_argument("--resume", action="store_true")
    package_step = steps.add_parser("package", help="write the shipped model folder from a finished run")
    package_step.add_argument("run", type=Path)
    package_step.add_argument("--data", type=Path, required=True)
    package_step.add_argument("--target", type=Path, default=Path("src/crossrank/models/default"))
    args = parser.parse_args()
    if args.step == "train":
        train(args.data, args.out, args.resume)
    else:
        print(json.dumps(package(args.run, args.data, args.target), indent=2))


if __name__ == "__main__":
    main()
