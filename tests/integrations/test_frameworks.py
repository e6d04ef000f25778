"""LangChain's and LlamaIndex's own interfaces, backed by crossrank rerankers: local, and a real server."""

from __future__ import annotations

import pytest

from crossrank.rerank.reranker import Reranker

pytest.importorskip("langchain_core")
pytest.importorskip("llama_index.core")

QUERY = "when do JWT tokens expire"
TEXTS = ["Tomatoes need six hours of sun.", "A JWT carries an exp claim; it expires at that time.", "Sourdough bread."]


@pytest.fixture(scope="module")
def remote(reranker):
    from crossrank.serve.app import create_app
    from tests.serve.conftest import running

    with running(create_app(reranker)) as url:
        yield Reranker(f"crossrank:{url}")


def _langchain_documents():
    from langchain_core.documents import Document

    return [Document(page_content=t, metadata={"source": f"s{i}"}, id=f"d{i}") for i, t in enumerate(TEXTS)]


@pytest.mark.parametrize("kind", ["local", "remote"])
def test_langchain_compressor_ranks_and_keeps_documents_intact(kind, reranker, remote):
    from crossrank.integrations.langchain import CrossrankRerank

    compressor = CrossrankRerank(reranker=reranker if kind == "local" else remote, top_n=2)
    documents = _langchain_documents()
    out = compressor.compress_documents(documents, QUERY)
    assert out[0].id == "d1" and len(out) == 2
    expected = reranker.predict([(QUERY, TEXTS[1])])[0]
    assert out[0].metadata["relevance_score"] == pytest.approx(float(expected), abs=1e-5)
    assert out[0].page_content == TEXTS[1] and out[0].metadata["source"] == "s1"
    assert all("relevance_score" not in d.metadata for d in documents)  # the caller's documents are untouched


@pytest.mark.parametrize("kind", ["local", "remote"])
def test_llamaindex_postprocessor_scores_nodes(kind, reranker, remote):
    from llama_index.core.schema import NodeWithScore, TextNode

    from crossrank.integrations.llamaindex import CrossrankRerank

    nodes = [NodeWithScore(node=TextNode(text=t, id_=f"n{i}"), score=0.5) for i, t in enumerate(TEXTS)]
    post = CrossrankRerank(reranker=reranker if kind == "local" else remote, top_n=2)
    out = post.postprocess_nodes(nodes, query_str=QUERY)
    assert out[0].node.node_id == "n1" and len(out) == 2
    assert out[0].score == pytest.approx(float(reranker.predict([(QUERY, TEXTS[1])])[0]), abs=1e-5)
    assert out[0].node.metadata["relevance_score"] == out[0].score
    assert out[0].node.get_content() == TEXTS[1]
    assert all(n.score == 0.5 and "relevance_score" not in n.node.metadata for n in nodes)


def test_a_model_spec_loads_the_reranker():
    from crossrank.integrations.langchain import CrossrankRerank

    assert isinstance(CrossrankRerank().reranker, Reranker)
