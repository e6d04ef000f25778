"""Score reranker models alone and fused on the validation queries a `crossrank train` run held out.

The split is recomputed exactly as `crossrank train` makes it (same sources, seed and validation options), and
each source's queries are searched in its own corpus, so a shipped model and a run's model meet on the same
queries and candidates. nDCG@10 per source, alone and fused with the first stage at each model's own weight.

    python benchmarks/train_validation.py --data ../shared/datasets default runs/v11/model \\
        --validation-queries 150 --validation-fraction 0.2 --seed 13
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from crossrank.rerank.fusion import fuse_scores
from crossrank.rerank.reranker import Reranker
from crossrank.train.data import TrainingSet
from crossrank.train.fit import MiningConfig, held_out_split
from crossrank.train.mining import SourceFirstStages
from crossrank.train.trainer import Validation


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", help="model folders, or 'default' for the shipped model")
    parser.add_argument("--data", type=Path, default=Path("../shared/datasets"))
    parser.add_argument("--sources", default="scifact,nfcorpus")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--validation-queries", type=int, default=200)
    parser.add_argument("--validation-fraction", type=float, default=0.1)
    parser.add_argument("--stages", default="hybrid,bm25")
    parser.add_argument("--backend", default="auto", help="reranker backend for every model (onnx: the shipped path)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--json", type=Path, help="also write every figure here")
    args = parser.parse_args()
    sources = [args.data / name for name in args.sources.split(",")]
    mining = MiningConfig(validation_queries=args.validation_queries, validation_fraction=args.validation_fraction)
    parts = held_out_split(sources, "train", mining, args.seed)
    held = TrainingSet.merge([(name, h) for name, (_, h) in parts])
    held_from = [name for name, (_, h) in parts for _ in h.queries]
    first_stage = SourceFirstStages([t for _, (t, _) in parts], "hybrid", show_progress=False)
    held_texts = [[q.text for q in h.queries] for _, (_, h) in parts]
    rerankers = {
        model: Reranker(None if model == "default" else model, backend=args.backend, device=args.device)
        for model in args.models
    }
    figures: dict[str, dict[str, object]] = {}
    for stage in args.stages.split(","):
        validation = Validation.build(held, first_stage.search(held_texts, 100, stage), held_from)
        first = validation.ndcg_by_source(validation.first_stage_order())
        figures[stage] = {"first_stage": first}
        print(f"{stage} top 100, first stage alone: {_row(first)}")
        for model, reranker in rerankers.items():
            figures[stage][model] = result = score_model(reranker, validation, stage)
            print(f"  {model}: alone {_row(result['alone'])}")
            print(f"  {model}: fused (w {result['weight']}) {_row(result['fused'])}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


def score_model(reranker: Reranker, validation: Validation, stage: str) -> dict[str, Any]:
    """A model's nDCG@10 per source over the validation candidates: alone, and fused with the first stage at the
    model's own weight for `stage`."""
    weight = reranker.fusion_weight_for(stage)
    scores = [
        reranker.predict([(query, validation.texts[d]) for d in docs], raw=True)
        for query, docs in zip(validation.queries, validation.candidates)
    ]
    fused = [fuse_scores(s, f, weight) for s, f in zip(scores, validation.first_stage)]
    return {"alone": validation.ndcg_by_source(scores), "fused": validation.ndcg_by_source(fused), "weight": weight}


def _row(by_source: dict[str, float]) -> str:
    cells = ", ".join(f"{source} {value:.4f}" for source, value in by_source.items())
    return f"{cells}; mean {np.mean(list(by_source.values())):.4f}"


if __name__ == "__main__":
    main()
