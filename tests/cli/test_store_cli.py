"""`crossrank index`, `search` and `eval` as a user runs them: real processes, real files, exit codes."""

from __future__ import annotations

import json

import pytest

from tests.cli.test_cli import crossrank
from tests.conftest import EXAMPLE_DOCS, FIXTURE_QUERIES

FIXTURE_ANSWERS = ["jwt-exp", "sourdough", "python-gil", "cross-encoder", "postgres-vacuum"]


@pytest.fixture(scope="module")
def kb(tmp_path_factory):
    folder = tmp_path_factory.mktemp("kb") / "store"
    result = crossrank("index", str(EXAMPLE_DOCS), "--store", str(folder))
    assert result.returncode == 0, result.stderr
    assert "stored 20 documents" in result.stderr
    return folder


@pytest.fixture(scope="module")
def beir_folder(tmp_path_factory, example_docs):
    """A BEIR-layout dataset made from the example documents and the fixture queries."""
    folder = tmp_path_factory.mktemp("beir")
    (folder / "qrels").mkdir()
    corpus = [{"_id": d["id"], "title": "", "text": d["content"]} for d in example_docs]
    (folder / "corpus.jsonl").write_text("\n".join(json.dumps(row) for row in corpus) + "\n")
    queries = [{"_id": f"q{i}", "text": q} for i, q in enumerate(FIXTURE_QUERIES)]
    (folder / "queries.jsonl").write_text("\n".join(json.dumps(row) for row in queries) + "\n")
    qrels = "".join(f"q{i}\t{doc}\t1\n" for i, doc in enumerate(FIXTURE_ANSWERS))
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n" + qrels)
    return folder


def test_search_shows_stage_scores_and_timings(kb):
    result = crossrank("search", "how do JWT tokens expire", "--store", str(kb), "-k", "3")
    assert result.returncode == 0, result.stderr
    assert "jwt-exp" in result.stdout and "rerank" in result.stdout and "retrieval" in result.stdout
    assert "reranked" in result.stderr and "retrieve" in result.stderr


def test_search_json_and_filter(kb):
    result = crossrank("search", "tokens", "--store", str(kb), "--json", "--filter", '{"id": ["tomato", "bm25"]}')
    assert result.returncode == 0, result.stderr
    response = json.loads(result.stdout)
    assert {hit["id"] for hit in response["hits"]} <= {"tomato", "bm25"}
    assert {"retrieve", "rerank", "total"} <= response["timings_ms"].keys()


def test_reindexing_is_idempotent(kb):
    result = crossrank("index", str(EXAMPLE_DOCS), "--store", str(kb))
    assert result.returncode == 0 and "(20 in total)" in result.stderr


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (['{"id": "a", "content": "fine"}', '{"id": "b", "content": '], "line 2: invalid JSON"),
        (['{"id": "a", "content": "fine"}', '{"id": "b", "title": "no text"}'], "line 2 (id 'b') has no text"),
        (['{"id": "a", "content": "one"}', '{"id": "a", "content": "two"}'], "line 2: duplicate id 'a'"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_loses_nothing(kb, tmp_path, lines, message):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines) + "\n")
    result = crossrank("index", str(bad), "--store", str(kb))
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    check = crossrank("search", "sourdough", "--store", str(kb), "--json", "--no-rerank", "-k", "1")
    assert json.loads(check.stdout)["hits"][0]["id"] == "sourdough"
    assert "(20 in total)" in crossrank("index", str(EXAMPLE_DOCS), "--store", str(kb)).stderr


def test_search_without_a_store_says_how_to_make_one(tmp_path):
    result = crossrank("search", "x", "--store", str(tmp_path / "none"))
    assert result.returncode == 2 and "crossrank index" in result.stderr


def test_eval_rows_and_json(beir_folder, tmp_path):
    out = tmp_path / "rows.json"
    result = crossrank("eval", str(beir_folder), "--json", str(out), "--cache", str(tmp_path / "cache"))
    assert result.returncode == 0, result.stderr
    rows = json.loads(out.read_text())
    systems = [r["system"] for r in rows]
    assert systems == [
        f"{mode}{stage}" for mode in ("bm25", "dense", "hybrid") for stage in ("", " + rerank", " + rerank + scoring")
    ]
    for r in rows:
        assert 0.0 <= r["ndcg@10"] <= 1.0 and 0.0 <= r["recall@100"] <= 1.0 and r["p95_ms"] >= r["p50_ms"] >= 0
    # every fixture query has one obvious answer: reranked hybrid finds it at rank 1
    assert rows[-2]["mrr@10"] == pytest.approx(1.0) and rows[-2]["p@1"] == pytest.approx(1.0)
    # no metadata: scoring keeps the reranked order, so every metric is the same
    for reranked, scored in zip(rows[1::3], rows[2::3]):
        assert {k: reranked[k] for k in ("ndcg@10", "p@1")} == {k: scored[k] for k in ("ndcg@10", "p@1")}


def test_eval_sweep_draws_a_png(beir_folder, tmp_path):
    plot = tmp_path / "sweep.png"
    result = crossrank(
        "eval",
        str(beir_folder),
        "--sweep",
        "--sweep-candidates",
        "5,10",
        "--sweep-backends",
        "onnx",
        "--plot",
        str(plot),
        "--cache",
        str(tmp_path / "cache"),
    )
    assert result.returncode == 0, result.stderr
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert result.stdout.count("hybrid + rerank") == 2  # one row per candidate count


def test_eval_missing_qrels_is_a_clear_error(beir_folder, tmp_path):
    result = crossrank("eval", str(beir_folder), "--split", "dev", "--cache", str(tmp_path / "cache"))
    assert result.returncode == 2
    assert "qrels/dev.tsv not found" in result.stderr and "Traceback" not in result.stderr


def test_search_explain_shows_each_factor(kb):
    result = crossrank("search", "how do JWT tokens expire", "--store", str(kb), "-k", "3", "--explain")
    assert result.returncode == 0, result.stderr
    for name in ("relevance", "recency", "relations", "confidence", "supersession", "final"):
        assert name in result.stdout


def test_tune_writes_weights_that_search_reads(tmp_path, kb):
    from crossrank.eval.temporal import generate

    generate(tmp_path / "bench", documents=300, seed=0, queries=40)
    weights = tmp_path / "w.json"
    result = crossrank("tune", str(tmp_path / "bench"), "--out", str(weights), "--cache", str(tmp_path / "cache"))
    assert result.returncode == 0, result.stderr
    assert "->" in result.stdout and set(json.loads(weights.read_text())) >= {"recency", "supersession"}
    search = crossrank("search", "tokens", "--store", str(kb), "--weights", str(weights), "--json")
    assert search.returncode == 0, search.stderr
    bad = crossrank("search", "tokens", "--store", str(kb), "--weights", str(tmp_path / "none.json"))
    assert bad.returncode == 2 and "weights file not found" in bad.stderr


def test_error_messages_keep_square_brackets(capsys):
    from crossrank.cli.output import fail

    assert fail("needs: pip install 'crossrank[retrieve]'").exit_code == 2
    assert "crossrank[retrieve]" in capsys.readouterr().err
