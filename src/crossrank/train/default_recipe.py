"""Recipe for crossrank's shipped default reranker.

A cross-encoder fine-tuned from splade-tiny (BERT-tiny trained on MS MARCO) with a listwise loss on
the train splits of SciFact and NFCorpus, hard negatives mined by BM25 and by all-MiniLM-L6-v2,
plus title -> body pseudo-queries from both corpora's text.
Held-out: 150 SciFact train queries and NFCorpus dev pick the checkpoint and the fusion weight.
No test split is read. Run:

    python -m crossrank.train.default_recipe --data ../shared/datasets --out runs/default
    python -m crossrank.train.package_model runs/default src/crossrank/models/default
"""

from __future__ import annotations

import argparse
import json
import pickle
import random
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from crossrank.eval.beir import BeirDataset, load_beir
from crossrank.eval.metrics import evaluate_run
from crossrank.models.bases import base_model_path
from crossrank.rerank.encoding import PairEncoder
from crossrank.rerank.fusion import fuse_scores, sweep_fusion_weight
from crossrank.retrieve.bm25 import BM25Index
from crossrank.retrieve.dense import DenseIndex
from crossrank.train.listwise import ListwiseConfig, model_logits, train_listwise
from crossrank.train.mining import TrainingQuery, mine_negatives

HELD_OUT_SCIFACT = 150
VALIDATION_NFCORPUS = 150
CANDIDATES = 100
# the shipped model's settings (chosen on the validation queries; see the model card)
DEFAULT_STEPS = 1000
DEFAULT_EVAL_EVERY = 250
DEFAULT_PSEUDO_QUERIES = 1500


class Candidates:
    """First-stage top-100 of held-out queries, kept to score checkpoints and pick the fusion weight."""

    def __init__(
        self, dataset: BeirDataset, query_ids: list[str], doc_ids: list[str], indices: np.ndarray, scores: np.ndarray
    ):
        self.qrels = {q: dataset.qrels[q] for q in query_ids}
        self.queries = [dataset.queries[q] for q in query_ids]
        self.query_ids = query_ids
        self.doc_ids = [[doc_ids[int(i)] for i in row] for row in indices]
        self.texts = [[dataset.corpus[doc_ids[int(i)]].content for i in row] for row in indices]
        self.first_stage = scores


def validation_query_ids(data: Path) -> dict[str, list[str]]:
    """The queries this recipe holds out to pick its checkpoint and fusion weight: 150 SciFact train queries
    and 150 NFCorpus dev queries (seed 7); every other judged SciFact train query is trained on."""
    held_out, _, nfcorpus = _split_queries(data)
    return {"scifact": held_out, "nfcorpus": nfcorpus}


def _split_queries(data: Path) -> tuple[list[str], list[str], list[str]]:
    """(SciFact held-out ids, SciFact training ids in training order, NFCorpus validation ids)."""
    rng = random.Random(7)
    scifact = load_beir(data / "scifact", "train").judged_query_ids
    rng.shuffle(scifact)
    nfcorpus = rng.sample(load_beir(data / "nfcorpus", "dev").judged_query_ids, VALIDATION_NFCORPUS)
    return sorted(scifact[:HELD_OUT_SCIFACT]), scifact[HELD_OUT_SCIFACT:], sorted(nfcorpus)


def _prepare(data: Path, cache: Path) -> tuple[list[TrainingQuery], list[Candidates]]:
    if cache.is_file():
        with cache.open("rb") as handle:
            return pickle.load(handle)
    scifact_held_out, scifact_training, nfcorpus_validation = _split_queries(data)
    dense_model = base_model_path("all-MiniLM-L6-v2")
    training: list[TrainingQuery] = []
    validation: list[Candidates] = []
    for name in ("scifact", "nfcorpus"):
        train = load_beir(data / name, "train")
        doc_ids = list(train.corpus)
        texts = [train.corpus[d].content for d in doc_ids]
        bm25 = BM25Index(texts)
        dense = DenseIndex(dense_model, texts, show_progress=True)
        if name == "scifact":
            query_ids, val_set, val_ids = scifact_training, train, scifact_held_out
        else:
            query_ids, val_set, val_ids = train.judged_query_ids, load_beir(data / name, "dev"), nfcorpus_validation
        query_texts = [train.queries[q] for q in query_ids]
        bm25_top, _ = bm25.search(query_texts, 50)
        dense_top, _ = dense.search(query_texts, 50)
        training += mine_negatives(train, query_ids, doc_ids, [bm25_top, dense_top], depth=50)
        val_top, val_scores = bm25.search([val_set.queries[q] for q in val_ids], CANDIDATES)
        validation.append(Candidates(val_set, val_ids, doc_ids, val_top, val_scores))
        print(f"{name}: {len(query_ids)} training queries, {len(val_ids)} validation queries")
    with cache.open("wb") as handle:
        pickle.dump((training, validation), handle)
    return training, validation


def pseudo_queries(data: Path, per_corpus: int, seed: int) -> list[TrainingQuery]:
    """Inverse-cloze pairs from corpus text alone: a document's title as the query, its body as the positive.

    Negatives are the bodies of the documents BM25 ranks highest for that title (the document itself
    excluded). No query or judgement of any split is read.
    """
    rng = random.Random(seed)
    out: list[TrainingQuery] = []
    for name in ("scifact", "nfcorpus"):
        corpus = load_beir(data / name, "train").corpus
        docs = [d for d in corpus.values() if d.title and len(d.text.split()) >= 30]
        bodies = [d.text for d in docs]
        chosen = rng.sample(range(len(docs)), min(per_corpus, len(docs)))
        top, _ = BM25Index(bodies).search([docs[i].title for i in chosen], 30)
        for row, index in enumerate(chosen):
            negatives = [bodies[int(j)] for j in top[row] if int(j) != index][:20]
            out.append(TrainingQuery(f"title:{docs[index].doc_id}", docs[index].title, [bodies[index]], negatives))
    return out


def score_candidates(model: Any, encoder: PairEncoder, candidates: Candidates, batch: int = 256) -> list[np.ndarray]:
    """Model logits for every (query, candidate) of a held-out set."""
    import torch

    out = []
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
        for query, texts in zip(candidates.queries, candidates.texts):
            logits = [
                model_logits(model, encoder, [query] * len(texts[i : i + batch]), texts[i : i + batch]).float().numpy()
                for i in range(0, len(texts), batch)
            ]
            out.append(np.concatenate(logits))
    return out


def ndcg_of(candidates: Candidates, scores: list[np.ndarray]) -> float:
    """nDCG@10 of a held-out set ranked by the given per-query scores."""
    run = {
        qid: {d: float(s) for d, s in zip(docs, row)}
        for qid, docs, row in zip(candidates.query_ids, candidates.doc_ids, scores)
    }
    return evaluate_run(candidates.qrels, run)["ndcg@10"]


def choose_fusion_weight(
    validation: list[Candidates], model_scores: list[list[np.ndarray]]
) -> tuple[float, dict[str, float]]:
    """Weight of the model in the fused score that maximises mean held-out nDCG@10."""

    def mean_ndcg(weight: float) -> float:
        return float(
            np.mean(
                [
                    ndcg_of(cands, [fuse_scores(m, f, weight) for m, f in zip(scores, cands.first_stage)])
                    for cands, scores in zip(validation, model_scores)
                ]
            )
        )

    weight, table = sweep_fusion_weight(mean_ndcg)
    return weight, {str(w): v for w, v in table.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="folder holding scifact/ and nfcorpus/ in BEIR layout")
    parser.add_argument("--out", type=Path, default=Path("runs/default"))
    parser.add_argument("--steps", type=int, default=DEFAULT_STEPS)
    parser.add_argument("--eval-every", type=int, default=DEFAULT_EVAL_EVERY)
    parser.add_argument("--seed", type=int, default=ListwiseConfig.seed)
    parser.add_argument(
        "--pseudo-queries", type=int, default=DEFAULT_PSEUDO_QUERIES, help="title->body pairs per corpus to add"
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    training, validation = _prepare(args.data, args.out / "mined.pkl")
    if args.pseudo_queries:
        training = training + pseudo_queries(args.data, args.pseudo_queries, args.seed)
    config = ListwiseConfig(steps=args.steps, eval_every=args.eval_every, seed=args.seed)

    def validate(model: Any, encoder: PairEncoder) -> float:
        return float(np.mean([ndcg_of(c, score_candidates(model, encoder, c)) for c in validation]))

    base = base_model_path("splade-tiny")
    model, encoder, history = train_listwise(base, training, config, validate)
    model_scores = [score_candidates(model, encoder, c) for c in validation]
    weight, table = choose_fusion_weight(validation, model_scores)
    bm25_only = [ndcg_of(c, list(c.first_stage)) for c in validation]
    model_dir = args.out / "torch"
    model.save_pretrained(model_dir)
    encoder.tokenizer.save(str(model_dir / "tokenizer.json"))
    report = {
        "config": asdict(config),
        "base": "splade-tiny",
        "history": history,
        "fusion_weight": weight,
        "fusion_table": table,
        "validation_bm25_ndcg@10": dict(zip(("scifact", "nfcorpus"), bm25_only)),
        "training_queries": len(training),
        "pseudo_queries_per_corpus": args.pseudo_queries,
        "minutes": (time.time() - started) / 60,
    }
    (args.out / "report.json").write_text(json.dumps(report, indent=2))
    print(json.dumps({k: report[k] for k in ("fusion_weight", "validation_bm25_ndcg@10", "minutes")}, indent=2))


if __name__ == "__main__":
    main()
