"""The rerank server over real HTTP: schemas, clients nobody here wrote, limits, and surviving bad requests."""

from __future__ import annotations

import asyncio
import json
import socket
from urllib.parse import urlparse

import httpx
import pytest

from tests.serve.conftest import KEY, running

QUERY = "how do JWT access tokens expire"
DOCS = [
    "Tomato plants need six hours of direct sunlight a day.",
    "A JSON Web Token carries an exp claim; servers reject the token after that time.",
    "Refresh tokens let a client get new access tokens after the old ones expire.",
]


def test_cohere_v2_schema(url, reranker):
    answer = httpx.post(f"{url}/v2/rerank", json={"model": "m", "query": QUERY, "documents": DOCS, "top_n": 2})
    assert answer.status_code == 200
    body = answer.json()
    assert [r["index"] for r in body["results"]] == [r.index for r in reranker.rerank(QUERY, DOCS, top_k=2)]
    assert body["meta"]["api_version"]["version"] == "2" and body["meta"]["billed_units"]["search_units"] == 1
    expected = reranker.predict([(QUERY, DOCS[i["index"]]) for i in body["results"]])
    assert [r["relevance_score"] for r in body["results"]] == pytest.approx(list(expected), abs=1e-5)
    assert "total;dur=" in answer.headers["server-timing"] and "inference;dur=" in answer.headers["server-timing"]


def test_cohere_v1_documents_as_objects_and_return_documents(url):
    body = {"query": QUERY, "documents": [{"text": d} for d in DOCS], "return_documents": True}
    results = httpx.post(f"{url}/v1/rerank", json=body).json()["results"]
    assert results[0]["document"]["text"] == DOCS[results[0]["index"]] and len(results) == 3


def test_tei_schema(url):
    probabilities = httpx.post(f"{url}/rerank", json={"query": QUERY, "texts": DOCS, "return_text": True}).json()
    raw = httpx.post(f"{url}/rerank", json={"query": QUERY, "texts": DOCS, "raw_scores": True}).json()
    assert [r["index"] for r in probabilities] == [r["index"] for r in raw]
    assert (
        all(0 <= r["score"] <= 1 for r in probabilities) and probabilities[0]["text"] == DOCS[probabilities[0]["index"]]
    )
    assert any(r["score"] < 0 or r["score"] > 1 for r in raw)


def test_max_tokens_per_doc_scores_the_best_chunk(url):
    long = "Tomatoes need water every day in summer. " * 12 + DOCS[1] + " Gardens are pleasant. " * 12
    results = httpx.post(
        f"{url}/v2/rerank", json={"query": QUERY, "documents": [long, DOCS[0]], "max_tokens_per_doc": 24}
    ).json()["results"]
    start, end = results[0]["chunk"]
    assert results[0]["index"] == 0 and "exp claim" in long[start:end]


def test_official_cohere_sdk(url):
    cohere = pytest.importorskip("cohere")
    v2 = cohere.ClientV2(api_key="unused", base_url=url).rerank(model="crossrank", query=QUERY, documents=DOCS, top_n=2)
    assert v2.results[0].index == 1 and len(v2.results) == 2 and 0 <= v2.results[0].relevance_score <= 1
    v1 = cohere.Client(api_key="unused", base_url=url).rerank(model="crossrank", query=QUERY, documents=DOCS, top_n=1)
    assert v1.results[0].index == 1


def test_langchain_and_llamaindex_cohere_rerankers(url):
    langchain_cohere = pytest.importorskip("langchain_cohere")
    from langchain_core.documents import Document

    compressor = langchain_cohere.CohereRerank(model="crossrank", cohere_api_key="unused", base_url=url, top_n=1)
    kept = compressor.compress_documents([Document(page_content=d) for d in DOCS], QUERY)
    assert kept[0].page_content == DOCS[1] and "relevance_score" in kept[0].metadata

    cohere_rerank = pytest.importorskip("llama_index.postprocessor.cohere_rerank")
    from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

    postprocessor = cohere_rerank.CohereRerank(model="crossrank", api_key="unused", base_url=url, top_n=1)
    nodes = postprocessor.postprocess_nodes([NodeWithScore(node=TextNode(text=d)) for d in DOCS], QueryBundle(QUERY))
    assert nodes[0].node.get_content() == DOCS[1]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"query": "", "documents": DOCS}, "query"),
        ({"query": QUERY, "documents": []}, "documents"),
        ({"query": QUERY, "documents": [1, 2]}, "documents.0"),
        ({"query": QUERY, "documents": DOCS, "top_n": 0}, "top_n"),
        ({"documents": DOCS}, "query"),
    ],
)
def test_bad_bodies_are_422_naming_the_field(url, body, field):
    answer = httpx.post(f"{url}/v2/rerank", json=body)
    assert answer.status_code == 422 and field in answer.json()["message"]


def test_limits(url):
    too_many = httpx.post(f"{url}/v2/rerank", json={"query": QUERY, "documents": ["d"] * 1001})
    assert too_many.status_code == 400 and "too many documents" in too_many.json()["message"]
    huge = httpx.post(
        f"{url}/v2/rerank", content=b"x" * (2 * 1024 * 1024), headers={"Content-Type": "application/json"}
    )
    assert huge.status_code == 413 and "limit" in huge.json()["message"]


def test_api_key(locked_url):
    body = {"query": QUERY, "documents": DOCS}
    assert httpx.post(f"{locked_url}/v2/rerank", json=body).status_code == 401
    assert httpx.post(f"{locked_url}/v2/rerank", json=body, headers={"Authorization": "Bearer nope"}).status_code == 401
    assert (
        httpx.post(f"{locked_url}/v2/rerank", json=body, headers={"Authorization": f"Bearer {KEY}"}).status_code == 200
    )
    assert httpx.get(f"{locked_url}/health").status_code == 200


def test_survives_hostile_requests(url):
    host, port = urlparse(url).hostname, urlparse(url).port
    with socket.create_connection((host, port)) as raw:  # a client that goes away mid-body
        raw.sendall(
            b'POST /v2/rerank HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"qu'
        )
    fifty_mb = httpx.post(
        f"{url}/rerank", content=b"[" * (50 * 1024 * 1024), headers={"Content-Type": "application/json"}
    )
    assert fifty_mb.status_code == 413
    bad_utf8 = httpx.post(
        f"{url}/v2/rerank",
        content=b'{"query": "\xff\xfe", "documents": ["a"]}',
        headers={"Content-Type": "application/json"},
    )
    assert 400 <= bad_utf8.status_code < 500
    deep = httpx.post(
        f"{url}/v2/rerank", content=b"[" * 100_000 + b"]" * 100_000, headers={"Content-Type": "application/json"}
    )
    assert 400 <= deep.status_code < 500, deep.text[:200]
    after = httpx.post(f"{url}/v2/rerank", json={"query": QUERY, "documents": DOCS})
    assert after.status_code == 200 and after.json()["results"][0]["index"] == 1


async def test_concurrent_requests_share_model_calls(url):
    def batches() -> float:
        text = httpx.get(f"{url}/metrics").text
        return float(next(line.split()[1] for line in text.splitlines() if line.startswith("crossrank_batches ")))

    before = batches()
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        answers = await asyncio.gather(
            *(client.post("/v2/rerank", json={"query": f"{QUERY} {i}", "documents": DOCS}) for i in range(24))
        )
    assert all(a.status_code == 200 and a.json()["results"][0]["index"] == 1 for a in answers)
    assert batches() - before < 24  # 24 concurrent requests shared model calls
    assert "crossrank_requests_total" in httpx.get(f"{url}/metrics").text


def test_a_full_queue_answers_503_with_retry_after(reranker):
    from crossrank.serve.app import create_app

    app = create_app(reranker)
    app.state.engine.max_pending_pairs = 2
    with running(app) as address:
        answer = httpx.post(f"{address}/v2/rerank", json={"query": QUERY, "documents": DOCS})
        assert answer.status_code == 503 and answer.headers["retry-after"] == "1"
        assert "busy" in json.loads(answer.text)["message"]
