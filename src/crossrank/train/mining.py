"""Hard-negative mining: the first-stage retrievers' top results that are not judged relevant."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from crossrank.eval.beir import BeirDataset
from crossrank.train.data import JudgedQuery, TrainingSet


@dataclass
class TrainingQuery:
    """One query with the texts of its relevant documents and of its mined negatives."""

    query_id: str
    text: str
    positives: list[str]
    negatives: list[str] = field(default_factory=list)


def mine_negatives(
    dataset: BeirDataset,
    query_ids: Sequence[str],
    doc_ids: Sequence[str],
    rankings: Sequence[np.ndarray],
    depth: int = 50,
) -> list[TrainingQuery]:
    """Build training queries whose negatives are the union of each ranking's top `depth` minus judged docs.

    `rankings` holds, per retriever, an array (len(query_ids), >= depth) of indices into `doc_ids`.
    Documents judged for the query at any grade are never used as negatives.
    """
    queries = []
    for row, query_id in enumerate(query_ids):
        judged = dataset.qrels.get(query_id, {})
        positives = [dataset.corpus[d].content for d, grade in judged.items() if grade > 0 and d in dataset.corpus]
        if not positives:
            continue
        seen: set[str] = set()
        negatives = []
        for ranking in rankings:
            for index in ranking[row, :depth]:
                doc_id = doc_ids[int(index)]
                if doc_id in judged or doc_id in seen:
                    continue
                seen.add(doc_id)
                negatives.append(dataset.corpus[doc_id].content)
        queries.append(TrainingQuery(query_id, dataset.queries[query_id], positives, negatives))
    return queries


RETRIEVERS = ("bm25", "dense", "hybrid", "union")
STAGES = ("bm25", "dense", "hybrid")  # what the pipeline's stage 1 can be: each gets its own fusion weight


def stages_of(method: str) -> list[str]:
    """The pipeline stages a `method` index can stand in for (hybrid and union hold both BM25 and dense)."""
    return [method] if method in ("bm25", "dense") else list(STAGES)


class FirstStage:
    """The project's first-stage retrievers over a training corpus held in memory: BM25, dense, hybrid (RRF), or
    union (each of BM25's and dense's own top N, for mining).

    `search` gives each hit the retriever's own ranking score (BM25, cosine, the RRF score as the pipeline does, or
    for union minus the position); `similarity` is what the false-negative filter compares: dense cosine when
    embeddings exist, else BM25.
    """

    def __init__(self, texts: Sequence[str], method: str = "hybrid", show_progress: bool = True):
        if method not in RETRIEVERS:
            raise ValueError(f"retriever must be one of {RETRIEVERS}, not {method!r}")
        from crossrank.retrieve.bm25 import BM25Index

        self.method = method
        self.size = len(texts)
        self._bm25 = BM25Index(texts, show_progress=show_progress) if method != "dense" else None
        self._embedder: Any = None
        self._vectors: np.ndarray | None = None
        self._query_vectors: dict[str, np.ndarray] = {}  # mining asks twice per query; embed it once
        if method != "bm25":
            from crossrank.retrieve.embedder import Embedder

            self._embedder = Embedder()
            self._vectors = self._embedder.embed(list(texts), show_progress=show_progress)

    @property
    def stages(self) -> list[str]:
        """The pipeline stages this index can stand in for (hybrid and union hold both BM25 and dense)."""
        return stages_of(self.method)

    def search(self, queries: Sequence[str], depth: int, method: str | None = None) -> list[list[tuple[int, float]]]:
        """Per query, (corpus index, ranking score) of the top `depth`, best first, by `method` (default: this
        index's retriever; union gives up to 2 x depth hits)."""
        method = method or self.method
        if method not in self.stages + (["union"] if self.method == "union" else []):
            raise ValueError(f"a {self.method} index cannot search by {method}")
        depth = min(depth, self.size)
        if method == "bm25":
            return self._bm25_search(queries, depth)
        if method == "dense":
            return self._dense_search(queries, depth)
        if method == "union":
            return [_union(b, d) for b, d in zip(self._bm25_search(queries, depth), self._dense_search(queries, depth))]
        return [
            _rrf(b, d, depth) for b, d in zip(self._bm25_search(queries, depth), self._dense_search(queries, depth))
        ]

    def _bm25_search(self, queries: Sequence[str], depth: int) -> list[list[tuple[int, float]]]:
        assert self._bm25 is not None
        top, scores = self._bm25.search(queries, depth)
        return [list(zip(map(int, t), map(float, s))) for t, s in zip(top, scores)]

    def _dense_search(self, queries: Sequence[str], depth: int) -> list[list[tuple[int, float]]]:
        assert self._vectors is not None
        similarity = self._embedder.embed(list(queries)) @ self._vectors.T
        top = np.argsort(-similarity, axis=1, kind="stable")[:, :depth]
        return [[(int(i), float(row[i])) for i in t] for t, row in zip(top, similarity)]

    def similarity(self, query: str, indices: Sequence[int]) -> np.ndarray:
        """The filter's similarity of `query` to each indexed text (dense cosine, or BM25 for bm25)."""
        if self._vectors is not None:
            if query not in self._query_vectors:
                self._query_vectors[query] = self._embedder.embed([query])[0]
            return np.asarray(self._vectors[list(indices)] @ self._query_vectors[query], dtype=np.float32)
        assert self._bm25 is not None
        return self._bm25.scores(query, indices)


def _rrf(bm25: list[tuple[int, float]], dense: list[tuple[int, float]], depth: int) -> list[tuple[int, float]]:
    """Reciprocal-rank fusion of one query's two lists, as the pipeline's hybrid stage fuses them."""
    from crossrank.retrieve.retrievers import fuse_ids

    named = {name: [(str(d), s) for d, s in rows] for name, rows in (("bm25", bm25), ("dense", dense))}
    return [(int(doc), float(score)) for doc, score, _ in fuse_ids(named, {"bm25": 1.0, "dense": 1.0})[:depth]]


def _union(bm25: list[tuple[int, float]], dense: list[tuple[int, float]]) -> list[tuple[int, float]]:
    """BM25's hits, then dense hits BM25 did not find; the score is minus the position."""
    seen = {doc for doc, _ in bm25}
    docs = [doc for doc, _ in bm25] + [doc for doc, _ in dense if doc not in seen]
    return [(doc, -float(position)) for position, doc in enumerate(docs)]


class SourceFirstStages:
    """One first stage per training source, over that source's own corpus, with indices into the merged text list
    (sources' texts concatenated in order, as `TrainingSet.merge` does).

    A query's negatives and validation candidates come from its own corpus only: over merged corpora another
    corpus's on-topic documents, never judged for the query, would become its negatives and candidates.
    """

    def __init__(self, parts: Sequence[TrainingSet], method: str = "hybrid", show_progress: bool = True):
        self.offsets = [sum(len(p.texts) for p in parts[:i]) for i in range(len(parts))]
        self.parts = [FirstStage(p.texts, method, show_progress=show_progress) for p in parts]
        self.stages = self.parts[0].stages

    def mine(self, queries: Sequence[Sequence[JudgedQuery]], **options: Any) -> list[MinedQuery]:
        """`mine_hard_negatives` on each source's queries (one sequence per source), indices shifted to merged."""
        mined = []
        for offset, stage, source_queries in zip(self.offsets, self.parts, queries):
            for query in mine_hard_negatives(stage, source_queries, **options):
                positives, negatives = [i + offset for i in query.positives], [i + offset for i in query.negatives]
                mined.append(MinedQuery(query.text, positives, negatives))
        return mined

    def search(self, queries: Sequence[Sequence[str]], depth: int, method: str) -> list[list[tuple[int, float]]]:
        """Each source's queries (one sequence per source) searched in its own corpus, indices shifted to merged."""
        hits = []
        for offset, stage, source_queries in zip(self.offsets, self.parts, queries):
            if source_queries:
                ranked = stage.search(source_queries, depth, method)
                hits += [[(doc + offset, score) for doc, score in row] for row in ranked]
        return hits


@dataclass
class MinedQuery:
    """A training query as corpus indices: relevant documents and hard negatives, best-ranked first."""

    text: str
    positives: list[int]
    negatives: list[int]


def mine_hard_negatives(
    first_stage: FirstStage,
    queries: Sequence[JudgedQuery],
    *,
    skip_top: int = 0,
    depth: int = 50,
    max_similarity_ratio: float = 0.95,
) -> list[MinedQuery]:
    """Hard negatives: first-stage ranks skip_top+1..depth, minus judged documents and likely false negatives.

    A candidate whose similarity to the query exceeds `max_similarity_ratio` times the best relevant document's
    is skipped: unjudged documents that close to the query are too often relevant. Negatives the user
    supplied come first and are kept.
    """
    ranked = first_stage.search([q.text for q in queries], depth)
    mined = []
    for query, hits in zip(queries, ranked):
        positives = sorted(query.relevant, key=lambda i: -query.relevant[i])
        ceiling = max_similarity_ratio * float(first_stage.similarity(query.text, positives).max())
        candidates = [doc for doc, _ in hits[skip_top:]]
        similarities = first_stage.similarity(query.text, candidates) if candidates else np.zeros(0)
        negatives = list(query.given_negatives)
        for doc, similarity in zip(candidates, similarities):
            if doc not in query.judged and doc not in negatives and similarity <= ceiling:
                negatives.append(doc)
        mined.append(MinedQuery(query.text, positives, negatives))
    return mined
