"""Ingest rate and search latency of the embedded pipeline at scale, on this machine.

Documents: ~150-word passages cut (overlapping windows) from the SciFact and NFCorpus corpora under
../shared/datasets (research data, read here only, never shipped). Measured in one run:
  * ingest: documents/s for `LanceStore.add` (embedding + write + index upkeep), and its parts on a sample:
    embedding alone (crossrank's Embedder) against sentence-transformers' encode, and the store write alone;
  * search: `Pipeline.search(final_k=5, candidates_k=30)` p50/p95 per stage over real queries.

    python benchmarks/pipeline.py --docs 100000 --out bench-results/pipeline.json
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import time
from pathlib import Path

import numpy as np

from crossrank import __version__
from crossrank.hardware import available_cores, cpu_flags
from crossrank.models.bases import base_model_path
from crossrank.pipeline import Pipeline
from crossrank.rerank.reranker import Reranker
from crossrank.retrieve.embedder import Embedder
from crossrank.retrieve.retrievers import store_retriever
from crossrank.retrieve.store import LanceStore

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"


def corpus_words(datasets: Path) -> list[list[str]]:
    texts = []
    for name in ("scifact", "nfcorpus"):
        for line in (datasets / name / "corpus.jsonl").read_text().splitlines():
            row = json.loads(line)
            texts.append(f"{row.get('title', '')}. {row.get('text', '')}".split())
    return texts


def passages(count: int, words: int, datasets: Path) -> list[dict[str, str]]:
    """`count` distinct passages of exactly `words` words: windows over the corpus texts, shifted each pass."""
    texts = [t for t in corpus_words(datasets) if len(t) >= words]
    out: list[dict[str, str]] = []
    seen: set[str] = set()
    for shift in range(words):
        offset = (shift * 13) % words  # each pass cuts at different points
        for text_id, text in enumerate(texts):
            for start in range(offset, len(text) - words + 1, words):
                content = " ".join(text[start : start + words])
                if content not in seen:
                    seen.add(content)
                    out.append({"id": f"p{len(out)}", "content": content, "source": f"doc{text_id}"})
                if len(out) == count:
                    return out
    return out


def queries(datasets: Path, count: int) -> list[str]:
    found = []
    for name in ("scifact", "nfcorpus"):
        found += [json.loads(line)["text"] for line in (datasets / name / "queries.jsonl").read_text().splitlines()]
    rng = np.random.default_rng(0)
    return [found[int(i)] for i in rng.choice(len(found), size=count, replace=False)]


def embed_rates(sample: list[str], embedder: Embedder) -> dict[str, float]:
    from sentence_transformers import SentenceTransformer

    reference = SentenceTransformer(str(base_model_path("all-MiniLM-L6-v2")), device="cpu")
    started = time.perf_counter()
    reference.encode(sample, batch_size=64, normalize_embeddings=True)
    reference_rate = len(sample) / (time.perf_counter() - started)
    started = time.perf_counter()
    embedder.embed(sample)
    rate = len(sample) / (time.perf_counter() - started)
    return {
        "embed_docs_per_s": rate,
        "sentence_transformers_docs_per_s": reference_rate,
        "embed_speedup": rate / reference_rate,
    }


def write_rate(docs: list[dict[str, str]], folder: Path, dimension: int) -> float:
    """Store writes alone: documents with precomputed (random unit) vectors."""
    from crossrank.retrieve.documents import to_documents

    store = LanceStore(folder, None)
    checked = to_documents(docs)
    vectors = np.random.default_rng(0).standard_normal((len(docs), dimension)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    started = time.perf_counter()
    for start in range(0, len(checked), 1024):
        store._write(checked[start : start + 1024], vectors[start : start + 1024])
    return len(docs) / (time.perf_counter() - started)


def search_latency(pipe: Pipeline, texts: list[str], warmup: int = 10) -> dict[str, dict[str, float]]:
    for text in texts[:warmup]:
        pipe.search_sync(text, final_k=5, candidates_k=30)
    stages: dict[str, list[float]] = {}
    for text in texts[warmup:]:
        response = pipe.search_sync(text, final_k=5, candidates_k=30)
        for stage, ms in response.timings_ms.items():
            stages.setdefault(stage, []).append(ms)
    return {stage: {"p50": statistics.median(v), "p95": float(np.percentile(v, 95))} for stage, v in stages.items()}


def search_all(store: LanceStore, texts: list[str]) -> dict[str, object]:
    """Search latency per stage-1 mode with the default reranker over the same queries."""
    reranker = Reranker()
    timings: dict[str, object] = {
        mode: search_latency(Pipeline(store_retriever(store, mode), reranker, store=store), texts)
        for mode in ("hybrid", "dense", "bm25")
    }
    timings["reranker"] = repr(reranker)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--words", type=int, default=150)
    parser.add_argument("--queries", type=int, default=210)
    parser.add_argument("--store", type=Path, default=Path("bench-results/pipeline-store"))
    parser.add_argument("--datasets", type=Path, default=DATASETS)
    parser.add_argument("--out", type=Path, default=Path("bench-results/pipeline.json"))
    parser.add_argument("--search-only", action="store_true", help="Reuse the store at --store; time search only.")
    args = parser.parse_args()
    if args.search_only:
        store = LanceStore(args.store, Embedder())
        result = {"docs": store.count(), "search": search_all(store, queries(args.datasets, args.queries))}
        args.out.write_text(json.dumps(result, indent=2) + "\n")
        print(json.dumps(result, indent=2))
        return

    docs = passages(args.docs, args.words, args.datasets)
    embedder = Embedder()
    result: dict[str, object] = {
        "machine": {
            "python": platform.python_version(),
            "cores": available_cores(),
            "crossrank": __version__,
            "bf16": "avx512_bf16" in cpu_flags() or "amx_bf16" in cpu_flags(),
        },
        "docs": len(docs),
        "words_per_doc": args.words,
        "embedder": repr(embedder),
    }
    sample = [d["content"] for d in docs[:2000]]
    result["embedding"] = embed_rates(sample, embedder)
    shutil.rmtree(args.store, ignore_errors=True)
    result["store_write_docs_per_s"] = write_rate(docs[:20_000], args.store.with_name("write-only"), embedder.dimension)
    shutil.rmtree(args.store.with_name("write-only"), ignore_errors=True)
    print(json.dumps(result, indent=2), flush=True)

    store = LanceStore(args.store, embedder)
    started = time.perf_counter()
    store.add(docs, show_progress=True)
    result["ingest_seconds"] = time.perf_counter() - started
    result["ingest_docs_per_s"] = len(docs) / result["ingest_seconds"]  # type: ignore[operator]
    result["indexes"] = [index.name for index in store._table.list_indices()]
    print(json.dumps(result, indent=2), flush=True)

    result["search"] = search_all(store, queries(args.datasets, args.queries))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
