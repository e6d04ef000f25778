"""Score models on queries that neither the shipped default's recipe nor a `crossrank train` split trained on.

`benchmarks/train_validation.py` scores on a `crossrank train` run's own held-out queries, but the shipped model
was trained on most of those SciFact queries, and picked its checkpoint on 150 NFCorpus dev queries of which many
are in that run's sample too: both flatter the shipped model. This script keeps SciFact train queries that both
held out (trained on by neither; both validated on them) and NFCorpus dev queries in neither's validation sample
(untouched by both). Each source is searched in its own corpus (each of `--stages`' top 100; hybrid by default);
nDCG@10 alone and fused at each model's own weight for that stage. Small sets (tens of queries): read differences
under ~0.02 as noise.

    python benchmarks/untouched_validation.py --data ../shared/datasets default runs/v12/model \\
        --validation-queries 150 --validation-fraction 0.2 --seed 13
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from train_validation import score_model  # beside this script

from crossrank.rerank.reranker import Reranker
from crossrank.train.data import TrainingSet, load_training_set
from crossrank.train.default_recipe import validation_query_ids
from crossrank.train.fit import MiningConfig, held_out_split
from crossrank.train.mining import SourceFirstStages
from crossrank.train.trainer import Validation


def comparison_queries(data: Path, mining: MiningConfig, seed: int) -> dict[str, TrainingSet]:
    """Per source, the judged queries neither the shipped recipe nor the `crossrank train` split trained on (SciFact:
    held out by both) or, for NFCorpus, validated on."""
    shipped = validation_query_ids(data)
    parts = dict(held_out_split([data / "scifact", data / "nfcorpus"], "train", mining, seed))
    run_held = {name: {q.query_id for q in held.queries} for name, (_, held) in parts.items()}
    scifact = load_training_set(data / "scifact", "train")
    nfcorpus = load_training_set(data / "nfcorpus", "dev")
    both_held = set(shipped["scifact"]) & run_held["scifact"]
    neither_validated = set(shipped["nfcorpus"]) | run_held["nfcorpus"]
    return {
        "scifact": TrainingSet(scifact.texts, scifact.doc_ids, [q for q in scifact.queries if q.query_id in both_held]),
        "nfcorpus": TrainingSet(
            nfcorpus.texts, nfcorpus.doc_ids, [q for q in nfcorpus.queries if q.query_id not in neither_validated]
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", help="model folders, or 'default' for the shipped model")
    parser.add_argument("--data", type=Path, default=Path("../shared/datasets"))
    parser.add_argument("--seed", type=int, default=13, help="the crossrank train run's split seed")
    parser.add_argument("--validation-queries", type=int, default=200)
    parser.add_argument("--validation-fraction", type=float, default=0.1)
    parser.add_argument("--stages", default="hybrid", help="first stages whose top 100 are reranked: hybrid,bm25,dense")
    parser.add_argument("--json", type=Path, help="also write every figure here")
    args = parser.parse_args()
    mining = MiningConfig(validation_queries=args.validation_queries, validation_fraction=args.validation_fraction)
    rerankers = {model: Reranker(None if model == "default" else model) for model in args.models}
    figures: dict[str, dict[str, Any]] = {}
    for source, held in comparison_queries(args.data, mining, args.seed).items():
        first_stage = SourceFirstStages([held], "hybrid", show_progress=False)
        for stage in args.stages.split(","):
            ranked = first_stage.search([[q.text for q in held.queries]], 100, stage)
            figures[f"{source}/{stage}"] = row = _score_models(Validation.build(held, ranked), rerankers, stage)
            print(f"{source}: {row['queries']} queries; {stage} top 100 alone {row['first_stage']:.4f}")
            for model in rerankers:
                alone, fused, weight = row[model]["alone"], row[model]["fused"], row[model]["weight"]
                print(f"  {model}: alone {alone:.4f}, fused (w {weight}) {fused:.4f}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


def _score_models(validation: Validation, rerankers: dict[str, Reranker], stage: str) -> dict[str, Any]:
    """The first stage's nDCG@10 and each model's, alone and fused at its own weight for `stage`."""
    figures: dict[str, Any] = {"queries": len(validation.query_ids), "first_stage": validation.first_stage_ndcg()}
    for model, reranker in rerankers.items():
        result = score_model(reranker, validation, stage)
        alone, fused = result["alone"][""], result["fused"][""]  # one source: unnamed
        figures[model] = {"alone": round(alone, 4), "fused": round(fused, 4), "weight": result["weight"]}
    return figures


if __name__ == "__main__":
    main()
