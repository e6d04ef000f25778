"""The embedded LanceDB store: upserts, deletes, filters, search, and atomic batches."""

from __future__ import annotations

import pytest

from crossrank.errors import InvalidInputError
from crossrank.retrieve.store import LanceStore


def test_upsert_is_idempotent(store, example_docs):
    assert store.count() == 20
    store.add(example_docs[:3])
    assert store.count() == 20
    store.add([{"id": "jwt-exp", "content": "Rewritten: tokens carry an exp claim.", "source": "edited"}])
    (document,) = store.get(["jwt-exp"])
    assert document.content.startswith("Rewritten") and document.source == "edited"
    assert store.count() == 20


def test_metadata_round_trips(tmp_path, embedder):
    store = LanceStore(tmp_path / "kb", embedder)
    store.add(
        [
            {
                "id": "a",
                "content": "text",
                "title": "T",
                "created_at": "2026-04-15T10:30:00+02:00",
                "confidence": 0.9,
                "entities": ["JWT", "OAuth"],
                "key": "fact-1",
                "team": "auth",
                "rank": 3,
            }
        ]
    )
    (document,) = store.get(["a"])
    assert document.title == "T" and document.text == "T. text"
    assert document.created_at.isoformat() == "2026-04-15T08:30:00+00:00"
    assert document.confidence == pytest.approx(0.9)
    assert document.entities == ("JWT", "OAuth") and document.key == "fact-1"
    assert document.extra == {"team": "auth", "rank": 3}


def test_get_keeps_order_and_skips_missing(store):
    assert [d.id for d in store.get(["tomato", "nope", "bm25"])] == ["tomato", "bm25"]


def test_delete(store):
    assert store.delete(["tomato", "marathon", "nope"]) == 2
    assert store.count() == 18
    assert store.get(["tomato"]) == []


def test_vector_and_keyword_search(store, embedder):
    dense = store.vector_search(embedder.embed_query("how long does a JWT stay valid"), 3)
    assert dense[0].document.id in {"jwt-exp", "jwt-refresh"}
    assert [r.rank for r in dense] == [1, 2, 3] and dense[0].score >= dense[1].score
    keyword = store.keyword_search("sourdough starter", 3)
    assert keyword[0].document.id == "sourdough"


def test_filters(store, embedder):
    vector = embedder.embed_query("tokens")
    by_source = store.vector_search(vector, 20, {"id": ["tomato", "bm25"]})
    assert {r.document.id for r in by_source} == {"tomato", "bm25"}
    recent = store.vector_search(vector, 20, {"created_at": {"gte": "2026-09-01"}})
    assert recent and all(r.document.created_at.month >= 9 for r in recent)
    confident = store.keyword_search("token", 20, {"confidence": {"gt": 0.85}})
    assert all(r.document.confidence > 0.85 for r in confident)
    with pytest.raises(InvalidInputError, match="cannot filter on 'colour'"):
        store.vector_search(vector, 3, {"colour": "red"})


def test_a_bad_batch_writes_nothing(store):
    with pytest.raises(InvalidInputError, match="duplicate id 'x'"):
        store.add([{"id": "x", "content": "one"}, {"id": "x", "content": "two"}])
    with pytest.raises(InvalidInputError, match=r"document 1 .*no text"):
        store.add([{"id": "y", "content": "fine"}, {"id": "z", "content": "  "}])
    assert store.count() == 20 and store.get(["x", "y"]) == []


def test_reopening_sees_the_data(store, embedder):
    again = LanceStore(store.path, embedder)
    assert again.count() == 20


def test_ann_index_above_threshold(tmp_path, embedder, example_docs):
    store = LanceStore(tmp_path / "kb", embedder, ann_threshold=10)
    store.add([{**d, "id": f"{d['id']}-{copy}"} for copy in range(15) for d in example_docs])
    names = {index.name for index in store._table.list_indices()}
    assert "vector_idx" in names and "text_idx" in names
    results = store.vector_search(embedder.embed_query("sourdough starter feeding"), 5)
    assert results[0].document.id.startswith("sourdough")
