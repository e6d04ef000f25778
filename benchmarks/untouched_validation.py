"""Score models on queries that neither the shipped default's recipe nor a `crossrank train` split trained on.

`benchmarks/train_validation.py` scores on a `crossrank train` run's own held-out queries, but the shipped model
was trained on most of those SciFact queries, and picked its checkpoint on 150 NFCorpus dev queries of which many
are in that run's sample too: both flatter the shipped model. This script keeps SciFact train queries that both
held out (trained on by neither; both validated on them) and NFCorpus dev queries in neither's validation sample
(untouched by both). Each source is searched in its own corpus (hybrid top 100); nDCG@10 alone and fused at each
model's own hybrid weight. Small sets (tens of queries): read differences under ~0.02 as noise.

    python benchmarks/untouched_validation.py --data ../shared/datasets default runs/v12/model \\
        --validation-queries 150 --validation-fraction 0.2 --seed 13
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

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
    parser.add_argument("--json", type=Path, help="also write every figure here")
    args = parser.parse_args()
    mining = MiningConfig(validation_queries=args.validation_queries, validation_fraction=args.validation_fraction)
    rerankers = {model: Reranker(None if model == "default" else model) for model in args.models}
    figures: dict[str, dict[str, object]] = {}
    for source, held in comparison_queries(args.data, mining, args.seed).items():
        stage = SourceFirstStages([held], "hybrid", show_progress=False)
        validation = Validation.build(held, stage.search([[q.text for q in held.queries]], 100, "hybrid"))
        first = validation.ndcg(validation.first_stage_order())
        figures[source] = {"queries": len(held.queries), "hybrid": first}
        print(f"{source}: {len(held.queries)} queries; hybrid top 100 alone {first:.4f}")
        for model, reranker in rerankers.items():
            result = score_model(reranker, validation, "hybrid")
            alone, together = result["alone"][""], result["fused"][""]  # one source: unnamed
            figures[source][model] = {"alone": alone, "fused": together, "weight": result["weight"]}
            print(f"  {model}: alone {alone:.4f}, fused (w {result['weight']}) {together:.4f}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
