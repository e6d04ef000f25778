"""Hard-negative mining: the first-stage retrievers' top results that are not judged relevant."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from crossrank.eval.beir import BeirDataset


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
