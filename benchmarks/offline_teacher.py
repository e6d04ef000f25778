"""How strong is the offline teacher that issue 6 proposes for distillation: BM25 + all-MiniLM-L6-v2 (dense) +
splade-tiny (sparse), fused? Measured on `crossrank train`'s validation queries for SciFact + NFCorpus, over the
hybrid stage's top 100; nDCG@10 of each scorer and of their min-max sums, against hybrid RRF itself.

A teacher no better than the first stage cannot teach a reranker to improve on it, so this decides whether
MarginMSE from the ensemble is worth a training run.

    python benchmarks/offline_teacher.py --data ../shared/datasets
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from crossrank.models.bases import base_model_path
from crossrank.rerank.fusion import minmax
from crossrank.retrieve.bm25 import BM25Index
from crossrank.train.data import TrainingSet
from crossrank.train.fit import MiningConfig, held_out_split
from crossrank.train.mining import FirstStage
from crossrank.train.trainer import Validation


def splade_vectors(texts: list[str], max_length: int, model: Any, tokenizer: Any) -> Any:
    """SPLADE max-pooled log(1 + relu(MLM logits)) per text, as a sparse matrix (texts x vocabulary)."""
    import scipy.sparse as sparse
    import torch

    rows = []
    with torch.inference_mode():
        for start in range(0, len(texts), 8):
            batch = tokenizer(
                texts[start : start + 8], padding=True, truncation=True, max_length=max_length, return_tensors="pt"
            )
            weights = torch.log1p(torch.relu(model(**batch).logits)) * batch["attention_mask"].unsqueeze(-1)
            rows.append(sparse.csr_matrix(weights.max(dim=1).values.numpy()))
    return sparse.vstack(rows).tocsr()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/datasets"))
    args = parser.parse_args()
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    sources = [args.data / "scifact", args.data / "nfcorpus"]
    parts = held_out_split(sources, "train", MiningConfig(), seed=13)
    corpus = TrainingSet.merge([(name, train) for name, (train, _) in parts])
    held = TrainingSet.merge([(name, validation) for name, (_, validation) in parts])
    stage = FirstStage(corpus.texts, "hybrid")
    validation = Validation.build(held, stage.search([q.text for q in held.queries], 100))
    bm25 = BM25Index(corpus.texts)
    splade_path = str(base_model_path("splade-tiny"))
    tokenizer, model = AutoTokenizer.from_pretrained(splade_path), AutoModelForMaskedLM.from_pretrained(splade_path)
    needed = sorted({d for docs in validation.candidates for d in docs})
    row_of = {d: i for i, d in enumerate(needed)}
    documents = splade_vectors([validation.texts[d] for d in needed], 256, model.eval(), tokenizer)
    queries = splade_vectors(validation.queries, 64, model, tokenizer)
    scores: dict[str, list[np.ndarray]] = {"bm25": [], "dense": [], "splade": []}
    for index, (query, docs) in enumerate(zip(validation.queries, validation.candidates)):
        scores["bm25"].append(bm25.scores(query, docs))
        scores["dense"].append(stage.similarity(query, docs))
        scores["splade"].append(np.asarray((documents[[row_of[d] for d in docs]] @ queries[index].T).todense()).ravel())
    report = {"hybrid RRF (first stage)": validation.first_stage_ndcg()}
    report.update({name: validation.ndcg(rows) for name, rows in scores.items()})
    for names in (("bm25", "dense"), ("bm25", "dense", "splade")):
        fused = [sum(minmax(scores[n][i]) for n in names) for i in range(len(validation.queries))]
        report[" + ".join(names) + " (min-max sum)"] = validation.ndcg(fused)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
