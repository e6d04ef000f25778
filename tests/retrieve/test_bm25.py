import pytest

pytest.importorskip("bm25s")

from crossrank.retrieve.bm25 import BM25Index


def test_bm25_finds_the_document_sharing_rare_terms(example_docs):
    index = BM25Index([d["content"] for d in example_docs])
    indices, scores = index.search(["sourdough starter yeast"], top_k=3)
    assert example_docs[int(indices[0][0])]["id"] == "sourdough"
    assert list(scores[0]) == sorted(scores[0], reverse=True)
