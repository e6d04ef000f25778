"""The temporal-validity benchmark generator, and stage 3 measured on a small instance of it."""

from __future__ import annotations

import json

import pytest

from crossrank.eval.temporal import generate, run


def test_same_seed_same_files_other_seed_other_files(tmp_path):
    generate(tmp_path / "a", documents=300, seed=1, queries=40)
    generate(tmp_path / "b", documents=300, seed=1, queries=40)
    generate(tmp_path / "c", documents=300, seed=2, queries=40)
    for name in ("corpus.jsonl", "queries.jsonl", "accesses.jsonl", "qrels/test.tsv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert (tmp_path / "a" / "corpus.jsonl").read_bytes() != (tmp_path / "c" / "corpus.jsonl").read_bytes()


def test_layout_and_contents(tmp_path):
    counts = generate(tmp_path, documents=300, seed=0, queries=40)
    corpus = [json.loads(line) for line in (tmp_path / "corpus.jsonl").read_text().splitlines()]
    assert len(corpus) == counts["documents"] == 300
    versions = [d for d in corpus if d["metadata"].get("key")]
    assert versions and all({"created_at", "source", "confidence"} <= d["metadata"].keys() for d in versions)
    assert any(d["_id"].endswith("-near") for d in corpus) and any(d["_id"].startswith("other-") for d in corpus)
    judged = (tmp_path / "qrels" / "test.tsv").read_text().splitlines()[1:]
    answers = {line.split("\t")[1] for line in judged}
    assert answers <= {d["_id"] for d in corpus}


@pytest.mark.slow
def test_scoring_beats_rerank_alone_on_a_small_instance(tmp_path):
    generate(tmp_path / "bench", documents=400, seed=0, queries=60)
    rows = {r.system: r.metrics for r in run(tmp_path / "bench", "test", cache=tmp_path / "cache")}
    assert rows["hybrid + rerank + scoring"]["p@1"] >= rows["hybrid + rerank"]["p@1"] + 0.2
