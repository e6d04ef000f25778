"""Hosted rerankers against local fakes of each provider over real HTTP: contracts, splitting, retries, errors."""

from __future__ import annotations

import json
import logging
import time

import pytest

from crossrank import Reranker
from crossrank.errors import (
    AuthenticationError,
    InvalidInputError,
    ProviderRequestError,
    ProviderUnavailableError,
    RateLimitError,
)
from crossrank.rerank.fallback import STAGE1, FallbackReranker
from crossrank.rerank.hosted.reranker import HostedReranker
from tests.rerank.fake_providers import KEY, FakeProvider, relevance

QUERY = "how do JWT access tokens expire"
DOCS = [
    "Tomato plants need six hours of sun.",
    "JWT access tokens carry an exp claim and expire after it.",
    "Refresh tokens let clients get new access tokens.",
]
SPECS = {
    "cohere": "cohere:rerank-v3.5",
    "jina": "jina:jina-reranker-v2-base-multilingual",
    "voyage": "voyage:rerank-2.5",
    "tei": "tei:{url}",
    "cohere-v1": "cohere:rerank-english-v3.0",
}


@pytest.fixture()
def fake(request):
    server = FakeProvider(request.param)
    yield server
    server.close()


def hosted(server: FakeProvider, **options) -> HostedReranker:
    spec = SPECS[server.kind].format(url=server.url)
    if server.kind == "cohere-v1":
        options.setdefault("api_version", "v1")
    reranker = Reranker(spec, base_url=server.url, api_key=KEY, **options)
    assert isinstance(reranker, HostedReranker)
    return reranker


@pytest.mark.parametrize("fake", ["cohere", "cohere-v1", "jina", "voyage", "tei"], indirect=True)
def test_each_provider_ranks_and_scores_like_the_service(fake):
    results = hosted(fake).rerank(QUERY, DOCS)
    assert [r.index for r in results] == [1, 2, 0]
    for r in results:
        assert r.model_score == pytest.approx(relevance(QUERY, DOCS[r.index]), abs=1e-5)
    assert hosted(fake).predict([(QUERY, DOCS[1])], raw=True)[0] == pytest.approx(
        float(__import__("math").log(relevance(QUERY, DOCS[1]) / (1 - relevance(QUERY, DOCS[1])))), abs=1e-4
    )


@pytest.mark.parametrize(
    ("fake", "expected"),
    [
        ("cohere", {"model", "query", "documents", "max_tokens_per_doc"}),
        ("jina", {"model", "query", "documents", "top_n", "return_documents"}),
        ("voyage", {"model", "query", "documents", "truncation"}),
        ("tei", {"query", "texts", "raw_scores", "truncate"}),
    ],
    indirect=["fake"],
)
def test_request_bodies_follow_each_contract(fake, expected):
    hosted(fake, max_tokens_per_doc=512).rerank(QUERY, DOCS)
    sent = fake.requests[-1]
    assert set(json.loads(sent["raw"])) == expected
    assert sent["headers"]["Authorization"] == f"Bearer {KEY}"


@pytest.mark.parametrize(("fake", "count", "calls"), [("tei", 70, 3), ("voyage", 2500, 3)], indirect=["fake"])
def test_long_lists_are_split_at_the_provider_cap_and_merged_in_order(fake, count, calls):
    documents = [f"document {i} about {'JWT tokens' if i % 7 == 0 else 'gardens'}" for i in range(count)]
    scores = hosted(fake).predict([(QUERY, d) for d in documents])
    assert len(fake.requests) == calls
    assert list(scores) == pytest.approx([relevance(QUERY, d) for d in documents], abs=1e-5)


@pytest.mark.parametrize("fake", ["cohere"], indirect=True)
def test_429_retry_after_is_honoured(fake):
    fake.faults.append(("status", 429, {"Retry-After": "1"}))
    started = time.monotonic()
    results = hosted(fake).rerank(QUERY, DOCS)
    assert time.monotonic() - started >= 0.95 and results[0].index == 1 and len(fake.requests) == 2


@pytest.mark.parametrize("fake", ["jina"], indirect=True)
@pytest.mark.parametrize("fault", [("status", 500), ("status", 503), ("malformed",), ("drop",)])
def test_transient_faults_are_retried(fake, fault):
    fake.faults.append(fault)
    assert hosted(fake).rerank(QUERY, DOCS)[0].index == 1
    assert len(fake.requests) == 2


@pytest.mark.parametrize("fake", ["voyage"], indirect=True)
def test_a_slow_answer_times_out_and_is_retried(fake):
    fake.faults.append(("slow", 1.5))
    reranker = hosted(fake, timeout_s=0.5)
    assert reranker.rerank(QUERY, DOCS)[0].index == 1


@pytest.mark.parametrize("fake", ["cohere"], indirect=True)
def test_persistent_faults_raise_typed_errors(fake):
    fake.faults.extend([("status", 429, {"Retry-After": "0"})] * 3)
    with pytest.raises(RateLimitError, match="429"):
        hosted(fake, max_retries=2).rerank(QUERY, DOCS)
    fake.faults.extend([("status", 502)] * 2)
    with pytest.raises(ProviderUnavailableError, match="502"):
        hosted(fake, max_retries=1).rerank(QUERY, DOCS)


@pytest.mark.parametrize("fake", ["cohere"], indirect=True)
def test_client_errors_are_not_retried(fake, caplog):
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AuthenticationError, match="401"):
        Reranker("cohere:rerank-v3.5", base_url=fake.url, api_key="wrong").rerank(QUERY, DOCS)
    assert len(fake.requests) == 1
    fake.faults.append(("status", 400))
    with pytest.raises(ProviderRequestError, match="injected 400"):
        hosted(fake).rerank(QUERY, DOCS)
    assert len(fake.requests) == 2
    assert "wrong" not in caplog.text and KEY not in repr(hosted(fake))


def test_api_keys_come_from_the_environment(monkeypatch):
    server = FakeProvider("cohere")
    try:
        monkeypatch.delenv("COHERE_API_KEY", raising=False)
        monkeypatch.delenv("CO_API_KEY", raising=False)
        with pytest.raises(AuthenticationError, match="COHERE_API_KEY"):
            Reranker("cohere:rerank-v3.5", base_url=server.url)
        monkeypatch.setenv("COHERE_API_KEY", KEY)
        assert Reranker("cohere:rerank-v3.5", base_url=server.url).rerank(QUERY, DOCS)[0].index == 1
    finally:
        server.close()


def test_bad_specs():
    with pytest.raises(InvalidInputError, match="server's URL"):
        Reranker("tei:localhost")
    with pytest.raises(InvalidInputError, match="hosted reranker"):
        Reranker("jina:m", api_key="k", backend="onnx")
    with pytest.raises(Exception, match="which API it speaks"):
        Reranker("http://localhost:8080")


def test_fallback_chain_reports_who_answered(reranker):
    dead = Reranker("cohere:rerank-v3.5", base_url="http://127.0.0.1:9", api_key=KEY, max_retries=0)
    chain = FallbackReranker([dead, reranker])
    results = chain.rerank(QUERY, DOCS)
    assert {r.served_by for r in results} == {reranker.model_name}
    assert results[0].index == 1 and "could not reach" in chain.failures[0]
    last = FallbackReranker([dead]).rerank(QUERY, DOCS, first_stage_scores=[0.1, 0.3, 0.2])
    assert [r.index for r in last] == [1, 2, 0] and {r.served_by for r in last} == {STAGE1}
    assert "rerank-v3.5" in FallbackReranker([dead, reranker]).model_name
